//! Fitting the prompted challenge without fooling ourselves.
//!
//! What is fitted, per fold (every person but one) and on everyone (the
//! shipped defaults):
//! - the **reaction window** (`PromptOptions::reaction_max_ms`, one for
//!   every action) and, per action, one **shape** knob (blink: shortest
//!   closure; mouth: hold; turns: angle; nod: depth);
//! - the rule: the window is the shortest grid value that covers
//!   [`REACTION_QUANTILE`] of the training people's measured reaction times
//!   (answer onset after the prompt, at the loosest setting) on events
//!   performed on purpose (every event when the training people have none),
//!   one grid step looser as a margin; then each action takes the loosest
//!   shape value whose pre-recorded pass rate (clips as recorded, nobody
//!   asked to act) on the training people is at most [`ATTACK_TARGET`] in
//!   that window (the strictest if none is). Shapes are never looser than
//!   their security floors. Deliberate recordings are reported, never
//!   fitted to.
//! - the **passive gate**: a tenth of the lowest genuine session median
//!   P(real) of the training people (a decade of margin below the genuine
//!   distribution; no attack data is used, so every attack species is held
//!   out by construction, the synthetic generators included).
//!
//! The tables behind the fit are computed once for every grid point with
//! the passive gate off (the prompts alone); a fold only sums the rows of
//! its training people.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use super::challenge::{run, Placement, Recorded, Schedule, Tuning, PRERECORDED};
use crate::engine::FaceEngine;
use crate::liveness::actions::{Action, ActionParams};
use crate::session::challenge::ChallengeSpec;

/// Reaction windows tried (ms after the prompt by which an answer must start).
pub const WINDOWS_MS: [u64; 9] = [500, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000];
/// Highest training pre-recorded pass rate a shape may allow per action.
pub const ATTACK_TARGET: f64 = 0.05;
/// Share of the training reaction times the window must cover.
pub const REACTION_QUANTILE: f64 = 0.95;
/// The window when no training reaction was measured (ms).
pub const DEFAULT_WINDOW_MS: u64 = 1000;
/// Margin of the passive gate below the lowest genuine session (factor).
pub const PAD_MARGIN: f32 = 10.0;

/// The value of `action`'s shape knob in `p`.
fn knob_value(p: &ActionParams, action: Action) -> f32 {
    match action {
        Action::Blink => p.blink_min_closed_ms as f32,
        Action::MouthOpen => p.mouth_hold_ms as f32,
        Action::TurnLeft | Action::TurnRight => p.turn_deg,
        Action::Nod => p.nod_down_deg,
    }
}

/// One action's shape knob: its grid from loose to strict and its floor.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The parameter's name.
    pub name: &'static str,
    /// Values from the loosest to the strictest.
    pub grid: &'static [f32],
    /// The loosest value allowed, whatever the fit says.
    pub floor_index: usize,
    set: fn(&mut ActionParams, f32),
}

/// The shape knob of an action.
pub fn shape(action: Action) -> Shape {
    match action {
        Action::Blink => Shape {
            name: "blink_min_closed_ms",
            grid: &[0.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0],
            floor_index: 0,
            set: |p, v| p.blink_min_closed_ms = v as u64,
        },
        Action::MouthOpen => Shape {
            name: "mouth_hold_ms",
            grid: &[0.0, 200.0, 300.0, 400.0, 500.0, 600.0, 800.0],
            // a deliberate opening is held; speech opens and closes the
            // mouth several times a second (a talking clip passed at 200 ms)
            floor_index: 3,
            set: |p, v| p.mouth_hold_ms = v as u64,
        },
        Action::TurnLeft | Action::TurnRight => Shape {
            name: "turn_deg",
            grid: &[8.0, 10.0, 12.0, 15.0, 18.0, 20.0, 25.0],
            // the planarity test starts at 12 degrees from the first frame
            floor_index: 2,
            set: |p, v| p.turn_deg = v,
        },
        Action::Nod => Shape {
            name: "nod_down_deg",
            grid: &[5.0, 6.0, 8.0, 10.0, 12.0, 15.0],
            floor_index: 1,
            set: |p, v| p.nod_down_deg = v,
        },
    }
}

/// The labels whose genuine events a fit and the headline figures count:
/// a slow blink answers a blink prompt, so natural blinks (`blink` labels)
/// are reported apart and never fitted to.
pub fn counts_for_fit(action: Action, label: &str) -> bool {
    action != Action::Blink || label == "eyes_closed"
}

/// `base` with window `w` and shape value index `s` for `action`.
pub fn tuned(base: &Tuning, action: Action, w: usize, s: usize) -> Tuning {
    let mut t = base.clone();
    t.prompt.reaction_max_ms = WINDOWS_MS[w];
    let k = shape(action);
    (k.set)(&mut t.params, k.grid[s]);
    t
}

/// Results of every grid point.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// `genuine[placement][window][shape]`: passed.
    pub genuine: Vec<Vec<Vec<bool>>>,
    /// The measured reaction of each placement at the loosest setting
    /// (longest window, loosest shape), when it passed there.
    pub reactions: Vec<Option<u64>>,
    /// `attack[sequence][action][window][shape]`: passes over the schedules.
    pub attack: Vec<Vec<Vec<Vec<u32>>>>,
    /// Schedules per attack cell.
    pub schedules: u32,
}

/// Runs every grid point (the passive gate off in `base`): the genuine
/// placements and `schedules` random schedules of every action on every
/// `attacks` sequence.
pub fn tables(
    engine: &Arc<FaceEngine>,
    clips: &[Recorded],
    placements: &[Placement],
    attacks: &[Recorded],
    schedules: u32,
    base: &Tuning,
    progress: &(dyn Fn() + Sync),
) -> Tables {
    let grid = |a: Action| {
        (0..WINDOWS_MS.len()).flat_map(move |w| (0..shape(a).grid.len()).map(move |s| (w, s)))
    };
    let (genuine, reactions): (Vec<Vec<Vec<bool>>>, Vec<Option<u64>>) = placements
        .par_iter()
        .map(|p| {
            let mut cells = vec![vec![false; shape(p.action).grid.len()]; WINDOWS_MS.len()];
            let mut reaction = None;
            let clip = &clips[p.clip];
            for (w, s) in grid(p.action) {
                let t = tuned(base, p.action, w, s);
                let r = run(
                    engine,
                    clip,
                    ChallengeSpec::Fixed(vec![p.action]),
                    &p.schedule(clip.first_ms, &t),
                    &t,
                );
                cells[w][s] = r.passed;
                if w + 1 == WINDOWS_MS.len() && s == 0 && r.passed {
                    reaction = r.reaction_ms;
                }
            }
            progress();
            (cells, reaction)
        })
        .unzip();
    let jobs: Vec<(usize, Action)> = (0..attacks.len())
        .flat_map(|i| Action::ALL.into_iter().map(move |a| (i, a)))
        .collect();
    let cells: Vec<(AttackJob, Vec<Vec<u32>>)> = jobs
        .par_iter()
        .map(|&(i, a)| {
            let mut cells = vec![vec![0u32; shape(a).grid.len()]; WINDOWS_MS.len()];
            for (w, s) in grid(a) {
                let t = tuned(base, a, w, s);
                cells[w][s] = (0..schedules as u64)
                    .filter(|&k| {
                        run(
                            engine,
                            &attacks[i],
                            ChallengeSpec::Fixed(vec![a]),
                            &Schedule::Nonce(k),
                            &t,
                        )
                        .passed
                    })
                    .count() as u32;
            }
            progress();
            ((i, a), cells)
        })
        .collect();
    let mut attack = vec![vec![Vec::new(); Action::ALL.len()]; attacks.len()];
    for ((i, a), c) in cells {
        attack[i][action_index(a)] = c;
    }
    Tables {
        genuine,
        reactions,
        attack,
        schedules,
    }
}

/// One attack sequence (index) under one action.
type AttackJob = (usize, Action);

/// Index of an action in [`Action::ALL`].
pub fn action_index(a: Action) -> usize {
    Action::ALL.iter().position(|&x| x == a).unwrap_or(0)
}

/// What one fold chose.
#[derive(Debug, Clone, Serialize)]
pub struct ChallengeFit {
    /// The window (ms).
    pub reaction_max_ms: u64,
    /// Per action: the shape knob's name and value.
    pub shapes: BTreeMap<String, (String, f32)>,
    /// Per action: training genuine pass rate and pre-recorded pass rate at the choice.
    pub training: BTreeMap<String, (f64, f64)>,
    /// Why the window was chosen.
    pub note: String,
    #[serde(skip)]
    window_index: usize,
    #[serde(skip)]
    shape_index: [usize; 5],
}

impl ChallengeFit {
    /// The tuning it stands for, on top of `base`.
    pub fn tuning(&self, base: &Tuning) -> Tuning {
        let mut t = base.clone();
        t.prompt.reaction_max_ms = self.reaction_max_ms;
        for a in Action::ALL {
            let k = shape(a);
            (k.set)(&mut t.params, k.grid[self.shape_index[action_index(a)]]);
        }
        t
    }

    /// The chosen grid indices: window, and the shape of `action`.
    pub fn indices(&self, action: Action) -> (usize, usize) {
        (self.window_index, self.shape_index[action_index(action)])
    }
}

/// Pass rate of `action`'s genuine placements in `keep`'s clips at a grid point.
fn genuine_rate(
    t: &Tables,
    placements: &[Placement],
    clips: &[Recorded],
    keep: &dyn Fn(&str) -> bool,
    actions: &[Action],
    w: usize,
    s: usize,
) -> Option<f64> {
    let (mut p, mut n) = (0u32, 0u32);
    for (i, pl) in placements.iter().enumerate() {
        if actions.contains(&pl.action)
            && counts_for_fit(pl.action, &pl.label)
            && keep(&clips[pl.clip].group)
        {
            n += 1;
            p += t.genuine[i][w][s] as u32;
        }
    }
    (n > 0).then(|| p as f64 / n as f64)
}

/// Pre-recorded pass rate of `actions` over `keep`'s sequences at a grid point.
fn attack_rate(
    t: &Tables,
    attacks: &[Recorded],
    keep: &dyn Fn(&str) -> bool,
    actions: &[Action],
    w: usize,
    s: usize,
) -> f64 {
    let (mut p, mut n) = (0u64, 0u64);
    for (i, seq) in attacks.iter().enumerate() {
        if !keep(&seq.group) || seq.species != PRERECORDED {
            continue;
        }
        for &a in actions {
            if let Some(c) = t.attack[i].get(action_index(a)).and_then(|c| c.get(w)) {
                p += c[s] as u64;
                n += t.schedules as u64;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        p as f64 / n as f64
    }
}

/// The knobs: each action, with both turns sharing one.
fn knob_actions() -> [&'static [Action]; 4] {
    [
        &[Action::Blink],
        &[Action::MouthOpen],
        &[Action::TurnLeft, Action::TurnRight],
        &[Action::Nod],
    ]
}

/// Fits the window and the shapes on the people `keep` accepts.
///
/// An action held until a release cue (`base.prompt.release`) completes by
/// the release, not by its shape knob: the knob keeps `base`'s value
/// (reported as such) and is not fitted.
pub fn fit(
    t: &Tables,
    clips: &[Recorded],
    placements: &[Placement],
    attacks: &[Recorded],
    keep: &dyn Fn(&str) -> bool,
    base: &Tuning,
) -> ChallengeFit {
    let held = |a: Action| base.prompt.release.as_ref().is_some_and(|r| r.applies(a));
    // the grid index of `base`'s value of a knob (the nearest one)
    let base_index = |a: Action| {
        let k = shape(a);
        let current = knob_value(&base.params, a);
        k.grid
            .iter()
            .enumerate()
            .min_by(|x, y| (x.1 - current).abs().total_cmp(&(y.1 - current).abs()))
            .map_or(k.floor_index, |(i, _)| i)
    };
    struct Choice {
        shape: [usize; 5],
        training: BTreeMap<String, (f64, f64)>,
    }
    let choose = |w: usize| -> Choice {
        let mut shape_index = [0usize; 5];
        let mut training = BTreeMap::new();
        for acts in knob_actions() {
            let k = shape(acts[0]);
            let n = k.grid.len();
            let s = if acts.iter().all(|&a| held(a)) {
                base_index(acts[0])
            } else {
                (k.floor_index..n)
                    .find(|&s| attack_rate(t, attacks, keep, acts, w, s) <= ATTACK_TARGET)
                    .unwrap_or(n - 1)
            };
            for &a in acts {
                shape_index[action_index(a)] = s;
                let g = genuine_rate(t, placements, clips, keep, &[a], w, s);
                let atk = attack_rate(t, attacks, keep, &[a], w, s);
                training.insert(a.name().to_string(), (g.unwrap_or(f64::NAN), atk));
            }
        }
        Choice {
            shape: shape_index,
            training,
        }
    };
    let training = |p: &Placement| counts_for_fit(p.action, &p.label) && keep(&clips[p.clip].group);
    let any_deliberate = placements.iter().any(|p| training(p) && p.deliberate);
    let mut reactions: Vec<u64> = placements
        .iter()
        .zip(&t.reactions)
        .filter(|(p, _)| training(p) && (p.deliberate || !any_deliberate))
        .filter_map(|(_, r)| *r)
        .collect();
    reactions.sort_unstable();
    let (w, note) = if reactions.is_empty() {
        let w = WINDOWS_MS
            .iter()
            .position(|&x| x >= DEFAULT_WINDOW_MS)
            .unwrap_or(WINDOWS_MS.len() - 1);
        (
            w,
            "no training reaction measured: default window".to_string(),
        )
    } else {
        let i = ((reactions.len() as f64 * REACTION_QUANTILE).ceil() as usize)
            .clamp(1, reactions.len())
            - 1;
        let q = reactions[i];
        let cover = WINDOWS_MS
            .iter()
            .position(|&x| x >= q)
            .unwrap_or(WINDOWS_MS.len() - 1);
        let w = (cover + 1).min(WINDOWS_MS.len() - 1);
        (
            w,
            format!(
                "{} training reactions{}, {:.0}% within {q} ms: window {} ms, one step looser: {} ms",
                reactions.len(),
                if any_deliberate { " to deliberate events" } else { "" },
                100.0 * REACTION_QUANTILE,
                WINDOWS_MS[cover],
                WINDOWS_MS[w]
            ),
        )
    };
    let choices: Vec<Choice> = vec![choose(w)];
    let c = &choices[0];
    ChallengeFit {
        reaction_max_ms: WINDOWS_MS[w],
        shapes: Action::ALL
            .iter()
            .map(|&a| {
                let k = shape(a);
                let name = if held(a) {
                    format!("{} (not fitted: held until the release cue)", k.name)
                } else {
                    k.name.to_string()
                };
                (
                    a.name().to_string(),
                    (name, k.grid[c.shape[action_index(a)]]),
                )
            })
            .collect(),
        training: c.training.clone(),
        note,
        window_index: w,
        shape_index: c.shape,
    }
}

/// The passive gate of a fold: a tenth of the lowest genuine session median.
pub fn fit_pad(genuine_medians: &[f32], fallback: f32) -> f32 {
    let lo = genuine_medians
        .iter()
        .copied()
        .filter(|m| m.is_finite())
        .fold(f32::INFINITY, f32::min);
    if lo.is_finite() {
        lo / PAD_MARGIN
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_gate_is_a_decade_below_the_lowest_genuine() {
        assert!((fit_pad(&[0.9, 0.3, 1.0], 0.5) - 0.03).abs() < 1e-6);
        assert_eq!(fit_pad(&[], 0.5), 0.5);
    }

    #[test]
    fn shape_grids_go_from_loose_to_strict() {
        for a in Action::ALL {
            let k = shape(a);
            assert!(k.grid.windows(2).all(|w| w[0] < w[1]), "{}", k.name);
            assert!(k.floor_index < k.grid.len());
        }
    }
}
