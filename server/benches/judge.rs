//! The judge's throughput: one evidence upload judged by
//! `realface_server::evidence::judge`, as a judge worker runs it (the video
//! decoded by FFmpeg at its own rate, the session with the stored reference
//! and the challenge of its certifyId), with the session's model calls one
//! after the other (one core: the per-core figure) and side by side (the
//! default, two cores). Throughput is in judged frames; the verdict and the
//! evidence a minute per worker are printed beside it. With the fixed nonce
//! the clip's natural blinks do not answer the prompt, so the session ends
//! ACTION_TIMEOUT after 127 frames, as a replayed recording does. The data:
//! $REALFACE_DATA, else ../shared/data; `JUDGE_SECONDS` sets the measuring
//! time of each variant (30 s).
//!
//! ```sh
//! cargo bench -p realface-server --bench judge
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::liveness::actions::Action;
use realface::session::prompt::PromptMode;
use realface::{EngineConfig, FaceEngine, SessionOptions};
use realface_server::evidence::{judge, Case, Evidence};
use realface_server::EvidenceLimits;

// the tests' helpers: where the shared data is, and a clip's files
#[path = "../tests/common/mod.rs"]
mod common;

/// The upload: a phone selfie video with blinks, asked for a blink.
const CLIP: &str = "blinkdet_video";
/// A fixed nonce, so that every run judges the same prompt schedule.
const NONCE: &str = "5eed5eed5eed5eed5eed5eed5eed5eed";

fn bench_judge(c: &mut Criterion) {
    let video = std::fs::read(common::clip_file(CLIP, "source.mp4")).expect("source.mp4");
    let video = axum::body::Bytes::from(video);
    let seconds = std::env::var("JUDGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut group = c.benchmark_group("judge");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(seconds));
    for (name, side_by_side) in [("one core", false), ("side by side", true)] {
        let engine = Arc::new(
            FaceEngine::new(EngineConfig::default().with_parallel_stages(side_by_side))
                .expect("engine (run scripts/setup.sh)"),
        );
        let img = engine
            .load(common::clip_file(CLIP, "frame_0001.jpg"))
            .expect("frame");
        let reference = engine.embed_image(&img).expect("reference");
        let case = Case {
            certify_id: "bench".into(),
            nonce: NONCE.into(),
            // an hour from now: a certifyId lives at most a day
            expires_ms: realface::session::certify::unix_now_ms() + 3_600_000,
            reference,
            actions: vec![Action::Blink],
            prompt_mode: PromptMode::Device,
        };
        let run = || {
            judge(
                engine.clone(),
                case.clone(),
                Evidence::Video(video.clone()),
                SessionOptions::default(),
                EvidenceLimits::default(),
                realface::session::certify::unix_now_ms(),
            )
            .expect("judged")
        };
        let t = Instant::now();
        let first = run().result;
        let seconds = t.elapsed().as_secs_f64();
        eprintln!(
            "judge/{name}: {:?} {:?}, {} frames judged ({} with a face), first run {:.2} s = {:.1} evidence a minute per worker",
            first.auth_state,
            first.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
            first.frames,
            first.face_frames,
            seconds,
            60.0 / seconds
        );
        group.throughput(Throughput::Elements(first.frames as u64));
        group.bench_function(name, |b| b.iter(run));
    }
    group.finish();
}

criterion_group!(benches, bench_judge);
criterion_main!(benches);
