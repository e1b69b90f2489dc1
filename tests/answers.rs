//! Liveness round 3 on the shared clips' original videos: a person waiting
//! is at rest and a talking clip is not; a prompt due while the head is
//! still moving comes once it is still, in `verify` and in a live session
//! alike; a deliberate answer in its window passes, and the same recording
//! under random schedules fails; a held answer let go before its release
//! cue is no answer.

mod common;

use common::{clip_video, data_dir, shared_engine, ticket};
use realface::eval::challenge::{run, Recorded, Schedule, Tuning};
use realface::liveness::actions::{Action, ActionParams, History};
use realface::liveness::answer::rest_problem;
use realface::session::challenge::ChallengeSpec;
use realface::session::replay::FrameObs;
use realface::session::result::AuthState;
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::source::TimedFrame;
use serde_json::Value;

/// `realface verify --json` on a clip's video with a fixed prompt delay and
/// release cue.
fn verify(clip: &str, action: &str, delay: u64, release: u64) -> Value {
    common::verify_clip(
        clip,
        action,
        &delay.to_string(),
        &["--release-at-ms", &release.to_string()],
    )
}

fn frames_until(clip: &str, until_ms: u64) -> Vec<TimedFrame> {
    clip_video(clip)
        .into_iter()
        .filter(|f| f.t_ms <= until_ms)
        .collect()
}

fn record(clip: &str, frames: &[TimedFrame]) -> Recorded {
    let engine = shared_engine();
    let reference = engine.embed_image(&frames[0].image).expect("reference");
    Recorded::new(
        &engine,
        &SessionOptions::default(),
        clip,
        "genuine",
        clip,
        reference,
        frames,
        Vec::new(),
    )
    .expect("record")
}

/// For each face frame after the first second in `[from, to]` ms: whether
/// the face is at rest for `action` there, as a prompt would judge it.
fn at_rest(rec: &Recorded, action: Action, from: u64, to: u64) -> Vec<bool> {
    let p = ActionParams::default();
    let mut h = History::default();
    let mut out = Vec::new();
    for (t, o) in rec.log.entries() {
        if let FrameObs::Face(f) = o {
            h.push(*t, f.features);
            if *t >= from.max(1000) && *t <= to {
                out.push(rest_problem(action, &p, &h, *t, 400).is_none());
            }
        }
    }
    out
}

fn share(v: &[bool]) -> f64 {
    v.iter().filter(|&&x| x).count() as f64 / v.len().max(1) as f64
}

/// `focus_mahie_blink`: a man looking at his screen for a minute (natural
/// blinks, the micro-motion of someone reading): at rest for every action
/// nearly everywhere. `grid_lbax4n` speaks a sentence from 0.8 s to 2.4 s
/// (labels.json): while it talks, the mouth is not at rest.
#[test]
fn a_person_waiting_is_at_rest_and_a_talking_clip_is_not() {
    let rec = record(
        "focus_mahie_blink",
        &frames_until("focus_mahie_blink", 20_000),
    );
    for a in Action::ALL {
        let r = at_rest(&rec, a, 0, 20_000);
        assert!(r.len() > 400, "{a:?}: {} frames", r.len());
        assert!(share(&r) >= 0.97, "{a:?}: at rest in {:.3}", share(&r));
    }
    let talk = record("grid_lbax4n", &clip_video("grid_lbax4n"));
    let during = at_rest(&talk, Action::MouthOpen, 1200, 2400);
    assert!(during.len() > 20, "{} frames", during.len());
    assert!(
        share(&during) <= 0.3,
        "talking at rest in {:.3} of its frames",
        share(&during)
    );
}

/// `binaryface_eyesquint` turns to the image's left (near profile) and is
/// back by 4.35 s, then turns to the image's right (the user's left) from
/// 5.5 s (labels.json). A `turn_left` prompt due at 4.5 s finds the head
/// still coming back: it is postponed until the head is still, then comes
/// before the turn — in `verify` and in a live session over the same frames
/// alike, at the same time.
#[test]
fn a_prompt_due_while_the_head_moves_comes_once_it_is_still() {
    let (delay, release) = (4500, 7070 - 500);
    let v = verify("binaryface_eyesquint", "turn_left", delay, release);
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    let a = &v["actions"][0];
    let prompt = a["prompt_ms"].as_u64().expect("prompt");
    let onset = a["onset_ms"].as_u64().expect("onset");
    assert!(prompt > delay && prompt < 5500, "not postponed: {a}");
    assert!(onset >= prompt + 150, "{a}");
    assert_eq!(a["release_ms"].as_u64(), Some(release), "{a}");
    // a live session with the same delays
    let engine = shared_engine();
    let frames = clip_video("binaryface_eyesquint");
    let dir = data_dir().join("actions").join("binaryface_eyesquint");
    let reference = engine.load(dir.join("frame_0001.jpg")).expect("reference");
    let options = SessionOptions::default()
        .with_challenge(ChallengeSpec::Fixed(vec![Action::TurnLeft]))
        .with_prompt_delays_ms(vec![delay])
        .with_release_at_ms(vec![release]);
    let mut s = VerificationSession::new(
        engine,
        ticket("postponed-live"),
        Reference::Photo(reference),
        options,
    )
    .expect("session");
    for f in &frames {
        let _ = s.push_frame(&f.image, f.t_ms);
        if s.is_finished() {
            break;
        }
    }
    let r = s.finish();
    assert_eq!(r.auth_state, AuthState::Success, "{:?}", r.reasons);
    assert_eq!(r.actions[0].prompt_ms, Some(prompt));
    assert_eq!(r.actions[0].onset_ms, Some(onset));
}

/// `mauckc_mouth_open` opens the mouth on purpose three times (from 2.65,
/// 4.42 and 7.5 s, back at rest at 3.35, 5.93 and 9.13 s): prompted 0.5-1 s
/// before an opening, with the release cue half a second before it closes,
/// it passes. The same video played to random schedules, as an attacker
/// with footage of the victim would, fails in at least the fraction the
/// evaluation measured for it: `eval challenge` passed it 3 times in 50
/// held-out schedules (6%, 95% upper bound 15%), so at least 85 of 100
/// schedules here must fail.
#[test]
fn a_deliberate_answer_passes_and_its_recording_under_random_schedules_fails() {
    for (start, end) in [(2650u64, 3350u64), (4420, 5930), (7500, 9130)] {
        for rt in [500, 1000] {
            let v = verify("mauckc_mouth_open", "mouth_open", start - rt, end - 500);
            assert_eq!(v["auth_state"], "SUCCESS", "{start} @ {rt}: {v}");
        }
    }
    let rec = record("mauckc_mouth_open", &clip_video("mauckc_mouth_open"));
    let passed = (0..100)
        .filter(|&k| {
            run(
                &shared_engine(),
                &rec,
                ChallengeSpec::Fixed(vec![Action::MouthOpen]),
                &Schedule::Nonce(k),
                &Tuning::default(),
            )
            .passed
        })
        .count();
    assert!(passed <= 15, "{passed} of 100 random schedules passed");
}

/// The release cue: `mauckc_mouth_open` closes its second opening at about
/// 5.9 s. A cue after that (the person let go before it) or long before it
/// (held past the window) is no answer.
#[test]
fn a_held_answer_let_go_before_its_release_cue_is_no_answer() {
    let early = verify("mauckc_mouth_open", "mouth_open", 3800, 6200);
    assert_eq!(early["auth_state"], "FAIL", "{early}");
    let why = early["reasons"][0]["message"].as_str().unwrap_or_default();
    assert!(why.contains("before the release cue"), "{why}");
    let late = verify("mauckc_mouth_open", "mouth_open", 3800, 4700);
    assert_eq!(late["auth_state"], "FAIL", "{late}");
    let why = late["reasons"][0]["message"].as_str().unwrap_or_default();
    assert!(why.contains("past the release cue"), "{why}");
}
