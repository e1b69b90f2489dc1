//! The phones' YUV 4:2:0 layouts (`realface::imaging::yuv`) against FFmpeg's
//! conversion, on real frames of `../shared/data`: FFmpeg turns each frame
//! into NV21 (BT.601 full range, Android's camera analysis stream) and NV12
//! (BT.709 limited range, iOS's video-range camera), then back to RGB with
//! nearest chroma (as the library takes it); the library converts the same
//! planes. Measured: BT.601 full within 2 levels of FFmpeg (mean 0.24-0.34);
//! BT.709 limited within 3 (mean 2.0: FFmpeg's unscaled limited-range path
//! is biased by about 2 levels, which its own round trip to the original
//! frame shows, mean 2.0-2.1 against the library's 0.5-0.6). Bounded here:
//! 3 levels at most against FFmpeg, and a round trip no worse than FFmpeg's. The same planes laid out as CameraX hands them over
//! (three planes, padded rows, interleaved chroma with pixel stride 2) give
//! the identical image, and the rotation turns it as `rotate90` does.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use realface::imaging::limits::Limits;
use realface::imaging::yuv::{orient, Plane, Rotation, Yuv420, YuvMatrix, YuvRange};
use realface::RgbImage;

/// Runs ffmpeg on raw video bytes: `input` (-pix_fmt, size) to `out_fmt`
/// through the scale filter `vf`.
fn ffmpeg(input: &[u8], in_fmt: &str, (w, h): (u32, u32), vf: &str, out_fmt: &str) -> Vec<u8> {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "rawvideo", "-pix_fmt", in_fmt, "-s"])
        .arg(format!("{w}x{h}"))
        .args([
            "-i",
            "-",
            "-vf",
            vf,
            "-sws_flags",
            "neighbor+accurate_rnd+bitexact",
        ])
        .args(["-pix_fmt", out_fmt, "-f", "rawvideo", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ffmpeg (scripts/system-deps.sh installs it)");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("ffmpeg output");
    writer.join().expect("writer").expect("write");
    assert!(out.status.success(), "ffmpeg failed");
    out.stdout
}

fn frame(path: &Path) -> RgbImage {
    let img = image::open(path).expect("frame").to_rgb8();
    // even sizes, as camera streams are
    let (w, h) = (img.width() & !1, img.height() & !1);
    image::imageops::crop_imm(&img, 0, 0, w, h).to_image()
}

/// (max, mean) absolute difference over all channels.
fn diff(a: &[u8], b: &[u8]) -> (u8, f64) {
    assert_eq!(a.len(), b.len());
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    (max, sum as f64 / a.len() as f64)
}

#[test]
fn camera_layouts_match_ffmpeg_on_real_frames() {
    let data = common::data_dir();
    let frames = [
        data.join("actions/apfol_real2/frame_0001.jpg"),
        data.join("actions/blinkdet_video/frame_0001.jpg"),
        data.join("actions/lp_d9/frame_0001.jpg"),
    ];
    let limits = Limits::default();
    let mut worst = (0u8, 0f64);
    for path in &frames {
        let img = frame(path);
        let (w, h) = (img.width(), img.height());
        for (fmt, matrix, range, spec) in [
            ("nv21", YuvMatrix::Bt601, YuvRange::Full, ("bt601", "full")),
            (
                "nv12",
                YuvMatrix::Bt709,
                YuvRange::Limited,
                ("bt709", "limited"),
            ),
        ] {
            let to = format!("scale=out_color_matrix={}:out_range={}", spec.0, spec.1);
            let yuv = ffmpeg(img.as_raw(), "rgb24", (w, h), &to, fmt);
            let from = format!("scale=in_color_matrix={}:in_range={}", spec.0, spec.1);
            let want = ffmpeg(&yuv, fmt, (w, h), &from, "rgb24");
            let (ys, cs) = (w as usize * h as usize, w as usize);
            let (y, c) = yuv.split_at(ys);
            let layout = if fmt == "nv21" {
                Yuv420::nv21(w, h, y, w as usize, c, cs)
            } else {
                Yuv420::nv12(w, h, y, w as usize, c, cs)
            };
            let got = layout
                .with_colour(matrix, range)
                .to_rgb(&limits)
                .expect("convert");
            let (max, mean) = diff(got.as_raw(), &want);
            // and the round trip to the frame FFmpeg started from: ours
            // against FFmpeg's own way back
            let (_, ours_trip) = diff(got.as_raw(), img.as_raw());
            let (_, ffmpeg_trip) = diff(&want, img.as_raw());
            eprintln!(
                "{} {fmt} {}/{}: against FFmpeg max {max}, mean {mean:.3} levels; \
                 round trip mean {ours_trip:.3} (FFmpeg's own {ffmpeg_trip:.3})",
                path.display(),
                spec.0,
                spec.1
            );
            assert!(max <= 3, "{}: {fmt} max {max}", path.display());
            assert!(
                ours_trip <= ffmpeg_trip + 0.1,
                "{}: {fmt} round trip {ours_trip} against FFmpeg's {ffmpeg_trip}",
                path.display()
            );
            worst = (worst.0.max(max), worst.1.max(mean));

            // the same frame as CameraX planes: rows padded to a multiple
            // of 64, U and V views into one interleaved buffer (pixel stride
            // 2), then turned upright by 90 degrees
            let pad = |n: usize| n.div_ceil(64) * 64;
            let (ystride, cstride) = (pad(w as usize), pad(w as usize));
            let mut yp = vec![0u8; ystride * h as usize];
            for r in 0..h as usize {
                yp[r * ystride..r * ystride + w as usize]
                    .copy_from_slice(&y[r * w as usize..(r + 1) * w as usize]);
            }
            let mut cp = vec![0u8; cstride * (h as usize / 2)];
            for r in 0..h as usize / 2 {
                cp[r * cstride..r * cstride + w as usize]
                    .copy_from_slice(&c[r * w as usize..(r + 1) * w as usize]);
            }
            let (first, second) = (&cp[..], &cp[1..]);
            let (u, v) = if fmt == "nv21" {
                (second, first)
            } else {
                (first, second)
            };
            let planes = Yuv420::planes(
                w,
                h,
                Plane::new(&yp, ystride, 1),
                Plane::new(u, cstride, 2),
                Plane::new(v, cstride, 2),
            )
            .with_colour(matrix, range)
            .to_rgb(&limits)
            .expect("planes");
            assert_eq!(planes, got, "{}: padded planes differ", path.display());
            let turned = orient(planes, Rotation::R90, false);
            assert_eq!(turned, image::imageops::rotate90(&got));
        }
    }
    eprintln!(
        "worst over {} frames x 2 layouts: max {} levels, mean {:.3}",
        frames.len(),
        worst.0,
        worst.1
    );
}
