//! Session options, calibration tables, certifyIds, action and photo names:
//! everything a client or server parses. Never a panic; what parses must
//! validate consistently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use realface::liveness::actions::Action;
use realface::session::certify::CertifyRegistry;
use realface::session::challenge::{actions, seed};
use realface::session::photo::PhotoKind;
use realface::session::SessionOptions;
use realface::Calibration;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(o) = serde_json::from_str::<SessionOptions>(&text) {
        if o.validate().is_ok() {
            let _ = actions(&o.challenge, seed(&text, ""));
        }
    }
    if let Ok(c) = Calibration::from_json(&text) {
        for far in [1e-2, 1e-4, 1e-6, 0.5] {
            if let Ok(p) = c.threshold_for(far) {
                assert!(p.far <= far * (1.0 + 1e-9));
            }
        }
        for s in [-1.0f32, 0.0, 0.5, 1.0, f32::NAN] {
            let v = c.score(s);
            assert!((0.0..=100.0).contains(&v), "score {v}");
        }
    }
    let registry = CertifyRegistry::new();
    if let Ok(issued) = serde_json::from_str::<realface::IssuedId>(&text) {
        // an issuer's id is claimable at most once
        if registry.claim_issued(&issued, 0).is_ok() {
            assert!(registry.claim_issued(&issued, 0).is_err());
        }
    }
    assert!(
        registry.claim(&text, 0).is_err(),
        "nothing issued, nothing claimable"
    );
    for part in text.split(',') {
        let _ = part.parse::<Action>();
        let _ = part.parse::<PhotoKind>();
    }
});
