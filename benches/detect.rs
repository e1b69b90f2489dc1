//! Face detection: decode + BlazeFace short and full range on a sample
//! photo, beside SCRFD-500M as a whole-image detector (640 px).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::DetectorChoice;

fn detect(c: &mut Criterion) {
    let auto = common::engine(DetectorChoice::Auto);
    let full = common::engine(DetectorChoice::Full);
    let path = common::sample("obama.jpg");
    let bytes = std::fs::read(&path).expect("read");
    let img = auto.decode(&bytes).expect("decode");
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_jpeg", |b| {
        b.iter(|| auto.decode(&bytes).expect("decode"))
    });
    g.bench_function("short_range", |b| {
        b.iter(|| auto.detector().detect_short(&img).expect("detect"))
    });
    g.bench_function("full_range", |b| {
        b.iter(|| full.detect(&img).expect("detect"))
    });
    let scrfd = auto
        .embedder()
        .refiner()
        .expect("the default matcher aligns with SCRFD");
    g.bench_function("scrfd_500m_640", |b| {
        b.iter(|| scrfd.detect_image(&img).expect("detect"))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = detect }
criterion_main!(benches);
