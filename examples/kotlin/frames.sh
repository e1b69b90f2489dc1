#!/usr/bin/env bash
# frames.sh VIDEO OUTDIR: the video's frames as a camera would give them,
# NV21, every decoded frame at its own time (no rate conversion), into
# OUTDIR/frames.nv21, their timestamps (pts and time base, one line per
# frame) into OUTDIR/times.txt, the size (W H) into OUTDIR/size and the YUV
# colour (BT601_FULL, BT601_LIMITED, BT709_FULL or BT709_LIMITED: the
# matrix the stream is tagged with, BT.601 when untagged, and its own range,
# kept as it is) into OUTDIR/colour.
set -euo pipefail
video=$1 out=$2
mkdir -p "$out"
read -r w h tb < <(ffprobe -v error -select_streams v:0 \
  -show_entries stream=width,height,time_base -of csv=p=0 "$video" | tr ',' ' ')
echo "$w $h" >"$out/size"
first=$(ffprobe -v error -select_streams v:0 -read_intervals '%+#1' \
  -show_entries frame=pix_fmt,color_range,color_space -of default=nw=1 "$video")
range=limited matrix=BT601
if grep -qE '^pix_fmt=yuvj|^color_range=pc' <<<"$first"; then range=full; fi
if grep -q '^color_space=bt709' <<<"$first"; then matrix=BT709; fi
echo "${matrix}_${range^^}" >"$out/colour"
ffprobe -v error -select_streams v:0 -show_entries frame=best_effort_timestamp \
  -of default=nw=1:nk=1 "$video" | awk -v tb="$tb" 'NF {print $1, tb}' >"$out/times.txt"
# out_range keeps the stream's own range: NV21 is only the planes repacked
ffmpeg -v error -y -i "$video" -map 0:v:0 -fps_mode passthrough \
  -vf "scale=out_range=$range" -pix_fmt nv21 -f rawvideo "$out/frames.nv21"
