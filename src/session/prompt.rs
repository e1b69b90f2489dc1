//! The prompt schedule: every action is the answer to a prompt whose time
//! the person in front of the camera cannot know in advance.
//!
//! - **Prompt 1** is due a random delay after the face has been in view for
//!   the warm-up; **prompt k** a random delay after answer k-1 was detected.
//!   The delays are drawn from the challenge's generator (seeded by the
//!   certifyId and its nonce), so a server that holds the nonce recomputes
//!   the same schedule from the uploaded frames' timestamps.
//! - At its due time the face must be **at rest** for the action
//!   ([`crate::liveness::answer::rest_problem`]: the person's own rest, with
//!   the micro-motion of someone waiting). If it is not, the prompt is
//!   **postponed** ("Hold still"): it waits until the face is at rest again,
//!   then comes a new random delay later
//!   ([`PromptOptions::postpone_delay_min_ms`] to
//!   [`PromptOptions::postpone_delay_max_ms`]), when rest is checked again.
//!   At most [`PromptOptions::max_postpones`] postponements in a session;
//!   the next one fails the session (NOT_AT_REST).
//! - An answer counts only when its **onset** lies in the reaction window,
//!   [`PromptOptions::reaction_min_ms`] to [`PromptOptions::reaction_max_ms`]
//!   after the prompt, and its shape is a deliberate answer (see
//!   [`crate::liveness::answer`]). Answers that start earlier (already under
//!   way, or quicker than a person reacts) or later are ignored; without an
//!   answer by the window's end plus [`PromptOptions::answer_ms`] the
//!   session fails (ACTION_TIMEOUT).
//!
//! Offline evaluation of recorded material replaces the random delays with
//! [`PromptOptions::delays_ms`]: prompt 1 is due D1 ms after the first
//! frame, prompt k Dk ms after answer k-1. A prompt whose face is not at
//! rest then is postponed exactly as in a live session (its delay after
//! the face settles drawn from a seed of the delays themselves, so a run is
//! repeatable), so the offline figures are what a person in front of a
//! camera gets.
//!
//! A **scheduled** session ([`PromptMode::Scheduled`], the browser's
//! capture) cannot react to what the camera sees: it records, and the
//! server judges afterwards. Its prompts come at offsets from the
//! recording's first frame fixed in advance from the nonce
//! ([`Schedule::of`]), spaced so that each answer window closes and the
//! face can rest before the next prompt. The answer rules are the same
//! (rest before the prompt, reaction window, answer shape); a prompt whose
//! face is not at rest fails at once, and a prompt counts from its
//! scheduled time, not from the first face frame after it.

use serde::{Deserialize, Serialize};

use super::result::ReasonCode;
use super::schedule::Phase;
use crate::error::{Error, Result};
use crate::face::features::FrameFeatures;
use crate::liveness::actions::{Action, ActionEvent, ActionParams, History};
use crate::liveness::answer::{rest_problem, AnswerDetector, Baseline};
use crate::liveness::release::{Cue, ReleaseOptions};
use crate::rng::SplitMix;

/// Timing of prompts and answers (`SessionOptions::prompt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromptOptions {
    /// Shortest random delay before a prompt (ms).
    pub delay_min_ms: u64,
    /// Longest random delay before a prompt (ms).
    pub delay_max_ms: u64,
    /// How long the face must have been at rest before a prompt (ms).
    pub rest_ms: u64,
    /// An answer starting sooner than this after its prompt is no answer:
    /// nobody reacts that fast, so it was under way already (ms).
    pub reaction_min_ms: u64,
    /// An answer must start within this long after its prompt (ms).
    pub reaction_max_ms: u64,
    /// Longest time from an answer's onset to its completion (ms): the
    /// session waits `reaction_max_ms + answer_ms` after a prompt.
    pub answer_ms: u64,
    /// Most postponed prompts per session (the face not at rest when one
    /// was due); one more fails the session (NOT_AT_REST).
    pub max_postpones: usize,
    /// A postponed prompt comes at least this long after the face is at
    /// rest again (ms; drawn from the nonce up to `postpone_delay_max_ms`,
    /// so a recording cannot know it from when its face settles).
    pub postpone_delay_min_ms: u64,
    /// See `postpone_delay_min_ms`.
    pub postpone_delay_max_ms: u64,
    /// Offline evaluation only: fixed delays instead of the random ones,
    /// one per action (prompt 1: ms after the first frame; prompt k: ms after
    /// answer k-1). A real session's schedule comes from its nonce; a
    /// server never takes this from a device.
    pub delays_ms: Option<Vec<u64>>,
    /// Whether prompts follow the answers (a device that runs the session
    /// live) or come on a schedule fixed from the nonce (a recording judged
    /// afterwards). A server sets this from what it stored at `start`,
    /// never from what a client sends.
    pub mode: PromptMode,
    /// Evaluation only, never deserialised: the first prompt due this long
    /// after the first frame and the later ones drawn from the nonce (the
    /// best-timed attacker of `eval challenge`, who starts a video so that
    /// its first action answers the first prompt).
    #[serde(skip)]
    pub(crate) first_due_ms: Option<u64>,
    /// Hold the answers of [`ReleaseOptions::actions`] until a release cue
    /// drawn from the nonce, and let go after it (see
    /// [`crate::liveness::release`]; the default: blink, mouth and turns);
    /// `None`: every answer completes by its own shape. A scheduled
    /// session (a recording client cannot time a cue) never holds.
    pub release: Option<ReleaseOptions>,
    /// Offline evaluation of recorded material only, with `delays_ms`: the
    /// release cue of answer k at `release_at_ms[k]` ms after the first
    /// frame (placed a reaction time before the recorded person let go)
    /// instead of a drawn hold. A server never takes it from a device.
    pub release_at_ms: Option<Vec<u64>>,
}

/// How a session's prompts are timed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptMode {
    /// Prompt k a random delay after answer k-1 was detected (the device
    /// runs the session as it captures).
    #[default]
    Device,
    /// Prompt k at a fixed offset from the first frame ([`Schedule::of`]):
    /// a recording made without the session (the browser's capture).
    Scheduled,
}

/// One prompt of a [`Schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledPrompt {
    /// The action asked for.
    pub action: Action,
    /// When the prompt is shown, ms after the recording's first frame.
    pub at_ms: u64,
}

/// The prompts of a scheduled session, fixed in advance from the nonce: what
/// a recording client shows and when, and the rules its answers are judged
/// by. The judge recomputes it from the nonce; it never takes one from a
/// client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// The prompts, in order.
    pub prompts: Vec<ScheduledPrompt>,
    /// The face must be at rest this long before each prompt (ms).
    pub rest_ms: u64,
    /// An answer starts at least this long after its prompt (ms).
    pub reaction_min_ms: u64,
    /// An answer starts at most this long after its prompt (ms).
    pub reaction_max_ms: u64,
    /// Longest time from an answer's onset to its completion (ms).
    pub answer_ms: u64,
    /// The recording may stop here: the last answer window has closed (ms
    /// after the first frame).
    pub end_ms: u64,
}

/// Time added after the last answer window before a scheduled recording
/// stops (ms): the passive evidence of the last frames.
pub const SCHEDULE_TAIL_MS: u64 = 500;

impl Schedule {
    /// The schedule of `actions` for the challenge seed
    /// ([`super::challenge::seed`] of the certifyId and its nonce): prompt 1
    /// at `warmup_ms` plus a random delay, prompt k after prompt k-1's
    /// whole answer window, the rest time and a new random delay.
    pub fn of(
        challenge_seed: u64,
        actions: &[Action],
        options: &PromptOptions,
        warmup_ms: u64,
    ) -> Self {
        let delays = random_delays(challenge_seed, options, actions.len());
        let window = options.reaction_max_ms + options.answer_ms;
        let mut at = warmup_ms;
        let mut prompts = Vec::with_capacity(actions.len());
        for (i, (&action, d)) in actions.iter().zip(delays).enumerate() {
            if i > 0 {
                at += window + options.rest_ms;
            }
            at += d;
            prompts.push(ScheduledPrompt { action, at_ms: at });
        }
        Self {
            prompts,
            rest_ms: options.rest_ms,
            reaction_min_ms: options.reaction_min_ms,
            reaction_max_ms: options.reaction_max_ms,
            answer_ms: options.answer_ms,
            end_ms: at + window + SCHEDULE_TAIL_MS,
        }
    }

    /// The prompt offsets (ms after the first frame).
    pub fn offsets(&self) -> Vec<u64> {
        self.prompts.iter().map(|p| p.at_ms).collect()
    }
}

impl Default for PromptOptions {
    fn default() -> Self {
        Self {
            delay_min_ms: 500,
            delay_max_ms: 2500,
            rest_ms: 400,
            reaction_min_ms: 150,
            reaction_max_ms: 1400,
            answer_ms: 2000,
            max_postpones: 3,
            postpone_delay_min_ms: 0,
            postpone_delay_max_ms: 300,
            delays_ms: None,
            mode: PromptMode::Device,
            first_due_ms: None,
            release: Some(ReleaseOptions::default()),
            release_at_ms: None,
        }
    }
}

/// Longest delay or window accepted (ms).
const MAX_MS: u64 = 60_000;

/// Latest fixed release cue accepted (ms after the first frame).
const MAX_OFFSET_MS: u64 = 3_600_000;

/// A held answer's deadline waits this long past its release window for the
/// frame that shows the return (ms).
const MAX_FRAME_GAP_MS: u64 = 250;

impl PromptOptions {
    /// Evaluation only: the first prompt due `ms` after the first frame,
    /// the later ones drawn from the nonce (see `first_due_ms`).
    #[cfg(feature = "eval")]
    pub(crate) fn with_first_due_ms(mut self, ms: u64) -> Self {
        self.first_due_ms = Some(ms);
        self
    }

    /// Offline evaluation only: [`PromptOptions::release_at_ms`].
    pub fn with_release_at_ms(mut self, at: Vec<u64>) -> Self {
        self.release_at_ms = Some(at);
        self
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.delay_min_ms > self.delay_max_ms || self.delay_max_ms > MAX_MS {
            return Err(Error::invalid(
                "prompt.delay_ms",
                format!(
                    "delays {}..{} ms: need min <= max <= {MAX_MS}",
                    self.delay_min_ms, self.delay_max_ms
                ),
            ));
        }
        if self.postpone_delay_min_ms > self.postpone_delay_max_ms
            || self.postpone_delay_max_ms > MAX_MS
        {
            return Err(Error::invalid(
                "prompt.postpone_delay_ms",
                format!(
                    "postpone delays {}..{} ms: need min <= max <= {MAX_MS}",
                    self.postpone_delay_min_ms, self.postpone_delay_max_ms
                ),
            ));
        }
        if !(100..=10_000).contains(&self.rest_ms) {
            return Err(Error::invalid(
                "prompt.rest_ms",
                format!("{} is outside 100..=10000", self.rest_ms),
            ));
        }
        if self.reaction_min_ms < 100 {
            return Err(Error::invalid(
                "prompt.reaction_min_ms",
                format!(
                    "{} ms is quicker than a person reacts (at least 100)",
                    self.reaction_min_ms
                ),
            ));
        }
        if self.reaction_max_ms <= self.reaction_min_ms || self.reaction_max_ms > MAX_MS {
            return Err(Error::invalid(
                "prompt.reaction_max_ms",
                format!(
                    "the reaction window ends at {} ms, not after its start at {} ms",
                    self.reaction_max_ms, self.reaction_min_ms
                ),
            ));
        }
        if !(100..=MAX_MS).contains(&self.answer_ms) {
            return Err(Error::invalid(
                "prompt.answer_ms",
                format!("{} is outside 100..={MAX_MS}", self.answer_ms),
            ));
        }
        if let Some(r) = &self.release {
            r.validate(self.reaction_min_ms)?;
        }
        if self
            .release_at_ms
            .as_ref()
            .is_some_and(|r| r.is_empty() || r.iter().any(|&x| x > MAX_OFFSET_MS))
        {
            return Err(Error::invalid(
                "prompt.release_at_ms",
                format!("one release cue per action, each 0..={MAX_OFFSET_MS} ms"),
            ));
        }
        if let Some(d) = &self.delays_ms {
            if d.is_empty() || d.iter().any(|&x| x > MAX_MS) {
                return Err(Error::invalid(
                    "prompt.delays_ms",
                    format!("one delay per action, each 0..={MAX_MS} ms"),
                ));
            }
        }
        Ok(())
    }

    #[cfg(test)]
    fn with_prompt_delays_for_test(mut self, d: Vec<u64>) -> Self {
        self.delays_ms = Some(d);
        self
    }

    /// Checks the fixed delays (and fixed release cues) against the
    /// challenge's actions.
    pub fn check_actions(&self, actions: usize) -> Result<()> {
        match (&self.delays_ms, &self.release_at_ms) {
            (Some(d), _) if d.len() != actions => Err(Error::invalid(
                "prompt.delays_ms",
                format!("{} delays for {actions} actions", d.len()),
            )),
            (None, Some(_)) => Err(Error::invalid(
                "release_at_ms",
                "fixed release cues need fixed prompt delays (offline evaluation)",
            )),
            (_, Some(r)) if r.len() != actions => Err(Error::invalid(
                "release_at_ms",
                format!("{} release cues for {actions} actions", r.len()),
            )),
            _ => Ok(()),
        }
    }
}

/// The delays of a schedule.
#[derive(Debug, Clone)]
enum Delays {
    /// The delays and release holds, drawn in prompt order.
    Random(SplitMix),
    /// Fixed delays, and the draws of release holds.
    Fixed(Vec<u64>, SplitMix),
    /// Offsets from the first frame (a scheduled session), and that frame's time.
    Offsets(Vec<u64>, u64),
}

/// Seed of the prompt delays from the challenge seed: a stream of its own,
/// so the actions and the delays do not share draws.
fn delay_seed(challenge_seed: u64) -> u64 {
    challenge_seed ^ 0x7072_6f6d_7074_7321
}

/// Seed of the postponement and hold draws of fixed delays: from the delays
/// themselves, so that `verify --prompt-delays-ms`, an evaluation and a
/// session given the same delays postpone and hold alike, whatever their
/// certifyId.
fn fixed_seed(delays: &[u64]) -> u64 {
    delays.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &d| {
        (h ^ d).wrapping_mul(0x100_0000_01b3)
    })
}

/// The draws of prompt `k`'s `j`-th postponement: a stream of its own per
/// prompt and postponement, so that the delays and holds (drawn in prompt
/// order from the schedule's stream) never depend on how often an observer
/// of the frames postponed. A browser page's session and the server judging
/// its recording look at slightly different frames and may postpone a
/// prompt a different number of times; they still draw the same delays and
/// holds.
fn postponement_draws(seed: u64, k: usize, j: usize) -> SplitMix {
    // "postpone": a stream apart from the delays' seed it is mixed with
    SplitMix::new(
        seed ^ 0x706f_7374_706f_6e65
            ^ (k as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (j as u64 + 1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f),
    )
}

/// The first `n` random delays of a schedule seeded by `challenge_seed`
/// ([`super::challenge::seed`] of the certifyId and its nonce), in the
/// order a session draws them: prompt 1's after the warm-up, then one after
/// each answer (postponements draw from streams of their own).
pub fn random_delays(challenge_seed: u64, options: &PromptOptions, n: usize) -> Vec<u64> {
    let mut rng = SplitMix::new(delay_seed(challenge_seed));
    (0..n).map(|_| draw_delay(&mut rng, options)).collect()
}

fn draw_delay(rng: &mut SplitMix, o: &PromptOptions) -> u64 {
    draw_between(rng, o.delay_min_ms, o.delay_max_ms)
}

fn draw_between(rng: &mut SplitMix, lo: u64, hi: u64) -> u64 {
    let span = hi.saturating_sub(lo) + 1;
    lo + rng.next_u64() % span
}

/// Where the challenge is.
#[derive(Debug, Clone)]
enum Stage {
    /// Random schedule: waiting for the face to be in view for the warm-up.
    Warmup { since: Option<u64> },
    /// "Hold still": the current prompt is due at `due_ms`.
    Due { due_ms: u64 },
    /// "Hold still": the prompt was due but the face was not at rest;
    /// waiting for it to settle.
    Settling,
    /// The prompt was shown at `at_ms`; waiting for its answer.
    Prompted {
        at_ms: u64,
        detector: Box<AnswerDetector>,
    },
    /// Every action answered.
    Done,
}

/// What one frame did to the challenge.
#[derive(Debug, Clone)]
pub(crate) enum PromptStep {
    /// Nothing new.
    Nothing,
    /// The current prompt is shown from this frame.
    Shown,
    /// The current action was answered.
    Answered(Answered),
    /// The challenge failed.
    Failed(ReasonCode, String),
}

/// An answered prompt (times on the session's clock).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answered {
    pub prompt_ms: u64,
    pub event: ActionEvent,
    /// The release cue of a held answer.
    pub cue_ms: Option<u64>,
}

/// The prompt schedule and the answers of one session.
#[derive(Debug, Clone)]
pub(crate) struct Prompter {
    options: PromptOptions,
    params: ActionParams,
    warmup_ms: u64,
    actions: Vec<Action>,
    index: usize,
    delays: Delays,
    stage: Stage,
    /// When the current action's prompt was first due (action timeout).
    due_since_ms: Option<u64>,
    postponed: usize,
    /// Why the last answer-like movement was not taken (for the timeout message).
    ignored: Option<String>,
    /// The session's first frame.
    first_ms: u64,
    /// Seed of the postponements' draws.
    draw_seed: u64,
}

impl Prompter {
    /// A schedule for `actions`, seeded by the challenge seed.
    pub fn new(
        options: PromptOptions,
        params: ActionParams,
        warmup_ms: u64,
        actions: Vec<Action>,
        seed: u64,
    ) -> Self {
        let draw_seed = match &options.delays_ms {
            Some(d) => fixed_seed(d),
            None => delay_seed(seed),
        };
        let (delays, stage) = match &options.delays_ms {
            Some(d) => (
                Delays::Fixed(d.clone(), SplitMix::new(fixed_seed(d))),
                Stage::Due { due_ms: u64::MAX },
            ),
            None if options.mode == PromptMode::Scheduled => (
                Delays::Offsets(
                    Schedule::of(seed, &actions, &options, warmup_ms).offsets(),
                    0,
                ),
                Stage::Due { due_ms: u64::MAX },
            ),
            None => (
                Delays::Random(SplitMix::new(delay_seed(seed))),
                Stage::Warmup { since: None },
            ),
        };
        Self {
            options,
            params,
            warmup_ms,
            actions,
            index: 0,
            delays,
            stage,
            due_since_ms: None,
            postponed: 0,
            ignored: None,
            first_ms: 0,
            draw_seed,
        }
    }

    /// The next delay: drawn, or the fixed one of the current action.
    fn delay(&mut self) -> u64 {
        match &mut self.delays {
            Delays::Random(rng) => draw_delay(rng, &self.options),
            Delays::Fixed(d, _) => d.get(self.index).copied().unwrap_or(0),
            // not a delay: the next prompt's due time is absolute
            Delays::Offsets(..) => 0,
        }
    }

    /// When the current action's prompt is due: `after_ms` plus the next
    /// delay, or its scheduled offset from the first frame.
    fn next_due(&mut self, after_ms: u64) -> u64 {
        match &self.delays {
            Delays::Offsets(o, first) => {
                first.saturating_add(o.get(self.index).copied().unwrap_or(0))
            }
            _ => after_ms.saturating_add(self.delay()),
        }
    }

    /// Whether the schedule is fixed in advance (not only its delays): a
    /// scheduled recording's prompts were shown whatever the face did, so
    /// one not at rest fails at once.
    fn scheduled(&self) -> bool {
        matches!(self.delays, Delays::Offsets(..))
    }

    /// The hold of an answer before its release cue, drawn from the nonce.
    fn draw_hold(&mut self, r: &ReleaseOptions) -> u64 {
        match &mut self.delays {
            Delays::Random(rng) | Delays::Fixed(_, rng) => {
                draw_between(rng, r.hold_min_ms, r.hold_max_ms)
            }
            Delays::Offsets(..) => r.hold_min_ms,
        }
    }

    /// The delay of a postponed prompt after the face settled.
    fn postpone_delay(&self) -> u64 {
        let (lo, hi) = (
            self.options.postpone_delay_min_ms,
            self.options.postpone_delay_max_ms,
        );
        match &self.delays {
            Delays::Random(_) | Delays::Fixed(..) => draw_between(
                &mut postponement_draws(self.draw_seed, self.index, self.postponed),
                lo,
                hi,
            ),
            Delays::Offsets(..) => 0,
        }
    }

    /// The session's first frame (at `t_ms`): a fixed or scheduled
    /// schedule starts here.
    pub fn start(&mut self, t_ms: u64) {
        self.first_ms = t_ms;
        if let Delays::Offsets(_, first) = &mut self.delays {
            *first = t_ms;
        }
        if let (Some(d), Delays::Random(_)) = (self.options.first_due_ms, &self.delays) {
            self.stage = Stage::Due {
                due_ms: t_ms.saturating_add(d),
            };
            return;
        }
        if !matches!(self.delays, Delays::Random(_)) {
            let due_ms = self.next_due(t_ms);
            if self.scheduled() {
                self.due_since_ms = Some(due_ms);
            }
            self.stage = Stage::Due { due_ms };
        }
    }

    /// The action prompted now, and since when.
    pub fn prompted(&self) -> Option<(Action, u64)> {
        match &self.stage {
            Stage::Prompted { at_ms, detector } => Some((detector.action(), *at_ms)),
            _ => None,
        }
    }

    /// Whether every action was answered.
    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// Whether the challenge is past its warm-up (a prompt is due or shown).
    pub fn started(&self) -> bool {
        !matches!(self.stage, Stage::Warmup { .. })
    }

    /// When the current action's prompt was first due.
    pub fn due_since(&self) -> Option<u64> {
        self.due_since_ms
    }

    /// The current action.
    pub fn current(&self) -> Option<Action> {
        self.actions.get(self.index).copied()
    }

    /// The reaction window of the shown prompt (absolute ms).
    pub fn window(&self) -> Option<(u64, u64)> {
        self.prompted().map(|(_, at)| {
            (
                at + self.options.reaction_min_ms,
                at + self.options.reaction_max_ms,
            )
        })
    }

    fn schedule_next(&mut self, t_ms: u64) {
        self.index += 1;
        self.due_since_ms = None;
        self.stage = if self.index >= self.actions.len() {
            Stage::Done
        } else {
            let due_ms = self.next_due(t_ms);
            self.due_since_ms = Some(due_ms);
            Stage::Due { due_ms }
        };
    }

    /// The deadline of the shown prompt (a held answer's ends when its
    /// release window closes).
    fn deadline(&self, at_ms: u64, detector: &AnswerDetector) -> u64 {
        let plain = at_ms
            .saturating_add(self.options.reaction_max_ms)
            .saturating_add(self.options.answer_ms);
        match (detector.holding(), &self.options.release) {
            (Some((_, cue)), Some(r)) => plain.max(
                cue.saturating_add(r.window_ms)
                    .saturating_add(MAX_FRAME_GAP_MS),
            ),
            _ => plain,
        }
    }

    /// The answer held now: since when, and when its release cue comes
    /// (absolute ms).
    pub fn holding(&self) -> Option<(u64, u64)> {
        match &self.stage {
            Stage::Prompted { detector, .. } => detector.holding(),
            _ => None,
        }
    }

    fn timed_out(&mut self, t_ms: u64) -> Option<PromptStep> {
        let Stage::Prompted { at_ms, detector } = &self.stage else {
            return None;
        };
        if t_ms <= self.deadline(*at_ms, detector) {
            return None;
        }
        let why = self
            .ignored
            .take()
            .or_else(|| detector.note().map(str::to_string))
            .map(|w| format!("; {w}"))
            .unwrap_or_default();
        Some(PromptStep::Failed(
            ReasonCode::ActionTimeout,
            format!(
                "no answer to `{}` starting {}-{} ms after its prompt{why}",
                detector.action().name(),
                self.options.reaction_min_ms,
                self.options.reaction_max_ms
            ),
        ))
    }

    /// Holds an answer against the reaction window.
    fn judge(&mut self, at_ms: u64, ev: ActionEvent, cue_ms: Option<u64>) -> PromptStep {
        let after = ev.onset_ms.saturating_sub(at_ms);
        if ev.onset_ms < at_ms + self.options.reaction_min_ms {
            self.ignored = Some(format!(
                "a `{}` started {} ms {} the prompt, sooner than a person reacts",
                ev.action.name(),
                if ev.onset_ms < at_ms {
                    at_ms - ev.onset_ms
                } else {
                    after
                },
                if ev.onset_ms < at_ms {
                    "before"
                } else {
                    "after"
                }
            ));
            return PromptStep::Nothing;
        }
        if after > self.options.reaction_max_ms {
            self.ignored = Some(format!(
                "a `{}` started {after} ms after the prompt, after the window",
                ev.action.name()
            ));
            return PromptStep::Nothing;
        }
        self.ignored = None;
        self.schedule_next(ev.end_ms);
        PromptStep::Answered(Answered {
            prompt_ms: at_ms,
            event: ev,
            cue_ms,
        })
    }

    /// The session's phase at a frame taken at `t_ms` (before the frame
    /// is applied): what the analysis schedule runs depends on it.
    pub fn phase(&self, t_ms: u64) -> Phase {
        match &self.stage {
            Stage::Warmup { .. } => Phase::Warmup,
            Stage::Due { due_ms } => {
                // the rest window before the prompt (and a margin for the
                // frame gap) is analysed in full
                let rest_from = due_ms
                    .saturating_sub(self.options.rest_ms)
                    .saturating_sub(MAX_FRAME_GAP_MS);
                if t_ms >= rest_from {
                    Phase::Rest
                } else {
                    Phase::Between
                }
            }
            Stage::Settling => Phase::Rest,
            Stage::Prompted { detector, .. } => match detector.holding() {
                Some(_) => Phase::Hold,
                None => Phase::Answer,
            },
            Stage::Done => Phase::Done,
        }
    }

    /// A frame with one face (already in `history`).
    pub fn face(&mut self, t_ms: u64, f: &FrameFeatures, history: &History) -> PromptStep {
        if let Some(step) = self.timed_out(t_ms) {
            return step;
        }
        match &mut self.stage {
            Stage::Warmup { since } => {
                let s = *since.get_or_insert(t_ms);
                if t_ms - s >= self.warmup_ms {
                    let due_ms = self.next_due(t_ms);
                    self.due_since_ms = Some(due_ms);
                    self.stage = Stage::Due { due_ms };
                }
                PromptStep::Nothing
            }
            Stage::Due { due_ms } => {
                let due = *due_ms;
                self.due_since_ms.get_or_insert(due);
                if t_ms < due {
                    return PromptStep::Nothing;
                }
                self.show(t_ms, due, history)
            }
            Stage::Settling => {
                let Some(action) = self.current() else {
                    return PromptStep::Nothing;
                };
                if rest_problem(action, &self.params, history, t_ms, self.options.rest_ms).is_some()
                {
                    return PromptStep::Nothing;
                }
                let due_ms = t_ms.saturating_add(self.postpone_delay());
                self.stage = Stage::Due { due_ms };
                if due_ms > t_ms {
                    return PromptStep::Nothing;
                }
                self.show(t_ms, due_ms, history)
            }
            Stage::Prompted { at_ms, detector } => {
                let at = *at_ms;
                match detector.update(t_ms, f) {
                    Some(ev) => {
                        let cue = detector.last_cue();
                        self.judge(at, ev, cue)
                    }
                    None => PromptStep::Nothing,
                }
            }
            Stage::Done => PromptStep::Nothing,
        }
    }

    /// The prompt is due at a face frame: shown when the face is at rest,
    /// else postponed until it settles (or failed: too many postponements,
    /// or a scheduled recording). A scheduled prompt was shown at its due
    /// time, whatever frame comes first after it.
    fn show(&mut self, t_ms: u64, due_ms: u64, history: &History) -> PromptStep {
        let Some(action) = self.current() else {
            return PromptStep::Nothing;
        };
        let rest_from = t_ms.saturating_sub(self.options.rest_ms);
        let problem = rest_problem(action, &self.params, history, t_ms, self.options.rest_ms);
        let base = Baseline::at(history, rest_from);
        match (problem, base) {
            (None, Some(base)) => {
                let scheduled = self.scheduled();
                let mut detector = AnswerDetector::new(action, self.params, base);
                if let Some(r) = self.options.release.clone().filter(|r| r.applies(action)) {
                    if !scheduled {
                        let cue = match self.options.release_at_ms.as_ref() {
                            Some(at) => Cue::At(
                                self.first_ms
                                    .saturating_add(at.get(self.index).copied().unwrap_or(0)),
                            ),
                            None => Cue::After(self.draw_hold(&r)),
                        };
                        detector =
                            detector.with_release(cue, self.options.reaction_min_ms, r.window_ms);
                    }
                }
                self.stage = Stage::Prompted {
                    at_ms: if scheduled { due_ms } else { t_ms },
                    detector: Box::new(detector),
                };
                PromptStep::Shown
            }
            (problem, _) => {
                let why = problem.unwrap_or_else(|| "no baseline before the prompt".into());
                if self.scheduled() || self.postponed >= self.options.max_postpones {
                    return PromptStep::Failed(
                        ReasonCode::NotAtRest,
                        format!("`{}` prompt: {why}", action.name()),
                    );
                }
                self.postponed += 1;
                self.stage = Stage::Settling;
                PromptStep::Nothing
            }
        }
    }

    /// A frame without a usable face.
    pub fn no_face(&mut self, t_ms: u64) -> PromptStep {
        if let Some(step) = self.timed_out(t_ms) {
            return step;
        }
        match &mut self.stage {
            Stage::Warmup { since } => {
                *since = None;
                PromptStep::Nothing
            }
            Stage::Prompted { at_ms, detector } => {
                let at = *at_ms;
                match detector.face_lost(t_ms) {
                    Some(ev) => {
                        let cue = detector.last_cue();
                        self.judge(at, ev, cue)
                    }
                    None => PromptStep::Nothing,
                }
            }
            Stage::Due { .. } | Stage::Settling | Stage::Done => PromptStep::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_timings_are_refused() {
        assert!(PromptOptions::default().validate().is_ok());
        let short = PromptOptions {
            reaction_max_ms: 150,
            ..PromptOptions::default()
        };
        assert_eq!(
            short.validate().unwrap_err().code(),
            crate::ErrorCode::InvalidArgument
        );
        let quick = PromptOptions {
            reaction_min_ms: 20,
            ..PromptOptions::default()
        };
        assert!(quick.validate().is_err());
        let inverted = PromptOptions {
            delay_min_ms: 3000,
            delay_max_ms: 1000,
            ..PromptOptions::default()
        };
        assert!(inverted.validate().is_err());
        let fixed = PromptOptions {
            delays_ms: Some(vec![500, 800]),
            ..PromptOptions::default()
        };
        assert!(fixed.validate().is_ok());
        assert!(fixed.check_actions(1).is_err());
        assert!(fixed.check_actions(2).is_ok());
        // negative delays do not parse
        assert!(serde_json::from_str::<PromptOptions>(r#"{"delays_ms": [-5]}"#).is_err());
    }

    fn face(yaw: f32) -> FrameFeatures {
        FrameFeatures {
            ear: 0.3,
            mar: 0.05,
            yaw,
            face_width: 200.0,
            nose_offset: yaw / 40.0,
            face_aspect: 1.0,
            sharpness: 5.0,
            ..FrameFeatures::default()
        }
    }

    /// Feeds 30 fps frames of a head turning (yaw up 60 deg/s) until
    /// `moving_until`, then still; returns when the prompt was shown.
    fn shown_at(mut p: Prompter, moving_until: u64) -> Option<u64> {
        let mut h = History::default();
        p.start(0);
        let mut t = 0;
        while t < 8000 {
            let yaw = 0.06 * t.min(moving_until) as f32;
            let f = face(yaw);
            h.push(t, f);
            match p.face(t, &f, &h) {
                PromptStep::Shown => return p.prompted().map(|(_, at)| at),
                PromptStep::Failed(..) => return None,
                _ => {}
            }
            t += 33;
        }
        None
    }

    #[test]
    fn a_prompt_due_while_the_head_moves_comes_once_it_is_still() {
        let o = PromptOptions::default();
        let p = ActionParams::default();
        let latest = |still: u64| still + o.rest_ms + o.postpone_delay_max_ms + 100;
        // fixed delays (verify, the evaluation): due at 1 s, moving to 2 s
        let fixed = o.clone().with_prompt_delays_for_test(vec![1000]);
        let at = shown_at(
            Prompter::new(fixed, p, 500, vec![Action::TurnLeft], 7),
            2000,
        )
        .expect("shown");
        assert!(at >= 2000 && at <= latest(2000), "shown at {at}");
        // the same delays postpone alike whatever the seed
        let again = o.clone().with_prompt_delays_for_test(vec![1000]);
        assert_eq!(
            shown_at(
                Prompter::new(again, p, 500, vec![Action::TurnLeft], 99),
                2000
            ),
            Some(at)
        );
        // a live session's random schedule: due within 3 s, moving to 3.5 s
        for seed in 0..20 {
            let at = shown_at(
                Prompter::new(o.clone(), p, 500, vec![Action::TurnLeft], seed),
                3500,
            )
            .expect("shown");
            assert!(
                at >= 3500 && at <= latest(3500),
                "seed {seed}: shown at {at}"
            );
        }
        // a face still from the start is prompted when due
        let still = o.clone().with_prompt_delays_for_test(vec![1000]);
        let at = shown_at(Prompter::new(still, p, 500, vec![Action::TurnLeft], 7), 0);
        assert!(at.is_some_and(|t| (1000..1040).contains(&t)), "{at:?}");
        // a scheduled recording cannot postpone: a moving face fails
        let sched = PromptOptions {
            mode: PromptMode::Scheduled,
            ..o
        };
        assert_eq!(
            shown_at(
                Prompter::new(sched, p, 500, vec![Action::TurnLeft], 7),
                8000
            ),
            None
        );
    }

    #[test]
    fn random_delays_come_from_the_seed_and_stay_in_range() {
        let o = PromptOptions::default();
        let p = ActionParams::default();
        let draw = |seed| {
            let mut s = Prompter::new(o.clone(), p, 500, vec![Action::Blink; 3], seed);
            (0..3).map(|_| s.delay()).collect::<Vec<u64>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_eq!(draw(7), random_delays(7, &o, 3));
        assert_ne!(draw(7), draw(8));
        for seed in 0..200 {
            assert!(draw(seed)
                .iter()
                .all(|d| (o.delay_min_ms..=o.delay_max_ms).contains(d)));
        }
    }
}
