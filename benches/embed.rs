//! Embedding of an aligned face with each matcher (MobileFaceNet alone,
//! fused with fr_feature, and the opt-in w600k_mbf), with and without flip
//! fusion, and a batch of eight (offline evaluation).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::{DetectorChoice, EngineConfig, FaceEngine, Matcher};

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
    let fused = common::engine(DetectorChoice::Auto);
    assert_eq!(
        fused.config().matcher,
        Matcher::Fused,
        "the default matcher"
    );
    g.bench_function("one_fused", |b| {
        b.iter(|| {
            fused
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
    g.bench_function("one_w600k_mbf", |b| {
        b.iter(|| {
            w600k
                .embedder()
                .embed(&[(&f.img, f.map)], false)
                .expect("embed")
        })
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = embed }
criterion_main!(benches);
