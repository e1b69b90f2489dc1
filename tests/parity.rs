//! The embedders give the same output through realface as through
//! onnxruntime in Python (tests/python/parity.py, with each network's input
//! convention written there independently), on aligned crops of the sample
//! photos: the same crop bytes on both sides, so any difference is the
//! preprocessing or the runtime. Prints the max abs difference per network.
//! The Python side is .venv-test/ (scripts/pyenv.sh; scripts/test.sh runs
//! it), or $REALFACE_PYTHON.

mod common;

use std::path::PathBuf;

use common::{engine, load, root, sample};
use realface::align::aligned_image;
use realface::config::Matcher;
use realface::geometry::Affine;
use realface::{Alignment, EngineConfig, FaceEngine};
use serde_json::Value;

/// Same network, same ONNX Runtime version, same input: only the order of
/// floating-point sums may differ.
const MAX_ABS_DIFF: f32 = 1e-4;

fn python() -> PathBuf {
    let py = std::env::var_os("REALFACE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv-test/bin/python"));
    assert!(
        py.is_file(),
        "{} is missing: run `bash scripts/pyenv.sh` (scripts/test.sh does) or set REALFACE_PYTHON",
        py.display()
    );
    py
}

#[test]
fn embedders_match_onnxruntime_in_python() {
    let py = python();
    let tmp = std::env::temp_dir().join(format!("realface-parity-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let eng = engine();
    let mut crops = Vec::new();
    let mut files = Vec::new();
    for (i, name) in ["obama.jpg", "obama2.jpg", "biden.jpg"].iter().enumerate() {
        let img = load(&sample(name));
        let face = eng
            .select_face(eng.detect(&img).expect("detect"))
            .expect("face");
        let map = eng.landmarks(&img, &face).expect("landmarks").map;
        let crop = aligned_image(&img, &map);
        let file = tmp.join(format!("crop{i}.rgb"));
        std::fs::write(&file, crop.as_raw()).expect("write crop");
        files.push(file);
        crops.push(crop);
    }
    let out = std::process::Command::new(&py)
        .arg(root().join("tests/python/parity.py"))
        .arg(root().join("models"))
        .args(&files)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "parity.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        theirs["onnxruntime"],
        realface::runtime::ORT_VERSION,
        "the version the library links"
    );

    // realface's own networks, each crop given as an image with the
    // identity map (the warp then reads its pixels as they are), aligned as
    // given (the mesh alignment: no SCRFD re-alignment of the crop)
    let faces: Vec<_> = crops.iter().map(|c| (c, Affine::IDENTITY)).collect();
    let parts = |matcher: Matcher| {
        let cfg = EngineConfig::default()
            .with_matcher(matcher)
            .with_alignment(Some(Alignment::Mesh));
        FaceEngine::for_calibration(cfg)
            .unwrap_or_else(|e| panic!("{matcher:?} engine: {e} (run `bash scripts/setup.sh`)"))
            .embedder()
            .embed_parts(&faces, false)
            .expect("embeds")
    };
    let fused = parts(Matcher::Permissive);
    let single = parts(Matcher::W600kMbf);
    let ours = |net: &str, i: usize| match net {
        "sface" => fused[i][0].as_slice().to_vec(),
        "mobilefacenet" => fused[i][1].as_slice().to_vec(),
        "fr_feature" => fused[i][2].as_slice().to_vec(),
        _ => single[i][0].as_slice().to_vec(),
    };
    assert_eq!(
        realface::fusion::PERMISSIVE_MODELS.map(|m| m.name),
        ["sface", "mobilefacenet", "fr_feature"],
        "the permissive matcher's parts, in order"
    );
    for net in ["mobilefacenet", "fr_feature", "w600k_mbf", "sface"] {
        let mut max = 0f32;
        for i in 0..crops.len() {
            let a = ours(net, i);
            let b: Vec<f32> = theirs[net][i]
                .as_array()
                .expect("rows")
                .iter()
                .map(|v| v.as_f64().expect("number") as f32)
                .collect();
            assert_eq!(a.len(), b.len(), "{net}: dimension");
            for (x, y) in a.iter().zip(&b) {
                max = max.max((x - y).abs());
            }
        }
        eprintln!(
            "parity: {net}: max abs diff {max:.2e} over {} crops",
            crops.len()
        );
        assert!(max <= MAX_ABS_DIFF, "{net}: max abs diff {max}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
