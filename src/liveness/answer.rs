//! Answers to prompts: an action counts only when it answers the prompt
//! that asked for it.
//!
//! At the prompt the face must be **at rest** for the action
//! ([`rest_problem`]): a face in every part of the rest window, and for a
//! turn or a nod the head still, for a mouth prompt the mouth closed. The
//! detector then freezes its **baseline** from the frames before the prompt
//! ([`Baseline`]) and watches what follows. Each frame is at the action's
//! rest level, part-way, or fully there; an answer's **onset** is the first
//! frame after the last one at the rest level, so a movement already under
//! way at the prompt has an onset before it. The session holds the onset
//! against the reaction window (`PromptOptions`); here only the answer's
//! **shape** is judged:
//! - **blink**: both eyes closed (eye-state model, corroborated by the mesh
//!   lids and by sharpness) for at least `blink_min_closed_ms`, then open
//!   again within `blink_max_ms`; a quicker closure (a natural blink) is no
//!   answer and the detector waits for the next one;
//! - **mouth open**: a rise of `mouth_rise` above the closed baseline (with
//!   the ratio at least `mouth_open`), held `mouth_hold_ms` at two thirds of
//!   the rise or more; speech opens and closes faster;
//! - **turn left / right**: yaw `turn_deg` from the rest pose with the nose
//!   `turn_nose` across the face, held `turn_hold_ms`; or the face lost
//!   (full profile) after turning `turn_profile_deg` that way;
//! - **nod**: pitch `nod_down_deg` below the rest pose, then back up by
//!   `nod_return_share` of the depth reached (or within `nod_return_deg`
//!   of the rest pose) within `nod_max_ms`; the face lost at the bottom of
//!   a deep look down does not end it.

use super::actions::{Action, ActionEvent, ActionParams, History};
use super::features::FrameFeatures;
use super::release::{Cue, ReleaseStep, ReleaseWatch};

/// Largest gap between face frames (ms) that still counts as "in view".
pub const MAX_GAP_MS: u64 = 250;

/// How long the face must be lost after a partial turn to count as a turn to
/// full profile (ms).
pub const PROFILE_LOST_MS: u64 = 100;

/// Part of a threshold below which a signal is at its rest level.
const REST_FRACTION: f32 = 1.0 / 3.0;

/// Part of the mouth rise an opening must keep while it is held.
const HOLD_FRACTION: f32 = 2.0 / 3.0;

/// The face before the prompt, frozen when it is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// Open-eye ratio (75th percentile of the history, foreshortening-corrected).
    pub ear: f32,
    /// Usual sharpness (90th percentile of the history).
    pub sharpness: f32,
    /// Closed-mouth ratio (25th percentile of the history).
    pub mar: f32,
    /// Rest pose over the rest window (medians): yaw, pitch (degrees), nose offset.
    pub yaw: f32,
    /// See `yaw`.
    pub pitch: f32,
    /// See `yaw`.
    pub nose: f32,
}

/// The median of the values (the mean of the middle two of an even
/// count), or `None` when there are none.
pub(crate) fn median_of(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n.is_multiple_of(2) {
        Some((v[n / 2 - 1] + v[n / 2]) / 2.0)
    } else {
        v.get(n / 2).copied()
    }
}

/// How a signal moved over a window of frames, robust to frame-to-frame
/// jitter: the change of its median from the window's first third to its
/// last third, and its spread (the range of the window without its most
/// extreme frame at either end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Median of the last third minus median of the first third.
    pub drift: f32,
    /// Second-highest minus second-lowest value.
    pub spread: f32,
    /// Median of the last third: where the signal is now.
    pub now: f32,
}

impl Motion {
    /// The motion of `values` (oldest first); `None` under three values.
    /// A third is at least two frames when there are four or more, so that
    /// at a low frame rate one noisy frame is not the whole third.
    pub fn of(values: &[f32]) -> Option<Self> {
        let n = values.len();
        if n < 3 {
            return None;
        }
        let k = (n / 3).max(if n >= 4 { 2 } else { 1 });
        let first = median_of(values[..k].to_vec())?;
        let now = median_of(values[n - k..].to_vec())?;
        let mut sorted = values.to_vec();
        sorted.sort_by(f32::total_cmp);
        let spread = sorted[n - 2] - sorted[1];
        Some(Self {
            drift: now - first,
            spread,
            now,
        })
    }
}

impl Baseline {
    /// The baseline at a prompt: the history's open-eye and sharpness
    /// percentiles, and where the mouth and the head are now (the median of
    /// the last third of the rest window, the frames at or after
    /// `rest_from_ms`): the person's own rest, whatever their pose or their
    /// mouth at rest.
    pub fn at(history: &History, rest_from_ms: u64) -> Option<Self> {
        let window: Vec<&FrameFeatures> = history.since(rest_from_ms).map(|(_, f)| f).collect();
        let now = |g: fn(&FrameFeatures) -> f32| {
            let n = window.len();
            let k = (n / 3).max(if n >= 4 { 2 } else { 1 });
            median_of(
                window[window.len().saturating_sub(k)..]
                    .iter()
                    .map(|f| g(f))
                    .collect(),
            )
        };
        Some(Self {
            ear: history.stat(FrameFeatures::ear_norm, 0.75)?,
            sharpness: history.stat(|x| x.sharpness, 0.9)?,
            mar: now(FrameFeatures::mar_norm)?,
            yaw: now(|f| f.yaw)?,
            pitch: now(|f| f.pitch)?,
            nose: now(|f| f.nose_offset)?,
        })
    }
}

/// How far back "the person's own recent mouth" looks at a prompt (ms): the
/// mouth is open when it is above its own lowest level of the last second.
pub const RECENT_MS: u64 = 1000;

/// The head's spread over the rest window may be this many times
/// `rest_pose_deg` (jitter of the mesh's pose and the micro-motion of a
/// person waiting); beyond it the head is swaying or shaking.
pub const POSE_SPREAD_FACTOR: f32 = 2.0;

/// Why the face is not at rest for `action` at a prompt shown at
/// `prompt_ms` (the newest frame of `history`), or `None` when it is.
///
/// Rest is the person's own, never "frontal" or "closed" in absolute terms:
/// - a face in view over the last `rest_ms` (no gap over [`MAX_GAP_MS`]),
///   at least three frames of it;
/// - turns and nods: the head still — its yaw and pitch drift (median of
///   the window's last third against its first third) at most
///   `rest_pose_deg`, their spread at most [`POSE_SPREAD_FACTOR`] times
///   that. Jitter and the micro-motion of a person waiting pass; the end of
///   a movement still under way, a swaying or shaking head do not;
/// - the mouth: still (spread and drift of its ratio at most
///   `rest_mouth_rise`: talking, an opening or a closing under way are
///   not), and not open above its own lowest level of the last
///   [`RECENT_MS`] by more than that;
/// - the eyes: nothing here (an answer must start after the prompt, which
///   a closure under way at the prompt does not).
pub fn rest_problem(
    action: Action,
    params: &ActionParams,
    history: &History,
    prompt_ms: u64,
    rest_ms: u64,
) -> Option<String> {
    let from = prompt_ms.saturating_sub(rest_ms);
    let window: Vec<&(u64, FrameFeatures)> = history.since(from).collect();
    let out_of_view = || {
        Some(format!(
            "the face was not in view for the {rest_ms} ms before the prompt"
        ))
    };
    let mut prev = from;
    for (t, _) in &window {
        if t.saturating_sub(prev) > MAX_GAP_MS {
            return out_of_view();
        }
        prev = *t;
    }
    if window.len() < 3 || prompt_ms.saturating_sub(prev) > MAX_GAP_MS {
        return out_of_view();
    }
    let motion = |g: fn(&FrameFeatures) -> f32| {
        let v: Vec<f32> = window.iter().map(|(_, f)| g(f)).collect();
        Motion::of(&v)
    };
    match action {
        Action::Blink => None,
        Action::MouthOpen => {
            let m = motion(FrameFeatures::mar_norm)?;
            let lim = params.rest_mouth_rise;
            let recent: Vec<f32> = history
                .since(prompt_ms.saturating_sub(RECENT_MS))
                .map(|(_, f)| f.mar_norm())
                .collect();
            let lowest = super::actions::percentile(recent, 0.1)?;
            let open = m.now - lowest;
            if m.spread > lim {
                Some(format!(
                    "the mouth was moving before the prompt (spread {:.3} > {lim})",
                    m.spread
                ))
            } else if m.drift.abs() > lim {
                Some(format!(
                    "the mouth was {} before the prompt (by {:.3} > {lim})",
                    if m.drift > 0.0 { "opening" } else { "closing" },
                    m.drift.abs()
                ))
            } else {
                (open > lim)
                    .then(|| format!("the mouth was open before the prompt (by {open:.3} > {lim})"))
            }
        }
        Action::TurnLeft | Action::TurnRight | Action::Nod => {
            let (yaw, pitch) = (motion(|f| f.yaw)?, motion(|f| f.pitch)?);
            let drift = yaw.drift.abs().max(pitch.drift.abs());
            let spread = yaw.spread.max(pitch.spread);
            let lim = params.rest_pose_deg;
            if drift > lim {
                Some(format!(
                    "the head was moving before the prompt ({drift:.1} deg > {lim})"
                ))
            } else {
                (spread > lim * POSE_SPREAD_FACTOR).then(|| {
                    format!(
                        "the head was not still before the prompt (spread {spread:.1} deg > {})",
                        lim * POSE_SPREAD_FACTOR
                    )
                })
            }
        }
    }
}

/// Where one frame is for the action.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Rest,
    Partial,
    Full,
}

/// Watches the frames after one prompt for the answer's shape.
#[derive(Debug, Clone)]
pub struct AnswerDetector {
    action: Action,
    params: ActionParams,
    base: Baseline,
    /// First frame after the last one at the rest level (the onset of what
    /// is under way).
    onset: Option<u64>,
    /// First frame of the current episode that reached the full level.
    full_since: Option<u64>,
    /// The current episode went on too long: wait for the rest level.
    spent: bool,
    peak: f32,
    /// Last face frame's signed turn (degrees) and nose shift, for profiles.
    last_turn: Option<(f32, f32)>,
    lost_since: Option<u64>,
    /// The answer is held until a release cue (see [`super::release`]).
    release: Option<ReleaseSpec>,
    /// The held answer being watched for its release.
    watch: Option<ReleaseWatch>,
    /// A held answer was void: wait for the rest level before another.
    wait_rest: bool,
    /// Why the last held answer was void.
    note: Option<String>,
    /// The release cue of the last held answer that counted.
    last_cue: Option<u64>,
}

/// How an answer is held until its release cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReleaseSpec {
    cue: Cue,
    reaction_min_ms: u64,
    window_ms: u64,
}

impl AnswerDetector {
    /// A detector for `action` with the baseline frozen at its prompt.
    pub fn new(action: Action, params: ActionParams, base: Baseline) -> Self {
        Self {
            action,
            params,
            base,
            onset: None,
            full_since: None,
            spent: false,
            peak: 0.0,
            last_turn: None,
            lost_since: None,
            release: None,
            watch: None,
            wait_rest: false,
            note: None,
            last_cue: None,
        }
    }

    /// The answer must be held until a release cue and let go between
    /// `reaction_min_ms` and `window_ms` after it (see [`super::release`]);
    /// the hold replaces the action's own shape of completion.
    pub fn with_release(mut self, cue: Cue, reaction_min_ms: u64, window_ms: u64) -> Self {
        self.release = Some(ReleaseSpec {
            cue,
            reaction_min_ms,
            window_ms,
        });
        self
    }

    /// The held answer being watched: since when it is held and when its
    /// release cue comes (ms).
    pub fn holding(&self) -> Option<(u64, u64)> {
        self.watch.as_ref().map(|w| (w.held_since_ms, w.cue_ms))
    }

    /// The release cue of the last held answer that counted (ms).
    pub fn last_cue(&self) -> Option<u64> {
        self.last_cue
    }

    /// Why the last held answer did not count, if one did not.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Whether the answer is still held (for the release cue): closed
    /// eyes, the mouth at two thirds of its rise, the head two thirds of
    /// the way turned or down.
    fn held(&self, f: &FrameFeatures) -> bool {
        let p = &self.params;
        match self.action {
            Action::Blink => self.level(f).0 != Level::Rest,
            Action::MouthOpen => f.mar_norm() - self.base.mar >= p.mouth_rise * HOLD_FRACTION,
            Action::TurnLeft | Action::TurnRight => self.turn(f).0 >= p.turn_deg * HOLD_FRACTION,
            Action::Nod => f.pitch - self.base.pitch <= -p.nod_down_deg * HOLD_FRACTION,
        }
    }

    /// One frame of a held answer (`held` or not, or the face lost, which
    /// counts as held: a profile, a deep look down).
    fn watch_step(&mut self, t_ms: u64, held: bool) -> Option<ActionEvent> {
        let w = self.watch.as_ref()?;
        match w.step(t_ms, held) {
            ReleaseStep::Holding => None,
            ReleaseStep::Released(t) => {
                self.last_cue = Some(w.cue_ms);
                let ev = self.event(t);
                self.watch = None;
                self.rest();
                Some(ev)
            }
            ReleaseStep::Void(why) => {
                self.note = Some(why);
                self.watch = None;
                self.rest();
                self.wait_rest = true;
                None
            }
        }
    }

    /// The action watched for.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The baseline frozen at the prompt.
    pub fn baseline(&self) -> &Baseline {
        &self.base
    }

    /// The signed turn in the asked direction and the nose shift.
    fn turn(&self, f: &FrameFeatures) -> (f32, f32) {
        let mirror = if self.params.mirrored { -1.0 } else { 1.0 };
        let want = if self.action == Action::TurnLeft {
            1.0
        } else {
            -1.0
        };
        (
            (f.yaw - self.base.yaw) * mirror * want,
            (f.nose_offset - self.base.nose) * mirror * want,
        )
    }

    /// The frame's level and strength (1 = at the threshold).
    fn level(&self, f: &FrameFeatures) -> (Level, f32) {
        let p = &self.params;
        let pick = |full: bool, rest: bool| {
            if full {
                Level::Full
            } else if rest {
                Level::Rest
            } else {
                Level::Partial
            }
        };
        match self.action {
            Action::Blink => {
                let ratio = if self.base.ear > 1e-4 {
                    f.ear_norm() / self.base.ear
                } else {
                    1.0
                };
                let sharp = f.sharpness >= self.base.sharpness - p.blink_blur;
                let closed = f.eyes_closed >= p.blink_eye_closed && ratio < p.blink_closed && sharp;
                (
                    pick(closed, f.eyes_closed <= p.blink_eye_open),
                    f.eyes_closed / p.blink_eye_closed.max(1e-3),
                )
            }
            Action::MouthOpen => {
                let m = f.mar_norm();
                let rise = m - self.base.mar;
                let full = m >= p.mouth_open && rise >= p.mouth_rise;
                let strength = (m / p.mouth_open.max(1e-3)).min(rise / p.mouth_rise);
                (pick(full, rise < p.mouth_rise * REST_FRACTION), strength)
            }
            Action::TurnLeft | Action::TurnRight => {
                let (d, nose) = self.turn(f);
                let full = d >= p.turn_deg && nose >= p.turn_nose;
                let strength = (d / p.turn_deg).min(nose / p.turn_nose.max(1e-3));
                (pick(full, d < p.turn_deg * REST_FRACTION), strength)
            }
            Action::Nod => {
                let d = f.pitch - self.base.pitch;
                (
                    pick(d <= -p.nod_down_deg, d > -p.nod_down_deg * REST_FRACTION),
                    -d / p.nod_down_deg,
                )
            }
        }
    }

    fn event(&self, t_ms: u64) -> ActionEvent {
        ActionEvent {
            action: self.action,
            onset_ms: self.onset.unwrap_or(t_ms),
            end_ms: t_ms,
            strength: self.peak,
        }
    }

    /// Starts over after an episode that was no answer.
    fn rest(&mut self) {
        self.onset = None;
        self.full_since = None;
        self.spent = false;
        self.peak = 0.0;
    }

    /// Feeds one face frame; returns the answer when its shape is complete.
    pub fn update(&mut self, t_ms: u64, f: &FrameFeatures) -> Option<ActionEvent> {
        let p = self.params;
        self.lost_since = None;
        let (level, strength) = self.level(f);
        if matches!(self.action, Action::TurnLeft | Action::TurnRight) {
            self.last_turn = Some(self.turn(f));
        }
        if self.watch.is_some() {
            self.peak = self.peak.max(strength);
            let held = self.held(f);
            return self.watch_step(t_ms, held);
        }
        if self.wait_rest {
            if level == Level::Rest {
                self.wait_rest = false;
            }
            return None;
        }
        if let Some(spec) = self.release {
            // held until the cue: the hold starts at the first full frame
            // and replaces the action's own completion
            if level == Level::Full && !self.spent {
                self.onset.get_or_insert(t_ms);
                self.full_since = Some(t_ms);
                self.peak = strength;
                self.watch = Some(ReleaseWatch::new(
                    t_ms,
                    spec.cue,
                    spec.reaction_min_ms,
                    spec.window_ms,
                ));
                return None;
            }
        }
        // Completions that happen on the way back to rest come first: the
        // episode's onset is still known.
        match self.action {
            Action::Blink => {
                if level == Level::Rest {
                    let answer = self.full_since.filter(|_| !self.spent).and_then(|since| {
                        let closed = t_ms.saturating_sub(since);
                        (closed >= p.blink_min_closed_ms).then(|| self.event(t_ms))
                    });
                    self.rest();
                    return answer;
                }
            }
            Action::Nod => {
                let d = f.pitch - self.base.pitch;
                if let Some(since) = self.full_since.filter(|_| !self.spent) {
                    let depth = self.peak * p.nod_down_deg;
                    if d >= -p.nod_return_deg || d + depth >= p.nod_return_share * depth {
                        let answer = self.event(t_ms);
                        self.rest();
                        return Some(answer);
                    }
                    if t_ms.saturating_sub(since) > p.nod_max_ms {
                        self.spent = true;
                    }
                }
                if level == Level::Rest {
                    self.rest();
                    return None;
                }
            }
            Action::MouthOpen | Action::TurnLeft | Action::TurnRight => {
                if level == Level::Rest {
                    self.rest();
                    return None;
                }
            }
        }
        self.onset.get_or_insert(t_ms);
        match self.action {
            Action::Blink => {
                if level == Level::Full {
                    let since = *self.full_since.get_or_insert(t_ms);
                    self.peak = self.peak.max(strength);
                    if t_ms.saturating_sub(since) > p.blink_max_ms {
                        self.spent = true;
                    }
                }
                None
            }
            Action::Nod => {
                if level == Level::Full {
                    self.full_since.get_or_insert(t_ms);
                    self.peak = self.peak.max(strength);
                }
                None
            }
            Action::MouthOpen => {
                let rise = f.mar_norm() - self.base.mar;
                if level == Level::Full {
                    self.full_since.get_or_insert(t_ms);
                } else if rise < p.mouth_rise * HOLD_FRACTION {
                    // not held: speech, or a quick opening
                    self.full_since = None;
                    self.peak = 0.0;
                    return None;
                }
                let since = self.full_since?;
                self.peak = self.peak.max(strength);
                (t_ms.saturating_sub(since) >= p.mouth_hold_ms).then(|| self.event(t_ms))
            }
            Action::TurnLeft | Action::TurnRight => {
                if level != Level::Full {
                    self.full_since = None;
                    return None;
                }
                let since = *self.full_since.get_or_insert(t_ms);
                self.peak = self.peak.max(strength);
                (t_ms.saturating_sub(since) >= p.turn_hold_ms).then(|| self.event(t_ms))
            }
        }
    }

    /// A frame without a usable face at `t_ms`. After a turn of at least
    /// `turn_profile_deg` in the asked direction (with the nose following),
    /// losing the face for [`PROFILE_LOST_MS`] is the turn to full profile.
    pub fn face_lost(&mut self, t_ms: u64) -> Option<ActionEvent> {
        if self.watch.is_some() {
            return self.watch_step(t_ms, true);
        }
        if !matches!(self.action, Action::TurnLeft | Action::TurnRight) {
            return None;
        }
        let p = self.params;
        let (d, nose) = self.last_turn?;
        let parallax = p.turn_nose * (d / p.turn_deg).min(1.0) * 0.5;
        if d < p.turn_profile_deg || nose < parallax || self.onset.is_none() {
            return None;
        }
        let since = *self.lost_since.get_or_insert(t_ms);
        if t_ms.saturating_sub(since) < PROFILE_LOST_MS {
            return None;
        }
        self.peak = self.peak.max((d / p.turn_deg).min(1.0));
        if let Some(spec) = self.release {
            // a profile held until the cue like any turn
            self.watch = Some(ReleaseWatch::new(
                since,
                spec.cue,
                spec.reaction_min_ms,
                spec.window_ms,
            ));
            return self.watch_step(t_ms, true);
        }
        Some(self.event(t_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(closed: f32, mar: f32, yaw: f32, pitch: f32) -> FrameFeatures {
        FrameFeatures {
            ear_right: 0.3,
            ear_left: 0.3,
            ear: if closed > 0.5 { 0.12 } else { 0.3 },
            mar,
            yaw,
            pitch,
            roll: 0.0,
            face_width: 200.0,
            nose_offset: yaw / 40.0,
            nose_offset_v: -pitch / 60.0,
            face_aspect: 1.0,
            eyes_closed: closed,
            sharpness: 5.0,
        }
    }

    fn rest_frame() -> FrameFeatures {
        frame(0.01, 0.05, 0.0, 0.0)
    }

    /// A detector prompted at 1000 ms after a second at rest (30 fps), fed
    /// `answer` from 1000 ms on; the events it reports.
    fn run(action: Action, answer: &[FrameFeatures], params: ActionParams) -> Vec<ActionEvent> {
        let mut h = History::default();
        let mut t = 0;
        while t <= 1000 {
            h.push(t, rest_frame());
            t += 33;
        }
        assert!(rest_problem(action, &params, &h, 990, 400).is_none());
        let base = Baseline::at(&h, 590).expect("baseline");
        let mut d = AnswerDetector::new(action, params, base);
        let mut out = Vec::new();
        for f in answer {
            h.push(t, *f);
            out.extend(d.update(t, f));
            t += 33;
        }
        out
    }

    fn rest(n: usize) -> Vec<FrameFeatures> {
        vec![rest_frame(); n]
    }

    #[test]
    fn a_slow_blink_answers_and_a_natural_one_does_not() {
        let p = ActionParams::default();
        // natural: closed for 2 frames (66 ms)
        let mut quick = rest(5);
        quick.extend(vec![frame(0.95, 0.05, 0.0, 0.0); 2]);
        quick.extend(rest(5));
        assert!(run(Action::Blink, &quick, p).is_empty());
        // deliberate: closed for 15 frames (495 ms)
        let mut slow = rest(5);
        slow.extend(vec![frame(0.95, 0.05, 0.0, 0.0); 15]);
        slow.extend(rest(5));
        let ev = run(Action::Blink, &slow, p);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].onset_ms, 1023 + 5 * 33);
        // eyes that never open again are no blink
        let mut shut = rest(5);
        shut.extend(vec![frame(0.95, 0.05, 0.0, 0.0); 100]);
        assert!(run(Action::Blink, &shut, p).is_empty());
    }

    #[test]
    fn mouth_open_must_be_held_and_speech_is_not() {
        let p = ActionParams::default();
        // speech: open 100 ms, closed 100 ms, over and over
        let speech: Vec<FrameFeatures> = (0..60)
            .map(|i| frame(0.01, if (i / 3) % 2 == 0 { 0.3 } else { 0.05 }, 0.0, 0.0))
            .collect();
        assert!(run(Action::MouthOpen, &speech, p).is_empty());
        let mut held = rest(5);
        held.extend(vec![frame(0.01, 0.3, 0.0, 0.0); 20]);
        let ev = run(Action::MouthOpen, &held, p);
        assert!(!ev.is_empty(), "{ev:?}");
        assert_eq!(ev[0].onset_ms, 1023 + 5 * 33);
        // a photo taken mid-word: no rise from the baseline, never an answer
        let mut h = History::default();
        for i in 0..40 {
            h.push(i * 33, frame(0.01, 0.27, 0.0, 0.0));
        }
        let base = Baseline::at(&h, 900).expect("baseline");
        let mut d = AnswerDetector::new(Action::MouthOpen, p, base);
        assert!((40..80).all(|i| d.update(i * 33, &frame(0.01, 0.27, 0.0, 0.0)).is_none()));
    }

    #[test]
    fn turns_follow_the_users_own_left_and_a_lost_profile_counts() {
        let p = ActionParams::default();
        let mut s = rest(3);
        s.extend((1..=10).map(|i| frame(0.01, 0.05, 3.0 * i as f32, 0.0)));
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
        // turning to 13 degrees, then the face is lost: full profile
        let mut h = History::default();
        for i in 0..31 {
            h.push(i * 33, rest_frame());
        }
        let base = Baseline::at(&h, 600).expect("baseline");
        let mut d = AnswerDetector::new(Action::TurnLeft, p, base);
        for (k, y) in [3.0, 6.0, 9.0, 13.0].into_iter().enumerate() {
            assert!(d
                .update(1100 + k as u64 * 33, &frame(0.01, 0.05, y, 0.0))
                .is_none());
        }
        assert!(d.face_lost(1250).is_none(), "not lost long enough");
        let ev = d.face_lost(1360).expect("profile turn");
        assert_eq!(ev.onset_ms, 1133, "3 degrees is still at rest");
        // a face lost without a turn before it is nothing
        let mut d = AnswerDetector::new(Action::TurnLeft, p, base);
        d.update(1100, &rest_frame());
        assert!(d.face_lost(1200).is_none() && d.face_lost(1500).is_none());
    }

    #[test]
    fn nod_needs_down_then_back() {
        let p = ActionParams::default();
        let mut down_only = rest(3);
        down_only.extend(vec![frame(0.01, 0.05, 0.0, -12.0); 100]);
        assert!(run(Action::Nod, &down_only, p).is_empty());
        let mut nod = rest(3);
        nod.extend(vec![
            frame(0.01, 0.05, 0.0, -5.0),
            frame(0.01, 0.05, 0.0, -12.0),
        ]);
        nod.extend(vec![frame(0.01, 0.05, 0.0, -12.0); 5]);
        nod.extend(rest(3));
        let ev = run(Action::Nod, &nod, p);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].onset_ms, 1023 + 3 * 33);
    }

    #[test]
    fn a_person_waiting_with_micro_motion_and_their_own_pose_is_at_rest() {
        let p = ActionParams::default();
        // filmed at an angle (yaw 25, pitch -12), the mesh's pose jittering
        // by up to 4 degrees frame to frame, the mouth a little open at rest
        let jitter = [0.0, 3.5, -2.0, 1.0, -3.8, 2.2, -0.5, 3.9, -1.7, 0.8];
        let mut h = History::default();
        for i in 0..60u64 {
            let j = jitter[i as usize % jitter.len()];
            h.push(
                i * 33,
                frame(0.01, 0.09 + j / 400.0, 25.0 + j, -12.0 - j / 2.0),
            );
        }
        let t = 59 * 33;
        for a in Action::ALL {
            assert_eq!(rest_problem(a, &p, &h, t, 400), None, "{a:?}");
        }
        // a slow sway of the head (20 deg/s) is not rest for a turn
        let mut h = History::default();
        for i in 0..60u64 {
            h.push(i * 33, frame(0.01, 0.05, 0.66 * i as f32, 0.0));
        }
        assert!(rest_problem(Action::TurnLeft, &p, &h, t, 400).is_some());
        assert!(rest_problem(Action::Blink, &p, &h, t, 400).is_none());
    }

    #[test]
    fn talking_and_the_end_of_a_movement_are_not_at_rest() {
        let p = ActionParams::default();
        // speech: the mouth opening and closing several times a second
        let mut h = History::default();
        for i in 0..60u64 {
            let m = if (i / 3) % 2 == 0 { 0.25 } else { 0.06 };
            h.push(i * 33, frame(0.01, m, 0.0, 0.0));
        }
        let why = rest_problem(Action::MouthOpen, &p, &h, 59 * 33, 400).expect("talking");
        assert!(why.contains("mouth"), "{why}");
        // the last 300 ms of a head coming back from a turn
        let mut h = History::default();
        for i in 0..60u64 {
            let yaw = if i < 45 {
                40.0
            } else {
                40.0 - 2.6 * (i - 45) as f32
            };
            h.push(i * 33, frame(0.01, 0.05, yaw, 0.0));
        }
        assert!(rest_problem(Action::TurnLeft, &p, &h, 59 * 33, 400).is_some());
        // half a second later it has settled
        for i in 60..75u64 {
            h.push(i * 33, frame(0.01, 0.05, 3.6, 0.0));
        }
        assert_eq!(rest_problem(Action::TurnLeft, &p, &h, 74 * 33, 400), None);
    }

    #[test]
    fn a_held_answer_counts_only_when_let_go_after_the_release_cue() {
        let p = ActionParams::default();
        // prompted at 1000 ms; mouth open from 1200 ms; the cue 600 ms after
        // it reaches its full level
        let open_until = |close_ms: u64| {
            let mut h = History::default();
            for i in 0..31u64 {
                h.push(i * 33, rest_frame());
            }
            let base = Baseline::at(&h, 600).expect("baseline");
            let mut d = AnswerDetector::new(Action::MouthOpen, p, base).with_release(
                Cue::After(600),
                150,
                900,
            );
            let mut t = 1023;
            let mut cue = None;
            while t < 4000 {
                let m = if (1200..close_ms).contains(&t) {
                    0.35
                } else {
                    0.05
                };
                if let Some(ev) = d.update(t, &frame(0.01, m, 0.0, 0.0)) {
                    return (Some(ev), cue);
                }
                cue = cue.or(d.holding().map(|(_, c)| c));
                t += 33;
            }
            (None, cue)
        };
        // let go 400 ms after the cue: the answer, ending at the return
        let (ev, cue) = open_until(1221 + 600 + 400);
        let (ev, cue) = (ev.expect("answer"), cue.expect("held"));
        assert_eq!(cue, 1221 + 600);
        assert!(ev.end_ms >= cue + 150 && ev.onset_ms == 1221, "{ev:?}");
        // let go before the cue: no answer
        assert!(open_until(1221 + 400).0.is_none());
        // never let go: no answer either
        assert!(open_until(10_000).0.is_none());
    }

    #[test]
    fn a_moving_head_or_an_open_mouth_is_not_at_rest() {
        let p = ActionParams::default();
        let mut h = History::default();
        for i in 0..30u64 {
            h.push(i * 33, frame(0.01, 0.05, (i % 4) as f32 * 7.0, 0.0));
        }
        assert!(rest_problem(Action::TurnLeft, &p, &h, 957, 400).is_some());
        assert!(rest_problem(Action::Blink, &p, &h, 957, 400).is_none());
        let mut h = History::default();
        for i in 0..30u64 {
            h.push(
                i * 33,
                frame(0.01, if i > 25 { 0.3 } else { 0.05 }, 0.0, 0.0),
            );
        }
        assert!(rest_problem(Action::MouthOpen, &p, &h, 957, 400).is_some());
        // a gap in view before the prompt
        let mut h = History::default();
        h.push(0, rest_frame());
        h.push(900, rest_frame());
        assert!(rest_problem(Action::Blink, &p, &h, 900, 400).is_some());
    }
}
