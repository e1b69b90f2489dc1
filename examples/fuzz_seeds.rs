//! Writes the fuzzers' seed corpora into fuzz/corpus/: the face-recognition
//! sample photos (from scripts/setup.sh, not the evaluation data) downscaled
//! and re-encoded in every supported format, raw frame records, and JSON inputs.
//! `cargo run --release --example fuzz_seeds`

use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("fuzz/corpus");
    for t in ["photo_pipeline", "frame_push", "json_inputs", "ffi_calls"] {
        std::fs::create_dir_all(corpus.join(t))?;
    }
    for name in ["obama.jpg", "biden.jpg", "obama2.jpg"] {
        let img = image::open(root.join(".samples").join(name))?;
        let small = img.resize(160, 200, FilterType::Triangle);
        for (fmt, ext) in [
            (ImageFormat::Png, "png"),
            (ImageFormat::Jpeg, "jpg"),
            (ImageFormat::Bmp, "bmp"),
        ] {
            small
                .to_rgb8()
                .save_with_format(corpus.join(format!("photo_pipeline/{name}.{ext}")), fmt)?;
        }
        DynamicImage::ImageLuma8(small.to_luma8()).save_with_format(
            corpus.join(format!("photo_pipeline/{name}.grey.png")),
            ImageFormat::Png,
        )?;
        DynamicImage::ImageRgba16(small.to_rgba16()).save_with_format(
            corpus.join(format!("photo_pipeline/{name}.rgba16.png")),
            ImageFormat::Png,
        )?;
        // frame_push record: [actions][w u16][h u16][pad][format][dt][jitter] + RGB rows
        let tiny = img.resize(96, 120, FilterType::Triangle).to_rgb8();
        let mut rec = vec![1u8];
        for k in 0..3u8 {
            rec.extend_from_slice(&(tiny.width() as u16).to_le_bytes());
            rec.extend_from_slice(&(tiny.height() as u16).to_le_bytes());
            rec.extend_from_slice(&[0, 0, 25 + k, 0]);
            rec.extend_from_slice(tiny.as_raw());
        }
        std::fs::write(corpus.join(format!("frame_push/{name}.frames")), rec)?;
        // ffi_calls record: 16 bytes of call choices, then an encoded reference photo
        let mut jpeg = Vec::new();
        small
            .to_rgb8()
            .write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)?;
        let mut call = vec![
            b'i', b'd', b'x', b'y', 0, 63, 47, 48, 0, 3, 255, 100, 0, 0, 0, 0,
        ];
        call.extend_from_slice(&jpeg);
        std::fs::write(corpus.join(format!("ffi_calls/{name}.call")), call)?;
    }
    std::fs::copy(
        root.join("models/calibration_mobilefacenet.json"),
        corpus.join("json_inputs/calibration.json"),
    )?;
    let opts = serde_json::to_string(&realface::session::SessionOptions::default())?;
    std::fs::write(corpus.join("json_inputs/options.json"), opts)?;
    std::fs::write(
        corpus.join("json_inputs/actions.txt"),
        "blink,mouth_open,turn_left,Y_M",
    )?;
    Ok(())
}
