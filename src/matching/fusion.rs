//! Score-level fusion of two embedders.
//!
//! Rule: each model's cosine is z-normalised with the mean and standard
//! deviation of its **impostor** cosines on the calibration split, and the
//! fused score is their sum. Written as a weighted mean,
//! `s = sum_i w_i * cos_i` with `w_i = (1 / sd_i) / sum_j (1 / sd_j)`, it
//! orders pairs exactly as the z-score sum does (the means only shift it), and
//! it stays a cosine: the fused embedding is the concatenation of
//! `sqrt(w_i) * e_i` (each `e_i` unit length), whose dot product with another
//! fused embedding is `s`. So the calibration table, the 0-100 score and
//! every comparison work on fused embeddings unchanged.

use serde::{Deserialize, Serialize};

pub use super::matcher::{FUSED_MODELS, PERMISSIVE_MODELS};
use super::vector::Embedding;
use crate::error::{Error, Result};
use crate::runtime::models::ModelSpec;

/// One model's part in a fusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusionPart {
    /// Model name.
    pub model: String,
    /// sha256 of the model file.
    pub sha256: String,
    /// Mean impostor cosine on the calibration split.
    pub impostor_mean: f32,
    /// Standard deviation of the impostor cosines on the calibration split.
    pub impostor_sd: f32,
    /// Weight of this model's cosine in the fused score (weights sum to 1).
    pub weight: f32,
}

/// A fitted fusion rule (stored in the fused calibration table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    /// The rule, in words.
    pub rule: String,
    /// The models, in the order their embeddings are concatenated.
    pub parts: Vec<FusionPart>,
}

/// Mean and (population) standard deviation; `None` for fewer than two values.
pub(crate) fn mean_sd(values: &[f32]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    Some((mean, var.sqrt()))
}

impl Fusion {
    /// Fits the z-normalisation from each model's impostor cosines
    /// (`impostors[i]` for `models[i]`, calibration split only).
    pub fn fit(models: &[ModelSpec], impostors: &[Vec<f32>]) -> Result<Self> {
        if models.len() < 2 || models.len() != impostors.len() {
            return Err(Error::invalid(
                "fusion",
                "needs at least two models, one impostor set each",
            ));
        }
        let mut stats = Vec::with_capacity(models.len());
        for (spec, cosines) in models.iter().zip(impostors) {
            match mean_sd(cosines) {
                Some((m, sd)) if sd.is_finite() && sd > 1e-6 && m.is_finite() => {
                    stats.push((spec, m, sd))
                }
                _ => {
                    return Err(Error::invalid(
                        "fusion",
                        format!("{}: too few or constant impostor cosines", spec.name),
                    ))
                }
            }
        }
        let inv_sum: f64 = stats.iter().map(|(_, _, sd)| 1.0 / sd).sum();
        let fusion = Self {
            rule: "z-score sum over impostor statistics of the calibration split, as a \
                   weighted mean of cosines: w_i = (1/sd_i) / sum_j (1/sd_j)"
                .into(),
            parts: stats
                .into_iter()
                .map(|(spec, m, sd)| FusionPart {
                    model: spec.name.to_string(),
                    sha256: spec.sha256.to_string(),
                    impostor_mean: m as f32,
                    impostor_sd: sd as f32,
                    weight: ((1.0 / sd) / inv_sum) as f32,
                })
                .collect(),
        };
        fusion.validate()?;
        Ok(fusion)
    }

    /// Checks the weights: finite, positive, summing to 1.
    pub fn validate(&self) -> Result<()> {
        let sum: f32 = self.parts.iter().map(|p| p.weight).sum();
        let ok = self.parts.len() >= 2
            && self
                .parts
                .iter()
                .all(|p| p.weight.is_finite() && p.weight > 0.0)
            && (sum - 1.0).abs() < 1e-4;
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "fusion",
                "weights must be positive and sum to 1",
            ))
        }
    }

    /// The weights, in part order.
    pub fn weights(&self) -> Vec<f32> {
        self.parts.iter().map(|p| p.weight).collect()
    }
}

/// The fused embedding of one face from its per-model embeddings: the
/// concatenation of `sqrt(w_i) * e_i`.
pub fn fuse(parts: &[Embedding], weights: &[f32]) -> Result<Embedding> {
    if parts.len() != weights.len() || parts.is_empty() {
        return Err(Error::invalid(
            "fusion",
            format!("{} embeddings for {} weights", parts.len(), weights.len()),
        ));
    }
    let mut v = Vec::with_capacity(parts.iter().map(Embedding::dim).sum());
    for (e, &w) in parts.iter().zip(weights) {
        let s = w.max(0.0).sqrt();
        v.extend(e.as_slice().iter().map(|x| x * s));
    }
    Embedding::from_raw(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::vector::dot;
    use crate::runtime::models::{FR_FEATURE, MOBILEFACENET};

    #[test]
    fn fused_cosine_is_the_weighted_mean() {
        let a1 = Embedding::from_raw(vec![1.0, 0.0]).expect("a1");
        let b1 = Embedding::from_raw(vec![0.6, 0.8]).expect("b1");
        let a2 = Embedding::from_raw(vec![0.0, 1.0, 0.0]).expect("a2");
        let b2 = Embedding::from_raw(vec![0.0, -1.0, 0.0]).expect("b2");
        let w = [0.25, 0.75];
        let fa = fuse(&[a1.clone(), a2.clone()], &w).expect("fa");
        let fb = fuse(&[b1.clone(), b2.clone()], &w).expect("fb");
        let want =
            0.25 * dot(a1.as_slice(), b1.as_slice()) + 0.75 * dot(a2.as_slice(), b2.as_slice());
        assert!((fa.similarity(&fb).expect("dim") - want).abs() < 1e-6);
        assert_eq!(fa.dim(), 5);
    }

    #[test]
    fn weights_follow_the_impostor_spread() {
        let narrow: Vec<f32> = (0..100).map(|i| 0.1 + 0.001 * (i % 10) as f32).collect();
        let wide: Vec<f32> = (0..100).map(|i| 0.1 + 0.003 * (i % 10) as f32).collect();
        let f = Fusion::fit(&[MOBILEFACENET, FR_FEATURE], &[narrow, wide]).expect("fits");
        let w = f.weights();
        assert!((w[0] - 0.75).abs() < 1e-3, "{w:?}");
        assert!((w[1] - 0.25).abs() < 1e-3, "{w:?}");
        assert!(Fusion::fit(
            &[MOBILEFACENET, FR_FEATURE],
            &[vec![0.5; 10], vec![0.1, 0.2]]
        )
        .is_err());
        assert!(fuse(&[Embedding::from_raw(vec![1.0]).expect("e")], &[0.5, 0.5]).is_err());
    }
}
