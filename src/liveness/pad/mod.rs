//! Passive presentation-attack detection at session level.
//!
//! One frame of a passive model ([`model`]) is too noisy for a
//! gate (at APCER 1% `fr_liveness` rejects about half of live frames), but a
//! session's frames together separate live faces from screens and prints:
//! the session scores a face frame every [`PadOptions::interval_ms`] with
//! both passive models and fuses each model's scores by their **median**
//! (robust to a few odd frames in either direction). With
//! [`PadChoice::Both`] (the default) the session fails when either model's
//! median P(real) is below its gate ([`PadOptions::threshold`] for
//! `fr_liveness`, [`PadOptions::minifasnet_threshold`] for the MiniFASNets):
//! an attack must fool two independent models.
//!
//! Each gate is placed from the genuine sessions' distribution with a
//! margin: a tenth of the lowest genuine session median of the training
//! people (`realface eval challenge`, see `docs/EVALUATION.md`), never
//! between one replay and the genuine clips.

use serde::{Deserialize, Serialize};

pub use self::model::PadChoice;
use self::model::PadScores;
use crate::error::{Error, Result};

pub mod model;

/// Default `fr_liveness` gate on the session's median P(real): a tenth of
/// the lowest genuine session median on the shared data (`apfol_real2`,
/// 0.298; `realface eval challenge`).
pub const DEFAULT_PAD_THRESHOLD: f32 = 0.0298;

/// Default MiniFASNet gate: a tenth of the lowest genuine session median
/// (`lp_d19`, 0.824).
pub const DEFAULT_MINIFASNET_THRESHOLD: f32 = 0.0824;

/// How a session scores and gates the passive models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PadOptions {
    /// Score a face frame at most every this many ms.
    pub interval_ms: u64,
    /// Scored frames needed before a verdict (the session waits for them).
    pub min_samples: usize,
    /// FAIL when `fr_liveness`'s median P(real) is below this.
    pub threshold: f32,
    /// FAIL when the MiniFASNets' median P(real) is below this.
    pub minifasnet_threshold: f32,
    /// Which models the gate reads.
    pub model: PadChoice,
    /// Turn the gate off (the scores are still measured and reported).
    pub enabled: bool,
}

impl Default for PadOptions {
    fn default() -> Self {
        Self {
            interval_ms: 100,
            min_samples: 6,
            threshold: DEFAULT_PAD_THRESHOLD,
            minifasnet_threshold: DEFAULT_MINIFASNET_THRESHOLD,
            model: PadChoice::Both,
            enabled: true,
        }
    }
}

impl PadOptions {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        for (name, t) in [
            ("pad.threshold", self.threshold),
            ("pad.minifasnet_threshold", self.minifasnet_threshold),
        ] {
            if !(t.is_finite() && (0.0..1.0).contains(&t)) {
                return Err(Error::invalid(name, "must be in [0, 1)"));
            }
        }
        if self.min_samples == 0 || self.min_samples > 1000 {
            return Err(Error::invalid("pad.min_samples", "must be in 1..=1000"));
        }
        Ok(())
    }
}

/// The session's passive evidence so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PadEvidence {
    /// Frames scored.
    pub samples: usize,
    /// Median P(real) of `fr_liveness` (None before the first).
    pub median_real: Option<f32>,
    /// Its gate.
    pub threshold: f32,
    /// Median P(real) of the MiniFASNets.
    pub median_minifasnet: Option<f32>,
    /// Its gate.
    pub minifasnet_threshold: f32,
    /// Which models the gate reads.
    pub model: PadChoice,
    #[serde(skip)]
    fr: Vec<f32>,
    #[serde(skip)]
    mf: Vec<f32>,
}

impl Default for PadEvidence {
    fn default() -> Self {
        Self::new(&PadOptions::default())
    }
}

/// A probability that fails closed: a non-finite value counts as 0.
fn clean(p: f32) -> f32 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// 0..100 of one median against its gate: under 50 below it (50 x median /
/// gate), 60..100 above it (log scale from the gate to certainty).
fn gate_score(median: Option<f32>, gate: f32) -> f32 {
    let Some(m) = median else {
        return 0.0;
    };
    let t = gate.max(1e-6);
    if m < t {
        return 50.0 * m / t;
    }
    let span = -t.ln();
    let above = (m.max(1e-6).ln() - t.ln()) / span.max(1e-6);
    60.0 + 40.0 * above.clamp(0.0, 1.0)
}

impl PadEvidence {
    /// Empty evidence against the gates of `options`.
    pub fn new(options: &PadOptions) -> Self {
        Self {
            samples: 0,
            median_real: None,
            threshold: options.threshold,
            median_minifasnet: None,
            minifasnet_threshold: options.minifasnet_threshold,
            model: options.model,
            fr: Vec::new(),
            mf: Vec::new(),
        }
    }

    /// Adds one frame's scores.
    pub fn push(&mut self, s: PadScores) {
        self.fr.push(clean(s.fr_liveness));
        self.mf.push(clean(s.minifasnet));
        self.samples = self.fr.len();
        self.median_real = median(&self.fr);
        self.median_minifasnet = median(&self.mf);
    }

    /// `fr_liveness`'s scores, in order.
    pub fn scores(&self) -> &[f32] {
        &self.fr
    }

    fn gates(&self) -> [(bool, Option<f32>, f32); 2] {
        let (fr, mf) = match self.model {
            PadChoice::FrLiveness => (true, false),
            PadChoice::Minifasnet => (false, true),
            PadChoice::Both => (true, true),
        };
        [
            (fr, self.median_real, self.threshold),
            (mf, self.median_minifasnet, self.minifasnet_threshold),
        ]
    }

    /// Whether the evidence says "presentation attack": a read median below
    /// its gate (fails closed: no evidence is an attack).
    pub fn is_attack(&self) -> bool {
        self.gates()
            .iter()
            .any(|&(on, m, t)| on && !m.is_some_and(|m| m >= t))
    }

    /// 0..100: the lowest of the read models' gate scores.
    pub fn score(&self) -> f32 {
        self.gates()
            .iter()
            .filter(|g| g.0)
            .map(|&(_, m, t)| gate_score(m, t))
            .fold(100.0, f32::min)
    }
}

/// Median of a slice (None when empty).
pub fn median(v: &[f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(fr: f32, mf: f32) -> PadScores {
        PadScores {
            fr_liveness: fr,
            minifasnet: mf,
        }
    }

    #[test]
    fn medians_fuse_and_either_gate_fails_closed() {
        let o = PadOptions {
            threshold: 0.03,
            minifasnet_threshold: 0.08,
            ..PadOptions::default()
        };
        let mut e = PadEvidence::new(&o);
        assert!(e.is_attack(), "no evidence is an attack");
        for p in [0.9, 0.01, 0.95, 0.99, f32::NAN] {
            e.push(both(p, 0.9));
        }
        assert_eq!(e.samples, 5);
        assert_eq!(e.median_real, Some(0.9));
        assert!(!e.is_attack());
        assert!(e.score() > 60.0 && e.score() <= 100.0);
        // one model fooled, the other not: an attack
        let mut s = PadEvidence::new(&o);
        for _ in 0..6 {
            s.push(both(0.99, 0.01));
        }
        assert!(s.is_attack());
        assert!(s.score() < 50.0);
        // the same with the gate on fr_liveness alone passes
        let mut fr_only = PadEvidence::new(&PadOptions {
            model: PadChoice::FrLiveness,
            ..o
        });
        for _ in 0..6 {
            fr_only.push(both(0.99, 0.01));
        }
        assert!(!fr_only.is_attack());
    }

    #[test]
    fn options_are_checked() {
        assert!(PadOptions::default().validate().is_ok());
        let bad = PadOptions {
            threshold: f32::NAN,
            ..PadOptions::default()
        };
        assert!(bad.validate().is_err());
        let bad = PadOptions {
            minifasnet_threshold: 1.5,
            ..PadOptions::default()
        };
        assert!(bad.validate().is_err());
    }
}
