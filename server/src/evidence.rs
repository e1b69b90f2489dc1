//! Judging evidence: the same `VerificationSession` the device runs, over
//! the recorded video (decoded by FFmpeg at its own frame rate and
//! timestamps) or a bundle of timestamped JPEG frames, with the stored
//! reference and the challenge drawn at start. Runs on the judging pool.

use std::io::Write;
use std::ops::ControlFlow;
use std::sync::Arc;

use realface::embed::Embedding;
use realface::liveness::actions::Action;
use realface::session::challenge::ChallengeSpec;
use realface::session::prompt::PromptMode;
use realface::source::video::{VideoLimits, VideoSource};
use realface::source::FrameEvent;
use realface::{
    AuthResult, CertifyRegistry, ErrorCode, FaceEngine, IssuedId, PhotoKind, Reference,
    SessionOptions, VerificationSession,
};

use crate::error::{ApiError, ApiResult, Code};
use crate::judge::lib_error;
use crate::settings::EvidenceLimits;

/// What the device uploaded.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// A video file as the camera recorded it.
    Video(axum::body::Bytes),
    /// Timestamped JPEG frames (`tMs`, bytes).
    Frames(Vec<(u64, Vec<u8>)>),
    /// No frames: the capture ended before recording (it can only fail).
    Abandoned(Abandoned),
}

/// Why a capture ended without frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abandoned {
    /// The page never saw a face: `NO_FACE_CAPTURED`, as a session with no
    /// face frame ends.
    NoFace,
    /// The page saw a face but never ready to be prompted: with no face
    /// frame uploaded this is `NO_FACE_CAPTURED` too, its detail saying
    /// the face was never ready.
    NotReady,
    /// The person quit: `USER_QUIT`.
    Quit,
}

/// What the server needs of the stored certifyId to judge.
#[derive(Debug, Clone)]
pub struct Case {
    /// The certifyId.
    pub certify_id: String,
    /// Its nonce.
    pub nonce: String,
    /// Its expiry.
    pub expires_ms: u64,
    /// The reference embedding.
    pub reference: Embedding,
    /// The challenge drawn at start.
    pub actions: Vec<Action>,
    /// How its prompts were timed (the capture mode stored at start).
    pub prompt_mode: PromptMode,
}

/// A judged upload.
#[derive(Debug)]
pub struct Judgement {
    /// The session's result.
    pub result: AuthResult,
    /// Y_O, on SUCCESS.
    pub photo_o: Option<String>,
    /// Y_M, on SUCCESS.
    pub photo_m: Option<String>,
}

/// The session options a certifyId is judged with, and that `start` gives
/// the device so it prompts when the server will expect it: the server's
/// options with the challenge drawn at start and the prompt mode of the
/// stored capture. The prompt schedule is the nonce's, always: fixed delays
/// and release cues are for offline evaluation and never judge a
/// certifyId; a web recording's schedule is recomputed, never taken from
/// the upload.
pub fn judged_options(
    base: SessionOptions,
    actions: Vec<Action>,
    mode: PromptMode,
) -> SessionOptions {
    let mut options = base.with_challenge(ChallengeSpec::Fixed(actions));
    options.prompt.delays_ms = None;
    options.prompt.release_at_ms = None;
    options.prompt.mode = mode;
    options
}

fn refused(cause: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(Code::BadParameter, cause, message)
}

/// Runs the session over the evidence. Evidence that holds no decodable
/// frame, or goes over a limit while the session still needs it, is
/// refused (50002) and nothing is judged.
pub fn judge(
    engine: Arc<FaceEngine>,
    case: Case,
    evidence: Evidence,
    options: SessionOptions,
    limits: EvidenceLimits,
    now_ms: u64,
) -> ApiResult<Judgement> {
    let registry = CertifyRegistry::new();
    let issued = IssuedId {
        certify_id: case.certify_id.clone(),
        challenge_nonce: case.nonce.clone(),
        expires_ms: case.expires_ms,
    };
    let ticket = registry
        .claim_issued(&issued, now_ms)
        .map_err(|e| ApiError::new(Code::UnknownCertifyId, "certifyId.claim", e.to_string()))?;
    let options = judged_options(options, case.actions.clone(), case.prompt_mode);
    let mut session = VerificationSession::new(
        engine.clone(),
        ticket,
        Reference::Embedding(case.reference.clone()),
        options,
    )
    .map_err(|e| ApiError::internal("session", e))?;
    match evidence {
        Evidence::Video(bytes) => run_video(&engine, &mut session, &bytes, limits)?,
        Evidence::Frames(frames) => run_frames(&engine, &mut session, frames, limits)?,
        // the session ends with no frame: NO_FACE_CAPTURED by its own rule
        Evidence::Abandoned(Abandoned::NoFace) => {}
        Evidence::Abandoned(Abandoned::NotReady) => session.time_out_unready(),
        Evidence::Abandoned(Abandoned::Quit) => session.cancel(),
    }
    let result = session.finish();
    let photo = |kind| {
        session
            .photo(kind)
            .map_err(|e| ApiError::internal("photo", e))
    };
    Ok(Judgement {
        photo_o: photo(PhotoKind::Original)?,
        photo_m: photo(PhotoKind::Mosaic)?,
        result,
    })
}

fn run_video(
    engine: &FaceEngine,
    session: &mut VerificationSession,
    bytes: &[u8],
    limits: EvidenceLimits,
) -> ApiResult<()> {
    let mut file = tempfile::Builder::new()
        .prefix("realface-evidence-")
        .tempfile()
        .map_err(|e| ApiError::internal("evidence.tempfile", e))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| ApiError::internal("evidence.tempfile", e))?;
    let video_limits = VideoLimits {
        max_frames: limits.max_frames,
        max_duration_ms: limits.max_duration_ms,
    };
    let mut source = VideoSource::open(file.path(), engine.config().limits, video_limits)
        .map_err(|e| refused("evidence.video", format!("the video cannot be read: {e}")))?;
    // the library's frame loop; a frame the session refuses (no face...)
    // leaves it unchanged, a limit passed refuses the upload
    let mut taken = 0usize;
    let mut over = None;
    realface::source::run(session, &mut source, |ev| match ev {
        FrameEvent::Error(None, e) if e.code() == ErrorCode::LimitExceeded => {
            over = Some(e.to_string());
            ControlFlow::Break(())
        }
        FrameEvent::Error(None, _) => ControlFlow::Continue(()),
        FrameEvent::Progress(..) | FrameEvent::Error(Some(_), _) => {
            taken += 1;
            ControlFlow::Continue(())
        }
    });
    if let Some(e) = over {
        return Err(refused("evidence.limit", e));
    }
    if taken == 0 {
        return Err(refused(
            "evidence.video",
            "no frame of the video could be decoded",
        ));
    }
    Ok(())
}

fn run_frames(
    engine: &FaceEngine,
    session: &mut VerificationSession,
    frames: Vec<(u64, Vec<u8>)>,
    limits: EvidenceLimits,
) -> ApiResult<()> {
    if frames.is_empty() {
        return Err(refused("evidence.frames", "the bundle holds no frame"));
    }
    if frames.len() > limits.max_frames {
        return Err(refused(
            "evidence.limit",
            format!("{} frames; at most {}", frames.len(), limits.max_frames),
        ));
    }
    let first = frames[0].0;
    for (i, w) in frames.windows(2).enumerate() {
        if w[1].0 <= w[0].0 {
            return Err(refused(
                "evidence.frames",
                format!("frame {}: timestamps must increase", i + 1),
            ));
        }
    }
    if let Some((t, _)) = frames.last() {
        if t - first > limits.max_duration_ms {
            return Err(refused(
                "evidence.limit",
                format!(
                    "the bundle spans {} ms; at most {}",
                    t - first,
                    limits.max_duration_ms
                ),
            ));
        }
    }
    // decoded one at a time: a corrupt frame refuses the whole upload
    // (nothing is stored before the verdict)
    for (i, (t, bytes)) in frames.iter().enumerate() {
        let img = engine
            .decode(bytes)
            .map_err(|e| lib_error(&format!("evidence.frames[{i}]"), &e))?;
        if !session.is_finished() {
            let _ = session.push_frame(&img, *t);
        }
    }
    Ok(())
}
