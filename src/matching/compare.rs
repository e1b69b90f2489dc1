//! Face comparison: cosine similarity, the same/different decision at the
//! threshold calibrated for a target false-accept rate, and a 0-100 score.
//!
//! The FAR -> threshold table is data (`models/calibration_<matcher>.json`), written by
//! `realface calibrate` on a calibration split of labelled faces and shipped
//! with the library. The 0-100 score is a monotone, piecewise-linear map of the
//! similarity through fixed anchors: similarity -1 -> 0, the thresholds for
//! FAR 1e-2 / 1e-3 / 1e-4 / 1e-5 / 1e-6 -> 70 / 80 / 90 / 95 / 97.5, and 1 -> 100
//! (anchors the table lacks are skipped). So "score >= 90" means "at least as
//! strict as FAR 1e-4", as commercial services publish it.

use serde::{Deserialize, Serialize};

use crate::matching::matcher::{Alignment, Matcher};

use crate::error::{Error, Result};
use crate::matching::embed::Embedding;
use crate::matching::fusion::Fusion;

/// The `model` of a fused calibration table.
pub const FUSED_MODEL_NAME: &str = "mobilefacenet+fr_feature";

/// Whether a similarity passes a threshold, failing closed: only a finite
/// similarity at or above it passes (NaN and infinities never do). Every
/// threshold decision (photo compare, session match, same face throughout)
/// goes through here.
pub(crate) fn passes(similarity: f32, threshold: f32) -> bool {
    similarity.is_finite() && similarity >= threshold
}

/// The `model` name a table for `matcher` carries: the network's, or the
/// fused networks' joined by `+` (`FUSED_MODEL_NAME` for `fused`).
pub fn table_model(matcher: Matcher) -> String {
    let names: Vec<&str> = matcher.models().iter().map(|m| m.name).collect();
    names.join("+")
}

/// The default decision FAR: 1e-4 (one false accept in ten thousand impostor attempts).
pub const DEFAULT_FAR: f64 = 1e-4;

/// Score anchors: (FAR, score at that FAR's threshold).
pub const SCORE_ANCHORS: [(f64, f32); 5] = [
    (1e-2, 70.0),
    (1e-3, 80.0),
    (1e-4, 90.0),
    (1e-5, 95.0),
    (1e-6, 97.5),
];

/// One row of the calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    /// Target false-accept rate.
    pub far: f64,
    /// Cosine-similarity threshold: accept when similarity >= threshold.
    pub threshold: f32,
    /// Impostor pairs the threshold was computed from.
    #[serde(default)]
    pub n_impostor: u64,
    /// False accepts at this threshold on the calibration split.
    #[serde(default)]
    pub false_accepts: u64,
}

/// A FAR -> threshold table for one embedder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Embedding model name.
    pub model: String,
    /// sha256 of the embedding model the table belongs to.
    pub model_sha256: String,
    /// Whether embeddings were flip-fused when calibrating.
    pub flip_fusion: bool,
    /// The alignment the faces were embedded with (`mesh` for tables that
    /// name none).
    #[serde(default)]
    pub alignment: Alignment,
    /// `true` when computed from labelled data by `realface calibrate`.
    pub calibrated: bool,
    /// Where the numbers come from (data, split, command).
    pub source: String,
    /// Rows, strictest last.
    pub points: Vec<CalibrationPoint>,
    /// For a fused matcher: the fitted fusion rule (weights per model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fusion: Option<Fusion>,
}

const SHIPPED: &str = include_str!("../../models/calibration_mobilefacenet.json");
const SHIPPED_FLIP: &str = include_str!("../../models/calibration_mobilefacenet_flip.json");
const SHIPPED_FUSED: &str = include_str!("../../models/calibration_fused.json");
const SHIPPED_FUSED_FLIP: &str = include_str!("../../models/calibration_fused_flip.json");
const SHIPPED_W600K: &str = include_str!("../../models/calibration_w600k_mbf.json");
const SHIPPED_W600K_FLIP: &str = include_str!("../../models/calibration_w600k_mbf_flip.json");
const SHIPPED_PERMISSIVE: &str = include_str!("../../models/calibration_permissive.json");
const SHIPPED_PERMISSIVE_FLIP: &str = include_str!("../../models/calibration_permissive_flip.json");

impl Calibration {
    /// The table shipped with the library for a matcher, with or without
    /// flip fusion.
    pub fn shipped(matcher: Matcher, flip_fusion: bool) -> Result<Self> {
        let text = match (matcher, flip_fusion) {
            (Matcher::MobileFaceNet, false) => SHIPPED,
            (Matcher::MobileFaceNet, true) => SHIPPED_FLIP,
            (Matcher::Fused, false) => SHIPPED_FUSED,
            (Matcher::Fused, true) => SHIPPED_FUSED_FLIP,
            (Matcher::W600kMbf, false) => SHIPPED_W600K,
            (Matcher::W600kMbf, true) => SHIPPED_W600K_FLIP,
            (Matcher::Permissive, false) => SHIPPED_PERMISSIVE,
            (Matcher::Permissive, true) => SHIPPED_PERMISSIVE_FLIP,
        };
        let c = Self::from_json(text)?;
        if c.flip_fusion != flip_fusion {
            return Err(Error::invalid(
                "calibration",
                "shipped table has the wrong flip_fusion flag",
            ));
        }
        c.check_matcher(matcher)?;
        Ok(c)
    }

    /// Whether this table was fitted with `alignment`: embeddings aligned
    /// otherwise would be judged against thresholds that do not hold for them.
    pub fn check_alignment(&self, alignment: Alignment) -> Result<()> {
        if self.alignment == alignment {
            Ok(())
        } else {
            Err(Error::invalid(
                "calibration",
                format!(
                    "table fitted with the {} alignment, the engine aligns with {} \
                     (calibrate a table for it with `realface --alignment {} calibrate`)",
                    self.alignment.name(),
                    alignment.name(),
                    alignment.name()
                ),
            ))
        }
    }

    /// A table with no rows for `matcher`: every threshold lookup, so every
    /// decision, is an error (the engine's stand-in while a table is being
    /// computed; see [`crate::FaceEngine::for_calibration`]).
    pub fn empty(matcher: Matcher, flip_fusion: bool, alignment: Alignment) -> Self {
        Self {
            model: table_model(matcher),
            model_sha256: String::new(),
            flip_fusion,
            alignment,
            calibrated: false,
            source: "none: not calibrated yet".into(),
            points: Vec::new(),
            fusion: None,
        }
    }

    /// Whether this table belongs to `matcher`: a fused table carries its
    /// fusion weights, a single-model table none.
    pub fn check_matcher(&self, matcher: Matcher) -> Result<()> {
        let ok = self.fusion.is_some() == matcher.is_fusion() && self.model == table_model(matcher);
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "calibration",
                format!(
                    "table for `{}` does not belong to the {} matcher",
                    self.model,
                    matcher.name()
                ),
            ))
        }
    }

    /// Parses and validates a table: FARs in (0, 1), thresholds finite in
    /// [-1, 1], and thresholds rising as the FAR falls.
    pub fn from_json(text: &str) -> Result<Self> {
        let mut c: Calibration =
            serde_json::from_str(text).map_err(|e| Error::invalid("calibration", e.to_string()))?;
        if c.points.is_empty() {
            return Err(Error::invalid("calibration", "no points"));
        }
        c.points.sort_by(|a, b| b.far.total_cmp(&a.far));
        for p in &c.points {
            let far_ok = p.far > 0.0 && p.far < 1.0;
            if !far_ok || !p.threshold.is_finite() || p.threshold.abs() > 1.0 {
                return Err(Error::invalid("calibration", format!("bad point {p:?}")));
            }
        }
        if c.points.windows(2).any(|w| w[1].threshold < w[0].threshold) {
            return Err(Error::invalid(
                "calibration",
                "thresholds must rise as FAR falls",
            ));
        }
        if let Some(f) = &c.fusion {
            f.validate()?;
        }
        Ok(c)
    }

    /// The threshold for a target FAR: the row with the largest FAR that is
    /// still <= the target (never a looser one). Errors when the target is
    /// stricter than the table supports, or not in (0, 1).
    pub fn threshold_for(&self, far: f64) -> Result<CalibrationPoint> {
        if !(far > 0.0 && far < 1.0) {
            return Err(Error::invalid("far", format!("{far} is outside (0, 1)")));
        }
        self.points
            .iter()
            .find(|p| p.far <= far * (1.0 + 1e-9))
            .copied()
            .ok_or_else(|| {
                let min = self.points.last().map(|p| p.far).unwrap_or(f64::NAN);
                Error::invalid(
                    "far",
                    format!("{far} is stricter than the calibrated minimum {min}"),
                )
            })
    }

    /// The monotone 0-100 score of a similarity (see the module docs).
    pub fn score(&self, similarity: f32) -> f32 {
        let mut anchors: Vec<(f32, f32)> = vec![(-1.0, 0.0)];
        for (far, score) in SCORE_ANCHORS {
            if let Some(p) = self
                .points
                .iter()
                .find(|p| (p.far - far).abs() <= far * 1e-6)
            {
                if p.threshold > anchors.last().map(|a| a.0).unwrap_or(-1.0) {
                    anchors.push((p.threshold, score));
                }
            }
        }
        anchors.push((1.0, 100.0));
        if !similarity.is_finite() {
            return 0.0;
        }
        let s = similarity.clamp(-1.0, 1.0);
        for w in anchors.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if s <= x1 {
                let t = if x1 > x0 { (s - x0) / (x1 - x0) } else { 1.0 };
                return y0 + t * (y1 - y0);
            }
        }
        100.0
    }

    /// Compares two embeddings at a target FAR.
    pub fn decide(&self, a: &Embedding, b: &Embedding, far: f64) -> Result<Decision> {
        let similarity = a.similarity(b)?;
        let point = self.threshold_for(far)?;
        Ok(Decision {
            similarity,
            score: self.score(similarity),
            threshold: point.threshold,
            far_target: point.far,
            same_person: passes(similarity, point.threshold),
            calibrated: self.calibrated,
        })
    }
}

/// The outcome of a 1:1 comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Decision {
    /// Cosine similarity of the two embeddings.
    pub similarity: f32,
    /// 0-100 score (see [`Calibration::score`]).
    pub score: f32,
    /// Decision threshold on the similarity.
    pub threshold: f32,
    /// The FAR the threshold was calibrated for.
    pub far_target: f64,
    /// `similarity >= threshold`.
    pub same_person: bool,
    /// Whether the threshold comes from a measured calibration.
    pub calibrated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Calibration {
        Calibration {
            model: "m".into(),
            model_sha256: String::new(),
            flip_fusion: false,
            alignment: Alignment::Mesh,
            calibrated: true,
            source: "test".into(),
            fusion: None,
            points: vec![
                CalibrationPoint {
                    far: 1e-2,
                    threshold: 0.3,
                    n_impostor: 0,
                    false_accepts: 0,
                },
                CalibrationPoint {
                    far: 1e-3,
                    threshold: 0.4,
                    n_impostor: 0,
                    false_accepts: 0,
                },
                CalibrationPoint {
                    far: 1e-4,
                    threshold: 0.5,
                    n_impostor: 0,
                    false_accepts: 0,
                },
            ],
        }
    }

    #[test]
    fn a_table_that_names_no_alignment_is_a_mesh_table() {
        let mut v = serde_json::to_value(table()).expect("json");
        v.as_object_mut().expect("object").remove("alignment");
        let c = Calibration::from_json(&v.to_string()).expect("parses");
        assert_eq!(c.alignment, Alignment::Mesh);
        assert!(c.check_alignment(Alignment::Scrfd).is_err());
        assert!(c.check_alignment(Alignment::Mesh).is_ok());
    }

    #[test]
    fn threshold_never_looser_than_asked() {
        let t = table();
        assert_eq!(t.threshold_for(1e-4).expect("in table").threshold, 0.5);
        assert_eq!(t.threshold_for(5e-4).expect("between").threshold, 0.5);
        assert_eq!(t.threshold_for(0.5).expect("loose").threshold, 0.3);
        assert!(t.threshold_for(1e-5).is_err());
        assert!(t.threshold_for(f64::NAN).is_err());
        assert!(t.threshold_for(0.0).is_err());
    }

    #[test]
    fn score_is_monotone_through_anchors() {
        let t = table();
        assert!((t.score(0.5) - 90.0).abs() < 1e-4);
        assert!((t.score(0.4) - 80.0).abs() < 1e-4);
        assert!((t.score(-1.0)).abs() < 1e-4);
        assert!((t.score(1.0) - 100.0).abs() < 1e-4);
        let mut last = -1.0;
        for i in 0..=200 {
            let s = t.score(-1.0 + i as f32 / 100.0);
            assert!(s >= last);
            last = s;
        }
        assert_eq!(t.score(f32::NAN), 0.0);
    }

    #[test]
    fn rejects_non_monotone_tables() {
        let mut t = table();
        t.points[2].threshold = 0.1;
        let json = serde_json::to_string(&t).expect("serialise");
        assert!(Calibration::from_json(&json).is_err());
    }

    #[test]
    fn an_empty_table_decides_nothing() {
        for matcher in Matcher::ALL {
            let t = Calibration::empty(matcher, false, matcher.alignment());
            assert!(!t.calibrated);
            assert!(t.points.is_empty() && t.fusion.is_none());
            assert!(t.threshold_for(DEFAULT_FAR).is_err());
            assert!(t.threshold_for(0.5).is_err());
            let a = Embedding::from_raw(vec![1.0, 0.0]).expect("a");
            assert!(t.decide(&a, &a, DEFAULT_FAR).is_err(), "{matcher:?}");
        }
    }

    #[test]
    fn shipped_table_parses() {
        for flip in [false, true] {
            let c = Calibration::shipped(Matcher::MobileFaceNet, flip)
                .expect("shipped calibration is valid");
            assert!(c.threshold_for(DEFAULT_FAR).is_ok());
            assert_eq!(c.model_sha256, crate::runtime::models::MOBILEFACENET.sha256);
            assert_eq!(c.flip_fusion, flip);
            assert!(c.calibrated);
            let f =
                Calibration::shipped(Matcher::Fused, flip).expect("shipped fused table is valid");
            assert!(f.threshold_for(DEFAULT_FAR).is_ok());
            assert!(f.calibrated);
            let fusion = f.fusion.clone().expect("fused table has weights");
            assert_eq!(
                fusion.parts[0].sha256,
                crate::runtime::models::MOBILEFACENET.sha256
            );
            assert_eq!(
                fusion.parts[1].sha256,
                crate::runtime::models::FR_FEATURE.sha256
            );
            assert!(c.check_matcher(Matcher::Fused).is_err());
            let w = Calibration::shipped(Matcher::W600kMbf, flip).expect("shipped w600k table");
            assert!(w.calibrated && w.fusion.is_none());
            assert_eq!(w.model_sha256, crate::runtime::models::W600K_MBF.sha256);
            assert!(w.threshold_for(DEFAULT_FAR).is_ok());
            assert!(w.check_matcher(Matcher::MobileFaceNet).is_err());
            assert!(c.check_matcher(Matcher::W600kMbf).is_err());
            let p = Calibration::shipped(Matcher::Permissive, flip).expect("permissive table");
            assert!(p.calibrated && p.threshold_for(DEFAULT_FAR).is_ok());
            assert_eq!(p.model, "sface+mobilefacenet+fr_feature");
            let sums: Vec<&str> = p
                .fusion
                .iter()
                .flat_map(|f| &f.parts)
                .map(|x| x.sha256.as_str())
                .collect();
            assert_eq!(
                sums,
                crate::matching::fusion::PERMISSIVE_MODELS.map(|m| m.sha256)
            );
            assert!(p.check_matcher(Matcher::Fused).is_err());
            assert!(f.check_matcher(Matcher::Permissive).is_err());
        }
    }
}
