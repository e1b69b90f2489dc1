//! Per-stage criterion benchmarks on a sample photo (run `bash scripts/setup.sh`
//! first). Models are loaded outside the measured loops.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::align::alignment;
use realface::landmarks::Roi;
use realface::{DetectorChoice, EngineConfig, FaceEngine};

fn engine(detector: DetectorChoice) -> FaceEngine {
    FaceEngine::new(EngineConfig::default().with_detector(detector))
        .expect("engine (run scripts/setup.sh)")
}

fn stages(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".samples/obama.jpg");
    let e = engine(DetectorChoice::Auto);
    let full = engine(DetectorChoice::Full);
    let img = e.load(&path).expect("sample photo");
    let face = e.detect(&img).expect("detect").remove(0);
    let roi = Roi::from_face(&face);
    let mesh = e.mesh().run(&img, roi).expect("mesh");
    let map = alignment(&mesh.five_points()).expect("align");

    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_jpeg", |b| {
        let bytes = std::fs::read(&path).expect("read");
        b.iter(|| e.decode(&bytes).expect("decode"))
    });
    g.bench_function("detect_short", |b| {
        b.iter(|| e.detector().detect_short(&img).expect("detect"))
    });
    g.bench_function("detect_full", |b| {
        b.iter(|| full.detect(&img).expect("detect"))
    });
    g.bench_function("mesh", |b| {
        b.iter(|| e.mesh().run(&img, roi).expect("mesh"))
    });
    g.bench_function("embed", |b| {
        b.iter(|| e.embedder().embed(&[(&img, map)], false).expect("embed"))
    });
    g.bench_function("embed_flip", |b| {
        b.iter(|| e.embedder().embed(&[(&img, map)], true).expect("embed"))
    });
    g.bench_function("analyze_photo", |b| {
        b.iter(|| e.analyze(&img).expect("analyze"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = stages
}
criterion_main!(benches);
