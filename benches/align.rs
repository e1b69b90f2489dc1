//! Alignment: the five-point similarity fit and the 112x112 aligned warp.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::align::{aligned_image, alignment};
use realface::DetectorChoice;

fn align(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let f = common::fixture(&e, "obama.jpg");
    let five = f.mesh.five_points();
    let mut g = c.benchmark_group("align");
    g.throughput(Throughput::Elements(1));
    g.bench_function("fit", |b| b.iter(|| alignment(&five).expect("fit")));
    g.bench_function("warp_112", |b| b.iter(|| aligned_image(&f.img, &f.map)));
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = align }
criterion_main!(benches);
