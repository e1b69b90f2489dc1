//! The options of a verification session.

use serde::{Deserialize, Serialize};

use super::challenge::ChallengeSpec;
use super::photo::PhotoKind;
use super::prompt::PromptOptions;
use super::schedule::AnalysisSchedule;
use crate::error::{Error, Result};
use crate::liveness::actions::ActionParams;
use crate::liveness::pad::PadOptions;

/// Options of a session (validated by [`SessionOptions::validate`]).
///
/// Deserialises from partial JSON (every missing field takes its default) and
/// is built in code with the `with_*` setters:
///
/// ```
/// use realface::{Action, ChallengeSpec, PhotoKind, SessionOptions};
///
/// let o = SessionOptions::default()
///     .with_challenge(ChallengeSpec::Fixed(vec![Action::Blink]))
///     .with_photo(PhotoKind::Mosaic);
/// assert!(o.validate().is_ok());
/// let partial: SessionOptions = serde_json::from_str(r#"{"photo": "Y_O"}"#).unwrap();
/// assert_eq!(partial.photo, PhotoKind::Original);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Which actions.
    pub challenge: ChallengeSpec,
    /// Time allowed for each action, from when its prompt was first due
    /// (postponements included, ms).
    pub action_timeout_ms: u64,
    /// Time allowed for the whole session, from the first frame (ms).
    pub total_timeout_ms: u64,
    /// The face must be in view this long before the first prompt's random
    /// delay starts (ms).
    pub warmup_ms: u64,
    /// When prompts come and how answers are timed (see
    /// [`super::prompt`]).
    pub prompt: PromptOptions,
    /// Which photo the result carries (`needAlivePhoto`).
    pub photo: PhotoKind,
    /// Target false-accept rate of the face match.
    pub far: f64,
    /// FAR of the same-face-throughout check (looser: it compares a person with themselves).
    pub continuity_far: f64,
    /// Embed every n-th face frame for the same-face check.
    pub embed_every: usize,
    /// Frames whose embeddings make the live side of the face match: the best
    /// frame and up to n - 1 of the best embedded frames, quality-weighted
    /// (1 = the best frame alone; see [`super::template`]).
    pub template_frames: usize,
    /// Most frames a session takes.
    pub max_frames: usize,
    /// Highest frame rate accepted: a frame closer than 1000 / max_fps ms to
    /// the previous accepted one is refused (LIMIT_EXCEEDED) and not processed.
    pub max_fps: f64,
    /// Action detector thresholds.
    pub params: ActionParams,
    /// Which frames run the passive models and the embedding, per phase of
    /// the session (see [`super::schedule`]). The default is
    /// [`AnalysisSchedule::sparse`]: about half the model time of
    /// [`AnalysisSchedule::full`] (which runs them at their full rate
    /// throughout) with the same held-out figures on every species
    /// (`docs/EVALUATION.md`).
    pub schedule: AnalysisSchedule,
    /// The passive presentation-attack gate (session-level median of the
    /// passive model, see [`crate::liveness::pad`]).
    pub pad: PadOptions,
    /// Keep every frame taken, as JPEG with its timestamp, for the upload to
    /// the server that decides ([`super::VerificationSession::evidence`]).
    pub record_evidence: bool,
}

/// Default of [`SessionOptions::template_frames`].
pub const DEFAULT_TEMPLATE_FRAMES: usize = 5;

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            challenge: ChallengeSpec::Random(2),
            action_timeout_ms: 8_000,
            total_timeout_ms: 30_000,
            warmup_ms: 500,
            prompt: PromptOptions::default(),
            photo: PhotoKind::None,
            far: crate::DEFAULT_FAR,
            continuity_far: 1e-2,
            embed_every: 5,
            template_frames: DEFAULT_TEMPLATE_FRAMES,
            max_frames: 3_000,
            max_fps: 60.0,
            params: ActionParams::default(),
            pad: PadOptions::default(),
            schedule: AnalysisSchedule::sparse(),
            record_evidence: false,
        }
    }
}

impl SessionOptions {
    /// Which actions.
    #[must_use]
    pub fn with_challenge(mut self, challenge: ChallengeSpec) -> Self {
        self.challenge = challenge;
        self
    }

    /// Frames averaged into the live template (1 = best frame only).
    #[must_use]
    pub fn with_template_frames(mut self, n: usize) -> Self {
        self.template_frames = n;
        self
    }

    /// Time allowed for each action (ms).
    #[must_use]
    pub fn with_action_timeout_ms(mut self, action_timeout_ms: u64) -> Self {
        self.action_timeout_ms = action_timeout_ms;
        self
    }

    /// Time allowed for the whole session (ms).
    #[must_use]
    pub fn with_total_timeout_ms(mut self, total_timeout_ms: u64) -> Self {
        self.total_timeout_ms = total_timeout_ms;
        self
    }

    /// Warm-up before the first prompt (ms).
    #[must_use]
    pub fn with_warmup_ms(mut self, warmup_ms: u64) -> Self {
        self.warmup_ms = warmup_ms;
        self
    }

    /// When prompts come and how answers are timed.
    #[must_use]
    pub fn with_prompt(mut self, prompt: PromptOptions) -> Self {
        self.prompt = prompt;
        self
    }

    /// Offline evaluation of recorded material: fixed prompt delays (see
    /// [`PromptOptions::delays_ms`]).
    #[must_use]
    pub fn with_prompt_delays_ms(mut self, delays: Vec<u64>) -> Self {
        self.prompt.delays_ms = Some(delays);
        self
    }

    /// Offline evaluation only, with fixed prompt delays: held answers'
    /// release cues at fixed times (see
    /// [`PromptOptions::with_release_at_ms`]).
    #[must_use]
    pub fn with_release_at_ms(mut self, at: Vec<u64>) -> Self {
        self.prompt = self.prompt.with_release_at_ms(at);
        self
    }

    /// Which photo the result carries.
    #[must_use]
    pub fn with_photo(mut self, photo: PhotoKind) -> Self {
        self.photo = photo;
        self
    }

    /// Target false-accept rate of the face match.
    #[must_use]
    pub fn with_far(mut self, far: f64) -> Self {
        self.far = far;
        self
    }

    /// FAR of the same-face-throughout check.
    #[must_use]
    pub fn with_continuity_far(mut self, continuity_far: f64) -> Self {
        self.continuity_far = continuity_far;
        self
    }

    /// Embed every n-th face frame for the same-face check.
    #[must_use]
    pub fn with_embed_every(mut self, embed_every: usize) -> Self {
        self.embed_every = embed_every;
        self
    }

    /// Most frames a session takes.
    #[must_use]
    pub fn with_max_frames(mut self, max_frames: usize) -> Self {
        self.max_frames = max_frames;
        self
    }

    /// Highest frame rate accepted.
    #[must_use]
    pub fn with_max_fps(mut self, max_fps: f64) -> Self {
        self.max_fps = max_fps;
        self
    }

    /// Action detector thresholds.
    #[must_use]
    pub fn with_params(mut self, params: ActionParams) -> Self {
        self.params = params;
        self
    }

    /// Run the face detector at least every n-th frame (the schedule's
    /// [`AnalysisSchedule::detect_every`]).
    #[must_use]
    pub fn with_detect_every(mut self, detect_every: usize) -> Self {
        self.schedule.detect_every = detect_every;
        self
    }

    /// The passive presentation-attack gate.
    #[must_use]
    pub fn with_pad(mut self, pad: PadOptions) -> Self {
        self.pad = pad;
        self
    }

    /// The analysis schedule ([`SessionOptions::schedule`]).
    #[must_use]
    pub fn with_schedule(mut self, schedule: AnalysisSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Records the frames for upload ([`SessionOptions::record_evidence`]).
    pub fn with_record_evidence(mut self, record: bool) -> Self {
        self.record_evidence = record;
        self
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        if self.action_timeout_ms == 0 || self.total_timeout_ms == 0 {
            return Err(Error::invalid("timeout", "timeouts must be positive"));
        }
        let unit = |v: f64| v > 0.0 && v < 1.0;
        if !unit(self.far) || !unit(self.continuity_far) {
            return Err(Error::invalid("far", "must be in (0, 1)"));
        }
        if !(1..=64).contains(&self.template_frames) {
            return Err(Error::invalid(
                "template_frames",
                format!("{} is outside 1..=64", self.template_frames),
            ));
        }
        if self.embed_every == 0 || self.max_frames == 0 {
            return Err(Error::invalid(
                "embed_every",
                "embed_every and max_frames must be at least 1",
            ));
        }
        self.pad.validate()?;
        self.schedule.validate()?;
        self.prompt.validate()?;
        self.params.validate()?;
        if !(1.0..=1000.0).contains(&self.max_fps) {
            return Err(Error::invalid(
                "max_fps",
                format!("{} is outside 1..=1000", self.max_fps),
            ));
        }
        Ok(())
    }
}
