//! The analysis schedule: which of a face frame's costly models run,
//! depending on the session's phase.
//!
//! A session analyses every face frame with the detector, the mesh and the
//! eye-state model (the actions, the rest check and the flat-motion cue
//! read every frame). The passive models and the embedding run on a subset:
//!
//! - the passive models on the **ticks** of [`crate::liveness::pad::PadOptions::interval_ms`]
//!   (a face frame at least that long after the previous tick);
//! - the embedding on every [`super::SessionOptions::embed_every`]-th face
//!   frame (and on the first face frame, and when the face box jumped).
//!
//! A schedule thins both out per [`Phase`]: the passive models on every
//! `pad_every`-th tick, the embedding on every `embed_every`-th of its due
//! frames, with an embedding at least every `max_embed_gap_ms` whatever
//! the phase (the same-face check's minimum rate). Whatever the schedule,
//! every tick is scored until the session has the passive samples its
//! verdict needs ([`crate::liveness::pad::PadOptions::min_samples`]): a
//! short session's median is not left to a few frames. The frames a schedule
//! analyses are always a subset of the frames [`AnalysisSchedule::full`]
//! analyses, so a recording made with `full` replays any schedule exactly
//! ([`super::replay::ObservationLog::replay`]).
//!
//! The schedule also sets the detector's rate, [`AnalysisSchedule::detect_every`]:
//! between detections the face is tracked ([`crate::track::Tracker`]).
//! Tracking changes what the mesh sees, so schedules with different
//! detector rates need recordings of their own (made with that rate, and
//! otherwise `full`): `eval challenge --analysis-schedules` makes one per
//! rate.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where a session is, for the schedule ([`super::VerificationSession::phase`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for the face to be in view for the warm-up.
    Warmup,
    /// Before a prompt is due, outside the rest window.
    Between,
    /// The rest window before a prompt (the prompt is due within
    /// `prompt.rest_ms` and a frame gap, or postponed until the face settles).
    Rest,
    /// A prompt is shown; waiting for its answer.
    Answer,
    /// An answer is held until its release cue.
    Hold,
    /// Every action answered (waiting for the passive evidence).
    Done,
}

impl Phase {
    /// Every phase, in session order.
    pub const ALL: [Phase; 6] = [
        Phase::Warmup,
        Phase::Between,
        Phase::Rest,
        Phase::Answer,
        Phase::Hold,
        Phase::Done,
    ];

    /// The phase's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Between => "between",
            Phase::Rest => "rest",
            Phase::Answer => "answer",
            Phase::Hold => "hold",
            Phase::Done => "done",
        }
    }
}

/// How often a phase runs the costly models (1 = as often as `full`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rates {
    /// The passive models on every n-th tick of `pad.interval_ms`.
    pub pad_every: u32,
    /// The embedding on every n-th of its due frames.
    pub embed_every: u32,
}

impl Default for Rates {
    fn default() -> Self {
        Self::FULL
    }
}

impl Rates {
    /// Every tick, every due frame.
    pub const FULL: Rates = Rates {
        pad_every: 1,
        embed_every: 1,
    };
}

/// Which models run on which frames, per phase (see the module docs).
///
/// ```
/// use realface::session::schedule::{AnalysisSchedule, Phase};
///
/// let full = AnalysisSchedule::full();
/// assert_eq!(full.rates(Phase::Answer).pad_every, 1);
/// let named = AnalysisSchedule::named("default").unwrap();
/// assert!(named.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisSchedule {
    /// The schedule's name (reports).
    pub name: String,
    /// Waiting for the warm-up.
    pub warmup: Rates,
    /// Before a prompt, outside its rest window.
    pub between: Rates,
    /// The rest window before a prompt.
    pub rest: Rates,
    /// Inside an answer window.
    pub answer: Rates,
    /// An answer held until its release cue.
    pub hold: Rates,
    /// After the last answer.
    pub done: Rates,
    /// An embedding at least this often (ms) on a due frame, whatever the
    /// phase: the same-face check's minimum rate.
    pub max_embed_gap_ms: u64,
    /// The face detector on at least every n-th frame, the face tracked by
    /// the mesh in between (1: every frame). Whatever n, a frame whose mesh
    /// drifted from the region it ran in is detected (the face, or a print,
    /// moved), and so is the frame after a detection that found the face
    /// moving ([`crate::track`]); a second face is seen within n frames.
    pub detect_every: usize,
}

impl Default for AnalysisSchedule {
    fn default() -> Self {
        Self::full()
    }
}

/// The names [`AnalysisSchedule::named`] knows.
pub const SCHEDULE_NAMES: [&str; 5] = ["full", "default", "lean", "sparse", "tracked"];

impl AnalysisSchedule {
    /// Every model at its full rate in every phase (the behaviour before
    /// schedules existed; the reference every schedule is compared with).
    pub fn full() -> Self {
        Self {
            name: "full".into(),
            warmup: Rates::FULL,
            between: Rates::FULL,
            rest: Rates::FULL,
            answer: Rates::FULL,
            hold: Rates::FULL,
            done: Rates::FULL,
            max_embed_gap_ms: 0,
            detect_every: 1,
        }
    }

    /// The candidate with the passive models at a third of their rate and
    /// the embedding at a third of its rate outside the answer windows
    /// (every second due frame inside them), an embedding at least every
    /// 700 ms.
    pub fn lean() -> Self {
        let thin = Rates {
            pad_every: 3,
            embed_every: 3,
        };
        Self {
            name: "lean".into(),
            warmup: thin,
            between: thin,
            rest: thin,
            answer: Rates {
                pad_every: 3,
                embed_every: 2,
            },
            hold: thin,
            done: thin,
            max_embed_gap_ms: 700,
            detect_every: 1,
        }
    }

    /// The passive models on every 8th tick in every phase (the same rate
    /// throughout, so that the session's median weighs the phases as
    /// `full`'s does); the embedding on every 5th due frame (at least one a
    /// second) outside the answer windows and every 2nd inside them.
    pub fn sparse() -> Self {
        let thin = Rates {
            pad_every: 8,
            embed_every: 5,
        };
        Self {
            name: "sparse".into(),
            warmup: thin,
            between: thin,
            rest: thin,
            answer: Rates {
                pad_every: 8,
                embed_every: 2,
            },
            hold: thin,
            done: thin,
            max_embed_gap_ms: 1000,
            detect_every: 1,
        }
    }

    /// [`AnalysisSchedule::sparse`] with the detector on every 5th frame
    /// and the face tracked in between.
    pub fn tracked() -> Self {
        Self {
            name: "tracked".into(),
            detect_every: 5,
            ..Self::sparse()
        }
    }

    /// This schedule with the detector on every n-th frame.
    #[must_use]
    pub fn with_detect_every(mut self, detect_every: usize) -> Self {
        self.detect_every = detect_every;
        self
    }

    /// What a recording for this schedule observes with: every model at
    /// `full`'s rates, the detector at this schedule's.
    pub fn recording(&self) -> Self {
        Self::full().with_detect_every(self.detect_every)
    }

    /// A schedule by name: `full`, `lean`, `sparse`, `tracked`, or `default` (the
    /// schedule of [`super::SessionOptions::default`]).
    pub fn named(name: &str) -> Result<Self> {
        match name {
            "full" => Ok(Self::full()),
            "lean" => Ok(Self::lean()),
            "sparse" => Ok(Self::sparse()),
            "tracked" => Ok(Self::tracked()),
            "default" => Ok(super::SessionOptions::default().schedule),
            other => Err(Error::invalid(
                "schedule",
                format!(
                    "unknown schedule `{other}` (known: {})",
                    SCHEDULE_NAMES.join(", ")
                ),
            )),
        }
    }

    /// The rates of a phase.
    pub fn rates(&self, phase: Phase) -> Rates {
        match phase {
            Phase::Warmup => self.warmup,
            Phase::Between => self.between,
            Phase::Rest => self.rest,
            Phase::Answer => self.answer,
            Phase::Hold => self.hold,
            Phase::Done => self.done,
        }
    }

    /// The sparsest passive rate of the phases before the last answer
    /// (what most of a session's passive evidence is scored at).
    pub fn sparsest_pad_every(&self) -> u32 {
        [self.warmup, self.between, self.rest, self.answer, self.hold]
            .iter()
            .map(|r| r.pad_every)
            .max()
            .unwrap_or(1)
    }

    /// Checks the values: every rate and the detector's in 1..=30, the gap
    /// at most 10 s.
    pub fn validate(&self) -> Result<()> {
        if !(1..=30).contains(&self.detect_every) {
            return Err(Error::invalid(
                "schedule.detect_every",
                format!("{} is outside 1..=30", self.detect_every),
            ));
        }
        for phase in Phase::ALL {
            let r = self.rates(phase);
            for (what, v) in [("pad_every", r.pad_every), ("embed_every", r.embed_every)] {
                if !(1..=30).contains(&v) {
                    return Err(Error::invalid(
                        "schedule",
                        format!("{}.{what} = {v} is outside 1..=30", phase.name()),
                    ));
                }
            }
        }
        if self.max_embed_gap_ms > 10_000 {
            return Err(Error::invalid(
                "schedule.max_embed_gap_ms",
                "must be at most 10000",
            ));
        }
        Ok(())
    }
}

/// The schedule's counters between frames: a session keeps one, and
/// `realface bench`'s per-frame pipeline runs the same rule.
#[derive(Debug, Clone, Default)]
pub struct Cadence {
    /// The last tick of the passive models' interval.
    last_tick_ms: Option<u64>,
    /// Ticks so far.
    ticks: u64,
    /// Embedding-due frames so far.
    embed_due: u64,
    /// The last embedding taken.
    last_embed_ms: Option<u64>,
}

/// What the schedule runs on one face frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Due {
    /// The frame is a tick of the passive interval.
    pub tick: bool,
    /// The passive models run.
    pub pad: bool,
    /// The frame is one `full` embeds.
    pub embed_due: bool,
    /// The embedding runs.
    pub embed: bool,
}

impl Cadence {
    /// What runs on a face frame at `t_ms` in `phase`: `pad_short` is
    /// whether the session has fewer passive samples than its verdict needs
    /// (every tick is scored until it has them), `embed_due` whether `full`
    /// embeds the frame (first face, a jump, every `embed_every`-th face
    /// frame), `forced` whether it must embed whatever the schedule (no
    /// anchor yet, a jump).
    #[allow(clippy::too_many_arguments)]
    pub fn due(
        &self,
        schedule: &AnalysisSchedule,
        phase: Phase,
        t_ms: u64,
        interval_ms: u64,
        pad_short: bool,
        embed_due: bool,
        forced: bool,
    ) -> Due {
        let r = schedule.rates(phase);
        let tick = self
            .last_tick_ms
            .is_none_or(|l| t_ms.saturating_sub(l) >= interval_ms);
        let pad = tick && (pad_short || self.ticks.is_multiple_of(u64::from(r.pad_every)));
        let gap = schedule.max_embed_gap_ms > 0
            && self
                .last_embed_ms
                .is_none_or(|l| t_ms.saturating_sub(l) >= schedule.max_embed_gap_ms);
        let embed =
            embed_due && (forced || gap || self.embed_due.is_multiple_of(u64::from(r.embed_every)));
        Due {
            tick,
            pad,
            embed_due,
            embed,
        }
    }

    /// Counts a face frame's [`Due`].
    pub fn advance(&mut self, t_ms: u64, due: Due) {
        if due.tick {
            self.last_tick_ms = Some(t_ms);
            self.ticks += 1;
        }
        if due.embed_due {
            self.embed_due += 1;
        }
        if due.embed {
            self.last_embed_ms = Some(t_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a cadence over 30 fps face frames in one phase.
    fn run(schedule: &AnalysisSchedule, phase: Phase, frames: u64) -> (Vec<u64>, Vec<u64>) {
        let mut c = Cadence::default();
        let (mut pads, mut embeds) = (Vec::new(), Vec::new());
        for i in 0..frames {
            let t = i * 33;
            let due = c.due(
                schedule,
                phase,
                t,
                100,
                false,
                (i + 1) % 5 == 0 || i == 0,
                i == 0,
            );
            if due.pad {
                pads.push(t);
            }
            if due.embed {
                embeds.push(t);
            }
            c.advance(t, due);
        }
        (pads, embeds)
    }

    #[test]
    fn a_schedules_frames_are_a_subset_of_fulls() {
        let (full_pads, full_embeds) = run(&AnalysisSchedule::full(), Phase::Answer, 300);
        assert_eq!(full_pads.len(), 75, "a tick every 4th frame at 33 ms");
        assert_eq!(full_embeds.len(), 61);
        for schedule in [AnalysisSchedule::lean(), AnalysisSchedule::sparse()] {
            for phase in Phase::ALL {
                let what = format!("{} {phase:?}", schedule.name);
                let r = schedule.rates(phase);
                let (pads, embeds) = run(&schedule, phase, 300);
                assert!(pads.iter().all(|t| full_pads.contains(t)), "{what}");
                assert!(embeds.iter().all(|t| full_embeds.contains(t)), "{what}");
                assert_eq!(pads.len(), 75usize.div_ceil(r.pad_every as usize), "{what}");
                assert!(embeds.len() <= 61, "{what}");
                // the same-face check's minimum rate holds
                let gap = schedule.max_embed_gap_ms + 5 * 33;
                assert!(
                    embeds.windows(2).all(|w| w[1] - w[0] <= gap),
                    "{what}: {embeds:?}"
                );
            }
        }
    }

    #[test]
    fn schedules_parse_by_name_and_bad_rates_are_refused() {
        for name in SCHEDULE_NAMES {
            assert!(AnalysisSchedule::named(name).unwrap().validate().is_ok());
        }
        assert!(AnalysisSchedule::named("fast").is_err());
        let mut bad = AnalysisSchedule::full();
        bad.rest.pad_every = 0;
        assert!(bad.validate().is_err());
        let partial: AnalysisSchedule =
            serde_json::from_str(r#"{"name": "x", "rest": {"pad_every": 2}}"#).unwrap();
        assert_eq!(partial.rest.pad_every, 2);
        assert_eq!(partial.rest.embed_every, 1);
        assert_eq!(partial.answer, Rates::FULL);
    }
}
