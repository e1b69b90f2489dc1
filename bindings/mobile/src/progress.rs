//! What a session tells the app: the progress after each frame (drawn by
//! the UI as it is) and the verdict at the end.

use realface::session::TimerKind;
use realface::{AuthResult, SessionState};

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum State {
    /// No face in view yet (or lost): show "Put your face inside the circle".
    WaitingForFace,
    /// Watching the face before the first prompt.
    Warmup,
    /// A prompt is shown: waiting for its answer.
    Action,
    /// "Hold still": between prompts, or waiting for the verdict.
    HoldStill,
    /// Finished: read the verdict.
    Finished,
}

/// A timer ring the UI draws (times in ms since the session's first frame).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Timer {
    /// `answer_window` (the answer must start before it is full) or `hold`
    /// (hold the answer until it is full, then let go).
    pub kind: String,
    /// When it started.
    pub from_ms: u64,
    /// When it is full.
    pub to_ms: u64,
    /// Play a sound or a vibration at `to_ms` (the eyes are closed).
    pub sound: bool,
}

/// What to show after a frame.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Progress {
    /// The session's state.
    pub state: State,
    /// The text to show, in English.
    pub prompt: String,
    /// Its key in the prompt table (`face_in_circle`, `hold_still`,
    /// `action.blink`, ...): look it up in the app's own strings for other
    /// languages, or call [`crate::prompt_text`].
    pub prompt_key: String,
    /// The action prompted now (`blink`, `mouth_open`, `turn_left`,
    /// `turn_right`, `nod`); none between prompts.
    pub action: Option<String>,
    /// When the current prompt was shown (ms since the first frame).
    pub prompt_at_ms: Option<u64>,
    /// The answer must start at or after this (ms since the first frame).
    pub window_start_ms: Option<u64>,
    /// ... and before this.
    pub window_end_ms: Option<u64>,
    /// True while the person must hold still (between prompts).
    pub hold_still: bool,
    /// The ring's progress, 0 to 1.
    pub ring: f32,
    /// The timer ring, when one runs.
    pub timer: Option<Timer>,
    /// Step k of `actions_total` (1-based); 0 before the challenge.
    pub step: u32,
    /// Actions completed.
    pub actions_done: u32,
    /// Actions in the challenge.
    pub actions_total: u32,
    /// Faces in this frame.
    pub faces: u32,
}

impl From<realface::Progress> for Progress {
    fn from(p: realface::Progress) -> Self {
        Self {
            state: match p.state {
                SessionState::WaitingForFace => State::WaitingForFace,
                SessionState::Warmup => State::Warmup,
                SessionState::Action => State::Action,
                SessionState::HoldStill => State::HoldStill,
                SessionState::Finished => State::Finished,
            },
            prompt: p.prompt,
            prompt_key: p.prompt_key.to_string(),
            action: p.action.map(|a| a.name().to_string()),
            prompt_at_ms: p.prompt_at_ms,
            window_start_ms: p.answer_window_ms.map(|w| w[0]),
            window_end_ms: p.answer_window_ms.map(|w| w[1]),
            hold_still: p.state == SessionState::HoldStill,
            ring: p.ring,
            timer: p.timer.map(|t| Timer {
                kind: match t.kind {
                    TimerKind::AnswerWindow => "answer_window",
                    TimerKind::Hold => "hold",
                }
                .to_string(),
                from_ms: t.from_ms,
                to_ms: t.to_ms,
                sound: t.sound,
            }),
            step: p.step as u32,
            actions_done: p.actions_done as u32,
            actions_total: p.actions_total as u32,
            faces: p.faces as u32,
        }
    }
}

/// Why a session failed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Reason {
    /// Stable name (`ACTION_TIMEOUT`, `NOT_AT_REST`, `NO_MATCH`, ...).
    pub code: String,
    /// Detail for the developer.
    pub message: String,
    /// What the person may be told (a `hint.*` prompt key: never names a
    /// face match or an attack); none for the person's own quit.
    pub hint: Option<String>,
}

/// One requested action.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ActionResult {
    /// The action's name.
    pub action: String,
    /// Performed as the answer to its prompt.
    pub passed: bool,
    /// When its prompt was shown (ms since the first frame).
    pub prompt_ms: Option<u64>,
    /// When the answer started.
    pub onset_ms: Option<u64>,
    /// When it completed.
    pub at_ms: Option<u64>,
}

/// The verdict of a session.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Verdict {
    /// The certifyId.
    pub certify_id: String,
    /// `PROCESSING`, `SUCCESS` or `FAIL` (a capture for a server ends as
    /// `PROCESSING`: the server's verdict is the one that counts).
    pub auth_state: String,
    /// The product's client code (0, 10010, 10011, 10013).
    pub client_code: u32,
    /// Liveness score 0-100.
    pub score: Option<f32>,
    /// Quality 0-100 of the chosen frame.
    pub quality: Option<f32>,
    /// Similarity to the reference.
    pub similarity: Option<f32>,
    /// Every requested action.
    pub actions: Vec<ActionResult>,
    /// Why it failed (empty on SUCCESS).
    pub reasons: Vec<Reason>,
    /// Frames pushed.
    pub frames: u32,
    /// Frames with one usable face.
    pub face_frames: u32,
    /// The whole result as the library's JSON (the fields of `realface
    /// verify --json`), with the photo when one was asked for.
    pub json: String,
}

/// A serde-named value as its name (`"SUCCESS"`, `"ACTION_TIMEOUT"`).
fn name(v: impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

impl From<&AuthResult> for Verdict {
    fn from(r: &AuthResult) -> Self {
        Self {
            certify_id: r.certify_id.clone(),
            auth_state: name(r.auth_state),
            client_code: r.client_code,
            score: r.score,
            quality: r.quality,
            similarity: r.similarity,
            actions: r
                .actions
                .iter()
                .map(|a| ActionResult {
                    action: a.action.name().to_string(),
                    passed: a.passed,
                    prompt_ms: a.prompt_ms,
                    onset_ms: a.onset_ms,
                    at_ms: a.at_ms,
                })
                .collect(),
            reasons: r
                .reasons
                .iter()
                .map(|x| Reason {
                    code: name(x.code),
                    message: x.message.clone(),
                    hint: r.hint_of(x.code).map(str::to_string),
                })
                .collect(),
            frames: r.frames as u32,
            face_frames: r.face_frames as u32,
            json: serde_json::to_string(r).unwrap_or_default(),
        }
    }
}
