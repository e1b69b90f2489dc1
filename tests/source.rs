//! Frame sources (directory, memory, camera) and the session driver, and the
//! product's UI options.

mod common;

use std::ops::ControlFlow;
use std::sync::Arc;

use common::data_dir;
use realface::liveness::actions::Action;
use realface::session::challenge::ChallengeSpec;
use realface::session::result::{AuthState, ReasonCode};
use realface::session::ui::{Color, UiOptions};
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::source::{self, DirSource, FrameEvent, FrameSource, MemorySource};
use realface::{EngineConfig, ErrorCode, FaceEngine, Limits};

fn session(engine: &Arc<FaceEngine>, actions: &[Action]) -> VerificationSession {
    let dir = data_dir().join("actions/apfol_real2");
    let reference = engine.load(dir.join("frame_0001.jpg")).expect("reference");
    let ticket = common::ticket("src");
    // recorded frames answer prompts at fixed delays: apfol_real2 turns to
    // the user's left from about 0.7 s, prompted at 0.5 s, holds the turn
    // from 1.0 s and lets go at 1.6 s (its release cue placed at 1.3 s)
    let options = SessionOptions::default()
        .with_challenge(ChallengeSpec::Fixed(actions.to_vec()))
        .with_prompt_delays_ms(vec![500; actions.len()])
        .with_release_at_ms(vec![1300; actions.len()]);
    VerificationSession::new(engine.clone(), ticket, Reference::Photo(reference), options)
        .expect("session")
}

fn engine() -> Arc<FaceEngine> {
    Arc::new(FaceEngine::new(EngineConfig::default()).expect("engine"))
}

#[test]
fn dir_source_stamps_frames_at_its_rate_and_skips_bad_files() {
    let tmp = std::env::temp_dir().join(format!("realface-src-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let img = image::RgbImage::from_pixel(8, 6, image::Rgb([10, 20, 30]));
    img.save(tmp.join("a.png")).expect("png");
    std::fs::write(tmp.join("b.jpg"), b"not a jpeg").expect("write");
    img.save(tmp.join("c.png")).expect("png");
    std::fs::write(tmp.join("notes.txt"), b"ignored").expect("write");
    let mut src = DirSource::open(&tmp, 4.0, Limits::default()).expect("open");
    assert_eq!(src.len(), 3);
    assert_eq!(src.fps(), Some(4.0));
    assert!(src.describe().contains("3 frames"), "{}", src.describe());
    let a = src.next_frame().expect("a").expect("frame");
    assert_eq!((a.t_ms, a.image.dimensions()), (0, (8, 6)));
    let b = src.next_frame().expect_err("corrupt frame");
    assert_eq!(b.code(), ErrorCode::Decode);
    let c = src.next_frame().expect("c").expect("frame");
    assert_eq!(c.t_ms, 500);
    assert!(src.next_frame().expect("end").is_none());
    assert!(src.next_frame().expect("still the end").is_none());

    let empty = tmp.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let e = DirSource::open(&empty, 10.0, Limits::default()).expect_err("empty");
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    let e = DirSource::open(&tmp.join("missing"), 10.0, Limits::default()).expect_err("missing");
    assert_eq!(e.code(), ErrorCode::Io);
    for fps in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e6] {
        let e = DirSource::open(&tmp, fps, Limits::default()).expect_err("fps");
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "fps {fps}");
        let e = MemorySource::new(Vec::new(), fps).expect_err("fps");
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "fps {fps}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn no_camera_is_a_typed_error_naming_what_was_found() {
    // Index 4096 exists on no machine; on a machine without cameras (CI),
    // camera 0 fails the same way.
    let found = source::list_cameras().expect("listing cameras never fails outright here");
    let mut tries = vec![4096];
    if found.is_empty() {
        tries.push(0);
    }
    for i in tries {
        let e = match source::open_camera(i) {
            Ok(_) => panic!("camera {i} opened"),
            Err(e) => e,
        };
        assert_eq!(e.code(), ErrorCode::CameraUnavailable, "{e}");
        assert_eq!(e.client_code(), 10010);
        let msg = e.to_string();
        assert!(msg.contains("cameras found"), "{msg}");
        if found.is_empty() {
            assert!(msg.contains("none"), "{msg}");
        }
    }
}

/// The driver gives the same verdict as pushing the frames by hand, and the
/// directory and memory sources give the same frames.
#[test]
fn run_over_dir_and_memory_sources_matches_manual_pushes() {
    let eng = engine();
    let dir = data_dir().join("actions/apfol_real2");
    let actions = [Action::TurnLeft];

    let mut manual = session(&eng, &actions);
    let frames: Vec<_> = source::frame_files(&dir)
        .expect("files")
        .iter()
        .map(|f| eng.load(f).expect("frame"))
        .collect();
    for (i, f) in frames.iter().enumerate() {
        let _ = manual.push_frame(f, i as u64 * 100);
        if manual.is_finished() {
            break;
        }
    }
    let manual = manual.finish();
    assert_eq!(
        manual.auth_state,
        AuthState::Success,
        "{:?}",
        manual.reasons
    );

    let mut s = session(&eng, &actions);
    let mut src = DirSource::open(&dir, 10.0, eng.config().limits).expect("dir");
    let mut seen = 0;
    let from_dir = source::run(&mut s, &mut src, |ev| {
        if let FrameEvent::Progress(..) = ev {
            seen += 1;
        }
        ControlFlow::Continue(())
    });
    assert_eq!(seen, from_dir.frames);

    let mut s = session(&eng, &actions);
    let mut mem = MemorySource::new(frames, 10.0).expect("memory");
    let from_mem = source::run(&mut s, &mut mem, |_| ControlFlow::Continue(()));
    for r in [&from_dir, &from_mem] {
        assert_eq!(r.auth_state, manual.auth_state);
        assert_eq!(r.frames, manual.frames);
        assert_eq!(r.similarity, manual.similarity);
        assert_eq!(r.actions, manual.actions);
    }
}

/// A source that only fails (a dead camera).
struct Dead;

impl FrameSource for Dead {
    fn next_frame(&mut self) -> realface::Result<Option<source::TimedFrame>> {
        Err(realface::Error::Camera {
            reason: "unplugged".into(),
            found: Vec::new(),
        })
    }
    fn describe(&self) -> String {
        "dead".into()
    }
    fn fps(&self) -> Option<f64> {
        None
    }
}

#[test]
fn a_source_that_keeps_failing_ends_the_session() {
    let eng = engine();
    let mut s = session(&eng, &[Action::Blink]);
    let mut errors = 0;
    let r = source::run(&mut s, &mut Dead, |ev| {
        assert!(matches!(ev, FrameEvent::Error(None, _)));
        errors += 1;
        ControlFlow::Continue(())
    });
    assert_eq!(errors, source::MAX_CONSECUTIVE_SOURCE_ERRORS);
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(r.reasons[0].code, ReasonCode::NoFaceCaptured);
}

#[test]
fn breaking_out_of_run_is_a_user_quit() {
    let eng = engine();
    let dir = data_dir().join("actions/apfol_real2");
    let mut s = session(&eng, &[Action::TurnLeft]);
    let mut src = DirSource::open(&dir, 10.0, eng.config().limits).expect("dir");
    let mut n = 0;
    let r = source::run(&mut s, &mut src, |_| {
        n += 1;
        if n == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(r.client_code, 10011);
    assert_eq!(r.reasons[0].code, ReasonCode::UserQuit);
    assert_eq!(r.frames, 3);
}

#[test]
fn ui_options_take_the_products_names_and_refuse_bad_values() {
    let json = r##"{"progressBarColor":"#ff6d00","progressBarBackgroundColor":"#263238",
        "title":"Verify","quitAlertTitle":"Q","quitAlertMessage":"q",
        "timeoutAlertTitle":"T","timeoutAlertMessage":"t",
        "failAlertTitle":"F","failAlertMessage":"f"}"##;
    let o = UiOptions::from_json(json).expect("options");
    assert_eq!(o.progress_bar_color, Color([0xFF, 0x6D, 0x00]));
    assert_eq!(o.progress_bar_background_color.to_hex(), "#263238");
    assert_eq!(o.title, "Verify");
    assert_eq!(o.quit_alert().title, "Q");
    // Defaults for what is not given.
    assert_eq!(
        o.activity_indicator_color,
        UiOptions::default().activity_indicator_color
    );
    for bad in [
        r#"{"progressBarColor":"red"}"#,
        r##"{"progressBarColor":"#12345"}"##,
        r##"{"progressBarColor":"#12345G"}"##,
        r##"{"progressBarColour":"#123456"}"##,
        r#"{"title":3}"#,
        "not json",
    ] {
        let e = UiOptions::from_json(bad).expect_err(bad);
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{bad}");
    }
    assert!(Color::parse("#ÿÿÿ").is_err());
}

#[test]
fn end_dialogs_follow_the_failure_reason() {
    let eng = engine();
    let o = UiOptions::default();
    // Frames end before the challenge: timeout dialog.
    let mut s = session(&eng, &[Action::Nod]);
    let r = s.finish();
    assert_eq!(r.reasons[0].code, ReasonCode::NoFaceCaptured);
    assert_eq!(o.end_alert(&r).expect("dialog").title, o.fail_alert_title);
    let dir = data_dir().join("actions/apfol_real2");
    let mut s = session(&eng, &[Action::Nod]);
    let first: Vec<_> = source::frame_files(&dir).expect("files")[..8]
        .iter()
        .map(|f| eng.load(f).expect("frame"))
        .collect();
    let mut src = MemorySource::new(first, 10.0).expect("memory");
    // Still frames, then no more: the challenge is undone when the frames end.
    let r = source::run(&mut s, &mut src, |_| ControlFlow::Continue(()));
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(r.reasons[0].code, ReasonCode::Timeout, "{:?}", r.reasons);
    assert_eq!(
        o.end_alert(&r).expect("dialog").title,
        o.timeout_alert_title
    );
    // A quit gets no dialog (the user asked), SUCCESS none either.
    let mut s = session(&eng, &[Action::Nod]);
    s.cancel();
    assert!(o.end_alert(&s.finish()).is_none());
    let mut s = session(&eng, &[Action::TurnLeft]);
    let mut src = DirSource::open(&dir, 10.0, eng.config().limits).expect("dir");
    let r = source::run(&mut s, &mut src, |_| ControlFlow::Continue(()));
    assert_eq!(r.auth_state, AuthState::Success);
    assert!(o.end_alert(&r).is_none());
}

#[test]
fn video_source_keeps_the_native_rate_and_refuses_bad_files() {
    use realface::source::video::{read_video, VideoLimits, VideoSource};
    let limits = Limits::default();
    let grid = data_dir().join("actions/grid_bbaf2n/source.mpg");
    let frames = read_video(&grid, limits, VideoLimits::default()).expect("decodes");
    // 3 s of 25 fps video, timestamps 40 ms apart, strictly increasing
    assert!((70..=80).contains(&frames.len()), "{} frames", frames.len());
    assert!(frames.windows(2).all(|w| w[1].t_ms > w[0].t_ms));
    let gap = frames[frames.len() - 1].t_ms as f64 / (frames.len() - 1) as f64;
    assert!((gap - 40.0).abs() < 1.0, "mean gap {gap} ms");
    let src = VideoSource::open(&grid, limits, VideoLimits::default()).expect("opens");
    assert!(src.fps().is_some_and(|f| (f - 25.0).abs() < 0.5));

    // limits: frames and duration
    let few = VideoLimits {
        max_frames: 10,
        max_duration_ms: 60_000,
    };
    let err = read_video(&grid, limits, few).expect_err("frame limit");
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    let short = VideoLimits {
        max_frames: 1000,
        max_duration_ms: 1_000,
    };
    assert_eq!(
        read_video(&grid, limits, short)
            .expect_err("duration limit")
            .code(),
        ErrorCode::LimitExceeded
    );

    // missing, corrupt and truncated files
    let missing = std::env::temp_dir().join("realface-no-such-video.mp4");
    assert_eq!(
        VideoSource::open(&missing, limits, VideoLimits::default())
            .expect_err("missing")
            .code(),
        ErrorCode::Io
    );
    let dir = std::env::temp_dir().join(format!("realface-video-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let junk = dir.join("junk.webm");
    std::fs::write(&junk, b"this is not a video at all").expect("write");
    let err = read_video(&junk, limits, VideoLimits::default()).expect_err("junk");
    assert_eq!(err.code(), ErrorCode::Decode, "{err}");
    let bytes = std::fs::read(data_dir().join("actions/lp_d0/source.mp4")).expect("read");
    let cut = dir.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    match read_video(&cut, limits, VideoLimits::default()) {
        Ok(frames) => assert!(!frames.is_empty()),
        Err(e) => assert_eq!(e.code(), ErrorCode::Decode, "{e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
