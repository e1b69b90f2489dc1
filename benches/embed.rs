//! MobileFaceNet embedding of an aligned face, with and without flip fusion,
//! and a batch of eight (offline evaluation).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::DetectorChoice;

fn embed(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let f = common::fixture(&e, "obama.jpg");
    let mut g = c.benchmark_group("embed");
    g.throughput(Throughput::Elements(1));
    g.bench_function("one", |b| {
        b.iter(|| {
            e.embedder()
                .embed(&[(&f.img, f.map)], false)
                .expect("embed")
        })
    });
    g.bench_function("one_flip", |b| {
        b.iter(|| e.embedder().embed(&[(&f.img, f.map)], true).expect("embed"))
    });
    let batch: Vec<_> = (0..8).map(|_| (&f.img, f.map)).collect();
    g.throughput(Throughput::Elements(8));
    g.bench_function("batch_8", |b| {
        b.iter(|| e.embedder().embed(&batch, false).expect("embed"))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = embed }
criterion_main!(benches);
