//! Offline evaluation: embed a labelled image set once (in parallel), score
//! pairs (a pairs file, or all-vs-all within each source), and compute ROC,
//! AUC, EER, TAR at FAR with confidence bounds; compute the FAR -> threshold
//! calibration table shipped in `models/calibration_<matcher>.json`.
//!
//! Images that fail (unreadable, no face, several faces) are listed with their
//! error code and excluded from every figure; they are never scored as matches
//! or non-matches.

pub mod attacks;
pub mod challenge;
pub mod challenge_fit;
pub mod clips;
pub mod dataset;
pub mod degrade;
pub mod metrics;
pub mod pad;
pub mod pad_scorer;
pub mod puppet;
// templates are measured on video clips
#[cfg(feature = "video")]
pub mod template;

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::FaceEngine;
use crate::error::Result;
use crate::matching::compare::{Calibration, CalibrationPoint};
use crate::matching::embed::{dot, Embedding};
use crate::matching::fusion::{fuse, Fusion};
use dataset::{LabelledImage, Pair, Split};
use metrics::{tar_at_far, upper_bound_95, Scores, TarAtFar};

/// FAR levels reported and calibrated.
pub const FAR_LEVELS: [f64; 5] = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6];

/// The outcome of one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageOutcome {
    /// Path relative to the root.
    pub path: String,
    /// Faces the detector found (None if the image could not be read).
    pub faces: Option<usize>,
    /// Error name if the image failed.
    pub error: Option<String>,
    /// Error message if the image failed.
    pub message: Option<String>,
    /// The embedding, if the image succeeded.
    #[serde(skip)]
    pub embedding: Option<Embedding>,
    /// Each network's own embedding (one for a single-model matcher, two
    /// for the fused one), if the image succeeded.
    #[serde(skip)]
    pub parts: Vec<Embedding>,
}

/// Which embedding of an outcome a scoring pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The matcher's embedding.
    Matcher,
    /// One network's own embedding (index into [`ImageOutcome::parts`]).
    Part(usize),
}

impl Side {
    fn of(self, o: &ImageOutcome) -> Option<&Embedding> {
        match self {
            Side::Matcher => o.embedding.as_ref(),
            Side::Part(i) => o.parts.get(i),
        }
    }
}

/// Embeds every image under `root` in parallel (rayon's current pool);
/// `progress` is called once per finished image. With `degrade`, each photo
/// is first made a small compressed ID photo ([`degrade::degrade_reference`]).
pub fn embed_all(
    engine: &FaceEngine,
    root: &Path,
    images: &[LabelledImage],
    degrade: bool,
    progress: &(dyn Fn() + Sync),
) -> Vec<ImageOutcome> {
    images
        .par_iter()
        .map(|item| {
            let out = embed_one(engine, root, &item.path, degrade);
            progress();
            out
        })
        .collect()
}

fn embed_one(engine: &FaceEngine, root: &Path, path: &str, degrade: bool) -> ImageOutcome {
    let mut out = ImageOutcome {
        path: path.to_string(),
        faces: None,
        error: None,
        message: None,
        embedding: None,
        parts: Vec::new(),
    };
    let result = engine.load(root.join(path)).and_then(|img| {
        let img = if degrade {
            degrade::degrade_reference(engine, &img)?
        } else {
            img
        };
        let faces = engine.detect(&img)?;
        out.faces = Some(faces.len());
        let face = engine.select_face(faces)?;
        let map = engine.landmarks(&img, &face)?.map;
        let flip = engine.config().flip_fusion;
        let embedder = engine.embedder();
        let parts = embedder
            .embed_parts(&[(&img, map)], flip)?
            .pop()
            .unwrap_or_default();
        // Without fitted weights (calibrating a fused matcher after a model
        // change), an equal-weight stand-in marks the face as embedded;
        // `refuse` replaces it once the fusion is fitted.
        let embedding = if embedder.is_fitted() {
            embedder.combine(parts.clone())?
        } else {
            fuse(&parts, &vec![1.0 / parts.len().max(1) as f32; parts.len()])?
        };
        Ok((embedding, parts))
    });
    match result {
        Ok((e, parts)) => {
            out.embedding = Some(e);
            out.parts = parts;
        }
        Err(e) => {
            out.error = Some(e.code().name().to_string());
            out.message = Some(e.to_string());
        }
    }
    out
}

/// A scored pair (indices into the image list).
#[derive(Debug, Clone, Copy)]
pub struct ScoredPair {
    /// First image index.
    pub a: usize,
    /// Second image index.
    pub b: usize,
    /// Same identity.
    pub same: bool,
    /// Cosine similarity.
    pub similarity: f32,
}

/// Scores the pairs of a pairs file whose both images embedded: the first
/// image of a pair from `refs` (the reference side), the second from
/// `probes` (pass the same outcomes twice for plain photo pairs).
pub fn score_pairs(
    images: &[LabelledImage],
    refs: &[ImageOutcome],
    probes: &[ImageOutcome],
    pairs: &[Pair],
) -> Vec<ScoredPair> {
    score_pairs_by(images, refs, probes, pairs, Side::Matcher)
}

/// [`score_pairs`] on the chosen embedding of each outcome.
pub fn score_pairs_by(
    images: &[LabelledImage],
    refs: &[ImageOutcome],
    probes: &[ImageOutcome],
    pairs: &[Pair],
    side: Side,
) -> Vec<ScoredPair> {
    let index: HashMap<&str, usize> = images
        .iter()
        .enumerate()
        .map(|(i, m)| (m.path.as_str(), i))
        .collect();
    pairs
        .iter()
        .filter_map(|p| {
            let (a, b) = (*index.get(p.a.as_str())?, *index.get(p.b.as_str())?);
            let (ea, eb) = (side.of(refs.get(a)?)?, side.of(probes.get(b)?)?);
            Some(ScoredPair {
                a,
                b,
                same: p.same,
                similarity: ea.similarity(eb).ok()?,
            })
        })
        .collect()
}

/// Scores every pair of embedded images within the same source (all-vs-all),
/// in parallel: for images a < b, a's outcome from `refs` (the reference
/// side) against b's from `probes` (pass the same outcomes twice for plain
/// photo pairs). Pairs never cross sources (a grey 1990s scan against a
/// colour web photo is no test of anything).
pub fn score_all_vs_all(
    images: &[LabelledImage],
    refs: &[ImageOutcome],
    probes: &[ImageOutcome],
) -> Vec<ScoredPair> {
    score_all_vs_all_by(images, refs, probes, Side::Matcher)
}

/// [`score_all_vs_all`] on the chosen embedding of each outcome.
pub fn score_all_vs_all_by(
    images: &[LabelledImage],
    refs: &[ImageOutcome],
    probes: &[ImageOutcome],
    side: Side,
) -> Vec<ScoredPair> {
    let ok = |o: &[ImageOutcome], i: usize| o.get(i).is_some_and(|x| side.of(x).is_some());
    let idx: Vec<usize> = (0..images.len())
        .filter(|&i| ok(refs, i) || ok(probes, i))
        .collect();
    idx.par_iter()
        .enumerate()
        .flat_map_iter(|(k, &a)| {
            let ea = refs
                .get(a)
                .and_then(|o| side.of(o))
                .map(Embedding::as_slice)
                .unwrap_or(&[]);
            idx[k + 1..].iter().filter_map(move |&b| {
                if ea.is_empty() || images[a].source != images[b].source {
                    return None;
                }
                let eb = side.of(probes.get(b)?)?.as_slice();
                Some(ScoredPair {
                    a,
                    b,
                    same: images[a].identity == images[b].identity,
                    similarity: dot(ea, eb).clamp(-1.0, 1.0),
                })
            })
        })
        .collect()
}

/// Splits scored pairs into genuine and impostor score sets.
pub fn to_scores(pairs: &[ScoredPair]) -> Scores {
    let (g, i): (Vec<&ScoredPair>, Vec<&ScoredPair>) = pairs.iter().partition(|p| p.same);
    Scores::new(
        g.iter().map(|p| p.similarity).collect(),
        i.iter().map(|p| p.similarity).collect(),
    )
}

/// The figures of a verification report.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    /// Identities split used.
    pub split: Split,
    /// Images considered.
    pub n_images: usize,
    /// Images that failed (excluded).
    pub n_failed: usize,
    /// The failed images per reason: the error code's name (`NO_FACE`,
    /// `FACE_TOO_SMALL`, `DECODE_ERROR`, ...) -> count.
    pub failed_by_reason: std::collections::BTreeMap<String, usize>,
    /// Images with at least one detected face.
    pub n_detected: usize,
    /// Genuine pairs scored.
    pub n_genuine: usize,
    /// Impostor pairs scored.
    pub n_impostor: usize,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// Equal error rate.
    pub eer: Option<f64>,
    /// Threshold at the EER.
    pub eer_threshold: Option<f32>,
    /// TAR at each FAR level ("1e-2" ...).
    pub tar_at_far: std::collections::BTreeMap<String, TarAtFar>,
    /// The default decision threshold (shipped calibration, FAR 1e-4 row).
    pub default_threshold: f32,
    /// FAR the default threshold was calibrated for.
    pub default_far_target: f64,
    /// Measured FAR at the default threshold.
    pub far_at_default_threshold: f64,
    /// False accepts at the default threshold.
    pub false_accepts_at_default_threshold: u64,
    /// 95% upper bound on the FAR at the default threshold (Clopper-Pearson).
    pub far_upper_95_at_default_threshold: f64,
    /// Measured TAR at the default threshold.
    pub tar_at_default_threshold: f64,
    /// Plain statement of what the data supports.
    pub confidence_statement: String,
    /// Whether the shipped calibration was computed from data.
    pub calibration_measured: bool,
    /// Flip fusion used.
    pub flip_fusion: bool,
}

/// The images that failed to embed, counted per error code name (an
/// outcome without an embedding or an error counts as `UNKNOWN`).
pub fn failed_by_reason(outcomes: &[ImageOutcome]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.embedding.is_none()) {
        let name = o.error.clone().unwrap_or_else(|| "UNKNOWN".to_string());
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

/// Label of a FAR level, e.g. "1e-4".
pub fn far_label(far: f64) -> String {
    format!("1e-{}", (-far.log10()).round() as i32)
}

/// Builds the report from scored pairs.
pub fn match_report(
    split: Split,
    outcomes: &[ImageOutcome],
    scores: &Scores,
    calibration: &Calibration,
    default_far: f64,
    flip_fusion: bool,
) -> Result<MatchReport> {
    let default = calibration.threshold_for(default_far)?;
    let n_imp = scores.impostor.len() as u64;
    let fa = scores.false_accepts(default.threshold);
    let upper = upper_bound_95(fa, n_imp);
    let mut tar = std::collections::BTreeMap::new();
    for far in FAR_LEVELS {
        if n_imp > 0 && far * n_imp as f64 >= 1.0 {
            tar.insert(far_label(far), tar_at_far(scores, far));
        }
    }
    let eer = scores.eer();
    let confidence_statement = if n_imp == 0 {
        "no impostor pairs: no FAR can be stated".to_string()
    } else {
        format!(
            "{fa} false accepts in {n_imp} impostor pairs at threshold {:.4}: measured FAR {:.2e}, \
             95% upper bound {:.2e}{}",
            default.threshold,
            fa as f64 / n_imp as f64,
            upper,
            if upper <= default.far {
                format!(" <= target {:.0e}: the target holds with 95% confidence", default.far)
            } else if (fa as f64 / n_imp as f64) <= default.far {
                format!(
                    "; the measured FAR meets the target {:.0e}, but {n_imp} pairs cannot show it with 95% confidence",
                    default.far
                )
            } else {
                format!(" > target {:.0e}: the target is NOT met", default.far)
            }
        )
    };
    Ok(MatchReport {
        split,
        n_images: outcomes.len(),
        n_failed: outcomes.iter().filter(|o| o.embedding.is_none()).count(),
        failed_by_reason: failed_by_reason(outcomes),
        n_detected: outcomes
            .iter()
            .filter(|o| o.faces.is_some_and(|n| n > 0))
            .count(),
        n_genuine: scores.genuine.len(),
        n_impostor: scores.impostor.len(),
        auc: scores.auc(),
        eer: eer.map(|e| e.0),
        eer_threshold: eer.map(|e| e.1),
        tar_at_far: tar,
        default_threshold: default.threshold,
        default_far_target: default.far,
        far_at_default_threshold: scores.far(default.threshold),
        false_accepts_at_default_threshold: fa,
        far_upper_95_at_default_threshold: upper,
        tar_at_default_threshold: scores.tar(default.threshold),
        confidence_statement,
        calibration_measured: calibration.calibrated,
        flip_fusion,
    })
}

/// Computes a calibration table: for each FAR level the impostor count can
/// support, the lowest threshold whose FAR is <= the level with 95%
/// confidence (so a threshold is never looser than the data can vouch for).
pub fn calibrate(
    scores: &Scores,
    matcher: crate::Matcher,
    flip_fusion: bool,
    alignment: crate::config::Alignment,
    source: String,
    fusion: Option<Fusion>,
) -> Result<Calibration> {
    let n = scores.impostor.len() as u64;
    let mut points = Vec::new();
    for far in FAR_LEVELS {
        if let Some(t) = scores.conservative_threshold(far) {
            points.push(CalibrationPoint {
                far,
                threshold: t,
                n_impostor: n,
                false_accepts: scores.false_accepts(t),
            });
        }
    }
    let (model, model_sha256) = match (&fusion, matcher.single_model()) {
        (None, Some(spec)) => (spec.name.to_string(), spec.sha256.to_string()),
        (None, None) => {
            return Err(crate::Error::invalid(
                "calibration",
                "a fused matcher's table needs its fitted fusion",
            ))
        }
        (Some(f), _) => (
            crate::matching::compare::table_model(matcher),
            f.parts
                .iter()
                .map(|p| p.sha256.as_str())
                .collect::<Vec<_>>()
                .join("+"),
        ),
    };
    let cal = Calibration {
        model,
        model_sha256,
        flip_fusion,
        alignment,
        calibrated: true,
        source,
        points,
        fusion,
    };
    // Round-trip through the validator (monotone, in range).
    Calibration::from_json(
        &serde_json::to_string(&cal)
            .map_err(|e| crate::Error::invalid("calibration", e.to_string()))?,
    )
}

/// Fits the fusion of a several-network matcher on these (calibration
/// split) outcomes: each network's impostor cosines, all-vs-all within each
/// source, give its z-normalisation.
pub fn fit_fusion(
    matcher: crate::Matcher,
    images: &[LabelledImage],
    outcomes: &[ImageOutcome],
) -> Result<Fusion> {
    let specs = matcher.models();
    let impostors: Vec<Vec<f32>> = (0..specs.len())
        .map(|i| {
            score_all_vs_all_by(images, outcomes, outcomes, Side::Part(i))
                .into_iter()
                .filter(|p| !p.same)
                .map(|p| p.similarity)
                .collect()
        })
        .collect();
    Fusion::fit(specs, &impostors)
}

/// Re-fuses every outcome's parts with `fusion`'s weights (after fitting).
pub fn refuse(outcomes: &mut [ImageOutcome], fusion: &Fusion) -> Result<()> {
    let w = fusion.weights();
    for o in outcomes.iter_mut().filter(|o| o.embedding.is_some()) {
        o.embedding = Some(fuse(&o.parts, &w)?);
    }
    Ok(())
}

/// One candidate's figures on the report split.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Network (or fusion) name.
    pub name: String,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// Equal error rate.
    pub eer: Option<f64>,
    /// TAR at FAR 1e-3 (on the curve).
    pub tar_at_1e_3: Option<f64>,
    /// TAR at FAR 1e-4 (on the curve).
    pub tar_at_1e_4: Option<f64>,
}

impl Candidate {
    /// The figures of one score set.
    pub fn of(name: &str, scores: &Scores) -> Self {
        let n = scores.impostor.len() as f64;
        let tar = |far: f64| (far * n >= 1.0).then(|| tar_at_far(scores, far).tar);
        Self {
            name: name.to_string(),
            auc: scores.auc(),
            eer: scores.eer().map(|e| e.0),
            tar_at_1e_3: tar(1e-3),
            tar_at_1e_4: tar(1e-4),
        }
    }
}
