//! Prompted challenges on the shared clips' original videos: an answer counts
//! only after its prompt, talking is no mouth-open answer, a turn to full
//! profile is a turn, bad timings are typed errors, and the evaluation's
//! replays give the verdicts of live sessions (`realface verify`).

mod common;

use std::sync::Arc;

use common::{cli, clip_video, data_dir, ticket};
use realface::eval::challenge::{run, Recorded, Schedule, Tuning};
use realface::liveness::actions::Action;
use realface::session::challenge::ChallengeSpec;
use realface::session::prompt::PromptOptions;
use realface::session::result::{AuthState, ReasonCode};
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::source::TimedFrame;
use realface::{ErrorCode, FaceEngine};
use serde_json::Value;

fn engine() -> Arc<FaceEngine> {
    common::shared_engine()
}

/// `realface verify --json` on a clip's video with fixed prompt delays.
fn verify(clip: &str, actions: &str, delays: &str, extra: &[&str]) -> Value {
    common::verify_clip(clip, actions, delays, extra)
}

/// `lp_d9` closes its eyes from 9.7 s to 10.4 s (labels.json) and not again
/// before 12.7 s (the detector sees that closure begin at 12.07 s). A
/// closure is held until its release cue: placed at 10.0 s, 0.4 s before the
/// eyes open.
#[test]
fn an_answer_counts_after_its_prompt_and_not_before() {
    let cue = ["--release-at-ms", "10000"];
    let before = verify("lp_d9", "blink", "9300", &cue);
    assert_eq!(before["auth_state"], "SUCCESS", "{before}");
    assert_eq!(before["schedule"], "fixed");
    let a = &before["actions"][0];
    let (prompt, onset) = (
        a["prompt_ms"].as_u64().expect("prompt"),
        a["onset_ms"].as_u64().expect("onset"),
    );
    assert!((9300..9400).contains(&prompt), "{a}");
    assert!(onset >= prompt + 150 && onset <= prompt + 1000, "{a}");
    // the same closure, prompted after it began: no answer
    let after = verify("lp_d9", "blink", "9900", &cue);
    assert_eq!(after["auth_state"], "FAIL", "{after}");
    assert_eq!(after["actions"][0]["passed"], false);
    assert_eq!(after["reasons"][0]["code"], "ACTION_TIMEOUT");
    // prompted after it ended, with no other closure starting in the
    // 1,400 ms window (to 11.9 s): no answer either
    let late = verify("lp_d9", "blink", "10500", &cue);
    assert_eq!(late["auth_state"], "FAIL", "{late}");
    // the 10 fps frames of the same clip behave the same
    let dir = data_dir().join("actions").join("lp_d9");
    let out = cli()
        .args(["verify", "--json", "--fps", "10", "--reference"])
        .arg(dir.join("frame_0001.jpg"))
        .arg("--frames")
        .arg(&dir)
        .args(["--actions", "blink", "--prompt-delays-ms", "9300"])
        .args(cue)
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
}

fn record(clip: &str) -> Recorded {
    let frames = clip_video(clip);
    let reference = engine().embed_image(&frames[0].image).expect("reference");
    Recorded::new(
        &engine(),
        &SessionOptions::default(),
        clip,
        "genuine",
        clip,
        reference,
        &frames,
        Vec::new(),
    )
    .expect("record")
}

/// A clip that talks throughout (`sadtalker_aoc`, `grid_lbax4n`) never
/// answers "open your mouth", wherever the prompt comes.
#[test]
fn talking_is_no_mouth_open_answer() {
    for clip in ["sadtalker_aoc", "grid_lbax4n"] {
        let rec = record(clip);
        let spec = || ChallengeSpec::Fixed(vec![Action::MouthOpen]);
        let end = rec.end_ms.saturating_sub(1500);
        let mut tried = 0;
        for d in (600..end).step_by(100) {
            let r = run(
                &engine(),
                &rec,
                spec(),
                &Schedule::Fixed(vec![d]),
                &Tuning::default(),
            );
            assert!(!r.passed, "{clip}: prompt at {d} ms passed");
            tried += 1;
        }
        for k in 0..30 {
            let r = run(
                &engine(),
                &rec,
                spec(),
                &Schedule::Nonce(k),
                &Tuning::default(),
            );
            assert!(!r.passed, "{clip}: random schedule {k} passed");
        }
        assert!(tried >= 5, "{clip}: {tried} placements");
    }
}

/// A turn to full profile: the face turns past the planarity test's angle,
/// then the detector loses it for 0.4 s (here the frames of `apfol_real2`
/// from its turn on are replaced by the face-less corner of the room), then
/// it comes back. Losing the face there is the answer.
#[test]
fn a_turn_to_full_profile_is_a_turn() {
    let frames = clip_video("apfol_real2");
    let blank = {
        let f = &frames[0].image;
        let corner = image::imageops::crop_imm(f, 0, 0, f.width() / 5, f.height() / 5).to_image();
        image::imageops::resize(
            &corner,
            f.width(),
            f.height(),
            image::imageops::FilterType::Triangle,
        )
    };
    // yaw passes 26 degrees at about 0.97 s: the face is "lost" from 1.0 s
    // to 1.4 s, held there until the release cue (1.1 s), back at 1.4 s
    let seq: Vec<TimedFrame> = frames
        .iter()
        .filter(|f| f.t_ms < 2500)
        .map(|f| TimedFrame {
            image: if (1000..1400).contains(&f.t_ms) {
                blank.clone()
            } else if f.t_ms >= 1400 {
                frames[(f.t_ms as usize / 50) % 15].image.clone()
            } else {
                f.image.clone()
            },
            t_ms: f.t_ms,
        })
        .collect();
    let options = SessionOptions::default()
        .with_challenge(ChallengeSpec::Fixed(vec![Action::TurnLeft]))
        .with_prompt_delays_ms(vec![450])
        .with_release_at_ms(vec![1100]);
    let mut s = VerificationSession::new(
        engine(),
        ticket("profile"),
        Reference::Photo(frames[0].image.clone()),
        options.clone(),
    )
    .expect("session");
    let mut lost = 0;
    for f in &seq {
        if let Ok(p) = s.push_frame(&f.image, f.t_ms) {
            lost += (p.faces == 0) as usize;
        }
        if s.is_finished() {
            break;
        }
    }
    let r = s.finish();
    assert!(lost > 0, "the face was never lost");
    assert_eq!(r.auth_state, AuthState::Success, "{:?}", r.reasons);
    assert!(
        r.flat_motion.max_planar_residual >= 0.14,
        "a head was seen turning"
    );
    // the same loss with no turn before it is no answer
    let still: Vec<TimedFrame> = seq
        .iter()
        .map(|f| TimedFrame {
            image: if (1000..1400).contains(&f.t_ms) {
                blank.clone()
            } else {
                frames[(f.t_ms as usize / 50) % 15].image.clone()
            },
            t_ms: f.t_ms,
        })
        .collect();
    let mut s = VerificationSession::new(
        engine(),
        ticket("no-profile"),
        Reference::Photo(frames[0].image.clone()),
        options,
    )
    .expect("session");
    for f in &still {
        let _ = s.push_frame(&f.image, f.t_ms);
        if s.is_finished() {
            break;
        }
    }
    assert_eq!(s.finish().auth_state, AuthState::Fail);
}

#[test]
fn bad_prompt_timings_are_typed_errors() {
    let bad = [
        r#"{"prompt": {"reaction_min_ms": 400, "reaction_max_ms": 300}}"#,
        r#"{"prompt": {"reaction_min_ms": 10}}"#,
        r#"{"prompt": {"delay_min_ms": 3000, "delay_max_ms": 500}}"#,
        r#"{"prompt": {"rest_ms": 0}}"#,
        r#"{"prompt": {"delays_ms": []}}"#,
    ];
    for json in bad {
        let o: SessionOptions = serde_json::from_str(json).expect("parses");
        assert_eq!(
            o.validate().unwrap_err().code(),
            ErrorCode::InvalidArgument,
            "{json}"
        );
    }
    assert!(
        serde_json::from_str::<SessionOptions>(r#"{"prompt": {"delays_ms": [-100]}}"#).is_err()
    );
    let wrong_count = SessionOptions::default()
        .with_challenge(ChallengeSpec::Fixed(vec![Action::Blink, Action::Nod]))
        .with_prompt_delays_ms(vec![500]);
    let e = VerificationSession::new(
        engine(),
        ticket("bad"),
        Reference::Photo(clip_video("lp_d9")[0].image.clone()),
        wrong_count,
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    // the CLI: negative delays, a wrong count, and with a server's nonce
    for (delays, extra) in [
        ("-300", vec![]),
        ("300,abc", vec![]),
        ("300,400", vec![]),
        (
            "300",
            vec![
                "--certify-id",
                "id1",
                "--nonce",
                "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b",
                "--expires-ms",
                "99999999999999",
            ],
        ),
    ] {
        let v = verify("lp_d9", "blink", delays, &extra);
        assert_eq!(v["error"]["code"], 400, "{delays} {extra:?}: {v}");
        assert_eq!(v["error"]["name"], "INVALID_ARGUMENT");
    }
    assert!(PromptOptions::default().validate().is_ok());
}

/// A live session claimed with `id` and `nonce`, with `rec`'s reference,
/// over `frames` until it ends.
fn live_session(
    id: &str,
    nonce: &str,
    rec: &Recorded,
    options: SessionOptions,
    frames: &[TimedFrame],
) -> realface::AuthResult {
    let mut s = VerificationSession::new(
        engine(),
        realface::CertifyRegistry::new()
            .claim_issued(
                &realface::IssuedId {
                    certify_id: id.to_string(),
                    challenge_nonce: nonce.to_string(),
                    expires_ms: 60_000,
                },
                0,
            )
            .expect("ticket"),
        Reference::Embedding(rec.reference.clone()),
        options,
    )
    .expect("session");
    for f in frames {
        let _ = s.push_frame(&f.image, f.t_ms);
        if s.is_finished() {
            break;
        }
    }
    s.finish()
}

/// The evaluation replays recorded observations; a live session over the
/// same frames (here `realface verify`, with the same fixed or nonce-drawn
/// schedule) must reach the same verdict for the same reason.
#[test]
fn evaluation_replays_match_live_sessions() {
    let rec = record("lp_d9");
    let tuning = Tuning::default();
    for d in [9300u64, 9900, 12400, 15000] {
        let replay = run(
            &engine(),
            &rec,
            ChallengeSpec::Fixed(vec![Action::Blink]),
            &Schedule::Fixed(vec![d]),
            &tuning,
        );
        let live = verify("lp_d9", "blink", &d.to_string(), &[]);
        assert_eq!(
            replay.passed,
            live["auth_state"] == "SUCCESS",
            "delay {d}: {replay:?} vs {live}"
        );
        let code = live["reasons"][0]["code"].as_str().map(str::to_string);
        assert_eq!(
            replay.reason.and_then(|c| serde_json::to_value(c)
                .expect("code")
                .as_str()
                .map(str::to_string)),
            code,
            "delay {d}"
        );
    }
    // nonce-drawn schedules: the replay and a live session claimed with the
    // same certifyId and nonce draw the same prompt times (prompts after
    // answers; and one on the browser's fixed schedule)
    let mut scheduled = tuning.clone();
    scheduled.prompt.mode = realface::session::prompt::PromptMode::Scheduled;
    for (k, tuning) in (0..4u64).map(|k| (k, &tuning)).chain([(4, &scheduled)]) {
        let replay = run(
            &engine(),
            &rec,
            ChallengeSpec::Random(2),
            &Schedule::Nonce(k),
            tuning,
        );
        let live = live_session(
            &format!("eval-{}-{k}", rec.name),
            &realface::eval::challenge::nonce(&rec.name, k),
            &rec,
            realface::eval::challenge::options(
                ChallengeSpec::Random(2),
                &Schedule::Nonce(k),
                tuning,
            ),
            &clip_video("lp_d9"),
        );
        assert_eq!(
            replay.actions,
            live.actions.iter().map(|a| a.action).collect::<Vec<_>>()
        );
        assert_eq!(
            replay.passed,
            live.auth_state == AuthState::Success,
            "schedule {k}"
        );
        assert_eq!(
            replay.reason,
            live.reasons.first().map(|r| r.code),
            "schedule {k}: {:?}",
            live.reasons
        );
    }
    assert_ne!(ReasonCode::NotAtRest, ReasonCode::ActionTimeout);
}

/// A session under an analysis schedule equals the replay of the clip's
/// `full` recording under that schedule (a schedule analyses a subset of
/// `full`'s frames): the same verdict and reason, the same passive samples
/// and medians, the same similarity. The thinner schedules score fewer
/// frames.
#[test]
fn a_schedules_live_session_equals_its_replay_of_the_full_recording() {
    use realface::session::schedule::AnalysisSchedule;
    let frames = clip_video("lp_d9");
    let rec = record("lp_d9");
    let mut samples = std::collections::BTreeMap::new();
    for name in ["full", "lean", "sparse", "default"] {
        let schedule = AnalysisSchedule::named(name).expect("schedule");
        // a fixed delay the clip answers (SUCCESS), and two nonces' draws
        let cases: [(u64, Option<u64>); 3] = [(0, Some(9300)), (1, None), (2, None)];
        for (k, delay) in cases {
            let id = format!("sched-{name}-{k}");
            let nonce = realface::eval::challenge::nonce("lp_d9", k);
            let mut options = SessionOptions::default()
                .with_challenge(ChallengeSpec::Fixed(vec![Action::Blink]))
                .with_schedule(schedule.clone());
            if let Some(d) = delay {
                options = options
                    .with_prompt_delays_ms(vec![d])
                    .with_release_at_ms(vec![10_000]);
            }
            let replay = rec
                .log
                .replay(
                    &engine(),
                    &id,
                    &nonce,
                    Reference::Embedding(rec.reference.clone()),
                    options.clone(),
                )
                .expect("replay");
            let live = live_session(&id, &nonce, &rec, options, &frames);
            let codes =
                |r: &realface::AuthResult| r.reasons.iter().map(|x| x.code).collect::<Vec<_>>();
            let what = format!(
                "{name}, case {k}: replay {:?} {:?}, live {:?} {:?}",
                replay.auth_state, replay.reasons, live.auth_state, live.reasons
            );
            assert_eq!(replay.auth_state, live.auth_state, "{what}");
            assert_eq!(codes(&replay), codes(&live), "{what}");
            assert_eq!(replay.pad.samples, live.pad.samples, "{what}");
            assert_eq!(replay.pad.median_real, live.pad.median_real, "{what}");
            assert_eq!(
                replay.pad.median_minifasnet, live.pad.median_minifasnet,
                "{what}"
            );
            match (replay.similarity, live.similarity) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-5, "{what}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{what}"),
            }
            if delay.is_some() {
                assert_eq!(live.auth_state, AuthState::Success, "{what}");
            }
            samples
                .entry(name)
                .or_insert_with(Vec::new)
                .push(live.pad.samples);
        }
    }
    let total = |n: &str| samples[n].iter().sum::<usize>();
    assert!(
        total("sparse") < total("lean") && total("lean") < total("full"),
        "{samples:?}"
    );
}

/// A small `eval challenge` run (the full sweep is a documented command):
/// the report, its held-out figures and the window plot.
#[test]
fn eval_challenge_runs_small() {
    let out = std::env::temp_dir().join(format!("realface-challenge-{}", std::process::id()));
    let data = data_dir();
    let status = cli()
        .args(["eval", "challenge", "--clips"])
        .arg(data.join("actions"))
        .arg("--spoof")
        .arg(data.join("spoof"))
        .args([
            "--only",
            "lp_d9,apfol_real2",
            "--schedules",
            "4",
            "--multi-schedules",
            "4",
            "--no-offsets",
            "--no-photo-attacks",
            "--out",
        ])
        .arg(&out)
        .status()
        .expect("run");
    assert!(status.success());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("json");
    let s = &report["summary"];
    assert!(
        s["genuine_pass_held_out"]["genuine/blink"]["runs"]
            .as_u64()
            .unwrap_or(0)
            >= 3,
        "{s}"
    );
    assert!(
        s["attack_pass_held_out"]["pre-recorded/blink"]["runs"].as_u64() == Some(8),
        "{s}"
    );
    assert!(
        s["attack_pass_held_out"]["replay"]["runs"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{s}"
    );
    assert!(
        s["multi_action_attack_pass_held_out"]["2-action"]["pre-recorded"]["runs"].as_u64()
            == Some(8)
    );
    assert!(report["folds"]["lp_d9"]["challenge"]["reaction_max_ms"].is_u64());
    assert!(
        s["pad_sessions_held_out"]["Minifasnet"]["rates"]["BPCER genuine sessions"]["runs"]
            .as_u64()
            .unwrap_or(0)
            >= 2
    );
    // the browser's prompt mode, under `full` and under `tracked` (the
    // detector every 5th frame: observed apart)
    let sched = out.join("scheduled");
    let status = cli()
        .args(["eval", "challenge", "--clips"])
        .arg(data.join("actions"))
        .args([
            "--only",
            "apfol_real2,lp_d9",
            "--schedules",
            "4",
            "--multi-schedules",
            "4",
            "--no-offsets",
            "--no-photo-attacks",
            "--prompt-mode",
            "scheduled",
            "--analysis-schedules",
            "full,tracked",
            "--out",
        ])
        .arg(&sched)
        .status()
        .expect("run");
    assert!(status.success());
    let json = |p: std::path::PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(&p).expect("report")).expect("json")
    };
    for name in ["full", "tracked"] {
        let r = json(sched.join(name).join("report.json"));
        assert_eq!(r["tuning_base"]["prompt"]["mode"], "scheduled");
        assert_eq!(
            r["summary"]["attack_pass_held_out"]["pre-recorded/turn_left"]["runs"].as_u64(),
            Some(8),
            "{name}: {}",
            r["summary"]
        );
    }
    let rows = json(sched.join("schedules.json"));
    let rates: Vec<_> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["schedule"].clone(), r["detect_every"].clone()))
        .collect();
    assert_eq!(
        rates,
        [
            (Value::from("full"), Value::from(1)),
            (Value::from("tracked"), Value::from(5))
        ]
    );
    for f in ["window.png", "window.svg"] {
        assert!(
            std::fs::metadata(out.join(f))
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "{f}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
