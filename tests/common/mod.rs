//! Shared helpers of the integration tests: one engine per test binary, the
//! sample photos fetched by scripts/setup.sh, and the shared evaluation data.
//! Missing data or setup is a test failure with the command to run, never a skip.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use realface::{EngineConfig, FaceEngine, RgbImage};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The face-recognition 1.3.0 sample photos (scripts/setup.sh puts them in .samples/).
pub fn sample(name: &str) -> PathBuf {
    let p = root().join(".samples").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run `bash scripts/setup.sh` first",
        p.display()
    );
    p
}

/// The shared evaluation data: $REALFACE_DATA, else ../shared/data beside the project.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("REALFACE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"));
    assert!(
        dir.join("faces/identities.csv").is_file(),
        "evaluation data not found at {} (set REALFACE_DATA to the shared data folder)",
        dir.display()
    );
    dir
}

pub fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        FaceEngine::new(EngineConfig::default().with_sessions_per_model(2))
            .unwrap_or_else(|e| panic!("engine: {e} (run `bash scripts/setup.sh`)"))
    })
}

pub fn load(path: &Path) -> RgbImage {
    engine()
        .load(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `realface` binary of this build.
pub fn cli() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_realface"))
}

pub fn golden() -> serde_json::Value {
    let text =
        std::fs::read_to_string(root().join("tests/golden/samples.json")).expect("golden file");
    serde_json::from_str(&text).expect("golden JSON")
}

/// The nonce the tests' certifyIds are issued with.
pub const NONCE: &str = "5f2b8c1e9a7d4e3f8b6a0c2d1e4f7a9b";

/// A ticket for `id` as a server would have issued it (fixed nonce, so a
/// random challenge is the same on every run), claimed once.
pub fn try_ticket(id: &str) -> realface::Result<realface::CertifyTicket> {
    realface::CertifyRegistry::new().claim_issued(
        &realface::IssuedId {
            certify_id: id.into(),
            challenge_nonce: NONCE.into(),
            expires_ms: 60_000,
        },
        0,
    )
}

/// [`try_ticket`] for a valid id.
pub fn ticket(id: &str) -> realface::CertifyTicket {
    try_ticket(id).expect("ticket")
}
