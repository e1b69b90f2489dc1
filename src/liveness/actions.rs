//! The liveness actions, their thresholds and the recent-frame history the
//! answers are measured against.
//!
//! An action counts only as the answer to a prompt (see
//! [`super::answer`] for the answer rules and [`crate::session`] for the
//! prompt schedule): each detector compares the frames after the prompt with
//! a baseline frozen at the prompt from the recent history (the last
//! [`HISTORY_MS`]), so it adapts to each person and camera angle.
//! *Left* and *right* are the user's own, for an unmirrored camera image
//! (nose toward the image's right = the user's left); set
//! [`ActionParams::mirrored`] for frames flipped like a selfie preview.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::features::FrameFeatures;
use crate::error::{Error, Result};

/// How much history the baselines look at, in milliseconds.
pub const HISTORY_MS: u64 = 3000;

/// A liveness action the user can be asked to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Close both eyes briefly and open them again.
    Blink,
    /// Open the mouth wide.
    MouthOpen,
    /// Turn the head to the user's own left.
    TurnLeft,
    /// Turn the head to the user's own right.
    TurnRight,
    /// Look down, then back up.
    Nod,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [
        Action::Blink,
        Action::MouthOpen,
        Action::TurnLeft,
        Action::TurnRight,
        Action::Nod,
    ];

    /// Stable name (`blink`, `mouth_open`, `turn_left`, `turn_right`, `nod`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Blink => "blink",
            Self::MouthOpen => "mouth_open",
            Self::TurnLeft => "turn_left",
            Self::TurnRight => "turn_right",
            Self::Nod => "nod",
        }
    }

    /// The prompt shown to the user, in English (every language:
    /// [`crate::prompts`]).
    pub fn prompt(self) -> &'static str {
        crate::prompts::text(self.prompt_key(), crate::prompts::Lang::En).unwrap_or("")
    }

    /// The key of the prompt that asks for this action in
    /// [`crate::prompts::PROMPTS`] (text, icon and glyph, in every language).
    pub fn prompt_key(self) -> &'static str {
        match self {
            Self::Blink => "action.blink",
            Self::MouthOpen => "action.mouth_open",
            Self::TurnLeft => "action.turn_left",
            Self::TurnRight => "action.turn_right",
            Self::Nod => "action.nod",
        }
    }
}

impl std::str::FromStr for Action {
    type Err = Error;

    /// Parses a stable name; an unknown name is an [`Error::InvalidArgument`]
    /// listing the valid ones.
    fn from_str(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name.trim()).ok_or_else(|| {
            Error::invalid(
                "actions",
                format!("unknown action `{name}` (valid: blink, mouth_open, turn_left, turn_right, nod)"),
            )
        })
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Answer thresholds and shapes (defaults: `realface eval challenge`, see
/// docs/EVALUATION.md; every field is documented with what it guards
/// against).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionParams {
    /// Eyes closed: the eye-state model's P(both closed) at least this.
    pub blink_eye_closed: f32,
    /// Eyes open: P(both closed) at most this (the blink's rest level).
    pub blink_eye_open: f32,
    /// While closed, the mesh eye ratio must also be below this fraction of
    /// its open-eye baseline (the lids moved, not only the pixels).
    pub blink_closed: f32,
    /// While closed, the face's sharpness may be at most this much (log
    /// units) below its recent 90th percentile: blurred frames are no
    /// evidence (a shaken picture's blur drops it by ~1.6, a real blink by
    /// < 0.3 on the shared clips).
    pub blink_blur: f32,
    /// Shortest closure that answers a blink prompt (ms, first closed frame
    /// to the first open one): a deliberate blink is held, a natural one is
    /// over in 40-200 ms at 25-30 fps.
    pub blink_min_closed_ms: u64,
    /// Longest closure that still counts as a blink.
    pub blink_max_ms: u64,
    /// Minimum corrected mouth ratio for "open".
    pub mouth_open: f32,
    /// Minimum rise of the mouth ratio above its closed baseline (what a
    /// picture cannot fake: synthetic attacks reach at most 0.095).
    pub mouth_rise: f32,
    /// The opening must be held this long (ms) at two thirds of the rise or
    /// more: speech opens and closes the mouth several times a second.
    pub mouth_hold_ms: u64,
    /// Yaw change from the rest pose for a turn, degrees (3-D pose from the
    /// mesh).
    pub turn_deg: f32,
    /// Nose-offset change for a turn (2-D, see `FrameFeatures::nose_offset`):
    /// a flat photo turned in depth makes the mesh report some yaw but keeps
    /// its nose centred between its own outline.
    pub turn_nose: f32,
    /// A turn must be held this long (ms, consecutive frames).
    pub turn_hold_ms: u64,
    /// A face lost after turning at least this far (degrees) in the asked
    /// direction is a turn to full profile: the detector cannot see a
    /// profile, and losing the face there is the answer, not an error.
    pub turn_profile_deg: f32,
    /// Pitch drop from the rest pose for the first half of a nod, degrees.
    pub nod_down_deg: f32,
    /// The nod is back up when the pitch is within this many degrees of
    /// the rest pose, or (whichever comes first) has come back
    /// `nod_return_share` of the depth it reached.
    pub nod_return_deg: f32,
    /// Share of the depth reached (0..1) the head must come back up for the
    /// nod to end: a deliberate look down often ends a few degrees below
    /// where it started, and a deep one loses the face at the bottom.
    pub nod_return_share: f32,
    /// Longest nod (ms, from the first frame down).
    pub nod_max_ms: u64,
    /// Before a turn or nod prompt the head must be still: its yaw and
    /// pitch may drift at most this many degrees over the rest window
    /// (median of its last third against its first), and spread at most
    /// twice that (see [`super::answer::rest_problem`]).
    pub rest_pose_deg: f32,
    /// Before a mouth prompt the mouth must be still and not open: its
    /// ratio's spread and drift over the rest window, and its level above
    /// its own lowest of the last second, at most this much.
    pub rest_mouth_rise: f32,
    /// Frames are mirrored (selfie preview): swaps left and right.
    pub mirrored: bool,
}

impl Default for ActionParams {
    fn default() -> Self {
        Self {
            blink_eye_closed: 0.3,
            blink_eye_open: 0.15,
            blink_closed: 0.9,
            blink_blur: 0.5,
            blink_min_closed_ms: 400,
            blink_max_ms: 3000,
            mouth_open: 0.15,
            mouth_rise: 0.12,
            mouth_hold_ms: 400,
            turn_deg: 12.0,
            turn_nose: 0.28,
            turn_hold_ms: 100,
            turn_profile_deg: 12.0,
            nod_down_deg: 10.0,
            nod_return_deg: 3.0,
            nod_return_share: 0.5,
            nod_max_ms: 2500,
            rest_pose_deg: 5.0,
            rest_mouth_rise: 0.06,
            mirrored: false,
        }
    }
}

impl ActionParams {
    /// Checks the values (finite, positive where a threshold must be).
    pub fn validate(&self) -> crate::Result<()> {
        let pos = [
            ("blink_eye_closed", self.blink_eye_closed),
            ("blink_closed", self.blink_closed),
            ("mouth_rise", self.mouth_rise),
            ("turn_deg", self.turn_deg),
            ("turn_profile_deg", self.turn_profile_deg),
            ("nod_down_deg", self.nod_down_deg),
            ("rest_pose_deg", self.rest_pose_deg),
            ("rest_mouth_rise", self.rest_mouth_rise),
        ];
        for (name, v) in pos {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(
                    "params",
                    format!("{name} = {v} must be positive"),
                ));
            }
        }
        let nonneg = [
            ("blink_eye_open", self.blink_eye_open),
            ("blink_blur", self.blink_blur),
            ("mouth_open", self.mouth_open),
            ("turn_nose", self.turn_nose),
            ("nod_return_deg", self.nod_return_deg),
            ("nod_return_share", self.nod_return_share),
        ];
        for (name, v) in nonneg {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(
                    "params",
                    format!("{name} = {v} must be >= 0"),
                ));
            }
        }
        if self.nod_return_share > 1.0 {
            return Err(Error::invalid(
                "params",
                format!("nod_return_share = {} is above 1", self.nod_return_share),
            ));
        }
        if self.blink_eye_open >= self.blink_eye_closed {
            return Err(Error::invalid(
                "params",
                "blink_eye_open must be below blink_eye_closed",
            ));
        }
        if self.blink_min_closed_ms > self.blink_max_ms || self.nod_max_ms == 0 {
            return Err(Error::invalid(
                "params",
                "blink_min_closed_ms must not exceed blink_max_ms; nod_max_ms must be positive",
            ));
        }
        Ok(())
    }
}

/// An answer: an action detected after its prompt.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ActionEvent {
    /// Which action.
    pub action: Action,
    /// When it started (ms): the first frame after the last one at the
    /// action's rest level.
    pub onset_ms: u64,
    /// When it completed (ms).
    pub end_ms: u64,
    /// How far past the threshold it went (1 = exactly at it).
    pub strength: f32,
}

/// Recent frame features with timestamps.
#[derive(Debug, Clone, Default)]
pub struct History {
    frames: VecDeque<(u64, FrameFeatures)>,
}

/// A percentile (0..1) of the values, nearest rank; `None` when empty.
pub(crate) fn percentile(mut v: Vec<f32>, p: f32) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let i = ((v.len() - 1) as f32 * p).round() as usize;
    v.get(i).copied()
}

impl History {
    /// Adds a frame and forgets frames older than [`HISTORY_MS`].
    pub fn push(&mut self, t_ms: u64, f: FrameFeatures) {
        self.frames.push_back((t_ms, f));
        while self
            .frames
            .front()
            .is_some_and(|(t, _)| t_ms.saturating_sub(*t) > HISTORY_MS)
        {
            self.frames.pop_front();
        }
    }

    /// Number of frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Clears the history (e.g. when the face is lost).
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// The frames at or after `from_ms`, oldest first.
    pub fn since(&self, from_ms: u64) -> impl Iterator<Item = &(u64, FrameFeatures)> {
        self.frames.iter().filter(move |(t, _)| *t >= from_ms)
    }

    /// The newest frame.
    pub fn last(&self) -> Option<&(u64, FrameFeatures)> {
        self.frames.back()
    }

    /// A percentile (0..1) of a feature over the history.
    pub fn stat(&self, f: impl Fn(&FrameFeatures) -> f32, p: f32) -> Option<f32> {
        percentile(self.frames.iter().map(|(_, x)| f(x)).collect(), p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for a in Action::ALL {
            assert_eq!(a.name().parse::<Action>().expect("known"), a);
        }
        assert_eq!(
            "wink".parse::<Action>().unwrap_err().code(),
            crate::ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn every_action_has_a_prompt_in_the_table() {
        for a in Action::ALL {
            let e = crate::prompts::entry_of(a.prompt_key()).expect("entry");
            assert!(!e.en.is_empty() && !e.zh_hans.is_empty() && !e.glyph.is_empty());
            assert_eq!(a.prompt(), e.en);
        }
    }
}
