//! The judge's throughput: evidence uploads judged by
//! `realface_server::evidence::judge`, as a judge worker runs them (the
//! session with the stored reference and the challenge of its certifyId),
//! with the session's model calls one after the other (one core: the
//! per-core figure), under each analysis schedule (`full` and the
//! default, `realface::session::schedule`; `JUDGE_SCHEDULES=full,default,tracked`
//! names others) on the same upload in the same run. Two uploads:
//!
//! - `failing`: a phone selfie video decoded by FFmpeg at its own rate,
//!   asked for a blink; with the fixed nonce its natural blinks do not
//!   answer the prompt, so the session ends ACTION_TIMEOUT after 127
//!   frames, as a replayed recording does;
//! - `success`: the device capture of a person made of `apfol_real2`'s real
//!   frames answering a left turn (the tests' puppet), JPEG frames as a
//!   device uploads them; it ends SUCCESS.
//!
//! Throughput is in judged frames; the verdict, the verdicts a minute per
//! core, and each schedule's ratio to the first (alternating runs) are printed
//! beside it. The data: $REALFACE_DATA, else ../shared/data;
//! `JUDGE_SECONDS` sets the measuring time of each variant (30 s).
//!
//! ```sh
//! cargo bench -p realface-server --bench judge
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::liveness::actions::Action;
use realface::session::prompt::PromptMode;
use realface::session::schedule::AnalysisSchedule;
use realface::{EngineConfig, FaceEngine, SessionOptions};
use realface_server::evidence::{judge, judged_options, Case, Evidence};
use realface_server::EvidenceLimits;

// the tests' helpers: where the shared data is, and a clip's files
#[path = "../tests/common/mod.rs"]
mod common;

/// The failing upload: a phone selfie video with blinks, asked for a blink.
const CLIP: &str = "blinkdet_video";
/// The succeeding upload's person: turns left at 0.7 s.
const PERSON: &str = "apfol_real2";
/// A fixed nonce, so that every run judges the same prompt schedule.
const NONCE: &str = "5eed5eed5eed5eed5eed5eed5eed5eed";

/// One upload to judge: its case and evidence.
struct Upload {
    name: &'static str,
    case: Case,
    evidence: Evidence,
}

/// The puppet's answered capture as a device uploads it (JPEG frames).
fn success_upload(engine: &Arc<FaceEngine>) -> Upload {
    let options = judged_options(
        SessionOptions::default(),
        vec![Action::TurnLeft],
        PromptMode::Device,
    );
    let expires_ms = realface::session::certify::unix_now_ms() + 3_600_000;
    let start = serde_json::json!({
        "certifyId": "bench-success",
        "challengeNonce": NONCE,
        "expiresAt": expires_ms,
        "sessionOptions": options,
    });
    let bundle = common::answered_bundle("bench-success", &start, PERSON);
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).expect("bundle JSON");
    let frames = bundle["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .map(|f| {
            let jpeg = base64::engine::general_purpose::STANDARD
                .decode(f["jpeg"].as_str().expect("jpeg"))
                .expect("base64");
            (f["tMs"].as_u64().expect("tMs"), jpeg)
        })
        .collect();
    let img = engine
        .load(common::clip_file(PERSON, "frame_0001.jpg"))
        .expect("frame");
    Upload {
        name: "success",
        case: Case {
            certify_id: "bench-success".into(),
            nonce: NONCE.into(),
            expires_ms,
            reference: engine.embed_image(&img).expect("reference"),
            actions: vec![Action::TurnLeft],
            prompt_mode: PromptMode::Device,
        },
        evidence: Evidence::Frames(frames),
    }
}

/// The phone video asked for a blink it does not answer in time.
fn failing_upload(engine: &Arc<FaceEngine>) -> Upload {
    let video = std::fs::read(common::clip_file(CLIP, "source.mp4")).expect("source.mp4");
    let img = engine
        .load(common::clip_file(CLIP, "frame_0001.jpg"))
        .expect("frame");
    Upload {
        name: "failing",
        case: Case {
            certify_id: "bench".into(),
            nonce: NONCE.into(),
            // an hour from now: a certifyId lives at most a day
            expires_ms: realface::session::certify::unix_now_ms() + 3_600_000,
            reference: engine.embed_image(&img).expect("reference"),
            actions: vec![Action::Blink],
            prompt_mode: PromptMode::Device,
        },
        evidence: Evidence::Video(axum::body::Bytes::from(video)),
    }
}

fn bench_judge(c: &mut Criterion) {
    let seconds = std::env::var("JUDGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut group = c.benchmark_group("judge");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(seconds));
    // one core: the model calls one after the other
    let engine = Arc::new(
        FaceEngine::new(EngineConfig::default().with_parallel_stages(false))
            .expect("engine (run scripts/setup.sh)"),
    );
    let schedules: Vec<AnalysisSchedule> = std::env::var("JUDGE_SCHEDULES")
        .unwrap_or_else(|_| "full,default".into())
        .split(',')
        .map(|n| AnalysisSchedule::named(n.trim()).expect("JUDGE_SCHEDULES: known names"))
        .collect();
    let n = schedules.len();
    for upload in [failing_upload(&engine), success_upload(&engine)] {
        let run = |schedule: &AnalysisSchedule| {
            let t = Instant::now();
            let j = judge(
                engine.clone(),
                upload.case.clone(),
                upload.evidence.clone(),
                SessionOptions::default().with_schedule(schedule.clone()),
                EvidenceLimits::default(),
                realface::session::certify::unix_now_ms(),
            )
            .expect("judged");
            (j.result, t.elapsed().as_secs_f64())
        };
        // the ratio from alternating runs (the machine's noise hits both)
        let mut secs = vec![0.0f64; n];
        for round in 0..4 {
            for k in (0..n).map(|i| (i + round) % n) {
                let (r, s) = run(&schedules[k]);
                if round == 0 {
                    eprintln!(
                        "judge/{}/{}: {:?} {:?}, {} frames judged ({} with a face)",
                        upload.name,
                        schedules[k].name,
                        r.auth_state,
                        r.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
                        r.frames,
                        r.face_frames
                    );
                }
                secs[k] += s / 4.0;
            }
        }
        for k in 0..n {
            eprintln!(
                "judge/{}: verdicts per core-minute: {} {:.1} ({:.2}x {})",
                upload.name,
                schedules[k].name,
                60.0 / secs[k],
                secs[0] / secs[k],
                schedules[0].name
            );
        }
        let frames = run(&schedules[0]).0.frames as u64;
        group.throughput(Throughput::Elements(frames));
        for schedule in &schedules {
            group.bench_function(format!("{}/{}", upload.name, schedule.name), |b| {
                b.iter(|| run(schedule))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_judge);
criterion_main!(benches);
