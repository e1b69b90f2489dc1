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

/// One shared engine per test binary, for sessions (which take an `Arc`).
pub fn shared_engine() -> std::sync::Arc<FaceEngine> {
    static ENGINE: OnceLock<std::sync::Arc<FaceEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            std::sync::Arc::new(
                FaceEngine::new(EngineConfig::default().with_sessions_per_model(2))
                    .unwrap_or_else(|e| panic!("engine: {e} (run `bash scripts/setup.sh`)")),
            )
        })
        .clone()
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

/// The original video file of an action clip (`source.<ext>`).
pub fn clip_source(name: &str) -> PathBuf {
    let dir = data_dir().join("actions").join(name);
    std::fs::read_dir(&dir)
        .expect("clip folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_stem().is_some_and(|s| s == "source"))
        .unwrap_or_else(|| panic!("{}: no source video", dir.display()))
}

/// Runs a `realface ... --json` command: it must succeed (its stderr is
/// the failure's message), and its stdout is the JSON returned.
pub fn json_of(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `realface verify --json` on an action clip's video (its first 10 fps
/// frame as the reference) with fixed prompt delays and `extra` arguments.
pub fn verify_clip(clip: &str, actions: &str, delays: &str, extra: &[&str]) -> serde_json::Value {
    let dir = data_dir().join("actions").join(clip);
    let out = cli()
        .args(["verify", "--json", "--reference"])
        .arg(dir.join("frame_0001.jpg"))
        .arg("--video")
        .arg(clip_source(clip))
        .args(["--actions", actions, "--prompt-delays-ms", delays])
        .args(extra)
        .output()
        .expect("run realface");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// The original video of an action clip, decoded at its own rate.
pub fn clip_video(name: &str) -> Vec<realface::source::TimedFrame> {
    let video = clip_source(name);
    realface::source::video::read_video(
        &video,
        engine().config().limits,
        realface::source::video::VideoLimits {
            max_frames: 20_000,
            max_duration_ms: 600_000,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", video.display()))
}

/// A person built from a clip's real frames: quiet frames from `rest`
/// (ms range) while holding still, and the clip's recorded answers
/// (action, onset ms, lead ms, after ms), each started `reaction_ms` after
/// its prompt.
pub fn puppet(
    frames: &[realface::source::TimedFrame],
    rest: (u64, u64),
    answers: &[(realface::Action, u64, u64, u64)],
    reaction_ms: u64,
) -> realface::eval::puppet::Puppet {
    use realface::eval::puppet::{Answer, Puppet};
    let frame_ms = if frames.len() > 1 {
        (frames[frames.len() - 1].t_ms - frames[0].t_ms) / (frames.len() as u64 - 1)
    } else {
        33
    };
    Puppet {
        rest: Puppet::rest_from_clip(frames, rest.0, rest.1),
        answers: answers
            .iter()
            .map(|&(a, onset, lead, after)| Answer::from_clip(a, frames, onset, lead, after))
            .collect(),
        frame_ms: frame_ms.max(1),
        reaction_ms,
    }
}
