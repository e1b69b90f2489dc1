//! The bad-input catalogue, part 2 (part 1 is tests/bad_input.rs): raw
//! frames, sessions, certifyIds, arguments, limits. Every case asserts its
//! stable error code, and no case can end in SUCCESS.

mod common;

use std::sync::{Arc, OnceLock};

use common::{load, sample};
use realface::frame::{frame_from_buffer, PixelFormat};
use realface::liveness::actions::Action;
use realface::session::certify::{CertifyRegistry, CertifyTicket, CERTIFY_ID_TTL_MS};
use realface::session::challenge::ChallengeSpec;
use realface::session::result::{AuthState, ReasonCode};
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::{Calibration, EngineConfig, ErrorCode, FaceEngine, Limits, RgbImage};

fn engine() -> Arc<FaceEngine> {
    static E: OnceLock<Arc<FaceEngine>> = OnceLock::new();
    E.get_or_init(|| Arc::new(FaceEngine::new(EngineConfig::default()).expect("engine")))
        .clone()
}

fn ticket() -> CertifyTicket {
    CertifyTicket {
        certify_id: "cat".into(),
        issued_ms: 0,
        expires_ms: u64::MAX,
        challenge_nonce: String::new(),
    }
}

fn session(options: SessionOptions) -> VerificationSession {
    VerificationSession::new(
        engine(),
        ticket(),
        Reference::Photo(load(&sample("obama.jpg"))),
        options,
    )
    .expect("session")
}

fn blink() -> SessionOptions {
    SessionOptions {
        challenge: ChallengeSpec::Fixed(vec![Action::Blink]),
        ..SessionOptions::default()
    }
}

fn frame_err(data: &[u8], w: u32, h: u32, stride: usize, f: PixelFormat) -> ErrorCode {
    frame_from_buffer(data, w, h, stride, f, &Limits::default())
        .expect_err("bad frame")
        .code()
}

#[test]
fn frame_stride_smaller_than_a_row() {
    assert_eq!(
        frame_err(&[0; 64], 4, 4, 8, PixelFormat::Rgb),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn frame_buffer_shorter_than_declared() {
    assert_eq!(
        frame_err(&[0; 47], 4, 4, 12, PixelFormat::Rgb),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn frame_zero_width() {
    assert_eq!(
        frame_err(&[0; 16], 0, 4, 0, PixelFormat::Rgba),
        ErrorCode::EmptyImage
    );
}

#[test]
fn frame_huge_dimensions() {
    assert_eq!(
        frame_err(&[0; 16], 100_000, 100_000, 400_000, PixelFormat::Bgra),
        ErrorCode::LimitExceeded
    );
}

#[test]
fn frame_stride_overflow() {
    assert_eq!(
        frame_err(&[0; 16], 2, 3, usize::MAX / 2, PixelFormat::Gray),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn frame_unknown_pixel_format() {
    assert_eq!(
        PixelFormat::from_u32(7).expect_err("unknown").code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn frame_duplicate_timestamp() {
    let mut s = session(blink());
    let img = load(&sample("obama.jpg"));
    s.push_frame(&img, 1000).expect("first");
    assert_eq!(
        s.push_frame(&img, 1000).expect_err("dup").code(),
        ErrorCode::FrameOrder
    );
}

#[test]
fn frame_out_of_order() {
    let mut s = session(blink());
    let img = load(&sample("obama.jpg"));
    s.push_frame(&img, 1000).expect("first");
    assert_eq!(
        s.push_frame(&img, 10).expect_err("older").code(),
        ErrorCode::FrameOrder
    );
}

#[test]
fn frame_rate_above_the_limit() {
    let mut s = session(SessionOptions {
        max_fps: 30.0,
        ..blink()
    });
    let img = load(&sample("obama.jpg"));
    s.push_frame(&img, 1000).expect("first");
    assert_eq!(
        s.push_frame(&img, 1005).expect_err("too fast").code(),
        ErrorCode::LimitExceeded
    );
    assert!(
        s.push_frame(&img, 1040).is_ok(),
        "a frame at 25 fps is fine"
    );
}

#[test]
fn frame_limit_per_session() {
    let mut s = session(SessionOptions {
        max_frames: 3,
        ..blink()
    });
    let img = RgbImage::from_pixel(64, 64, image::Rgb([1, 2, 3]));
    for i in 0..5u64 {
        let _ = s.push_frame(&img, 100 + i * 100);
    }
    let r = s.finish();
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(r.reasons[0].code, ReasonCode::FrameLimit);
}

#[test]
fn frame_after_the_session_finished() {
    let mut s = session(blink());
    s.cancel();
    let img = load(&sample("obama.jpg"));
    assert_eq!(
        s.push_frame(&img, 5).expect_err("finished").code(),
        ErrorCode::SessionFinished
    );
}

#[test]
fn finishing_without_any_face() {
    let mut s = session(blink());
    let blank = RgbImage::from_pixel(320, 240, image::Rgb([40, 40, 40]));
    for i in 0..5u64 {
        s.push_frame(&blank, i * 100).expect("frame");
    }
    let r = s.finish();
    assert_eq!(r.auth_state, AuthState::Fail);
    assert_eq!(r.reasons[0].code, ReasonCode::NoFaceCaptured);
    assert_eq!(r.client_code, 10010);
}

#[test]
fn certify_id_empty() {
    let reg = CertifyRegistry::new();
    assert_eq!(
        reg.claim("  ", 0).expect_err("empty").code(),
        ErrorCode::CertifyIdEmpty
    );
}

#[test]
fn certify_id_unknown() {
    let reg = CertifyRegistry::new();
    assert_eq!(
        reg.claim("0123456789abcdef", 0)
            .expect_err("unknown")
            .code(),
        ErrorCode::CertifyIdUnknown
    );
}

#[test]
fn certify_id_expired() {
    let reg = CertifyRegistry::new();
    let t = reg.issue(5).expect("issue");
    assert_eq!(
        reg.claim(&t.certify_id, 5 + CERTIFY_ID_TTL_MS)
            .expect_err("expired")
            .code(),
        ErrorCode::CertifyIdExpired
    );
}

#[test]
fn certify_id_reused() {
    let reg = CertifyRegistry::new();
    let t = reg.issue(0).expect("issue");
    reg.claim(&t.certify_id, 1).expect("first");
    assert_eq!(
        reg.claim(&t.certify_id, 2).expect_err("reused").code(),
        ErrorCode::CertifyIdReused
    );
}

#[test]
fn reference_without_a_face() {
    let blank = RgbImage::from_pixel(200, 200, image::Rgb([200, 10, 10]));
    let e = VerificationSession::new(engine(), ticket(), Reference::Photo(blank), blink())
        .expect_err("no face");
    assert_eq!(e.code(), ErrorCode::NoFace);
}

#[test]
fn reference_embedding_of_the_wrong_length() {
    let v = realface::Embedding::from_raw(vec![0.5; 512]).expect("vector");
    let e = VerificationSession::new(engine(), ticket(), Reference::Embedding(v), blink())
        .expect_err("length");
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}

#[test]
fn unknown_action_name() {
    assert_eq!(
        Action::from_name("smile").expect_err("unknown").code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn too_many_random_actions() {
    let o = SessionOptions {
        challenge: ChallengeSpec::Random(50),
        ..SessionOptions::default()
    };
    let e = VerificationSession::new(
        engine(),
        ticket(),
        Reference::Photo(load(&sample("obama.jpg"))),
        o,
    )
    .expect_err("50");
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}

#[test]
fn session_options_out_of_range() {
    for o in [
        SessionOptions {
            far: 0.0,
            ..blink()
        },
        SessionOptions {
            far: f64::NAN,
            ..blink()
        },
        SessionOptions {
            max_fps: 0.0,
            ..blink()
        },
        SessionOptions {
            action_timeout_ms: 0,
            ..blink()
        },
        SessionOptions {
            embed_every: 0,
            ..blink()
        },
    ] {
        assert_eq!(
            o.validate().expect_err("invalid").code(),
            ErrorCode::InvalidArgument,
            "{o:?}"
        );
    }
}

#[test]
fn engine_config_out_of_range() {
    let c = EngineConfig {
        min_detection_score: 2.0,
        ..EngineConfig::default()
    };
    assert_eq!(
        FaceEngine::new(c).expect_err("invalid").code(),
        ErrorCode::InvalidArgument
    );
    let c = EngineConfig::default().with_sessions_per_model(0);
    assert_eq!(
        FaceEngine::new(c).expect_err("invalid").code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn calibration_table_malformed() {
    for text in [
        "",
        "{}",
        r#"{"model":"m","model_sha256":"","flip_fusion":false,"calibrated":true,"source":"","points":[]}"#,
        r#"{"model":"m","model_sha256":"","flip_fusion":false,"calibrated":true,"source":"","points":[{"far":2,"threshold":0.5}]}"#,
        r#"{"model":"m","model_sha256":"","flip_fusion":false,"calibrated":true,"source":"","points":[{"far":0.01,"threshold":9}]}"#,
    ] {
        assert_eq!(
            Calibration::from_json(text).expect_err("malformed").code(),
            ErrorCode::InvalidArgument,
            "{text}"
        );
    }
}

#[test]
fn encoded_input_over_the_size_limit() {
    let limits = Limits {
        max_encoded_bytes: 1000,
        ..Limits::default()
    };
    let e = FaceEngine::new(EngineConfig::default().with_limits(limits)).expect("engine");
    let bytes = std::fs::read(sample("obama.jpg")).expect("read");
    assert_eq!(
        e.decode(&bytes).expect_err("too big").code(),
        ErrorCode::LimitExceeded
    );
    assert_eq!(
        e.load(sample("obama.jpg")).expect_err("too big").code(),
        ErrorCode::LimitExceeded
    );
}

#[test]
fn decompression_bomb_under_a_memory_limit() {
    // A real 4000x4000 PNG of one colour: small on disk, 48 MB decoded.
    let img = RgbImage::from_pixel(4000, 4000, image::Rgb([9, 9, 9]));
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    assert!(png.len() < 4_000_000, "{}", png.len());
    let limits = Limits {
        max_decoded_bytes: 8 << 20,
        ..Limits::default()
    };
    let e = FaceEngine::new(EngineConfig::default().with_limits(limits)).expect("engine");
    assert_eq!(
        e.decode(&png).expect_err("bomb").code(),
        ErrorCode::LimitExceeded
    );
}

#[test]
fn truncated_jpeg_in_the_scan_data() {
    let bytes = std::fs::read(sample("obama.jpg")).expect("read");
    // Cut inside the entropy-coded data: an error or a partly grey image, never a panic.
    match engine().decode(&bytes[..bytes.len() * 6 / 10]) {
        Err(e) => assert_eq!(e.code(), ErrorCode::Decode),
        Ok(img) => assert_eq!(img.width(), 910),
    }
}

#[test]
fn upside_down_face() {
    let img = image::imageops::rotate180(&load(&sample("obama.jpg")));
    if let Err(e) = engine().analyze(&img) {
        assert_eq!(e.code(), ErrorCode::NoFace);
    }
}

#[test]
fn unseen_frames_and_nan_free_results() {
    // Pure noise frames: the session must end FAIL with a reason, not SUCCESS.
    let mut s = session(blink());
    let mut rng = realface::eval::attacks::SplitMix::new(3);
    for i in 0..10u64 {
        let img = RgbImage::from_fn(128, 96, |_, _| {
            image::Rgb([rng.next_u64() as u8, rng.next_u64() as u8, 7])
        });
        let _ = s.push_frame(&img, i * 100);
    }
    let r = s.finish();
    assert_eq!(r.auth_state, AuthState::Fail);
    assert!(!r.reasons.is_empty());
}
