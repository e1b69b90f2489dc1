//! Selfie segmentation and the Y_M background mosaic.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::segment::mosaic_background;
use realface::DetectorChoice;

fn segment(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let f = common::fixture(&e, "obama.jpg");
    let mask = e.segmenter().run(&f.img).expect("mask");
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Elements(1));
    g.bench_function("segmentation", |b| {
        b.iter(|| e.segmenter().run(&f.img).expect("mask"))
    });
    g.bench_function("mosaic", |b| {
        b.iter(|| mosaic_background(&f.img, &mask, &f.face.bbox))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = segment }
criterion_main!(benches);
