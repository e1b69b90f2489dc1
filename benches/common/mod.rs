//! Shared fixtures of the criterion benches: the engine (models loaded once,
//! outside every measured loop) and the sample photos `scripts/setup.sh`
//! fetches into `.samples/`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use realface::geometry::Affine;
use realface::landmarks::Mesh;
use realface::{DetectorChoice, EngineConfig, Face, FaceEngine, RgbImage};

/// Criterion settings for every bench: short, so `cargo bench` stays minutes.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// A sample photo's path (run `bash scripts/setup.sh` first).
pub fn sample(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".samples")
        .join(name);
    assert!(
        p.is_file(),
        "{} missing: run `bash scripts/setup.sh`",
        p.display()
    );
    p
}

/// An engine with one ONNX Runtime thread per model (the per-frame setting).
pub fn engine(detector: DetectorChoice) -> FaceEngine {
    FaceEngine::new(
        EngineConfig::default()
            .with_detector(detector)
            .with_intra_threads(1),
    )
    .expect("engine (run scripts/setup.sh)")
}

/// A photo with its face, mesh and alignment map.
pub struct Fixture {
    pub img: RgbImage,
    pub face: Face,
    pub mesh: Mesh,
    pub map: Affine,
}

pub fn fixture(engine: &FaceEngine, name: &str) -> Fixture {
    let img = engine.load(sample(name)).expect("sample photo");
    let face = engine.detect(&img).expect("detect").remove(0);
    let realface::FaceLandmarks { mesh, map, .. } =
        engine.landmarks(&img, &face).expect("landmarks");
    Fixture {
        img,
        face,
        mesh,
        map,
    }
}

/// The sample photos with one face, as a stand-in frame sequence.
pub fn frames(engine: &FaceEngine) -> Vec<RgbImage> {
    [
        "obama.jpg",
        "obama2.jpg",
        "biden.jpg",
        "obama_partial_face.jpg",
    ]
    .iter()
    .map(|n| engine.load(sample(n)).expect("sample photo"))
    .collect()
}
