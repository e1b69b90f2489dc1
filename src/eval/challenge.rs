//! The prompted evaluation (`realface eval challenge`): each video is
//! observed once ([`ObservationLog`]), then the whole session is replayed
//! for many prompt schedules.
//!
//! - **Genuine**: each labelled event of an action with room for a prompt
//!   and a quiet moment before it is answered by placing the prompt a
//!   reaction time before the event's labelled start
//!   ([`placements`], fixed delays, `verify --prompt-delays-ms` semantics).
//! - **Attacks**: every other sequence — each genuine clip replayed as a
//!   pre-recorded video of its person, the real screen replays and print
//!   captures, synthetic animations, photo attacks — under random schedules
//!   drawn from seeded nonces, exactly as a live session draws them.
//!
//! The thresholds and timings are fitted leave-one-person-out
//! ([`super::challenge_fit`]); every held-out figure comes from a fold that
//! never saw the person.

use std::sync::Arc;

use serde::Serialize;

use super::clips::{event_matches, TimedEvent};
use crate::engine::FaceEngine;
use crate::error::Result;
use crate::liveness::actions::{Action, ActionParams};
use crate::liveness::pad::model::PadChoice;
use crate::liveness::pad::{median, PadOptions};
use crate::matching::embed::Embedding;
use crate::rng::SplitMix;
use crate::session::challenge::ChallengeSpec;
use crate::session::prompt::PromptOptions;
use crate::session::replay::{FrameObs, ObservationLog};
use crate::session::result::{AuthState, ReasonCode};
use crate::session::schedule::AnalysisSchedule;
use crate::session::{Reference, SessionOptions};
use crate::source::TimedFrame;

/// Reaction times at which genuine prompts are placed before each event
/// (ms): the 500-1,000 ms, and 1,200 ms for people who read the
/// prompt slowly (a commercial SDK's screen recording shows 0.7-1.2 s).
pub const REACTION_TIMES_MS: [u64; 4] = [500, 800, 1000, 1200];

/// The longest reaction time the headline genuine figures count (ms);
/// slower placements are reported apart.
pub const HEADLINE_REACTION_MS: u64 = 1000;

/// Species of a labelled clip replayed as a video of its person, as
/// recorded (nobody asked to do anything).
pub const PRERECORDED: &str = "pre-recorded";
/// Species of a clip of actions performed on purpose replayed as a video
/// of its person: footage of the victim doing what a challenge asks.
pub const DELIBERATE: &str = "deliberate-recording";

/// A recorded sequence: its observations, its reference and what it is.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Name (clip, file or panel, with its start offset when it has one).
    pub name: String,
    /// `genuine` for the labelled clips, else the attack species.
    pub species: String,
    /// Cross-validation group (the person; the generator for synthetic ones).
    pub group: String,
    /// The reference the claimant gives (embedding).
    pub reference: Embedding,
    /// The observations.
    pub log: ObservationLog,
    /// Labelled events (genuine clips), on the log's clock.
    pub events: Vec<TimedEvent>,
    /// First and last frame times.
    pub first_ms: u64,
    /// See `first_ms`.
    pub end_ms: u64,
}

impl Recorded {
    /// Observes `frames` with `options`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: &Arc<FaceEngine>,
        options: &SessionOptions,
        name: &str,
        species: &str,
        group: &str,
        reference: Embedding,
        frames: &[TimedFrame],
        events: Vec<TimedEvent>,
    ) -> Result<Self> {
        let log = ObservationLog::record(engine, options, frames)?;
        Ok(Self {
            name: name.into(),
            species: species.into(),
            group: group.into(),
            reference,
            first_ms: frames.first().map_or(0, |f| f.t_ms),
            end_ms: frames.last().map_or(0, |f| f.t_ms),
            log,
            events,
        })
    }

    /// The passive model's median P(real) over every scored frame.
    pub fn pad_median(&self, choice: PadChoice) -> Option<f32> {
        self.pad_median_every(choice, 1)
    }

    /// The passive model's median P(real) over every `every`-th scored
    /// frame from the first (a schedule that scores every `every`-th tick).
    pub fn pad_median_every(&self, choice: PadChoice, every: usize) -> Option<f32> {
        let scores: Vec<f32> = self
            .log
            .entries()
            .iter()
            .filter_map(|(_, o)| match o {
                FrameObs::Face(f) => f.pad.map(|s| s.pick(choice)),
                _ => None,
            })
            .step_by(every.max(1))
            .collect();
        median(&scores)
    }

    /// Frames with one face.
    pub fn face_frames(&self) -> usize {
        self.log
            .entries()
            .iter()
            .filter(|(_, o)| matches!(o, FrameObs::Face(_)))
            .count()
    }
}

/// Everything a replay is run with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tuning {
    /// Answer thresholds and shapes.
    pub params: ActionParams,
    /// Prompt timing.
    pub prompt: PromptOptions,
    /// The passive gate of `fr_liveness`.
    pub pad_threshold: f32,
    /// The passive gate of the MiniFASNets.
    pub minifasnet_threshold: f32,
    /// The passive models the gate reads.
    pub pad_model: PadChoice,
    /// Which frames run the detector, the passive models and the embedding
    /// (its detector rate is the recording's: a replay observes as its
    /// recording did).
    pub schedule: AnalysisSchedule,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            params: ActionParams::default(),
            prompt: PromptOptions::default(),
            pad_threshold: PadOptions::default().threshold,
            minifasnet_threshold: PadOptions::default().minifasnet_threshold,
            pad_model: PadOptions::default().model,
            schedule: SessionOptions::default().schedule,
        }
    }
}

/// Where a replay's prompt times come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Fixed delays (offline placement of genuine prompts).
    Fixed(Vec<u64>),
    /// One prompt at a fixed delay and, when answers are held until a
    /// release cue, its cue at a fixed offset from the first frame (a
    /// recorded answer's release placed before its labelled end).
    Placed {
        /// The prompt's delay after the first frame (ms).
        delay_ms: u64,
        /// The release cue's offset from the first frame (ms).
        release_ms: u64,
    },
    /// The `i`-th seeded random nonce: the live session's own draws.
    Nonce(u64),
    /// The best-timed attacker: the first prompt at a fixed delay after the
    /// first frame (the video started so that its first action answers
    /// it), the later ones drawn from the `i`-th nonce.
    Timed(u64, u64),
}

/// The nonce of a seeded random schedule (32 hex digits).
pub fn nonce(name: &str, i: u64) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = SplitMix::new(h ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

/// One replay's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// SUCCESS.
    pub passed: bool,
    /// The first failure reason.
    pub reason: Option<ReasonCode>,
    /// Its detail.
    pub detail: Option<String>,
    /// The challenge's actions.
    pub actions: Vec<Action>,
    /// The first action's reaction: its answer's onset after its prompt (ms).
    pub reaction_ms: Option<u64>,
    /// Actions answered, in order.
    pub answered: usize,
}

/// The session options of a replay.
pub fn options(spec: ChallengeSpec, schedule: &Schedule, tuning: &Tuning) -> SessionOptions {
    let mut prompt = tuning.prompt.clone();
    prompt.delays_ms = match schedule {
        Schedule::Fixed(d) => Some(d.clone()),
        Schedule::Placed { delay_ms, .. } => Some(vec![*delay_ms]),
        Schedule::Nonce(_) | Schedule::Timed(..) => None,
    };
    if let Schedule::Placed { release_ms, .. } = schedule {
        prompt = prompt.with_release_at_ms(vec![*release_ms]);
    }
    if let Schedule::Timed(first, _) = schedule {
        prompt = prompt.with_first_due_ms(*first);
    }
    SessionOptions::default()
        .with_challenge(spec)
        .with_params(tuning.params)
        .with_prompt(prompt)
        .with_pad(PadOptions {
            threshold: tuning.pad_threshold,
            minifasnet_threshold: tuning.minifasnet_threshold,
            model: tuning.pad_model,
            ..PadOptions::default()
        })
        .with_schedule(tuning.schedule.clone())
}

/// Replays one session over a recorded sequence.
pub fn run(
    engine: &Arc<FaceEngine>,
    rec: &Recorded,
    spec: ChallengeSpec,
    schedule: &Schedule,
    tuning: &Tuning,
) -> Run {
    let (id, n) = match schedule {
        Schedule::Fixed(_) | Schedule::Placed { .. } => ("eval-fixed".to_string(), "0".repeat(32)),
        Schedule::Nonce(i) | Schedule::Timed(_, i) => {
            (format!("eval-{}-{i}", rec.name), nonce(&rec.name, *i))
        }
    };
    let o = options(spec, schedule, tuning);
    match rec.log.replay(
        engine,
        &id,
        &n,
        Reference::Embedding(rec.reference.clone()),
        o,
    ) {
        Ok(r) => Run {
            passed: r.auth_state == AuthState::Success,
            reason: r.reasons.first().map(|x| x.code),
            detail: r.reasons.first().map(|x| x.message.clone()),
            actions: r.actions.iter().map(|a| a.action).collect(),
            reaction_ms: r
                .actions
                .first()
                .and_then(|a| Some(a.onset_ms?.saturating_sub(a.prompt_ms?))),
            answered: r.actions.iter().take_while(|a| a.passed).count(),
        },
        Err(e) => Run {
            passed: false,
            reason: Some(ReasonCode::Internal),
            detail: Some(e.to_string()),
            actions: Vec::new(),
            reaction_ms: None,
            answered: 0,
        },
    }
}

/// Labels of the same family as an action: an event of the family just
/// before a placed prompt means the face was not quiet there.
fn family(action: Action) -> &'static [&'static str] {
    match action {
        Action::Blink => &["blink", "eyes_closed", "wink"],
        Action::MouthOpen => &["mouth_open", "talking"],
        Action::TurnLeft | Action::TurnRight | Action::Nod => {
            &["head_turn", "head_pitch_up", "head_pitch_down", "head_tilt"]
        }
    }
}

/// A genuine prompt placed before a labelled event.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    /// Index of the clip in the material.
    pub clip: usize,
    /// Clip name.
    pub clip_name: String,
    /// The action asked for.
    pub action: Action,
    /// The event's label (`blink`, `eyes_closed`, `mouth_open`, ...).
    pub label: String,
    /// Performed on purpose (labelled `deliberate`).
    pub deliberate: bool,
    /// Labelled start (ms, video clock).
    pub event_start_ms: u64,
    /// Labelled end (ms, video clock): back at rest.
    pub event_end_ms: u64,
    /// Reaction time before it (ms).
    pub reaction_ms: u64,
    /// The prompt's delay after the first frame (ms).
    pub delay_ms: u64,
}

/// An event left out of the genuine figures, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    /// Clip name.
    pub clip: String,
    /// Label.
    pub label: String,
    /// Labelled start (ms).
    pub start_ms: u64,
    /// Reaction time tried.
    pub reaction_ms: u64,
    /// Why.
    pub why: &'static str,
}

/// History the session needs before a placed prompt (ms): the rest window
/// plus this.
pub const ROOM_BEFORE_MS: u64 = 200;
/// Room after a labelled event's start for the answer to complete and the
/// passive evidence to gather (ms).
pub const ROOM_AFTER_MS: u64 = 1500;

/// When answers are held until a release cue, a placed prompt's cue comes
/// this long before its event's labelled end (back at rest): the reaction
/// to the cue, as prompts are placed a reaction time before onsets.
pub const RELEASE_REACTION_MS: u64 = 500;

impl Placement {
    /// The schedule that replays this placement under `tuning`: its prompt,
    /// and its release cue when answers are held until one.
    pub fn schedule(&self, clip_first_ms: u64, tuning: &Tuning) -> Schedule {
        if tuning.prompt.release.is_some() {
            Schedule::Placed {
                delay_ms: self.delay_ms,
                release_ms: self
                    .event_end_ms
                    .saturating_sub(RELEASE_REACTION_MS)
                    .saturating_sub(clip_first_ms),
            }
        } else {
            Schedule::Fixed(vec![self.delay_ms])
        }
    }
}

/// Genuine prompt placements: every labelled event of every action (but
/// doubtful ones), at each reaction time, with room for a prompt before it
/// and the person back at rest from any earlier event of its family (by
/// its label) when the prompt comes. Whether the face is at rest then is
/// the session's to judge (it postpones a prompt that is not), as for a
/// person in front of a camera. `session_ms` is a session's longest run: a
/// prompt later than that in a long clip cannot be placed.
pub fn placements(
    clips: &[Recorded],
    reaction_times: &[u64],
    rest_ms: u64,
    session_ms: u64,
) -> (Vec<Placement>, Vec<Excluded>) {
    let mut out = Vec::new();
    let mut excluded = Vec::new();
    for (ci, c) in clips.iter().enumerate() {
        for action in Action::ALL {
            for e in c
                .events
                .iter()
                .filter(|e| event_matches(action, e) && !e.doubtful)
            {
                for &rt in reaction_times {
                    let why = if e.start_ms < c.first_ms + rest_ms + ROOM_BEFORE_MS + rt {
                        Some("no room for a prompt before it")
                    } else if e.start_ms + ROOM_AFTER_MS > c.end_ms {
                        Some("no room after it")
                    } else if e.start_ms + ROOM_AFTER_MS > c.first_ms + session_ms {
                        Some("later than a session lasts")
                    } else {
                        let prompt = e.start_ms - rt;
                        let busy = c.events.iter().any(|o| {
                            o != e
                                && family(action).contains(&o.action.as_str())
                                && o.end_ms > prompt
                                && o.start_ms < e.start_ms
                        });
                        busy.then_some("another event of its family under way at the prompt")
                    };
                    match why {
                        Some(why) => excluded.push(Excluded {
                            clip: c.name.clone(),
                            label: e.action.clone(),
                            start_ms: e.start_ms,
                            reaction_ms: rt,
                            why,
                        }),
                        None => out.push(Placement {
                            clip: ci,
                            clip_name: c.name.clone(),
                            action,
                            label: e.action.clone(),
                            deliberate: e.deliberate,
                            event_start_ms: e.start_ms,
                            event_end_ms: e.end_ms,
                            reaction_ms: rt,
                            delay_ms: e.start_ms - rt - c.first_ms,
                        }),
                    }
                }
            }
        }
    }
    (out, excluded)
}

/// Counts with a 95% upper bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rate {
    /// Passed.
    pub passed: u64,
    /// Runs.
    pub runs: u64,
    /// passed / runs.
    pub rate: f64,
    /// One-sided 95% Clopper-Pearson upper bound.
    pub upper_95: f64,
}

impl Rate {
    /// From counts.
    pub fn new(passed: u64, runs: u64) -> Self {
        Self {
            passed,
            runs,
            rate: if runs == 0 {
                f64::NAN
            } else {
                passed as f64 / runs as f64
            },
            upper_95: super::metrics::upper_bound_95(passed, runs),
        }
    }

    /// From outcomes.
    pub fn of(outcomes: impl IntoIterator<Item = bool>) -> Self {
        let (mut p, mut n) = (0, 0);
        for o in outcomes {
            n += 1;
            p += o as u64;
        }
        Self::new(p, n)
    }
}
