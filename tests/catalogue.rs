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
    common::ticket("cat")
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
    SessionOptions::default().with_challenge(ChallengeSpec::Fixed(vec![Action::Blink]))
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
    let mut s = session(blink().with_max_fps(30.0));
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
    let mut s = session(blink().with_max_frames(3));
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
        reg.claim(t.certify_id(), 5 + CERTIFY_ID_TTL_MS)
            .expect_err("expired")
            .code(),
        ErrorCode::CertifyIdExpired
    );
}

#[test]
fn certify_id_reused() {
    let reg = CertifyRegistry::new();
    let t = reg.issue(0).expect("issue");
    reg.claim(t.certify_id(), 1).expect("first");
    assert_eq!(
        reg.claim(t.certify_id(), 2).expect_err("reused").code(),
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
    // 704 values: the fused matcher's length, not the default's (512)
    let v = realface::Embedding::from_raw(vec![0.5; 704]).expect("vector");
    let e = VerificationSession::new(engine(), ticket(), Reference::Embedding(v), blink())
        .expect_err("length");
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}

#[test]
fn unknown_action_name() {
    assert_eq!(
        "smile".parse::<Action>().expect_err("unknown").code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn too_many_random_actions() {
    let o = SessionOptions::default().with_challenge(ChallengeSpec::Random(50));
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
        blink().with_far(0.0),
        blink().with_far(f64::NAN),
        blink().with_max_fps(0.0),
        blink().with_action_timeout_ms(0),
        blink().with_embed_every(0),
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

/// An upside-down photo: the face is found, but the alignment does not undo a
/// half turn, so it does not match its upright self (a false reject, never a
/// false accept; measured similarity -0.02).
#[test]
fn upside_down_face() {
    let upright = load(&sample("obama.jpg"));
    let img = image::imageops::rotate180(&upright);
    let a = engine().analyze(&img).expect("the face is found");
    assert_eq!(a.faces_in_image, 1);
    let d = engine()
        .compare_images(&upright, &img, realface::DEFAULT_FAR)
        .expect("compares");
    assert!(!d.same_person, "{d:?}");
}

#[test]
fn unseen_frames_and_nan_free_results() {
    // Pure noise frames: the session must end FAIL with a reason, not SUCCESS.
    let mut s = session(blink());
    let mut rng = realface::rng::SplitMix::new(3);
    for i in 0..10u64 {
        let img = RgbImage::from_fn(128, 96, |_, _| {
            image::Rgb([rng.next_u64() as u8, rng.next_u64() as u8, 7])
        });
        let _ = s.push_frame(&img, i * 100);
    }
    let r = s.finish();
    assert_eq!(r.auth_state, AuthState::Fail);
    assert!(!r.reasons.is_empty());
    for v in [r.score, r.quality, r.similarity].into_iter().flatten() {
        assert!(v.is_finite(), "{r:?}");
    }
    assert!(r.threshold.is_finite());
}

/// A stored reference embedding that is NaN, infinite (1e39 overflows f32),
/// all zero or of the wrong length never decides anything: it cannot be
/// deserialised or built, a session refuses it, and `compare` refuses it.
/// (Before the fix, `[-1e39, 0, ...]` made a blink session of an unrelated
/// person end SUCCESS with similarity 1.0.)
#[test]
fn bad_reference_embeddings_never_match() {
    let dim = realface::Matcher::default().dim();
    let json = |first: &str, n: usize| {
        let mut v = vec!["0.1".to_string(); n];
        v[0] = first.to_string();
        format!("[{}]", v.join(","))
    };
    // as stored (JSON): infinite and zero vectors do not deserialise
    for (text, what) in [
        (json("-1e39", dim), "inf"),
        (json("1e39", dim), "inf"),
        (format!("[{}]", vec!["0"; dim].join(",")), "zero"),
        ("[]".to_string(), "empty"),
    ] {
        assert!(
            serde_json::from_str::<realface::Embedding>(&text).is_err(),
            "{what}"
        );
    }
    // as built in code: NaN and infinities are refused
    let mut nan = vec![0.1f32; dim];
    nan[5] = f32::NAN;
    assert_eq!(
        realface::Embedding::from_raw(nan).unwrap_err().code(),
        ErrorCode::NonFiniteOutput
    );
    let mut inf = vec![0.1f32; dim];
    inf[0] = f32::INFINITY;
    assert!(realface::Embedding::from_raw(inf).is_err());
    // the wrong length deserialises (it is a valid vector) but decides nothing
    let short: realface::Embedding = serde_json::from_str(&json("0.1", dim - 64)).expect("vector");
    let e = engine();
    let probe = e
        .embed_image(&load(&sample("obama.jpg")))
        .expect("embedding");
    assert_eq!(
        e.compare_embeddings(&short, &probe, realface::DEFAULT_FAR)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    let err = VerificationSession::new(e.clone(), ticket(), Reference::Embedding(short), blink())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    // a valid reference of somebody else compares and does not match
    let other = e
        .embed_image(&load(&sample("biden.jpg")))
        .expect("embedding");
    let d = e
        .compare_embeddings(&other, &probe, realface::DEFAULT_FAR)
        .expect("compares");
    assert!(!d.same_person && d.similarity.is_finite(), "{d:?}");
}
