//! Face Mesh on the detector's region, and on the previous mesh's region (tracking).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::landmarks::Roi;
use realface::DetectorChoice;

fn mesh(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let f = common::fixture(&e, "obama.jpg");
    let roi = Roi::from_face(&f.face);
    let tracked = f.mesh.next_roi();
    let mut g = c.benchmark_group("mesh");
    g.throughput(Throughput::Elements(1));
    g.bench_function("from_detection", |b| {
        b.iter(|| e.mesh().run(&f.img, roi).expect("mesh"))
    });
    g.bench_function("from_previous_mesh", |b| {
        b.iter(|| e.mesh().run(&f.img, tracked).expect("mesh"))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = mesh }
criterion_main!(benches);
