//! Image bytes -> decode (with limits) -> detect -> mesh -> align -> embed.
//! Any outcome but a panic is fine; a success must carry a unit-length embedding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use realface::{EngineConfig, FaceEngine, Limits};

fn engine() -> &'static FaceEngine {
    static E: OnceLock<FaceEngine> = OnceLock::new();
    E.get_or_init(|| {
        // Small limits keep each run fast; the limit checks are what is fuzzed.
        let limits = Limits {
            max_dimension: 2048,
            max_decoded_bytes: 16 << 20,
            max_encoded_bytes: 4 << 20,
        };
        FaceEngine::new(EngineConfig::default().with_limits(limits))
            .expect("run scripts/setup.sh first")
    })
}

fuzz_target!(|data: &[u8]| {
    let e = engine();
    if let Ok(img) = e.decode(data) {
        if let Ok(a) = e.analyze(&img) {
            let norm: f32 = a
                .embedding
                .as_slice()
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            assert!(
                (norm - 1.0).abs() < 1e-3,
                "embedding not unit length: {norm}"
            );
        }
    }
});
