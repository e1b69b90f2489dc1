//! The verification session: a certifyId, a reference face and a challenge;
//! frames are pushed in with timestamps, each push returns the progress (the
//! prompt, the ring progress, the state), and the session ends with an
//! [`AuthResult`].
//!
//! Per frame ([`VerificationSession::push_frame`], in `step.rs`): detect
//! (more than one face ends the session as an interruption), mesh, measure
//! ([`crate::face::features::FrameFeatures`]), score quality, feed the
//! flat-motion cue and the current action's detector, and every few frames
//! embed the face and compare it with the session's first face, so the face
//! cannot be swapped half-way. The verdict is built in `verdict.rs`. When every action has been seen, the best
//! frame is embedded, averaged with the best embedded frames into a template
//! ([`template`]) and compared with the reference at the calibrated
//! threshold. SUCCESS needs all of: every action seen, no flat-motion cue, the
//! same face throughout, and a match. Every other path is FAIL with a reason.
//!
//! Liveness score: 0 without a completed challenge (at most 50 for the share
//! of actions seen); with one, 60 + 40 x how far the weakest action went past
//! its threshold (capped), so 60 means "just passed", 100 "clearly passed".

pub mod certify;
pub mod challenge;
pub mod conditions;
pub mod drive;
pub mod evidence;
pub mod external;
mod options;
pub mod photo;
pub mod prompt;
pub mod replay;
pub mod result;
pub mod schedule;
pub mod start;
mod step;
pub mod template;
pub mod track;
pub mod ui;
mod verdict;

pub use options::SessionOptions;

use std::sync::Arc;

use image::RgbImage;
use serde::Serialize;

use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::face::quality::Quality;
use crate::imaging::geometry::{Affine, BBox, Point};
use crate::liveness::actions::{Action, History};
use crate::liveness::flat::FlatMotion;
use crate::liveness::pad::PadEvidence;
use crate::matching::embed::Embedding;
use crate::session::track::Tracker;
use certify::CertifyTicket;
use prompt::Prompter;
use replay::FrameObs;
use result::{ActionOutcome, AuthResult, ReasonCode};

/// The reference identity.
#[derive(Debug, Clone)]
pub enum Reference {
    /// A photo with exactly one face (an ID or enrolment photo).
    Photo(RgbImage),
    /// A stored embedding (from [`FaceEngine::embed_image`]).
    Embedding(Embedding),
    /// The reference is held by the server that issued the certifyId (its
    /// `start` gave the challenge and nonce): this device only captures.
    /// No face match runs here; a capture that completes the challenge ends
    /// as PROCESSING with client code 0 ("capture completed, the verdict
    /// comes from getAuthResult"), never SUCCESS. Record the evidence
    /// ([`SessionOptions::record_evidence`]) and upload
    /// [`VerificationSession::evidence`].
    Server,
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// No face in view yet (or lost).
    WaitingForFace,
    /// Watching the face before the first prompt.
    Warmup,
    /// A prompt is shown: waiting for its answer.
    Action,
    /// "Hold still": between prompts, or waiting for the verdict.
    HoldStill,
    /// Finished; read the result.
    Finished,
}

/// What a timer ring shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// The answer must start before the ring is full.
    AnswerWindow,
    /// Hold the answer until the ring is full (the release cue), then let go.
    Hold,
}

/// A timer the client draws as a filling ring (times in ms since the
/// session's first frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timer {
    /// What it measures.
    pub kind: TimerKind,
    /// When it started.
    pub from_ms: u64,
    /// When it is full: the end of the answer window, or the release cue.
    pub to_ms: u64,
    /// Play a sound or a vibration at `to_ms`: the person's eyes are closed
    /// and cannot see the ring (a held blink's release cue).
    pub sound: bool,
}

/// What a client shows after a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// The session's state.
    pub state: SessionState,
    /// The text to show (English; [`crate::prompts`] has it in every
    /// language under `prompt_key`).
    pub prompt: String,
    /// The key of the text and icon to show in [`crate::prompts::PROMPTS`]
    /// (`face_in_circle`, `hold_still`, `action.blink`, ..., `release`,
    /// `done`).
    pub prompt_key: &'static str,
    /// Step k of `actions_total` (1-based): the action prompted now or
    /// next; 0 before the challenge starts.
    pub step: usize,
    /// The timer ring to draw, when one runs: the answer window while a
    /// prompt waits for its answer, the hold while an answer is held until
    /// its release cue.
    pub timer: Option<Timer>,
    /// Ring progress 0..1.
    pub ring: f32,
    /// The action prompted now (shown from `prompt_at_ms` on); `None`
    /// between prompts, when the client shows "Hold still".
    pub action: Option<Action>,
    /// When the current prompt was shown (ms since the session's first frame).
    pub prompt_at_ms: Option<u64>,
    /// The answer must start within this window (ms since the first frame).
    pub answer_window_ms: Option<[u64; 2]>,
    /// Actions completed.
    pub actions_done: usize,
    /// Actions in the challenge.
    pub actions_total: usize,
    /// Faces in this frame.
    pub faces: usize,
    /// Quality of this frame's face.
    pub quality: Option<f32>,
}

struct Best {
    /// The frame (live sessions; a replay has only its embedding).
    frame: Option<RgbImage>,
    bbox: BBox,
    map: Affine,
    quality: Quality,
    /// The frame's embedding, when it was taken with the observation.
    embedding: Option<Embedding>,
}

/// A running verification. Not shared between threads; the engine is.
pub struct VerificationSession {
    engine: Arc<FaceEngine>,
    ticket: CertifyTicket,
    options: SessionOptions,
    actions: Vec<Action>,
    outcomes: Vec<ActionOutcome>,
    reference: Option<Embedding>,
    threshold: f32,
    far_target: f64,
    continuity_threshold: f32,
    prompter: Prompter,
    history: History,
    flat: FlatMotion,
    pad: PadEvidence,
    /// The analysis schedule's counters.
    cadence: schedule::Cadence,
    tracker: Tracker,
    /// The frame a page is analysing ([`external`]).
    external: Option<external::PageFrame>,
    first_ms: Option<u64>,
    last_ms: Option<u64>,
    frames: usize,
    face_frames: usize,
    conditions: conditions::Conditions,
    anchor: Option<Embedding>,
    best: Option<Best>,
    template: template::TemplateBuilder,
    last_center: Option<Point>,
    result: Option<AuthResult>,
    evidence: Option<evidence::EvidenceRecorder>,
    /// Recording the observations for replays ([`replay::ObservationLog`]):
    /// the challenge and the limits are off, every frame is observed.
    recording: Option<Vec<(u64, FrameObs)>>,
}

impl std::fmt::Debug for VerificationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationSession")
            .field("certify_id", &self.ticket.certify_id())
            .field("actions", &self.actions)
            .field("frames", &self.frames)
            .field("finished", &self.result.is_some())
            .finish()
    }
}

impl VerificationSession {
    /// Starts a session for a claimed certifyId (see
    /// [`certify::CertifyRegistry::claim`]). The reference photo must hold
    /// exactly one face; a reference embedding must have the embedder's length.
    pub fn new(
        engine: Arc<FaceEngine>,
        ticket: CertifyTicket,
        reference: Reference,
        options: SessionOptions,
    ) -> Result<Self> {
        options.validate()?;
        let reference = match reference {
            Reference::Server => None,
            Reference::Photo(img) => Some(engine.embed_image(&img)?),
            Reference::Embedding(e) => {
                let want = engine.embedder().dim();
                if e.dim() != want {
                    return Err(Error::invalid(
                        "reference",
                        format!(
                            "embedding has {} values, the {} matcher's have {want}",
                            e.dim(),
                            engine.config().matcher.name()
                        ),
                    ));
                }
                Some(e)
            }
        };
        let point = engine.calibration().threshold_for(options.far)?;
        let continuity = engine.calibration().threshold_for(options.continuity_far)?;
        let seed = challenge::seed(ticket.certify_id(), ticket.challenge_nonce());
        let actions = challenge::actions(&options.challenge, seed)?;
        options.prompt.check_actions(actions.len())?;
        let outcomes = actions
            .iter()
            .map(|&a| ActionOutcome {
                action: a,
                passed: false,
                prompt_ms: None,
                onset_ms: None,
                at_ms: None,
                strength: None,
                release_ms: None,
            })
            .collect();
        Ok(Self {
            engine,
            ticket,
            actions: actions.clone(),
            outcomes,
            reference,
            threshold: point.threshold,
            far_target: point.far,
            continuity_threshold: continuity.threshold,
            prompter: Prompter::new(
                options.prompt.clone(),
                options.params,
                options.warmup_ms,
                actions,
                seed,
            ),
            history: History::default(),
            flat: FlatMotion::default(),
            pad: PadEvidence::new(&options.pad),
            cadence: schedule::Cadence::default(),
            tracker: Tracker::new(options.schedule.detect_every),
            external: None,
            first_ms: None,
            last_ms: None,
            frames: 0,
            face_frames: 0,
            conditions: conditions::Conditions::default(),
            anchor: None,
            best: None,
            template: template::TemplateBuilder::new(options.template_frames),
            last_center: None,
            result: None,
            evidence: options
                .record_evidence
                .then(evidence::EvidenceRecorder::new),
            recording: None,
            options,
        })
    }

    /// The session's phase for a frame taken at `t_ms` (before that frame
    /// is pushed): what [`SessionOptions::schedule`] runs depends on it.
    pub fn phase(&self, t_ms: u64) -> schedule::Phase {
        self.prompter.phase(t_ms)
    }

    /// The challenge's actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The certifyId.
    pub fn certify_id(&self) -> &str {
        self.ticket.certify_id()
    }

    fn done(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed).count()
    }

    fn progress(&self, faces: usize, quality: Option<f32>) -> Progress {
        let total = self.actions.len();
        let done = self.done();
        let rel = |t: u64| t.saturating_sub(self.first_ms.unwrap_or(t));
        let holding = self.prompter.holding().filter(|_| self.result.is_none());
        let cue_passed = holding.is_some_and(|(_, cue)| self.last_ms.unwrap_or(0) >= cue);
        let (state, key, action) = if self.result.is_some() {
            (SessionState::Finished, "done", None)
        } else if let Some((a, _)) = self.prompter.prompted() {
            // the prompt; "hold" while an answer is held (the eyes are
            // closed for a blink: its cue is a sound); "relax" after the cue
            let key = match holding {
                Some(_) if cue_passed => "release",
                Some(_) if a != Action::Blink => "hold",
                _ => a.prompt_key(),
            };
            (SessionState::Action, key, Some(a))
        } else if self.prompter.started() {
            (SessionState::HoldStill, "hold_still", None)
        } else if faces == 1 {
            (SessionState::Warmup, "hold_still", None)
        } else {
            (SessionState::WaitingForFace, "face_in_circle", None)
        };
        let prompt = crate::prompts::text(key, crate::prompts::Lang::En)
            .unwrap_or_default()
            .to_string();
        let ring = if self.result.is_some() {
            1.0
        } else {
            done as f32 / total.max(1) as f32
        };
        let prompted = self.prompter.prompted().filter(|_| self.result.is_none());
        let timer = match (holding, prompted.and(self.prompter.window())) {
            (Some((since, cue)), _) => Some(Timer {
                kind: TimerKind::Hold,
                from_ms: rel(since),
                to_ms: rel(cue),
                sound: action == Some(Action::Blink),
            }),
            (None, Some(_)) => prompted.map(|(_, at)| Timer {
                kind: TimerKind::AnswerWindow,
                from_ms: rel(at),
                to_ms: rel(at.saturating_add(self.options.prompt.reaction_max_ms)),
                sound: false,
            }),
            _ => None,
        };
        let step = if self.result.is_some() {
            total
        } else if self.prompter.started() {
            (done + 1).min(total)
        } else {
            0
        };
        Progress {
            state,
            prompt,
            prompt_key: key,
            step,
            timer,
            ring,
            action,
            prompt_at_ms: prompted.map(|(_, at)| rel(at)),
            answer_window_ms: prompted
                .and(self.prompter.window())
                .map(|(a, b)| [rel(a), rel(b)]),
            actions_done: done,
            actions_total: total,
            faces,
            quality,
        }
    }

    /// The user or the app quits: the session fails as interrupted (10011).
    pub fn cancel(&mut self) {
        self.fail(ReasonCode::UserQuit, "the user quit".into());
    }

    /// The capture ran out of time before it recorded anything (a face was
    /// seen but never centred, close, lit and still enough to be prompted).
    /// It fails as timed out (TIMEOUT, 10011), or, like every time limit on
    /// a session that was given no face frame, as NO_FACE_CAPTURED (10010)
    /// with this detail.
    pub fn time_out_unready(&mut self) {
        self.fail(
            ReasonCode::Timeout,
            "the face was never ready for the prompts".into(),
        );
    }

    /// Ends the session (no more frames are coming): an unfinished challenge
    /// is a FAIL (interrupted, 10011). Returns the result: SUCCESS or FAIL,
    /// or, for a capture-only session ([`Reference::Server`]) whose capture
    /// completed, PROCESSING with client code 0 (the server decides).
    pub fn finish(&mut self) -> AuthResult {
        if self.result.is_none() {
            let missing: Vec<&str> = self
                .outcomes
                .iter()
                .filter(|o| !o.passed)
                .map(|o| o.action.name())
                .collect();
            let (code, msg) = if self.face_frames == 0 {
                (ReasonCode::NoFaceCaptured, "no face was seen".to_string())
            } else {
                (
                    ReasonCode::Timeout,
                    format!(
                        "the frames ended before the challenge was done (missing: {})",
                        missing.join(", ")
                    ),
                )
            };
            self.fail(code, msg);
        }
        self.result()
    }

    /// The current result: PROCESSING while running.
    pub fn result(&self) -> AuthResult {
        self.result.clone().unwrap_or_else(|| self.snapshot())
    }

    /// Whether the session has finished.
    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// The evidence to upload to the server that decides: every frame the
    /// session took (JPEG, timestamps) and this session's result as the
    /// device's advisory, as the JSON bundle `realface-server` takes.
    /// [`Error::InvalidArgument`] unless the session was started with
    /// [`SessionOptions::record_evidence`].
    pub fn evidence(&self) -> Result<Vec<u8>> {
        let Some(rec) = &self.evidence else {
            return Err(Error::invalid(
                "record_evidence",
                "the session was not started with record_evidence",
            ));
        };
        rec.bundle(Some(&self.result()))
    }
}
