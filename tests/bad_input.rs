//! Bad input gets a typed error with a stable code, never a panic and never a
//! match: corrupt, truncated, empty, huge and odd-format images, no face,
//! several faces, wrong model files, a missing runtime.

mod common;

use std::io::Cursor;

use common::{cli, engine, load, sample};
use image::{DynamicImage, ImageFormat, RgbImage};
use realface::{EngineConfig, ErrorCode, FaceEngine, FacePolicy};

fn encode(img: &DynamicImage, fmt: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), fmt)
        .expect("encode");
    out
}

fn code_of(bytes: &[u8]) -> ErrorCode {
    match engine()
        .decode(bytes)
        .and_then(|img| engine().analyze(&img))
    {
        Ok(_) => panic!("bad input was accepted"),
        Err(e) => e.code(),
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `w x h` pixels, with no real pixel data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&w.to_be_bytes());
    chunk.extend_from_slice(&h.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    for tag in [&b"IDAT"[..], &b"IEND"[..]] {
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(tag);
        out.extend_from_slice(&crc32(tag).to_be_bytes());
    }
    out
}

#[test]
fn empty_bytes() {
    assert_eq!(code_of(&[]), ErrorCode::EmptyImage);
}

#[test]
fn garbage_bytes() {
    assert_eq!(
        code_of(b"definitely not an image, just text"),
        ErrorCode::Decode
    );
}

#[test]
fn truncated_jpeg_header() {
    let bytes = std::fs::read(sample("obama.jpg")).expect("read");
    assert_eq!(code_of(&bytes[..200]), ErrorCode::Decode);
}

#[test]
fn truncated_png() {
    let png = encode(
        &DynamicImage::ImageRgb8(load(&sample("obama2.jpg"))),
        ImageFormat::Png,
    );
    assert_eq!(code_of(&png[..png.len() / 3]), ErrorCode::Decode);
}

#[test]
fn corrupt_png_crc() {
    let mut png = encode(
        &DynamicImage::ImageRgb8(RgbImage::new(64, 64)),
        ImageFormat::Png,
    );
    let n = png.len();
    png[n / 2] ^= 0xff;
    assert_eq!(code_of(&png), ErrorCode::Decode);
}

#[test]
fn zero_size_png_header() {
    assert!(matches!(
        code_of(&png_header(0, 10)),
        ErrorCode::Decode | ErrorCode::EmptyImage
    ));
}

#[test]
fn huge_png_header_is_refused_before_decoding() {
    assert_eq!(
        code_of(&png_header(100_000, 100_000)),
        ErrorCode::LimitExceeded
    );
}

#[test]
fn zero_size_frame() {
    let err = engine()
        .analyze(&RgbImage::new(0, 0))
        .expect_err("empty frame");
    assert_eq!(err.code(), ErrorCode::EmptyImage);
}

#[test]
fn one_pixel_image_has_no_face() {
    let err = engine().analyze(&RgbImage::new(1, 1)).expect_err("1x1");
    assert_eq!(err.code(), ErrorCode::NoFace);
}

#[test]
fn blank_image_has_no_face() {
    let blank = RgbImage::from_pixel(640, 480, image::Rgb([128, 128, 128]));
    assert_eq!(
        engine().analyze(&blank).expect_err("blank").code(),
        ErrorCode::NoFace
    );
}

#[test]
fn grey_rgba_and_16_bit_inputs_work() {
    let img = DynamicImage::ImageRgb8(load(&sample("obama.jpg")));
    let reference = engine().embed_image(&img.to_rgb8()).expect("rgb");
    for (what, variant) in [
        ("grey", DynamicImage::ImageLuma8(img.to_luma8())),
        ("rgba", DynamicImage::ImageRgba8(img.to_rgba8())),
        ("rgb16", DynamicImage::ImageRgb16(img.to_rgb16())),
        ("grey16", DynamicImage::ImageLuma16(img.to_luma16())),
    ] {
        let bytes = encode(&variant, ImageFormat::Png);
        let decoded = engine()
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let emb = engine()
            .embed_image(&decoded)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let cos = emb.similarity(&reference).expect("dim");
        assert!(cos > 0.85, "{what}: cosine {cos}");
    }
}

#[test]
fn the_32bit_png_sample_decodes() {
    // face-recognition's 32-bit RGBA PNG sample
    let img = load(&sample("32bit.png"));
    assert!(img.width() > 0);
}

fn collage() -> RgbImage {
    let a = load(&sample("obama.jpg"));
    let b = load(&sample("biden.jpg"));
    // Two faces of similar size side by side (the short-range detector counts
    // faces down to roughly 1/8 of the image's longer side).
    let a = image::imageops::crop_imm(&a, 250, 50, 450, 500).to_image();
    let b = image::imageops::crop_imm(&b, 330, 150, 500, 500).to_image();
    let mut out = RgbImage::new(950, 500);
    image::imageops::overlay(&mut out, &a, 0, 0);
    image::imageops::overlay(&mut out, &b, 450, 0);
    out
}

#[test]
fn several_faces_are_refused_by_default() {
    let err = engine().analyze(&collage()).expect_err("two faces");
    assert_eq!(err.code(), ErrorCode::MultipleFaces);
    assert!(err.to_string().contains("2 faces"));
}

#[test]
fn largest_face_policy_picks_one() {
    let e = FaceEngine::new(EngineConfig::default().with_face_policy(FacePolicy::Largest))
        .expect("engine");
    let a = e.analyze(&collage()).expect("largest");
    assert_eq!(a.faces_in_image, 2);
}

/// Faces cut by the image edge are still found and still match (measured
/// similarity 0.94 and 0.91 for the partial-face samples, 0.71 for the left
/// 480 px of obama.jpg).
#[test]
fn face_cut_by_the_image_edge() {
    let whole = load(&sample("obama.jpg"));
    let half = image::imageops::crop_imm(&whole, 0, 0, 480, 1137).to_image();
    for (name, img) in [
        (
            "obama_partial_face.jpg",
            load(&sample("obama_partial_face.jpg")),
        ),
        (
            "obama_partial_face2.jpg",
            load(&sample("obama_partial_face2.jpg")),
        ),
        ("left 480 px", half),
    ] {
        let a = engine()
            .analyze(&img)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.faces_in_image, 1, "{name}");
        let d = engine()
            .compare_images(&whole, &img, realface::DEFAULT_FAR)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(d.same_person, "{name}: {d:?}");
    }
}

fn temp_models() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "realface-models-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("tmp");
    for spec in realface::models::ALL {
        std::fs::copy(
            common::root().join("models").join(spec.file),
            dir.join(spec.file),
        )
        .expect("copy");
    }
    dir
}

#[test]
fn tampered_model_is_refused() {
    let dir = temp_models();
    let path = dir.join(realface::models::MOBILEFACENET.file);
    let mut bytes = std::fs::read(&path).expect("read");
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    // MobileFaceNet is one of the fused matcher's networks
    let err = FaceEngine::new(
        EngineConfig::default()
            .with_matcher(realface::Matcher::Fused)
            .with_model_dir(&dir),
    )
    .expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::ModelInvalid);
    assert!(err.to_string().contains("sha256"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The default matcher's w600k_mbf file, extracted at set-up, is checked like the
/// committed ones: one changed byte and the engine refuses to start.
#[test]
fn tampered_w600k_model_is_refused() {
    let dir = temp_models();
    let path = dir.join(realface::models::W600K_MBF.file);
    let mut bytes = std::fs::read(&path).expect("read");
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let config = EngineConfig::default()
        .with_model_dir(&dir)
        .with_matcher(realface::Matcher::W600kMbf);
    let err = FaceEngine::new(config).expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::ModelInvalid);
    assert!(err.to_string().contains("sha256"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn swapped_model_file_is_refused() {
    let dir = temp_models();
    std::fs::copy(dir.join("blazeface_short.onnx"), dir.join("face_mesh.onnx")).expect("swap");
    let err = FaceEngine::new(EngineConfig::default().with_model_dir(&dir)).expect_err("swapped");
    assert_eq!(err.code(), ErrorCode::ModelInvalid);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_model_is_refused() {
    let dir = temp_models();
    std::fs::remove_file(dir.join("face_mesh.onnx")).expect("rm");
    let err = FaceEngine::new(EngineConfig::default().with_model_dir(&dir)).expect_err("missing");
    assert_eq!(err.code(), ErrorCode::ModelInvalid);
    assert!(err.to_string().contains("face_mesh"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_runtime_library_is_a_typed_error_naming_the_fix() {
    let out = cli()
        .env("REALFACE_ORT_LIB", "/nonexistent/libonnxruntime.so.1.31.1")
        .args(["compare", "--json"])
        .arg(sample("obama.jpg"))
        .arg(sample("obama2.jpg"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON error");
    assert_eq!(v["error"]["name"], "RUNTIME_UNAVAILABLE");
    assert!(String::from_utf8_lossy(&out.stderr).contains("scripts/setup.sh"));
}

#[test]
fn wrong_runtime_library_is_a_typed_error() {
    // an existing file that is not a shared library
    let out = cli()
        .env("REALFACE_ORT_LIB", sample("obama.jpg"))
        .args(["detect", "--json"])
        .arg(sample("obama.jpg"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON error");
    assert_eq!(v["error"]["name"], "RUNTIME_UNAVAILABLE");
}

#[test]
fn pgm_and_ppm_faces_load_and_are_found() {
    // ORL/AT&T faces ship as binary PGM (P5); PPM (P6) is its colour sibling.
    let photo = load(&sample("obama.jpg"));
    let (w, h) = photo.dimensions();
    let grey = DynamicImage::ImageRgb8(photo.clone()).to_luma8();
    let mut pgm = format!("P5\n{w} {h}\n255\n").into_bytes();
    pgm.extend_from_slice(grey.as_raw());
    let mut ppm = format!("P6\n# a comment\n{w} {h}\n255\n").into_bytes();
    ppm.extend_from_slice(photo.as_raw());
    for bytes in [pgm, ppm] {
        let decoded = engine().decode(&bytes).expect("PNM decodes");
        assert_eq!(decoded.dimensions(), (w, h));
        assert_eq!(engine().detect(&decoded).expect("detects").len(), 1);
    }
    // a truncated PGM is a decode error, not a panic
    let mut cut = format!("P5\n{w} {h}\n255\n").into_bytes();
    cut.extend_from_slice(&grey.as_raw()[..100]);
    assert_eq!(
        engine().decode(&cut).expect_err("truncated").code(),
        ErrorCode::Decode
    );
}

/// Models bundled in memory (an app's assets): every model loads from bytes
/// with no model folder at all, and a tampered byte is refused as on disk.
#[test]
fn models_load_from_memory_and_are_checked() {
    let empty = std::env::temp_dir().join(format!("realface-nomodels-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("tmp");
    let mut cfg = EngineConfig::default().with_model_dir(&empty);
    for spec in realface::models::ALL {
        let bytes = std::fs::read(common::root().join("models").join(spec.file)).expect("read");
        cfg = cfg.with_model_bytes(spec.file, bytes);
    }
    let e = FaceEngine::new(cfg.clone()).expect("every model from memory");
    let a = e.analyze(&load(&sample("obama.jpg"))).expect("analyzes");
    assert_eq!(a.faces_in_image, 1);
    // the default matcher's network
    let spec = realface::models::W600K_MBF;
    assert_eq!(cfg.matcher.single_model(), Some(spec));
    let mut bytes = cfg
        .runtime
        .bundled_models
        .get(spec.file)
        .expect("bundled")
        .to_vec();
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    let err = FaceEngine::new(cfg.with_model_bytes(spec.file, bytes)).expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::ModelInvalid);
    assert!(err.to_string().contains("sha256"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);
}
