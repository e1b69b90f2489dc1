//! Embedding of an aligned face with each matcher (MobileFaceNet alone,
//! fused with fr_feature, the permissive SFace fusion, and the default
//! w600k_mbf with its SCRFD alignment and with the mesh's), with and without
//! flip fusion, a batch of eight (offline evaluation), and the SCRFD and
//! YuNet keypoint stages alone.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::{Alignment, EngineConfig, FaceEngine, Matcher};

/// An engine with one ONNX Runtime thread per model; with an alignment
/// other than the matcher's own, one built for calibrating (no shipped
/// table, so only its embedder and keypoint stages are used here).
fn engine(matcher: Matcher, alignment: Option<Alignment>) -> FaceEngine {
    let cfg = EngineConfig::default()
        .with_matcher(matcher)
        .with_alignment(alignment)
        .with_intra_threads(1);
    match alignment {
        None => FaceEngine::new(cfg),
        Some(_) => FaceEngine::for_calibration(cfg),
    }
    .expect("engine (run scripts/setup.sh)")
}

fn embed(c: &mut Criterion) {
    let e = engine(Matcher::MobileFaceNet, None);
    let f = common::fixture(&e, "obama.jpg");
    let one = [(&f.img, f.map)];
    let mut g = c.benchmark_group("embed");
    g.throughput(Throughput::Elements(1));
    g.bench_function("one", |b| {
        b.iter(|| e.embedder().embed(&one, false).expect("embed"))
    });
    g.bench_function("one_flip", |b| {
        b.iter(|| e.embedder().embed(&one, true).expect("embed"))
    });
    let batch: Vec<_> = (0..8).map(|_| (&f.img, f.map)).collect();
    g.throughput(Throughput::Elements(8));
    g.bench_function("batch_8", |b| {
        b.iter(|| e.embedder().embed(&batch, false).expect("embed"))
    });
    g.throughput(Throughput::Elements(1));
    let w600k = engine(Matcher::W600kMbf, None);
    assert_eq!(w600k.embedder().alignment(), Alignment::Scrfd);
    let others = [
        ("one_fused", engine(Matcher::Fused, None)),
        ("one_permissive", engine(Matcher::Permissive, None)),
        // the same network on the mesh's alignment (no SCRFD run)
        (
            "one_w600k_mbf_mesh_alignment",
            engine(Matcher::W600kMbf, Some(Alignment::Mesh)),
        ),
    ];
    g.bench_function("one_w600k_mbf", |b| {
        b.iter(|| w600k.embedder().embed(&one, false).expect("embed"))
    });
    for (name, m) in &others {
        g.bench_function(*name, |b| {
            b.iter(|| m.embedder().embed(&one, false).expect("embed"))
        });
    }
    let yunet = engine(Matcher::Permissive, Some(Alignment::Yunet));
    for (name, m) in [("scrfd_keypoints", &w600k), ("yunet_keypoints", &yunet)] {
        g.bench_function(name, |b| {
            b.iter(|| m.embedder().aligned_map(&f.img, f.map).expect("keypoints"))
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = embed }
criterion_main!(benches);
