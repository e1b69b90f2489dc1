//! A raw frame buffer with arbitrary width/height/stride/format/timestamps ->
//! session push. Never a panic, and never SUCCESS without every action seen
//! and a similarity at or above the threshold.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use realface::frame::{frame_from_buffer, PixelFormat};
use realface::session::certify::{CertifyRegistry, IssuedId};
use realface::session::challenge::ChallengeSpec;
use realface::session::result::AuthState;
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::{Embedding, EngineConfig, FaceEngine, Limits};

fn engine() -> Arc<FaceEngine> {
    static E: OnceLock<Arc<FaceEngine>> = OnceLock::new();
    E.get_or_init(|| {
        let limits = Limits {
            max_dimension: 1024,
            max_decoded_bytes: 8 << 20,
            max_encoded_bytes: 4 << 20,
        };
        Arc::new(
            FaceEngine::new(EngineConfig::default().with_limits(limits))
                .expect("run scripts/setup.sh first"),
        )
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let e = engine();
    let Ok(ticket) = CertifyRegistry::new().claim_issued(
        &IssuedId {
            certify_id: "fuzz".into(),
            challenge_nonce: "0123456789abcdef0123456789abcdef".into(),
            expires_ms: 60_000,
        },
        0,
    ) else {
        return;
    };
    let reference = Embedding::from_raw((0..192).map(|i| ((i * 37 % 11) as f32) - 5.0).collect())
        .expect("vector");
    let options =
        SessionOptions::default().with_challenge(ChallengeSpec::Random(1 + (data[0] % 3) as usize));
    let Ok(mut s) =
        VerificationSession::new(e.clone(), ticket, Reference::Embedding(reference), options)
    else {
        return;
    };
    let mut rest = &data[1..];
    let mut t: u64 = 0;
    while rest.len() >= 8 {
        let w = u16::from_le_bytes([rest[0], rest[1]]) as u32 % 700;
        let h = u16::from_le_bytes([rest[2], rest[3]]) as u32 % 700;
        let pad = rest[4] as usize % 16;
        let format = PixelFormat::from_u32(u32::from(rest[5] % 5)).unwrap_or(PixelFormat::Rgb);
        t = t
            .wrapping_add(u64::from(rest[6]) * 4)
            .wrapping_sub(u64::from(rest[7] % 8));
        rest = &rest[8..];
        let stride = w as usize * format.bytes_per_pixel() + pad;
        let take = rest.len().min(stride * h as usize);
        let (buf, tail) = rest.split_at(take);
        rest = tail;
        if let Ok(frame) = frame_from_buffer(buf, w, h, stride, format, &e.config().limits) {
            let _ = s.push_frame(&frame, t);
        }
        if s.is_finished() {
            break;
        }
    }
    let r = s.finish();
    if r.auth_state == AuthState::Success {
        assert!(r.actions.iter().all(|a| a.passed));
        assert!(r.similarity.is_some_and(|v| v >= r.threshold));
    }
    assert_ne!(r.auth_state, AuthState::Processing);
});
