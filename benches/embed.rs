//! Embedding of an aligned face with each matcher (MobileFaceNet alone,
//! fused with fr_feature, the permissive SFace fusion, and the default w600k_mbf with its SCRFD
//! alignment and with the mesh's), with and without flip fusion, a batch of
//! eight (offline evaluation), and the SCRFD keypoint stage alone.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::{Alignment, EngineConfig, FaceEngine, Matcher};

fn embed(c: &mut Criterion) {
    let e = FaceEngine::new(
        EngineConfig::default()
            .with_matcher(Matcher::MobileFaceNet)
            .with_intra_threads(1),
    )
    .expect("engine");
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
    g.throughput(Throughput::Elements(1));
    let fused = FaceEngine::new(
        EngineConfig::default()
            .with_matcher(Matcher::Fused)
            .with_intra_threads(1),
    )
    .expect("engine");
    g.bench_function("one_fused", |b| {
        b.iter(|| {
            fused
                .embedder()
                .embed(&[(&f.img, f.map)], false)
                .expect("embed")
        })
    });
    let permissive = FaceEngine::new(
        EngineConfig::default()
            .with_matcher(Matcher::Permissive)
            .with_intra_threads(1),
    )
    .expect("engine");
    g.bench_function("one_permissive", |b| {
        b.iter(|| {
            permissive
                .embedder()
                .embed(&[(&f.img, f.map)], false)
                .expect("embed")
        })
    });
    let w600k = FaceEngine::new(
        EngineConfig::default()
            .with_matcher(Matcher::W600kMbf)
            .with_intra_threads(1),
    )
    .expect("engine (w600k_mbf: run scripts/setup.sh)");
    assert_eq!(w600k.embedder().alignment(), Alignment::Scrfd);
    g.bench_function("one_w600k_mbf", |b| {
        b.iter(|| {
            w600k
                .embedder()
                .embed(&[(&f.img, f.map)], false)
                .expect("embed")
        })
    });
    // the same network on the mesh's alignment (no SCRFD run)
    let w600k_mesh = FaceEngine::for_calibration(
        EngineConfig::default()
            .with_alignment(Some(Alignment::Mesh))
            .with_intra_threads(1),
    )
    .expect("engine");
    g.bench_function("one_w600k_mbf_mesh_alignment", |b| {
        b.iter(|| {
            w600k_mesh
                .embedder()
                .embed(&[(&f.img, f.map)], false)
                .expect("embed")
        })
    });
    let yunet = FaceEngine::for_calibration(
        EngineConfig::default()
            .with_matcher(Matcher::Permissive)
            .with_alignment(Some(Alignment::Yunet))
            .with_intra_threads(1),
    )
    .expect("engine");
    g.bench_function("yunet_keypoints", |b| {
        b.iter(|| yunet.embedder().aligned_map(&f.img, f.map).expect("yunet"))
    });
    g.bench_function("scrfd_keypoints", |b| {
        b.iter(|| w600k.embedder().aligned_map(&f.img, f.map).expect("scrfd"))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = embed }
criterion_main!(benches);
