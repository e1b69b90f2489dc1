//! The quality figure of one face (aligned crop, sharpness, exposure, pose).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::liveness::features::FrameFeatures;
use realface::quality::assess;
use realface::DetectorChoice;

fn quality(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let f = common::fixture(&e, "obama.jpg");
    let feats = FrameFeatures::from_mesh(&f.mesh);
    let mut g = c.benchmark_group("quality");
    g.throughput(Throughput::Elements(1));
    g.bench_function("assess", |b| {
        b.iter(|| assess(&f.img, &f.map, &feats, Some(0.3)))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = quality }
criterion_main!(benches);
