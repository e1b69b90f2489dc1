//! The verification session end to end on real frames: genuine clips pass,
//! every failure path is FAIL with its code, and no input sequence reaches
//! SUCCESS without a completed challenge and a match.

mod common;

use std::sync::Arc;

use common::{data_dir, load, sample, ticket};
use realface::eval::clips::frame_files;
use realface::liveness::actions::Action;
use realface::rng::SplitMix;
use realface::session::certify::CertifyRegistry;
use realface::session::challenge::ChallengeSpec;
use realface::session::photo::PhotoKind;
use realface::session::result::{AuthState, ReasonCode};
use realface::session::{Reference, SessionOptions, SessionState, VerificationSession};
use realface::{ErrorCode, FaceEngine, RgbImage};

fn engine() -> Arc<FaceEngine> {
    common::shared_engine()
}

fn clip(name: &str) -> Vec<RgbImage> {
    let dir = data_dir().join("actions").join(name);
    frame_files(&dir)
        .expect("frames")
        .iter()
        .map(|f| load(f))
        .collect()
}

fn opts(actions: &[Action]) -> SessionOptions {
    SessionOptions::default().with_challenge(ChallengeSpec::Fixed(actions.to_vec()))
}

/// `apfol_real2` at 10 fps: the user's left turn starts at about 0.7 s; a
/// prompt at 0.5 s (the head still before it) is answered 200-300 ms later.
/// The turn is held from 1.0 s and let go at 1.6 s: its release cue is
/// placed at 1.3 s.
fn turn_left_at_half_a_second() -> SessionOptions {
    opts(&[Action::TurnLeft])
        .with_prompt_delays_ms(vec![500])
        .with_release_at_ms(vec![1300])
}

/// A person answering both turns of `apfol_real2` (native 30 fps frames)
/// 400 ms after each prompt, holding still (the clip's first 0.6 s) in between.
fn apfol_puppet(frames: &[realface::source::TimedFrame]) -> realface::eval::puppet::Puppet {
    common::puppet(
        frames,
        (0, 600),
        &[
            (Action::TurnLeft, 700, 200, 900),
            (Action::TurnRight, 3600, 200, 700),
        ],
        400,
    )
}

fn run(
    reference: Reference,
    frames: &[RgbImage],
    options: SessionOptions,
) -> realface::session::result::AuthResult {
    let mut s =
        VerificationSession::new(engine(), ticket("t"), reference, options).expect("session");
    for (i, f) in frames.iter().enumerate() {
        let _ = s.push_frame(f, i as u64 * 100);
        if s.is_finished() {
            break;
        }
    }
    s.finish()
}

#[test]
fn genuine_turns_pass_with_photos() {
    let video = common::clip_video("apfol_real2");
    let p = apfol_puppet(&video);
    let frames = clip("apfol_real2");
    for kind in [PhotoKind::Original, PhotoKind::Mosaic] {
        let o = opts(&[Action::TurnLeft, Action::TurnRight]).with_photo(kind);
        let mut s = VerificationSession::new(
            engine(),
            ticket(&format!("turns-{kind:?}")),
            Reference::Photo(frames[0].clone()),
            o,
        )
        .expect("session");
        let r = p.perform(&mut s, 0, 30_000);
        // after the verdict either photo is served (a server keeps both):
        // the result's own kind is its photo, the other is rendered apart
        let other = match kind {
            PhotoKind::Original => PhotoKind::Mosaic,
            _ => PhotoKind::Original,
        };
        assert_eq!(s.photo(kind).expect("own kind"), r.photo);
        let rendered = s.photo(other).expect("other kind").expect("a photo");
        assert_ne!(Some(&rendered), r.photo.as_ref());
        for a in &r.actions {
            let (prompt, onset) = (a.prompt_ms.expect("prompt"), a.onset_ms.expect("onset"));
            assert!(onset >= prompt + 150 && onset <= prompt + 1000, "{a:?}");
        }
        assert_eq!(r.auth_state, AuthState::Success, "{:?}", r.reasons);
        assert_eq!(r.client_code, 0);
        assert!(r.actions.iter().all(|a| a.passed));
        assert!(r.similarity.expect("similarity") >= r.threshold);
        let score = r.score.expect("score");
        assert!((60.0..=100.0).contains(&score));
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(r.photo.expect("photo"))
            .expect("base64");
        let img = image::load_from_memory(&bytes).expect("a JPEG");
        assert_eq!(img.width(), video[0].image.width());
    }
}

#[test]
fn mirrored_frames_need_the_mirrored_option() {
    let frames: Vec<RgbImage> = clip("apfol_real2")
        .iter()
        .map(image::imageops::flip_horizontal)
        .collect();
    let mut o = turn_left_at_half_a_second();
    // the first turn and its return only (to 1.6 s): later the head swings
    // back the other way
    let unmirrored = run(
        Reference::Photo(frames[0].clone()),
        &frames[..17],
        o.clone(),
    );
    assert_eq!(
        unmirrored.auth_state,
        AuthState::Fail,
        "the turn goes the other way: {:?}",
        unmirrored.actions
    );
    o.params.mirrored = true;
    let r = run(Reference::Photo(frames[0].clone()), &frames[..17], o);
    assert_eq!(r.auth_state, AuthState::Success, "{:?}", r.reasons);
}

#[test]
fn another_persons_reference_fails_with_no_match() {
    let frames = clip("apfol_real2");
    let r = run(
        Reference::Photo(load(&sample("biden.jpg"))),
        &frames,
        turn_left_at_half_a_second(),
    );
    assert_eq!(r.auth_state, AuthState::Fail);
    assert!(r.actions[0].passed, "the turn answered its prompt");
    assert_eq!(r.reasons[0].code, ReasonCode::NoMatch);
    assert_eq!(r.client_code, 10013);
    assert!(r.photo.is_none());
}

#[test]
fn a_still_photo_never_passes() {
    let photo = load(&sample("obama.jpg"));
    let frames = vec![photo.clone(); 40];
    for a in Action::ALL {
        let r = run(Reference::Photo(photo.clone()), &frames, opts(&[a]));
        assert_eq!(r.auth_state, AuthState::Fail, "{a:?}");
        assert!(!r.actions[0].passed, "{a:?}");
    }
}

#[test]
fn action_timeout_and_total_timeout() {
    let photo = load(&sample("obama.jpg"));
    let frames = vec![photo.clone(); 80];
    let o = opts(&[Action::Blink]).with_action_timeout_ms(1500);
    let r = run(Reference::Photo(photo.clone()), &frames, o);
    assert_eq!(r.reasons[0].code, ReasonCode::ActionTimeout);
    assert_eq!(r.client_code, 10011);
    let o = opts(&[Action::Blink]).with_total_timeout_ms(1000);
    let r = run(Reference::Photo(photo), &frames, o);
    assert_eq!(r.reasons[0].code, ReasonCode::Timeout);
}

/// An empty camera (a grey picture) is prompted on a fixed schedule: what
/// ends the session is that no face was ever seen, not the prompt's window
/// or the session's time passing.
#[test]
fn an_empty_camera_ends_no_face_captured() {
    let grey = RgbImage::from_pixel(640, 480, image::Rgb([128, 128, 128]));
    let frames = vec![grey; 80];
    let prompted = opts(&[Action::Blink]).with_prompt_delays_ms(vec![500]);
    for o in [
        prompted.clone(),
        prompted.clone().with_action_timeout_ms(1500),
        prompted.with_total_timeout_ms(1000),
    ] {
        let r = run(Reference::Photo(load(&sample("obama.jpg"))), &frames, o);
        assert_eq!(r.auth_state, AuthState::Fail);
        assert_eq!(
            r.reasons[0].code,
            ReasonCode::NoFaceCaptured,
            "{:?}",
            r.reasons
        );
        assert_eq!(r.client_code, 10010);
        assert_eq!(r.face_frames, 0);
    }
}

/// The safe hint of a failure names the capture's conditions where they
/// explain it: an empty camera "no face", a dark one "too dark", a person
/// in the dark "too dark", a face that left the frame "left the oval", and
/// a lit face in view that did not answer "no answer in time".
#[test]
fn failure_hints_name_the_light_and_a_face_that_left() {
    let o = || {
        opts(&[Action::Blink])
            .with_prompt_delays_ms(vec![500])
            .with_action_timeout_ms(1500)
    };
    let reference = || Reference::Photo(load(&sample("obama.jpg")));
    let grey = |v: u8| RgbImage::from_pixel(640, 480, image::Rgb([v, v, v]));
    let frames = clip("apfol_real2");
    let dim = |f: &RgbImage| {
        let mut d = f.clone();
        d.pixels_mut()
            .for_each(|p| p.0 = p.0.map(|c| (c as f32 * 0.15) as u8));
        d
    };
    let mut left = frames[..10].to_vec();
    left.extend(std::iter::repeat_n(grey(128), 40));
    let cases = [
        ("an empty camera", vec![grey(128); 40], "hint.no_face"),
        ("a dark empty camera", vec![grey(12); 40], "hint.too_dark"),
        (
            "a person in the dark",
            frames.iter().map(dim).collect(),
            "hint.too_dark",
        ),
        ("a face that left", left, "hint.left_oval"),
        (
            "a lit face that did not blink",
            frames.clone(),
            "hint.no_answer",
        ),
    ];
    for (what, frames, hint) in cases {
        let r = run(reference(), &frames, o());
        assert_eq!(r.auth_state, AuthState::Fail, "{what}");
        assert_eq!(
            r.hint(),
            Some(hint),
            "{what}: {:?} {:?}",
            r.reasons,
            r.conditions
        );
    }
}

#[test]
fn two_faces_interrupt_the_session() {
    let a = load(&sample("obama.jpg"));
    let a = image::imageops::crop_imm(&a, 250, 50, 450, 500).to_image();
    let b = image::imageops::crop_imm(&load(&sample("biden.jpg")), 330, 150, 500, 500).to_image();
    let mut both = RgbImage::new(950, 500);
    image::imageops::overlay(&mut both, &a, 0, 0);
    image::imageops::overlay(&mut both, &b, 450, 0);
    let r = run(Reference::Photo(a), &[both], opts(&[Action::Blink]));
    assert_eq!(r.reasons[0].code, ReasonCode::MultipleFaces);
    assert_eq!(r.client_code, 10011);
}

#[test]
fn swapping_the_face_mid_session_fails() {
    let mut frames = clip("apfol_real2")[..8].to_vec();
    frames.extend(vec![load(&sample("obama.jpg")); 10]);
    let r = run(
        Reference::Photo(frames[0].clone()),
        &frames,
        opts(&[Action::Blink]),
    );
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(
        r.reasons[0].code,
        ReasonCode::FaceChanged,
        "{:?}",
        r.reasons
    );
    assert_eq!(r.client_code, 10013);
}

#[test]
fn frame_order_finish_and_cancel() {
    let photo = load(&sample("obama.jpg"));
    let mut s = VerificationSession::new(
        engine(),
        ticket("x"),
        Reference::Photo(photo.clone()),
        opts(&[Action::Blink]),
    )
    .expect("session");
    assert_eq!(s.result().auth_state, AuthState::Processing);
    let p = s.push_frame(&photo, 100).expect("first frame");
    assert!(matches!(
        p.state,
        SessionState::Warmup | SessionState::HoldStill
    ));
    assert!(
        p.action.is_none() && p.prompt_at_ms.is_none(),
        "no prompt before the warm-up"
    );
    assert_eq!(
        s.push_frame(&photo, 100).unwrap_err().code(),
        ErrorCode::FrameOrder,
        "duplicate timestamp"
    );
    assert_eq!(
        s.push_frame(&photo, 50).unwrap_err().code(),
        ErrorCode::FrameOrder,
        "out of order"
    );
    assert_eq!(
        s.push_frame(&RgbImage::new(0, 0), 200).unwrap_err().code(),
        ErrorCode::EmptyImage
    );
    assert!(!s.is_finished(), "bad frames do not end the session");
    s.cancel();
    let r = s.result();
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(r.reasons[0].code, ReasonCode::UserQuit);
    assert_eq!(r.client_code, 10011);
    assert_eq!(
        s.push_frame(&photo, 300).unwrap_err().code(),
        ErrorCode::SessionFinished
    );
    assert_eq!(
        s.finish().auth_state,
        AuthState::Fail,
        "finishing twice keeps the verdict"
    );
}

#[test]
fn creation_errors_have_their_codes() {
    let photo = load(&sample("obama.jpg"));
    let e = common::try_ticket("").unwrap_err();
    assert_eq!(e.code(), ErrorCode::CertifyIdEmpty);
    assert_eq!(e.client_code(), 10001);
    let blank = RgbImage::from_pixel(300, 300, image::Rgb([120, 120, 120]));
    let e = VerificationSession::new(
        engine(),
        ticket("a"),
        Reference::Photo(blank),
        opts(&[Action::Blink]),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoFace, "a reference without a face");
    let short = realface::Embedding::from_raw(vec![1.0; 128]).expect("vector");
    let e = VerificationSession::new(
        engine(),
        ticket("a"),
        Reference::Embedding(short),
        opts(&[Action::Blink]),
    )
    .unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::InvalidArgument,
        "mismatched embedding length"
    );
    let e = VerificationSession::new(
        engine(),
        ticket("a"),
        Reference::Photo(photo.clone()),
        opts(&[]),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "empty challenge");
    let o = opts(&[Action::Blink]).with_far(1e-9);
    assert!(
        VerificationSession::new(engine(), ticket("a"), Reference::Photo(photo), o).is_err(),
        "uncalibrated FAR"
    );
}

#[test]
fn registry_ids_expire_and_cannot_be_reused() {
    let reg = CertifyRegistry::new();
    let t = reg.issue(0).expect("issue");
    let claimed = reg.claim(t.certify_id(), 10).expect("claim");
    let s = VerificationSession::new(
        engine(),
        claimed,
        Reference::Photo(load(&sample("obama.jpg"))),
        opts(&[Action::Nod]),
    );
    assert!(s.is_ok());
    assert_eq!(
        reg.claim(t.certify_id(), 20).unwrap_err().code(),
        ErrorCode::CertifyIdReused
    );
    let old = reg.issue(0).expect("issue");
    let expired = reg.claim(old.certify_id(), 23 * 3600 * 1000).unwrap_err();
    assert_eq!(expired.code(), ErrorCode::CertifyIdExpired);
    assert_eq!(expired.server_code(), 54020);
}

/// Property: whatever frames arrive, in whatever order, SUCCESS implies every
/// action was seen and the similarity reached the threshold.
#[test]
fn no_input_sequence_succeeds_without_challenge_and_match() {
    let pool: Vec<RgbImage> = {
        let mut v = clip("lp_d12")[..30].to_vec();
        v.push(load(&sample("obama.jpg")));
        v.push(load(&sample("biden.jpg")));
        v.push(RgbImage::from_pixel(200, 150, image::Rgb([10, 200, 30])));
        v.push(RgbImage::new(1, 1));
        v
    };
    let mut rng = SplitMix::new(2024);
    let mut successes = 0;
    for case in 0..24 {
        let n_actions = 1 + (rng.next_u64() % 2) as usize;
        let o = SessionOptions::default().with_challenge(ChallengeSpec::Random(n_actions));
        let reference = pool[(rng.next_u64() % pool.len() as u64) as usize].clone();
        let Ok(mut s) = VerificationSession::new(
            engine(),
            ticket(&format!("p{case}")),
            Reference::Photo(reference),
            o,
        ) else {
            continue;
        };
        let mut t = 0u64;
        for _ in 0..25 {
            let f = &pool[(rng.next_u64() % pool.len() as u64) as usize];
            t = (t as i64 + (rng.next_u64() % 300) as i64 - 50).max(0) as u64;
            let _ = s.push_frame(f, t);
            if s.is_finished() {
                break;
            }
        }
        let r = s.finish();
        if r.auth_state == AuthState::Success {
            successes += 1;
            assert!(r.actions.iter().all(|a| a.passed), "case {case}: {r:?}");
            assert!(
                r.similarity.expect("similarity") >= r.threshold,
                "case {case}"
            );
            assert!(r.reasons.is_empty());
        } else {
            assert!(!r.reasons.is_empty(), "case {case}: FAIL always says why");
        }
    }
    eprintln!("random sequences that passed: {successes}/24");
    // The same property on genuine runs with jittered timestamps and dropped
    // frames: these must pass (a property that only ever sees FAIL proves
    // nothing), and each pass must satisfy it.
    let genuine = clip("apfol_real2");
    let reference = genuine[0].clone();
    let mut passed = 0;
    for case in 0..3 {
        let mut s = VerificationSession::new(
            engine(),
            ticket(&format!("g{case}")),
            Reference::Photo(reference.clone()),
            turn_left_at_half_a_second(),
        )
        .expect("session");
        let mut t = 0u64;
        for f in &genuine {
            t += 90 + rng.next_u64() % 21;
            if rng.next_u64().is_multiple_of(10) {
                continue;
            }
            let _ = s.push_frame(f, t);
            if s.is_finished() {
                break;
            }
        }
        let r = s.finish();
        if r.auth_state == AuthState::Success {
            passed += 1;
            assert!(r.actions.iter().all(|a| a.passed), "genuine {case}: {r:?}");
            assert!(r.similarity.expect("similarity") >= r.threshold);
            assert!(r.reasons.is_empty());
        }
    }
    assert!(passed >= 2, "genuine jittered runs passed: {passed}/3");
}

/// Per-frame errors: refused frames (zero size, out of order, too early,
/// oversized) get their own error and leave the session as it was; the
/// genuine frames around them still complete the challenge.
#[test]
fn refused_frames_do_not_end_the_session() {
    let frames = clip("apfol_real2");
    let mut s = VerificationSession::new(
        engine(),
        ticket("perframe"),
        Reference::Photo(frames[0].clone()),
        turn_left_at_half_a_second(),
    )
    .expect("session");
    let huge = RgbImage::new(9000, 2);
    let mut refused = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let t = 1_000 + i as u64 * 100;
        if i % 10 == 5 {
            let bad = [
                s.push_frame(&RgbImage::new(0, 0), t - 50),
                s.push_frame(&huge, t - 40),
            ];
            refused.extend(bad.into_iter().filter_map(|r| r.err().map(|e| e.code())));
            if i > 0 {
                // before the last accepted frame
                if let Err(e) = s.push_frame(f, t - 100) {
                    refused.push(e.code());
                }
            }
        }
        s.push_frame(f, t).expect("a genuine frame is taken");
        if s.is_finished() {
            break;
        }
    }
    assert!(refused.contains(&ErrorCode::EmptyImage), "{refused:?}");
    assert!(refused.contains(&ErrorCode::LimitExceeded), "{refused:?}");
    assert!(refused.contains(&ErrorCode::FrameOrder), "{refused:?}");
    let r = s.finish();
    assert_eq!(r.auth_state, AuthState::Success, "{:?}", r.reasons);
    assert!(r.frames <= frames.len(), "refused frames are not counted");
}

/// A face that foreshortens with no head movement to explain it (a print
/// tilted in front of the camera: here genuine frames squashed to 60% of
/// their height for 0.8 s, like a print tilted by ~53 degrees) fails with
/// FLAT_MOTION even though every action was seen. (A 75% squash measured a
/// foreshortening excess of 0.093, under the 0.12 gate: the mesh explains
/// part of a plain squash as pitch.)
#[test]
fn a_tilted_print_fails_with_flat_motion() {
    let frames: Vec<RgbImage> = clip("apfol_real2")
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            if (8..16).contains(&i) {
                let (w, h) = f.dimensions();
                image::imageops::resize(&f, w, h * 3 / 5, image::imageops::FilterType::Triangle)
            } else {
                f
            }
        })
        .collect();
    let r = run(
        Reference::Photo(clip("apfol_real2")[0].clone()),
        &frames,
        turn_left_at_half_a_second(),
    );
    assert_eq!(r.auth_state, AuthState::Fail);
    assert!(r.actions.iter().all(|a| a.passed), "{:?}", r.actions);
    assert!(
        r.reasons.iter().any(|x| x.code == ReasonCode::FlatMotion),
        "{:?}",
        r.reasons
    );
    assert!(r.flat_motion.max_foreshortening_excess > 0.12);
}
