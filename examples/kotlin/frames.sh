#!/usr/bin/env bash
# frames.sh VIDEO OUTDIR: the video's frames as a camera would give them,
# NV21, every decoded frame at its own time (no rate conversion), into
# OUTDIR/frames.nv21, their timestamps (pts and time base, one line per
# frame) into OUTDIR/times.txt and the size (W H) into OUTDIR/size.
set -euo pipefail
video=$1 out=$2
mkdir -p "$out"
read -r w h tb < <(ffprobe -v error -select_streams v:0 \
  -show_entries stream=width,height,time_base -of csv=p=0 "$video" | tr ',' ' ')
echo "$w $h" >"$out/size"
ffprobe -v error -select_streams v:0 -show_entries frame=best_effort_timestamp \
  -of default=nw=1:nk=1 "$video" | awk -v tb="$tb" 'NF {print $1, tb}' >"$out/times.txt"
ffmpeg -v error -y -i "$video" -map 0:v:0 -fps_mode passthrough \
  -pix_fmt nv21 -f rawvideo "$out/frames.nv21"
