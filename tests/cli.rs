//! The `realface` command-line contract: detect/compare/embed JSON shapes,
//! exit codes, and errors that say what went wrong.

mod common;

use common::{cli, sample};
use serde_json::Value;

fn run_json(args: &[&str], files: &[std::path::PathBuf]) -> (Option<i32>, Value) {
    let out = cli().args(args).args(files).output().expect("runs");
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), v)
}

#[test]
fn detect_json_contract() {
    let (code, v) = run_json(&["detect", "--json"], &[sample("obama.jpg")]);
    assert_eq!(code, Some(0));
    let faces = v["faces"].as_array().expect("faces array");
    assert_eq!(faces.len(), 1);
    let f = &faces[0];
    assert_eq!(f["bbox"].as_array().expect("bbox").len(), 4);
    assert!(f["score"].as_f64().expect("score") > 0.5);
    let kps = f["keypoints"].as_array().expect("keypoints");
    assert_eq!(kps.len(), 6);
    assert!(kps.iter().all(|k| k.as_array().map(Vec::len) == Some(2)));
}

#[test]
fn quality_json_contract() {
    let (code, v) = run_json(&["quality", "--json"], &[sample("obama.jpg")]);
    assert_eq!(code, Some(0), "{v}");
    let score = v["score"].as_f64().expect("score");
    assert!((0.0..=100.0).contains(&score), "{v}");
    for part in ["size", "sharpness", "exposure", "pose", "eyes"] {
        let x = v[part].as_f64().expect(part);
        assert!((0.0..=1.0).contains(&x), "{part}: {v}");
    }
    // no face: a typed error that names the image
    let blank = std::env::temp_dir().join(format!("realface-blank-{}.ppm", std::process::id()));
    let mut ppm = b"P6 64 64 255\n".to_vec();
    ppm.extend(std::iter::repeat_n(128u8, 64 * 64 * 3));
    std::fs::write(&blank, ppm).expect("write");
    let (code, v) = run_json(&["quality", "--json"], std::slice::from_ref(&blank));
    assert_eq!(code, Some(2));
    assert_eq!(v["error"]["name"], "NO_FACE", "{v}");
    assert_eq!(v["error"]["input"], blank.display().to_string());
    let _ = std::fs::remove_file(&blank);
}

#[test]
fn detect_draws_a_png() {
    let out = std::env::temp_dir().join(format!("realface-draw-{}.png", std::process::id()));
    let status = cli()
        .args(["detect", "--json", "--draw"])
        .arg(&out)
        .arg(sample("biden.jpg"))
        .status()
        .expect("runs");
    assert!(status.success());
    let img = image::open(&out).expect("a PNG was written");
    assert!(img.width() > 0);
    let _ = std::fs::remove_file(out);
}

#[test]
fn compare_json_contract_same_and_different() {
    let (code, same) = run_json(
        &["compare", "--json"],
        &[sample("obama.jpg"), sample("obama2.jpg")],
    );
    assert_eq!(code, Some(0));
    for key in ["similarity", "score", "threshold", "far_target"] {
        assert!(same[key].is_number(), "{key}");
    }
    assert_eq!(same["same_person"], true);
    assert_eq!(same["far_target"].as_f64(), Some(1e-4));
    let (code, diff) = run_json(
        &["compare", "--json"],
        &[sample("obama.jpg"), sample("biden.jpg")],
    );
    assert_eq!(code, Some(0), "a 'different' decision is still exit 0");
    assert_eq!(diff["same_person"], false);
}

#[test]
fn embed_json_contract() {
    let (code, v) = run_json(&["embed", "--json"], &[sample("obama3.jpg")]);
    assert_eq!(code, Some(0));
    let e = v["embedding"].as_array().expect("embedding");
    assert_eq!(e.len(), 512, "the default matcher, w600k_mbf");
    assert_eq!(v["dim"], 512);
    assert_eq!(v["matcher"], "w600k_mbf");
    let (_, fused) = run_json(
        &["embed", "--json", "--matcher", "fused"],
        &[sample("obama3.jpg")],
    );
    assert_eq!(
        fused["embedding"].as_array().map(Vec::len),
        Some(704),
        "fused: 192 (MobileFaceNet) + 512 (fr_feature)"
    );
    assert_eq!(fused["matcher"], "fused");
    let (_, single) = run_json(
        &["embed", "--json", "--matcher", "mobilefacenet"],
        &[sample("obama3.jpg")],
    );
    assert_eq!(single["embedding"].as_array().map(Vec::len), Some(192));
    assert_eq!(single["model"], "mobilefacenet");
    let norm: f64 = e
        .iter()
        .map(|x| x.as_f64().unwrap_or(0.0).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!((norm - 1.0).abs() < 1e-3);
}

#[test]
fn unreadable_file_is_an_error_exit() {
    let (code, v) = run_json(
        &["compare", "--json"],
        &[sample("obama.jpg"), "/nonexistent/photo.jpg".into()],
    );
    assert_eq!(code, Some(2));
    assert_eq!(v["error"]["name"], "IO");
    assert!(v["error"]["input"]
        .as_str()
        .unwrap_or("")
        .contains("photo.jpg"));
}

#[test]
fn not_an_image_is_a_decode_error() {
    let (code, v) = run_json(&["detect", "--json"], &[common::root().join("Cargo.toml")]);
    assert_eq!(code, Some(2));
    assert_eq!(v["error"]["name"], "DECODE");
}

#[test]
fn far_stricter_than_calibrated_is_refused() {
    let (code, v) = run_json(
        &["compare", "--json", "--far", "1e-9"],
        &[sample("obama.jpg"), sample("obama2.jpg")],
    );
    assert_eq!(code, Some(2));
    assert_eq!(v["error"]["name"], "INVALID_ARGUMENT");
}

#[test]
fn works_from_another_directory_without_environment() {
    let out = cli()
        .current_dir(std::env::temp_dir())
        .env_remove("REALFACE_ORT_LIB")
        .env_remove("REALFACE_MODEL_DIR")
        .args(["compare", "--json"])
        .arg(sample("obama.jpg"))
        .arg(sample("obama2.jpg"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
