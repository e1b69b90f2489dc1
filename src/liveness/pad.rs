//! Passive presentation-attack detection at session level.
//!
//! One frame of the passive model ([`super::pad_model`]) is too noisy for a
//! gate (at APCER 1% it rejects about half of live frames), but a session's
//! frames together separate live faces from screens: the session scores a
//! face frame every [`PadOptions::interval_ms`] and fuses the scores by their
//! **median** (robust to a few odd frames in either direction). The gate fails
//! a session whose median P(real) is below [`PadOptions::threshold`]; the
//! threshold ships from a leave-one-clip-out fit on the shared clips
//! (`realface eval liveness`, see `docs/EVALUATION.md`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Default gate on the session's median P(real), fitted by
/// leave-one-clip-out cross-validation (`realface eval liveness`).
pub const DEFAULT_PAD_THRESHOLD: f32 = 0.0057;

/// How a session scores and gates the passive model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PadOptions {
    /// Score a face frame at most every this many ms.
    pub interval_ms: u64,
    /// Scored frames needed before a verdict (the session waits for them).
    pub min_samples: usize,
    /// FAIL when the median P(real) is below this.
    pub threshold: f32,
    /// Turn the gate off (the score is still measured and reported).
    pub enabled: bool,
}

impl Default for PadOptions {
    fn default() -> Self {
        Self {
            interval_ms: 100,
            min_samples: 6,
            threshold: DEFAULT_PAD_THRESHOLD,
            enabled: true,
        }
    }
}

impl PadOptions {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold.is_finite() && (0.0..1.0).contains(&self.threshold)) {
            return Err(Error::invalid("pad.threshold", "must be in [0, 1)"));
        }
        if self.min_samples == 0 || self.min_samples > 1000 {
            return Err(Error::invalid("pad.min_samples", "must be in 1..=1000"));
        }
        Ok(())
    }
}

/// The session's passive evidence so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PadEvidence {
    /// Frames scored.
    pub samples: usize,
    /// Median P(real) over them (None before the first).
    pub median_real: Option<f32>,
    /// The gate it is held against.
    pub threshold: f32,
    #[serde(skip)]
    scores: Vec<f32>,
    #[serde(skip)]
    last_ms: Option<u64>,
}

impl PadEvidence {
    /// Empty evidence against a gate.
    pub fn new(threshold: f32) -> Self {
        Self {
            threshold,
            ..Self::default()
        }
    }

    /// Whether a face frame at `t_ms` should be scored.
    pub fn due(&self, t_ms: u64, interval_ms: u64) -> bool {
        self.last_ms
            .is_none_or(|l| t_ms.saturating_sub(l) >= interval_ms)
    }

    /// Adds one frame's P(real) (a non-finite value counts as 0: fail closed).
    pub fn push(&mut self, t_ms: u64, p_real: f32) {
        let p = if p_real.is_finite() {
            p_real.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.scores.push(p);
        self.last_ms = Some(t_ms);
        self.samples = self.scores.len();
        self.median_real = median(&self.scores);
    }

    /// The scores, in order.
    pub fn scores(&self) -> &[f32] {
        &self.scores
    }

    /// Whether the evidence says "presentation attack" (fails closed: no
    /// evidence is an attack).
    pub fn is_attack(&self) -> bool {
        !self.median_real.is_some_and(|m| m >= self.threshold)
    }

    /// 0..100: under 50 below the gate (50 x median / threshold), 60..100
    /// above it (log scale from the gate to certainty).
    pub fn score(&self) -> f32 {
        let Some(m) = self.median_real else {
            return 0.0;
        };
        let t = self.threshold.max(1e-6);
        if m < t {
            return 50.0 * m / t;
        }
        let span = -t.ln();
        let above = (m.max(1e-6).ln() - t.ln()) / span.max(1e-6);
        60.0 + 40.0 * above.clamp(0.0, 1.0)
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

    #[test]
    fn median_fuses_and_gate_fails_closed() {
        let mut e = PadEvidence::new(0.03);
        assert!(e.is_attack(), "no evidence is an attack");
        for (i, p) in [0.9, 0.01, 0.95, 0.99, f32::NAN].into_iter().enumerate() {
            e.push(i as u64 * 100, p);
        }
        assert_eq!(e.samples, 5);
        assert_eq!(e.median_real, Some(0.9));
        assert!(!e.is_attack());
        assert!(e.score() > 60.0 && e.score() <= 100.0);
        let mut s = PadEvidence::new(0.03);
        for i in 0..6 {
            s.push(i * 100, 0.001);
        }
        assert!(s.is_attack());
        assert!(s.score() < 50.0);
    }

    #[test]
    fn due_respects_the_interval() {
        let mut e = PadEvidence::new(0.5);
        assert!(e.due(0, 100));
        e.push(0, 1.0);
        assert!(!e.due(50, 100));
        assert!(e.due(100, 100));
    }

    #[test]
    fn options_are_checked() {
        assert!(PadOptions::default().validate().is_ok());
        let bad = PadOptions {
            threshold: f32::NAN,
            ..PadOptions::default()
        };
        assert!(bad.validate().is_err());
    }
}
