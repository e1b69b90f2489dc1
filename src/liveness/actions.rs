//! Active-liveness action detectors over a short history of frame features:
//! blink, mouth open, turn left, turn right, nod.
//!
//! Each detector compares the current frame with a baseline taken from the
//! recent history (the last [`HISTORY_MS`]), so it adapts to each person and
//! camera angle:
//! - **blink**: the eye-state model reads both eyes closed
//!   (P >= `blink_eye_closed`) while the mesh's foreshortening-corrected eye
//!   ratio is also below `blink_closed` x its open-eye baseline (75th
//!   percentile; the lids must move, not only the pixels) and the face is
//!   as sharp as usual (blur is no evidence), then open again
//!   (P <= `blink_eye_open`) within `blink_max_ms`;
//! - **mouth open**: the corrected mouth ratio exceeds `mouth_open` and rises
//!   `mouth_rise` above the closed-mouth baseline (25th percentile). What a
//!   picture cannot fake is the rise (synthetic attacks: at most 0.095); a
//!   broad smile with the lips apart counts (0.13-0.15 on the shared clips),
//!   and so may talking: it is live movement, not an attack;
//! - **turn left / right**: yaw moves `turn_deg` away from the median (and
//!   the nose `turn_nose` across the face), held for `turn_hold_ms`; *left*
//!   and *right* are the user's own, for an unmirrored camera image (nose
//!   toward the image's right = the user's left); set `mirrored` for frames
//!   that were flipped like a selfie preview;
//! - **nod**: pitch falls `nod_down_deg` below the median, then comes back to
//!   within `nod_return_deg` of it, within `nod_max_ms`.

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

    /// The prompt shown to the user.
    pub fn prompt(self) -> &'static str {
        match self {
            Self::Blink => "Please blink",
            Self::MouthOpen => "Please open your mouth",
            Self::TurnLeft => "Please turn your head to the left",
            Self::TurnRight => "Please turn your head to the right",
            Self::Nod => "Please nod",
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

/// Detector thresholds (defaults: leave-one-clip-out fits on the shared
/// action clips at their native frame rate, `realface eval liveness`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionParams {
    /// Eyes closed: the eye-state model's P(both closed) at least this.
    pub blink_eye_closed: f32,
    /// Eyes open again: P(both closed) at most this.
    pub blink_eye_open: f32,
    /// While closed, the mesh eye ratio must also be below this fraction of
    /// its open-eye baseline (the lids moved).
    pub blink_closed: f32,
    /// While closed, the face's sharpness may be at most this much (log
    /// units) below its recent 90th percentile: blurred frames are no
    /// evidence (a shaken picture's blur drops it by ~1.6, a real blink by
    /// < 0.3 on the shared clips).
    pub blink_blur: f32,
    /// Longest closure that still counts.
    pub blink_max_ms: u64,
    /// Minimum corrected mouth ratio for "open".
    pub mouth_open: f32,
    /// Minimum rise above the closed-mouth baseline.
    pub mouth_rise: f32,
    /// Yaw change for a turn, degrees (3-D pose from the mesh).
    pub turn_deg: f32,
    /// Nose-offset change for a turn (2-D, see `FrameFeatures::nose_offset`).
    /// Both must move: a flat photo turned in depth makes the mesh report
    /// some yaw but keeps its nose centred between its own outline (measured:
    /// at most 0.27 for prints turned by up to 40°, 0.4-0.6 for real turns).
    pub turn_nose: f32,
    /// A turn must be held this long (ms, consecutive frames): a real head
    /// turn is a pose held for a moment, a warped picture's single frame at
    /// the edge of the threshold is not.
    pub turn_hold_ms: u64,
    /// Pitch drop for the first half of a nod, degrees.
    pub nod_down_deg: f32,
    /// Pitch must come back within this many degrees of the baseline.
    pub nod_return_deg: f32,
    /// Longest nod.
    pub nod_max_ms: u64,
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
            blink_max_ms: 3000,
            mouth_open: 0.15,
            mouth_rise: 0.12,
            turn_deg: 15.0,
            turn_nose: 0.35,
            turn_hold_ms: 100,
            nod_down_deg: 8.0,
            nod_return_deg: 3.0,
            nod_max_ms: 3000,
            mirrored: false,
        }
    }
}

/// A detected action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ActionEvent {
    /// Which action.
    pub action: Action,
    /// When it started (ms).
    pub start_ms: u64,
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

fn percentile(mut v: Vec<f32>, p: f32) -> Option<f32> {
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

    /// A percentile (0..1) of a feature over the history.
    pub fn stat(&self, f: impl Fn(&FrameFeatures) -> f32, p: f32) -> Option<f32> {
        percentile(self.frames.iter().map(|(_, x)| f(x)).collect(), p)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    /// Half-way through a two-phase action; the baseline is frozen at entry so
    /// that a sustained state (eyes kept shut, head kept down) cannot become
    /// the new normal and fake the second phase.
    Active {
        since_ms: u64,
        peak: f32,
        base: f32,
    },
}

/// One action's detector.
#[derive(Debug, Clone)]
pub struct ActionDetector {
    action: Action,
    params: ActionParams,
    phase: Phase,
}

impl ActionDetector {
    /// A detector for one action.
    pub fn new(action: Action, params: ActionParams) -> Self {
        Self {
            action,
            params,
            phase: Phase::Idle,
        }
    }

    /// The action detected.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Forgets a half-seen action.
    pub fn reset(&mut self) {
        self.phase = Phase::Idle;
    }

    /// Feeds one frame (already pushed into `history`); returns the event when
    /// the action completes.
    pub fn update(
        &mut self,
        t_ms: u64,
        f: &FrameFeatures,
        history: &History,
    ) -> Option<ActionEvent> {
        let p = self.params;
        let yaw_sign = if p.mirrored { -1.0 } else { 1.0 };
        match self.action {
            Action::Blink => {
                let base = self
                    .frozen_base()
                    .or_else(|| history.stat(FrameFeatures::ear_norm, 0.75))?;
                if base <= 1e-4 {
                    return None;
                }
                let ratio = f.ear_norm() / base;
                let sharp = history
                    .stat(|x| x.sharpness, 0.9)
                    .is_none_or(|s| f.sharpness >= s - p.blink_blur);
                let closed = f.eyes_closed >= p.blink_eye_closed && ratio < p.blink_closed && sharp;
                self.two_phase(
                    t_ms,
                    base,
                    closed,
                    f.eyes_closed <= p.blink_eye_open,
                    p.blink_max_ms,
                    f.eyes_closed / p.blink_eye_closed.max(1e-3),
                )
            }
            Action::MouthOpen => {
                let base = history.stat(FrameFeatures::mar_norm, 0.25)?;
                let m = f.mar_norm();
                let open = m >= p.mouth_open && m - base >= p.mouth_rise;
                open.then_some(ActionEvent {
                    action: self.action,
                    start_ms: t_ms,
                    end_ms: t_ms,
                    strength: (m / p.mouth_open).min((m - base) / p.mouth_rise),
                })
            }
            Action::TurnLeft | Action::TurnRight => {
                let base = history.stat(|x| x.yaw, 0.5)?;
                let base_nose = history.stat(|x| x.nose_offset, 0.5)?;
                let want = if self.action == Action::TurnLeft {
                    1.0
                } else {
                    -1.0
                };
                let delta = (f.yaw - base) * yaw_sign * want;
                let nose = (f.nose_offset - base_nose) * yaw_sign * want;
                let strength = (delta / p.turn_deg).min(nose / p.turn_nose);
                if !(delta >= p.turn_deg && nose >= p.turn_nose) {
                    self.phase = Phase::Idle;
                    return None;
                }
                match self.phase {
                    Phase::Idle => {
                        self.phase = Phase::Active {
                            since_ms: t_ms,
                            peak: strength,
                            base,
                        };
                        (p.turn_hold_ms == 0).then_some(ActionEvent {
                            action: self.action,
                            start_ms: t_ms,
                            end_ms: t_ms,
                            strength,
                        })
                    }
                    Phase::Active { since_ms, peak, .. } => {
                        let peak = peak.max(strength);
                        self.phase = Phase::Active {
                            since_ms,
                            peak,
                            base,
                        };
                        (t_ms.saturating_sub(since_ms) >= p.turn_hold_ms).then_some(ActionEvent {
                            action: self.action,
                            start_ms: since_ms,
                            end_ms: t_ms,
                            strength: peak,
                        })
                    }
                }
            }
            Action::Nod => {
                let base = self
                    .frozen_base()
                    .or_else(|| history.stat(|x| x.pitch, 0.5))?;
                let d = f.pitch - base;
                self.two_phase(
                    t_ms,
                    base,
                    d <= -p.nod_down_deg,
                    d >= -p.nod_return_deg,
                    p.nod_max_ms,
                    -d / p.nod_down_deg,
                )
            }
        }
    }

    fn frozen_base(&self) -> Option<f32> {
        match self.phase {
            Phase::Active { base, .. } => Some(base),
            Phase::Idle => None,
        }
    }

    /// Start when `entered`, complete when `left` within `max_ms`; the peak
    /// strength while active is reported. Past `max_ms` the attempt is
    /// dropped and the detector waits for the state to be left first.
    fn two_phase(
        &mut self,
        t: u64,
        base: f32,
        entered: bool,
        left: bool,
        max_ms: u64,
        strength: f32,
    ) -> Option<ActionEvent> {
        match self.phase {
            Phase::Idle => {
                if entered {
                    self.phase = Phase::Active {
                        since_ms: t,
                        peak: strength,
                        base,
                    };
                }
                None
            }
            Phase::Active {
                since_ms,
                peak,
                base,
            } => {
                if t.saturating_sub(since_ms) > max_ms {
                    // Too long: keep the frozen baseline but never complete
                    // until the state has been left and entered again.
                    if left {
                        self.phase = Phase::Idle;
                    }
                    return None;
                }
                if left {
                    self.phase = Phase::Idle;
                    return Some(ActionEvent {
                        action: self.action,
                        start_ms: since_ms,
                        end_ms: t,
                        strength: peak,
                    });
                }
                self.phase = Phase::Active {
                    since_ms,
                    peak: peak.max(strength),
                    base,
                };
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ear: f32, mar: f32, yaw: f32, pitch: f32) -> FrameFeatures {
        FrameFeatures {
            ear_right: ear,
            ear_left: ear,
            ear,
            mar,
            yaw,
            pitch,
            roll: 0.0,
            face_width: 200.0,
            nose_offset: yaw / 40.0,
            nose_offset_v: -pitch / 60.0,
            face_aspect: 1.0,
            eyes_closed: if ear < 0.2 { 0.99 } else { 0.01 },
            sharpness: 0.0,
        }
    }

    /// Runs a detector over a sequence at 10 fps; returns the events.
    fn run(action: Action, seq: &[FrameFeatures], params: ActionParams) -> Vec<ActionEvent> {
        let mut h = History::default();
        let mut d = ActionDetector::new(action, params);
        let mut out = Vec::new();
        for (i, f) in seq.iter().enumerate() {
            let t = i as u64 * 100;
            h.push(t, *f);
            out.extend(d.update(t, f, &h));
        }
        out
    }

    fn open(n: usize) -> Vec<FrameFeatures> {
        vec![frame(0.3, 0.05, 0.0, 0.0); n]
    }

    #[test]
    fn blink_closes_and_reopens() {
        let mut s = open(10);
        s.extend([frame(0.12, 0.05, 0.0, 0.0), frame(0.1, 0.05, 0.0, 0.0)]);
        s.extend(open(5));
        let ev = run(Action::Blink, &s, ActionParams::default());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].start_ms, 1000);
        assert_eq!(ev[0].end_ms, 1200);
    }

    #[test]
    fn closed_eyes_that_never_reopen_are_no_blink() {
        let mut s = open(10);
        s.extend(vec![frame(0.1, 0.05, 0.0, 0.0); 50]);
        assert!(run(Action::Blink, &s, ActionParams::default()).is_empty());
    }

    #[test]
    fn squinting_a_little_is_no_blink() {
        let mut s = open(10);
        s.extend(vec![frame(0.24, 0.05, 0.0, 0.0); 3]);
        s.extend(open(5));
        assert!(run(Action::Blink, &s, ActionParams::default()).is_empty());
    }

    #[test]
    fn mouth_open_needs_a_rise_not_an_open_picture() {
        // a picture taken mid-word: the ratio is high but never moves
        let still: Vec<FrameFeatures> = (0..30).map(|_| frame(0.3, 0.27, 0.0, 0.0)).collect();
        assert!(run(Action::MouthOpen, &still, ActionParams::default()).is_empty());
        // a closed mouth that opens only a little (shake noise) does not count
        let mut small = open(10);
        small.push(frame(0.3, 0.1, 0.0, 0.0));
        assert!(run(Action::MouthOpen, &small, ActionParams::default()).is_empty());
        // lips apart in a broad smile (measured: 0.18-0.20 from ~0.03-0.06)
        let mut wide = open(10);
        wide.push(frame(0.3, 0.2, 0.0, 0.0));
        assert_eq!(
            run(Action::MouthOpen, &wide, ActionParams::default()).len(),
            1
        );
    }

    #[test]
    fn turns_follow_the_users_own_left_and_mirroring() {
        let mut s = open(10);
        s.extend((1..=5).map(|i| frame(0.3, 0.05, 5.0 * i as f32, 0.0)));
        let p = ActionParams::default();
        assert!(
            !run(Action::TurnLeft, &s, p).is_empty(),
            "nose to the image right = user's left"
        );
        assert!(run(Action::TurnRight, &s, p).is_empty());
        let m = ActionParams {
            mirrored: true,
            ..p
        };
        assert!(run(Action::TurnLeft, &s, m).is_empty());
        assert!(!run(Action::TurnRight, &s, m).is_empty());
    }

    #[test]
    fn small_head_motion_is_no_turn() {
        let mut s = open(10);
        s.extend((0..20).map(|i| frame(0.3, 0.05, 8.0 * ((i as f32) * 0.7).sin(), 0.0)));
        assert!(run(Action::TurnLeft, &s, ActionParams::default()).is_empty());
        assert!(run(Action::TurnRight, &s, ActionParams::default()).is_empty());
    }

    #[test]
    fn nod_needs_down_then_up() {
        let mut down_only = open(10);
        down_only.extend(vec![frame(0.3, 0.05, 0.0, -12.0); 40]);
        assert!(run(Action::Nod, &down_only, ActionParams::default()).is_empty());
        let mut nod = open(10);
        nod.extend(vec![frame(0.3, 0.05, 0.0, -12.0); 3]);
        nod.extend(open(3));
        assert_eq!(run(Action::Nod, &nod, ActionParams::default()).len(), 1);
    }

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
}
