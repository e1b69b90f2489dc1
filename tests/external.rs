//! A session whose models run outside the library (a browser page running
//! ONNX Runtime Web, `realface::session::external`) is the same session: fed
//! the very model outputs, frame by frame, it shows the same prompts at the
//! same times, follows the same answers and fails the same way as the
//! session that runs the models itself.

mod common;

use realface::liveness::actions::Action;
use realface::session::challenge::ChallengeSpec;
use realface::session::external::ModelNeed;
use realface::session::Progress;
use realface::{Reference, SessionOptions, VerificationSession};

use common::{shared_engine, ticket};

/// The exchange a page runs for one frame, with the engine's own models in
/// place of ONNX Runtime Web.
fn external_frame(
    s: &mut VerificationSession,
    frame: &image::RgbImage,
    t_ms: u64,
) -> realface::Result<Progress> {
    let engine = shared_engine();
    let mut need = s.begin_external(frame.clone(), t_ms)?;
    let mut steps = 0;
    loop {
        steps += 1;
        assert!(steps < 8, "the exchange of one frame does not end");
        need = match need {
            ModelNeed::Detect => s.external_faces(engine.detect(frame)?)?,
            ModelNeed::Mesh(input) => {
                let (coords, logit) = engine.mesh().outputs(&input)?;
                s.external_mesh(&coords, logit)?
            }
            ModelNeed::Eyes([right, left]) => {
                let eyes = engine.eye_state();
                s.external_eyes(eyes.logits(&right)?, eyes.logits(&left)?)?
            }
            ModelNeed::Done(p) => return Ok(p),
        };
    }
}

/// What a page shows of a frame's progress.
fn shown(p: &Progress) -> String {
    format!(
        "{:?} {} step {} action {:?} at {:?} window {:?} timer {:?} done {}/{} faces {}",
        p.state,
        p.prompt_key,
        p.step,
        p.action,
        p.prompt_at_ms,
        p.answer_window_ms,
        p.timer,
        p.actions_done,
        p.actions_total,
        p.faces
    )
}

fn options(actions: &[Action]) -> SessionOptions {
    SessionOptions::default().with_challenge(ChallengeSpec::Fixed(actions.to_vec()))
}

/// Both sessions over `apfol_real2`'s video at its own 30 fps with
/// `options` and the nonce of `id`; returns how many frames showed a
/// prompt and how many actions were answered.
fn same_progress(options: SessionOptions, id: &str) -> (usize, usize) {
    let frames = common::clip_video("apfol_real2");
    let mut native = VerificationSession::new(
        shared_engine(),
        ticket(id),
        Reference::Server,
        options.clone(),
    )
    .expect("session");
    let mut page =
        VerificationSession::new(shared_engine(), ticket(id), Reference::Server, options)
            .expect("session");
    let (mut prompted, mut answered) = (0, 0);
    for (i, f) in frames.iter().enumerate() {
        let a = native.push_frame(&f.image, f.t_ms);
        let b = external_frame(&mut page, &f.image, f.t_ms);
        if native.is_finished() {
            // the device concluded (its passive evidence is in); the page's
            // session never does (the server judges): compare the answers
            if let (Ok(a), Ok(b)) = (&a, &b) {
                assert_eq!(a.actions_done, b.actions_done, "frame {i}");
                answered = b.actions_done;
            }
            break;
        }
        match (&a, &b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(shown(a), shown(b), "frame {i} at {} ms", f.t_ms);
                prompted += usize::from(a.action.is_some());
                answered = a.actions_done;
            }
            (Err(x), Err(y)) => assert_eq!(x.code(), y.code(), "frame {i}"),
            _ => panic!("frame {i}: {a:?} vs {b:?}"),
        }
    }
    let r = native.finish();
    eprintln!(
        "{id}: {prompted} frames prompted; the device's verdict {:?} {:?}",
        r.auth_state, r.reasons
    );
    (prompted, answered)
}

#[test]
fn a_page_running_the_models_prompts_as_the_device_does() {
    // two nonces, one and two actions (the clip as recorded answers
    // neither in time): prompts shown and timed out alike on every frame
    let one = same_progress(options(&[Action::TurnLeft]), "external-1");
    let two = same_progress(
        options(&[Action::TurnLeft, Action::TurnRight]),
        "external-2",
    );
    assert!(
        one.0 > 0 && two.0 > 0,
        "no prompt was shown ({one:?}, {two:?})"
    );
    // the prompt at 0.5 s that the clip's left turn answers (its release cue
    // at 1.3 s, before it lets go): answered alike
    let timed = options(&[Action::TurnLeft])
        .with_prompt_delays_ms(vec![500])
        .with_release_at_ms(vec![1300]);
    let answered = same_progress(timed, "external-3");
    assert_eq!(answered.1, 1, "{answered:?}");
}

#[test]
fn model_outputs_out_of_turn_are_typed_errors() {
    let mut s = VerificationSession::new(
        shared_engine(),
        ticket("external-4"),
        Reference::Server,
        options(&[Action::Blink]),
    )
    .expect("session");
    // nothing asked for yet
    let e = s
        .external_mesh(&[0.0; 1404], 0.0)
        .expect_err("no mesh was asked for");
    assert_eq!(e.code(), realface::ErrorCode::InvalidArgument);
    let e = s
        .external_eyes([0.0; 2], [0.0; 2])
        .expect_err("no eyes were asked for");
    assert_eq!(e.code(), realface::ErrorCode::InvalidArgument);
    let frame = common::load(&common::data_dir().join("actions/apfol_real2/frame_0001.jpg"));
    match s.begin_external(frame, 0).expect("a frame") {
        ModelNeed::Detect => {}
        other => panic!("the first frame is detected, got {other:?}"),
    }
    // no face is an answer: the frame is done and the session goes on
    let done = s.external_faces(Vec::new()).expect("no face is an answer");
    assert!(matches!(done, ModelNeed::Done(_)), "{done:?}");
    assert!(!s.is_finished());
    // a mesh of the wrong size, then a NaN: typed errors, the session goes on
    let frame = common::load(&common::data_dir().join("actions/apfol_real2/frame_0002.jpg"));
    let faces = shared_engine().detect(&frame).expect("detect");
    assert!(matches!(
        s.begin_external(frame, 100).expect("a frame"),
        ModelNeed::Detect
    ));
    assert!(matches!(
        s.external_faces(faces).expect("a mesh is asked for"),
        ModelNeed::Mesh(_)
    ));
    let e = s.external_mesh(&[0.5; 10], 0.0).expect_err("a short mesh");
    assert_eq!(e.code(), realface::ErrorCode::Inference);
    let frame = common::load(&common::data_dir().join("actions/apfol_real2/frame_0003.jpg"));
    let faces = shared_engine().detect(&frame).expect("detect");
    assert!(matches!(
        s.begin_external(frame, 200).expect("a frame"),
        ModelNeed::Detect
    ));
    assert!(matches!(
        s.external_faces(faces).expect("a mesh is asked for"),
        ModelNeed::Mesh(_)
    ));
    let e = s
        .external_mesh(&[f32::NAN; 1404], 0.0)
        .expect_err("a NaN mesh");
    assert_eq!(e.code(), realface::ErrorCode::NonFiniteOutput);
    assert!(!s.is_finished());
}
