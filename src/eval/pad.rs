//! ISO/IEC 30107-3 presentation-attack-detection metrics for any scorer that
//! gives each image a liveness score (higher = more likely bona fide; a
//! presentation is accepted as bona fide when `score >= threshold`):
//! APCER per attack species (and the worst), BPCER, BPCER at APCER 1% / 5%
//! (thresholds set so that *every* species meets the APCER), and the D-EER.
//! Images the pipeline cannot process (no face) are rejected presentations:
//! an error for bona fide (counted in BPCER), a success for attacks.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::{next_up, Scores};

/// One scored presentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PadScore {
    /// `live` or the attack species.
    pub label: String,
    /// Whether it is bona fide.
    pub bona_fide: bool,
    /// Liveness score; `None` when the image could not be processed (rejected).
    pub score: Option<f32>,
}

/// Metrics at one threshold.
#[derive(Debug, Clone, Serialize)]
pub struct PadOperatingPoint {
    /// Threshold (accept as bona fide when score >= threshold).
    pub threshold: f32,
    /// APCER per species.
    pub apcer: BTreeMap<String, f64>,
    /// Worst APCER over species.
    pub apcer_max: f64,
    /// BPCER.
    pub bpcer: f64,
}

/// A PAD report.
#[derive(Debug, Clone, Serialize)]
pub struct PadReport {
    /// Cue / detector name.
    pub detector: String,
    /// Bona fide presentations.
    pub n_bona_fide: usize,
    /// Attack presentations per species.
    pub n_attacks: BTreeMap<String, usize>,
    /// Presentations the pipeline could not process, per label.
    pub n_unprocessed: BTreeMap<String, usize>,
    /// Operating point with every species' APCER <= 1%.
    pub at_apcer_1pct: PadOperatingPoint,
    /// Operating point with every species' APCER <= 5%.
    pub at_apcer_5pct: PadOperatingPoint,
    /// D-EER: where the worst APCER and the BPCER meet.
    pub d_eer: PadOperatingPoint,
    /// AUC of bona fide vs each species (0.5 = chance; < 0.5 = the cue is inverted).
    pub auc_per_species: BTreeMap<String, f64>,
}

const REJECTED: f32 = f32::NEG_INFINITY;

fn species(scores: &[PadScore]) -> BTreeMap<String, Vec<f32>> {
    let mut m: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    for s in scores.iter().filter(|s| !s.bona_fide) {
        m.entry(s.label.clone())
            .or_default()
            .push(s.score.unwrap_or(REJECTED));
    }
    m
}

fn bona_fide(scores: &[PadScore]) -> Vec<f32> {
    scores
        .iter()
        .filter(|s| s.bona_fide)
        .map(|s| s.score.unwrap_or(REJECTED))
        .collect()
}

/// Metrics at a threshold.
pub fn operating_point(scores: &[PadScore], threshold: f32) -> PadOperatingPoint {
    let bf = bona_fide(scores);
    let rejected_bf = bf
        .iter()
        .filter(|&&s| s < threshold || s == REJECTED)
        .count();
    let bpcer = if bf.is_empty() {
        f64::NAN
    } else {
        rejected_bf as f64 / bf.len() as f64
    };
    let mut apcer = BTreeMap::new();
    for (name, v) in species(scores) {
        let accepted = v
            .iter()
            .filter(|&&s| s != REJECTED && s >= threshold)
            .count();
        apcer.insert(name, accepted as f64 / v.len().max(1) as f64);
    }
    let apcer_max = apcer.values().copied().fold(0.0, f64::max);
    PadOperatingPoint {
        threshold,
        apcer,
        apcer_max,
        bpcer,
    }
}

/// The lowest threshold at which every species' APCER is <= `max_apcer`.
pub fn threshold_at_apcer(scores: &[PadScore], max_apcer: f64) -> f32 {
    species(scores)
        .values()
        .map(|v| {
            let s = Scores::new(
                Vec::new(),
                v.iter().copied().filter(|&x| x != REJECTED).collect(),
            );
            let allowed = (max_apcer * v.len() as f64).floor() as usize;
            // rejected attacks already count as correct; only processed ones can be accepted
            s.threshold_for_false_accepts(allowed)
        })
        .fold(f32::NEG_INFINITY, f32::max)
}

/// The full report for one detector.
pub fn pad_report(detector: &str, scores: &[PadScore]) -> PadReport {
    let mut n_attacks = BTreeMap::new();
    let mut n_unprocessed = BTreeMap::new();
    for s in scores {
        if !s.bona_fide {
            *n_attacks.entry(s.label.clone()).or_insert(0) += 1;
        }
        if s.score.is_none() {
            *n_unprocessed.entry(s.label.clone()).or_insert(0) += 1;
        }
    }
    let bf: Vec<f32> = bona_fide(scores);
    let mut auc_per_species = BTreeMap::new();
    for (name, v) in species(scores) {
        if let Some(a) = Scores::new(bf.clone(), v).auc() {
            auc_per_species.insert(name, a);
        }
    }
    // D-EER: sweep every distinct score.
    let mut candidates: Vec<f32> = scores
        .iter()
        .filter_map(|s| s.score)
        .filter(|s| s.is_finite())
        .collect();
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    if let Some(&m) = candidates.last() {
        candidates.push(next_up(m));
    }
    let d_eer = candidates
        .iter()
        .map(|&t| operating_point(scores, t))
        .min_by(|a, b| {
            (a.apcer_max - a.bpcer)
                .abs()
                .total_cmp(&(b.apcer_max - b.bpcer).abs())
        })
        .unwrap_or_else(|| operating_point(scores, 0.0));
    PadReport {
        detector: detector.to_string(),
        n_bona_fide: bf.len(),
        n_attacks,
        n_unprocessed,
        at_apcer_1pct: operating_point(scores, threshold_at_apcer(scores, 0.01)),
        at_apcer_5pct: operating_point(scores, threshold_at_apcer(scores, 0.05)),
        d_eer,
        auc_per_species,
    }
}

/// (APCER_max, BPCER) pairs over all thresholds, for a DET plot.
pub fn det_curve(scores: &[PadScore]) -> Vec<(f64, f64)> {
    let mut t: Vec<f32> = scores
        .iter()
        .filter_map(|s| s.score)
        .filter(|s| s.is_finite())
        .collect();
    t.sort_by(f32::total_cmp);
    t.dedup();
    let step = (t.len() / 400).max(1);
    t.iter()
        .step_by(step)
        .map(|&th| {
            let p = operating_point(scores, th);
            (p.apcer_max, p.bpcer)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(label: &str, score: Option<f32>) -> PadScore {
        PadScore {
            label: label.into(),
            bona_fide: label == "live",
            score,
        }
    }

    #[test]
    fn apcer_per_species_and_worst() {
        let v = vec![
            s("live", Some(0.9)),
            s("live", Some(0.8)),
            s("live", Some(0.2)),
            s("live", None),
            s("print", Some(0.1)),
            s("print", Some(0.85)),
            s("replay", Some(0.3)),
            s("replay", None),
        ];
        let p = operating_point(&v, 0.5);
        assert_eq!(p.apcer["print"], 0.5);
        assert_eq!(p.apcer["replay"], 0.0, "an unprocessed attack is rejected");
        assert_eq!(p.apcer_max, 0.5);
        assert_eq!(
            p.bpcer, 0.5,
            "low score and unprocessed bona fide are both errors"
        );
    }

    #[test]
    fn threshold_meets_apcer_for_every_species() {
        let mut v: Vec<PadScore> = (0..100)
            .map(|i| s("live", Some(0.5 + i as f32 / 200.0)))
            .collect();
        v.extend((0..100).map(|i| s("print", Some(i as f32 / 100.0))));
        v.extend((0..50).map(|i| s("replay", Some(i as f32 / 100.0))));
        let t = threshold_at_apcer(&v, 0.01);
        let p = operating_point(&v, t);
        assert!(p.apcer.values().all(|&a| a <= 0.01), "{p:?}");
        let r = pad_report("x", &v);
        assert!(r.at_apcer_5pct.bpcer <= r.at_apcer_1pct.bpcer);
        assert!(r.auc_per_species["replay"] > r.auc_per_species["print"]);
        assert!(!det_curve(&v).is_empty());
    }

    #[test]
    fn perfect_cue_has_zero_errors() {
        let v = vec![
            s("live", Some(1.0)),
            s("live", Some(0.9)),
            s("print", Some(0.1)),
        ];
        let r = pad_report("x", &v);
        assert_eq!(r.at_apcer_1pct.apcer_max, 0.0);
        assert_eq!(r.at_apcer_1pct.bpcer, 0.0);
        assert_eq!(r.d_eer.bpcer, 0.0);
    }
}
