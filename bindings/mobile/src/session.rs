//! The two sessions an app runs: [`LocalSession`] (an on-device verdict
//! against a reference) and [`CaptureSession`] (a capture for a realface
//! server, which judges the upload).

use std::sync::{Arc, Mutex};

use realface::session::certify::unix_now_ms;
use realface::session::start::StartAnswer;
use realface::{
    Action, CertifyRegistry, ChallengeSpec, Embedding, SessionOptions, VerificationSession,
};

use crate::engine::Engine;
use crate::error::{poisoned, RealfaceError, Result};
use crate::frame::Frame;
use crate::progress::{Progress, Verdict};

/// Who the person must be.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Reference {
    /// A photo with exactly one face (an ID or enrolment photo).
    Photo {
        /// The photo.
        frame: Frame,
    },
    /// A stored embedding from [`Engine::embed`] under the same matcher. A
    /// NaN, infinite, all-zero or wrong-length vector is refused.
    Embedding {
        /// Its values.
        values: Vec<f32>,
    },
}

/// How a local session runs. Empty fields keep the defaults.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct LocalOptions {
    /// The actions to ask for, in order (`blink`, `mouth_open`,
    /// `turn_left`, `turn_right`, `nod`); empty: two drawn at random.
    pub actions: Vec<String>,
    /// Offline evaluation of recorded material only: fixed prompt delays
    /// (ms), one per action, as `realface verify --prompt-delays-ms`;
    /// empty: drawn at random as a live session draws them.
    pub prompt_delays_ms: Vec<u64>,
    /// With `prompt_delays_ms`: held answers' release cues at these times
    /// (ms after the first frame, one per action), as `realface verify
    /// --release-at-ms`; empty: drawn as a live session draws them.
    pub release_at_ms: Vec<u64>,
    /// A `SessionOptions` JSON object (partial: the rest keeps its
    /// defaults), applied before `actions` and `prompt_delays_ms`.
    pub options_json: Option<String>,
}

/// A running session shared by both kinds: the lock lets the app call it
/// from its camera thread and its UI thread.
struct Running {
    session: Mutex<VerificationSession>,
    engine: Arc<Engine>,
}

impl Running {
    fn push(&self, frame: &Frame, t_ms: u64) -> Result<Progress> {
        let img = self.engine.image(frame)?;
        let mut s = self.session.lock().map_err(|_| poisoned())?;
        Ok(s.push_frame(&img, t_ms)?.into())
    }

    fn finish(&self) -> Result<Verdict> {
        let mut s = self.session.lock().map_err(|_| poisoned())?;
        Ok(Verdict::from(&s.finish()))
    }

    fn cancel(&self) -> Result<Verdict> {
        let mut s = self.session.lock().map_err(|_| poisoned())?;
        s.cancel();
        Ok(Verdict::from(&s.result()))
    }

    fn certify_id(&self) -> Result<String> {
        let s = self.session.lock().map_err(|_| poisoned())?;
        Ok(s.certify_id().to_string())
    }
}

fn parse_options(json: Option<&str>) -> Result<SessionOptions> {
    match json {
        Some(j) => serde_json::from_str(j)
            .map_err(|e| RealfaceError::invalid("options_json", e.to_string())),
        None => Ok(SessionOptions::default()),
    }
}

/// An on-device verification: liveness and a face match against a
/// reference, for offline use. Feed it every camera frame with its time;
/// read the verdict from `finish`.
#[derive(uniffi::Object)]
pub struct LocalSession {
    running: Running,
}

#[uniffi::export]
impl LocalSession {
    /// Starts a session with a fresh local certifyId.
    #[uniffi::constructor]
    pub fn new(
        engine: Arc<Engine>,
        reference: Reference,
        options: LocalOptions,
    ) -> Result<Arc<Self>> {
        let mut opts = parse_options(options.options_json.as_deref())?;
        if !options.actions.is_empty() {
            let actions = options
                .actions
                .iter()
                .map(|a| a.parse::<Action>())
                .collect::<realface::Result<Vec<_>>>()?;
            opts = opts.with_challenge(ChallengeSpec::Fixed(actions));
        }
        if !options.prompt_delays_ms.is_empty() {
            opts = opts.with_prompt_delays_ms(options.prompt_delays_ms);
        }
        if !options.release_at_ms.is_empty() {
            opts = opts.with_release_at_ms(options.release_at_ms);
        }
        let reference = match reference {
            Reference::Photo { frame } => realface::Reference::Photo(engine.image(&frame)?),
            Reference::Embedding { values } => {
                realface::Reference::Embedding(Embedding::from_raw(values)?)
            }
        };
        let ticket = CertifyRegistry::new().issue_claimed(unix_now_ms())?;
        let session = VerificationSession::new(engine.inner.clone(), ticket, reference, opts)?;
        Ok(Arc::new(Self {
            running: Running {
                session: Mutex::new(session),
                engine,
            },
        }))
    }

    /// Takes one frame captured at `t_ms` (ms, increasing) and says what
    /// to show.
    pub fn push_frame(&self, frame: Frame, t_ms: u64) -> Result<Progress> {
        self.running.push(&frame, t_ms)
    }

    /// Ends the session (no more frames): the verdict. Finishing twice
    /// gives the same verdict.
    pub fn finish(&self) -> Result<Verdict> {
        self.running.finish()
    }

    /// The person quit: the session fails as interrupted (USER_QUIT).
    pub fn cancel(&self) -> Result<Verdict> {
        self.running.cancel()
    }

    /// The session's certifyId.
    pub fn certify_id(&self) -> Result<String> {
        self.running.certify_id()
    }
}

/// A capture for a realface server. Built from the JSON answer of the
/// server's `start` (certifyId, challengeNonce, expiresAt, sessionOptions),
/// so prompts come exactly when the server expects the answers; the
/// server keeps the reference and judges the upload. Upload
/// [`CaptureSession::evidence`] to `POST /v1/certify/{id}/evidence`; the
/// business backend reads the verdict.
#[derive(uniffi::Object)]
pub struct CaptureSession {
    running: Running,
}

#[uniffi::export]
impl CaptureSession {
    /// Starts the capture for `start`'s answer (its JSON body). An expired
    /// id is CERTIFY_ID_EXPIRED; an answer without a field is
    /// INVALID_ARGUMENT naming it.
    #[uniffi::constructor]
    pub fn new(engine: Arc<Engine>, start_json: String) -> Result<Arc<Self>> {
        let value: serde_json::Value = serde_json::from_str(&start_json)
            .map_err(|e| RealfaceError::invalid("start_json", e.to_string()))?;
        let answer = StartAnswer::from_json(&value)?;
        let session = answer.capture_session(engine.inner.clone(), true)?;
        Ok(Arc::new(Self {
            running: Running {
                session: Mutex::new(session),
                engine,
            },
        }))
    }

    /// Takes one frame captured at `t_ms` (ms, increasing) and says what
    /// to show.
    pub fn push_frame(&self, frame: Frame, t_ms: u64) -> Result<Progress> {
        self.running.push(&frame, t_ms)
    }

    /// Ends the capture: PROCESSING when it completed (the server decides),
    /// FAIL when it could not (no face, no answer, quit).
    pub fn finish(&self) -> Result<Verdict> {
        self.running.finish()
    }

    /// The person quit.
    pub fn cancel(&self) -> Result<Verdict> {
        self.running.cancel()
    }

    /// The upload's body (JSON, `Content-Type: application/json`): every
    /// frame the session took as JPEG with its timestamp, and the device's
    /// result as advisory.
    pub fn evidence(&self) -> Result<Vec<u8>> {
        let s = self.running.session.lock().map_err(|_| poisoned())?;
        Ok(s.evidence()?)
    }

    /// The certifyId.
    pub fn certify_id(&self) -> Result<String> {
        self.running.certify_id()
    }
}
