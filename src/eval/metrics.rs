//! Verification and PAD metrics: ROC, AUC, EER, TAR at FAR, thresholds for a
//! target FAR, and exact (Clopper-Pearson) confidence bounds on an error rate.
//! Convention everywhere: a pair is accepted when `score >= threshold`. Pure code.

use serde::Serialize;

/// Sorted copies of the two score sets; NaNs are removed (and counted).
#[derive(Debug, Clone)]
pub struct Scores {
    /// Genuine (same person / bona fide) scores, ascending.
    pub genuine: Vec<f32>,
    /// Impostor (different person / attack) scores, ascending.
    pub impostor: Vec<f32>,
    /// Scores dropped because they were NaN.
    pub dropped_nan: usize,
}

impl Scores {
    /// Builds sorted score sets.
    pub fn new(mut genuine: Vec<f32>, mut impostor: Vec<f32>) -> Self {
        let before = genuine.len() + impostor.len();
        genuine.retain(|s| !s.is_nan());
        impostor.retain(|s| !s.is_nan());
        let dropped_nan = before - genuine.len() - impostor.len();
        genuine.sort_by(f32::total_cmp);
        impostor.sort_by(f32::total_cmp);
        Self {
            genuine,
            impostor,
            dropped_nan,
        }
    }

    /// Number of scores in `sorted` that are >= t.
    fn at_or_above(sorted: &[f32], t: f32) -> usize {
        sorted.len() - sorted.partition_point(|&s| s < t)
    }

    /// False-accept rate at a threshold (NaN without impostors).
    pub fn far(&self, t: f32) -> f64 {
        ratio(Self::at_or_above(&self.impostor, t), self.impostor.len())
    }

    /// True-accept rate at a threshold (NaN without genuine scores).
    pub fn tar(&self, t: f32) -> f64 {
        ratio(Self::at_or_above(&self.genuine, t), self.genuine.len())
    }

    /// Number of impostors accepted at a threshold.
    pub fn false_accepts(&self, t: f32) -> u64 {
        Self::at_or_above(&self.impostor, t) as u64
    }

    /// Area under the ROC curve: P(genuine > impostor) + P(equal) / 2.
    pub fn auc(&self) -> Option<f64> {
        if self.genuine.is_empty() || self.impostor.is_empty() {
            return None;
        }
        let mut total = 0.0f64;
        for &g in &self.genuine {
            let below = self.impostor.partition_point(|&s| s < g);
            let equal = self.impostor.partition_point(|&s| s <= g) - below;
            total += below as f64 + 0.5 * equal as f64;
        }
        Some(total / (self.genuine.len() as f64 * self.impostor.len() as f64))
    }

    /// Candidate thresholds: every distinct score, plus one above the maximum.
    fn thresholds(&self) -> Vec<f32> {
        let mut t: Vec<f32> = self.genuine.iter().chain(&self.impostor).copied().collect();
        t.sort_by(f32::total_cmp);
        t.dedup();
        if let Some(&max) = t.last() {
            t.push(next_up(max));
        }
        t
    }

    /// Equal error rate and its threshold: the threshold where FAR and FRR are
    /// closest, EER their mean there.
    pub fn eer(&self) -> Option<(f64, f32)> {
        if self.genuine.is_empty() || self.impostor.is_empty() {
            return None;
        }
        let mut best: Option<(f64, f64, f32)> = None;
        for t in self.thresholds() {
            let far = self.far(t);
            let frr = 1.0 - self.tar(t);
            let gap = (far - frr).abs();
            if best.is_none_or(|b| gap < b.0) {
                best = Some((gap, (far + frr) / 2.0, t));
            }
        }
        best.map(|b| (b.1, b.2))
    }

    /// The lowest threshold whose false-accept count is at most `max_false_accepts`.
    pub fn threshold_for_false_accepts(&self, max_false_accepts: usize) -> f32 {
        let n = self.impostor.len();
        if n == 0 {
            return f32::NEG_INFINITY;
        }
        if max_false_accepts >= n {
            return self.impostor[0];
        }
        // Accept strictly above the (k+1)-th highest impostor.
        next_up(self.impostor[n - 1 - max_false_accepts])
    }

    /// The lowest threshold with empirical FAR <= `far`.
    pub fn threshold_at_far(&self, far: f64) -> f32 {
        let k = (far * self.impostor.len() as f64).floor() as usize;
        self.threshold_for_false_accepts(k)
    }

    /// The lowest threshold whose FAR is <= `far` with 95% confidence (the
    /// Clopper-Pearson upper bound of the false accepts at it is <= `far`);
    /// `None` when even zero false accepts cannot show it (too few impostors).
    pub fn conservative_threshold(&self, far: f64) -> Option<f32> {
        let n = self.impostor.len() as u64;
        if n == 0 || upper_bound_95(0, n) > far {
            return None;
        }
        let mut k = (far * n as f64).floor() as u64;
        while k > 0 && upper_bound_95(k, n) > far {
            k -= 1;
        }
        Some(self.threshold_for_false_accepts(k as usize))
    }

    /// ROC points (FAR, TAR) over all thresholds, high threshold first.
    pub fn roc(&self) -> Vec<(f64, f64, f32)> {
        let mut t = self.thresholds();
        t.reverse();
        t.into_iter()
            .map(|t| (self.far(t), self.tar(t), t))
            .collect()
    }
}

fn ratio(k: usize, n: usize) -> f64 {
    if n == 0 {
        f64::NAN
    } else {
        k as f64 / n as f64
    }
}

/// The next representable f32 above `x` (for "strictly above" thresholds).
pub fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f32::from_bits(1);
    }
    let bits = x.to_bits();
    f32::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

/// ln of the binomial CDF P(X <= k) for X ~ Bin(n, p).
fn binom_cdf(k: u64, n: u64, p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let mut ln_c = 0.0f64;
    let mut terms = Vec::with_capacity(k as usize + 1);
    for i in 0..=k.min(n) {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        terms.push(ln_c + i as f64 * lp + (n - i) as f64 * lq);
    }
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (m.exp() * terms.iter().map(|t| (t - m).exp()).sum::<f64>()).min(1.0)
}

/// One-sided 95% upper confidence bound on a rate after `k` events in `n`
/// trials (Clopper-Pearson). For k = 0 it is 1 - 0.05^(1/n) (about 3/n, the
/// "rule of three"). NaN for n = 0.
pub fn upper_bound_95(k: u64, n: u64) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    if k >= n {
        return 1.0;
    }
    if k == 0 {
        return 1.0 - 0.05f64.powf(1.0 / n as f64);
    }
    let (mut lo, mut hi) = (k as f64 / n as f64, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if binom_cdf(k, n, mid) > 0.05 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Whether `n` trials can support a claim of a rate as low as `rate`: even
/// with zero events the 95% upper bound must not exceed it.
pub fn supports(rate: f64, n: u64) -> bool {
    n > 0 && upper_bound_95(0, n) <= rate
}

/// A TAR-at-FAR row of a report.
#[derive(Debug, Clone, Serialize)]
pub struct TarAtFar {
    /// Target FAR.
    pub far: f64,
    /// Whether the impostor count supports this FAR level.
    pub supported: bool,
    /// Threshold giving empirical FAR <= target.
    pub threshold: f32,
    /// TAR at that threshold.
    pub tar: f64,
    /// Measured FAR at that threshold.
    pub measured_far: f64,
    /// False accepts at that threshold.
    pub false_accepts: u64,
}

/// TAR at a FAR level, or an unsupported row.
pub fn tar_at_far(scores: &Scores, far: f64) -> TarAtFar {
    let n = scores.impostor.len() as u64;
    let threshold = scores.threshold_at_far(far);
    TarAtFar {
        far,
        supported: supports(far, n),
        threshold,
        tar: scores.tar(threshold),
        measured_far: scores.far(threshold),
        false_accepts: scores.false_accepts(threshold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation() {
        let s = Scores::new(vec![0.9, 0.8, 0.7], vec![0.1, 0.2, 0.3]);
        assert_eq!(s.auc(), Some(1.0));
        let (eer, t) = s.eer().expect("both sets");
        assert_eq!(eer, 0.0);
        assert!(t > 0.3 && t <= 0.7);
        let t0 = s.threshold_at_far(0.0);
        assert_eq!(s.false_accepts(t0), 0);
        assert_eq!(s.tar(t0), 1.0);
    }

    #[test]
    fn ties_count_half_in_auc_and_never_accept_at_zero_far() {
        let s = Scores::new(vec![0.5, 0.5], vec![0.5, 0.1]);
        // genuine 0.5 vs impostor 0.5 tie -> 0.5 each, vs 0.1 -> 1 each
        assert_eq!(s.auc(), Some((0.5 + 1.0 + 0.5 + 1.0) / 4.0));
        let t = s.threshold_at_far(0.0);
        assert_eq!(s.false_accepts(t), 0);
        assert_eq!(
            s.tar(t),
            0.0,
            "a tie with an impostor cannot be accepted at FAR 0"
        );
    }

    #[test]
    fn inverted_scores_give_auc_zero() {
        let s = Scores::new(vec![0.1], vec![0.9]);
        assert_eq!(s.auc(), Some(0.0));
    }

    #[test]
    fn no_impostors_or_genuine() {
        let s = Scores::new(vec![0.5], vec![]);
        assert!(s.auc().is_none());
        assert!(s.eer().is_none());
        assert!(s.far(0.0).is_nan());
        assert!(s.conservative_threshold(1e-3).is_none());
        assert!(!supports(1e-3, 0));
    }

    #[test]
    fn nan_scores_are_dropped() {
        let s = Scores::new(vec![f32::NAN, 0.9], vec![0.1, f32::NAN]);
        assert_eq!(s.dropped_nan, 2);
        assert_eq!(s.auc(), Some(1.0));
    }

    #[test]
    fn bounds_rule_of_three_and_known_values() {
        // k = 0: 1 - 0.05^(1/n) ~ 3/n
        let b = upper_bound_95(0, 30_000);
        assert!((b - 3.0 / 30_000.0).abs() / b < 0.01, "{b}");
        // k = 1, n = 100: exact Clopper-Pearson one-sided 95% = 0.0466
        let b1 = upper_bound_95(1, 100);
        assert!((b1 - 0.0466).abs() < 5e-4, "{b1}");
        // k = 5, n = 1000: 0.01051
        let b5 = upper_bound_95(5, 1000);
        assert!((b5 - 0.01051).abs() < 2e-4, "{b5}");
        assert!(supports(1e-4, 30_000));
        assert!(!supports(1e-4, 29_000));
    }

    #[test]
    fn far_thresholds_count_exactly() {
        let imp: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let s = Scores::new(vec![0.995, 0.5], imp);
        let t = s.threshold_at_far(0.01);
        assert_eq!(s.false_accepts(t), 10);
        let c = s.conservative_threshold(0.01).expect("supported");
        assert!(c >= t);
        assert!(upper_bound_95(s.false_accepts(c), 1000) <= 0.01);
        let row = tar_at_far(&s, 0.01);
        assert!(row.supported && row.measured_far <= 0.01);
        assert_eq!(row.tar, 0.5);
    }
}
