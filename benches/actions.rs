//! Liveness per frame: features from the mesh, one answer detector update
//! and the flat-motion cue, over a 3-second history; the planarity test of
//! a turned frame (what the flat-motion cue runs on turned frames only).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::liveness::actions::{Action, ActionParams, History};
use realface::liveness::answer::{AnswerDetector, Baseline};
use realface::liveness::features::FrameFeatures;
use realface::liveness::flat::FlatMotion;
use realface::liveness::planar::{residual, PlanarReference};
use realface::DetectorChoice;

fn actions(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let f = common::fixture(&e, "obama.jpg");
    let feats = FrameFeatures::from_mesh(&f.mesh);
    let mut g = c.benchmark_group("actions");
    g.throughput(Throughput::Elements(1));
    g.bench_function("features", |b| b.iter(|| FrameFeatures::from_mesh(&f.mesh)));
    let mut history = History::default();
    for k in 0..30 {
        history.push(k * 33, feats);
    }
    let base = Baseline::at(&history, 0).expect("baseline");
    let mut det = AnswerDetector::new(Action::Blink, ActionParams::default(), base);
    let mut flat = FlatMotion::default();
    let mut t = 30 * 33u64;
    g.bench_function("update", |b| {
        b.iter(|| {
            t += 33;
            history.push(t, feats);
            flat.update(&feats, &history);
            det.update(t, &feats)
        })
    });
    let reference = PlanarReference::new(&f.img, &f.mesh).expect("inner face");
    g.bench_function("planar_residual", |b| {
        b.iter(|| residual(&reference, &f.img, &f.mesh))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = actions }
criterion_main!(benches);
