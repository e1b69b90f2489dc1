//! The passive presentation-attack models on one frame: `fr_liveness.onnx`
//! and Minivision's two MiniFASNets (`minifasnet_v2.onnx`,
//! `minifasnet_v1se.onnx`, converted by `scripts/models/minifasnet.py`).
//!
//! They need the context around the face (the screen's or the print's edge,
//! moiré, the hand): each crop is the face box scaled about its centre
//! (2.7x for `fr_liveness` and MiniFASNetV2, 4.0x for MiniFASNetV1SE), made
//! smaller only where the frame is smaller, and shifted to stay inside the
//! frame; resized to the model's input (128 or 80 pixels), fed as raw 0..255
//! **BGR** values, NCHW. The "real" class is softmax index 0 for
//! `fr_liveness`, 1 for the MiniFASNets (upstream averages the two
//! MiniFASNets' softmax). On face-only crops `fr_liveness` is worse than
//! chance, and one frame is too noisy to decide:
//! [`super::PadEvidence`] fuses a session's frames.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::imaging::geometry::BBox;
use crate::imaging::warp::sample;
use crate::runtime::models::{self, ModelSpec};
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;

/// Which passive models the gate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadChoice {
    /// `fr_liveness.onnx` alone.
    FrLiveness,
    /// The two MiniFASNets alone (softmax averaged, upstream's rule).
    Minifasnet,
    /// Both: either model's gate fails the session.
    Both,
}

/// Crop side of `fr_liveness`.
pub const PAD_INPUT: usize = 128;
/// Crop size over the face box of `fr_liveness` and MiniFASNetV2.
pub const PAD_SCALE: f32 = 2.7;

/// One frame's P(real) from every passive model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PadScores {
    /// `fr_liveness.onnx`.
    pub fr_liveness: f32,
    /// MiniFASNetV2 and MiniFASNetV1SE averaged.
    pub minifasnet: f32,
}

impl PadScores {
    /// The P(real) of one model; for [`PadChoice::Both`] the lower of the two.
    pub fn pick(&self, choice: PadChoice) -> f32 {
        match choice {
            PadChoice::FrLiveness => self.fr_liveness,
            PadChoice::Minifasnet => self.minifasnet,
            PadChoice::Both => self.fr_liveness.min(self.minifasnet),
        }
    }
}

/// One passive network and how it reads a face.
#[derive(Debug)]
struct Net {
    model: OnnxModel,
    input: usize,
    scale: f32,
    real: usize,
}

impl Net {
    fn load(
        spec: ModelSpec,
        dir: &Path,
        rt: &RuntimeConfig,
        scale: f32,
        real: usize,
    ) -> Result<Self> {
        let input = spec.input.shape.last().copied().unwrap_or(0).max(1) as usize;
        Ok(Self {
            model: OnnxModel::load(spec, dir, rt)?,
            input,
            scale,
            real,
        })
    }

    fn real_probability(&self, img: &RgbImage, face: &BBox) -> Result<f32> {
        let (x0, y0, cw, ch) = scaled_crop(face, img.width(), img.height(), self.scale);
        let n = self.input;
        let plane = n * n;
        let mut buf = vec![0f32; 3 * plane];
        let (sx, sy) = (cw / n as f32, ch / n as f32);
        for v in 0..n {
            let y = y0 + (v as f32 + 0.5) * sy - 0.5;
            for u in 0..n {
                let x = x0 + (u as f32 + 0.5) * sx - 0.5;
                let p = sample(img, x, y).unwrap_or([0.0; 3]);
                let i = v * n + u;
                // BGR planes
                buf[i] = p[2];
                buf[plane + i] = p[1];
                buf[2 * plane + i] = p[0];
            }
        }
        let probs = self.model.classify((1, 3, n, n), buf, 3)?;
        Ok(probs.get(self.real).copied().unwrap_or(0.0))
    }
}

/// The passive PAD stage. Build once; `Send + Sync`.
#[derive(Debug)]
pub struct PadModel {
    fr: Net,
    v2: Net,
    v1se: Net,
    parallel: bool,
}

/// The crop of a face box in a `w x h` frame at `fr_liveness`'s scale.
pub fn pad_crop(face: &BBox, w: u32, h: u32) -> (f32, f32, f32, f32) {
    scaled_crop(face, w, h, PAD_SCALE)
}

/// The face box scaled `scale` times about its centre, shrunk to fit the
/// frame and shifted inside it: (x, y, width, height).
pub fn scaled_crop(face: &BBox, w: u32, h: u32, scale: f32) -> (f32, f32, f32, f32) {
    let (fw, fh) = (w as f32 - 1.0, h as f32 - 1.0);
    let bw = face.w.max(1.0);
    let bh = face.h.max(1.0);
    let scale = scale.min(fh / bh).min(fw / bw).max(0.0);
    let (nw, nh) = (bw * scale, bh * scale);
    let (cx, cy) = (face.x + bw / 2.0, face.y + bh / 2.0);
    let mut x0 = cx - nw / 2.0;
    let mut y0 = cy - nh / 2.0;
    x0 = x0.min(fw - nw).max(0.0);
    y0 = y0.min(fh - nh).max(0.0);
    (x0, y0, nw.max(1.0), nh.max(1.0))
}

impl PadModel {
    /// Loads the models from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            fr: Net::load(models::PAD_LIVENESS, dir, rt, PAD_SCALE, 0)?,
            v2: Net::load(models::MINIFASNET_V2, dir, rt, 2.7, 1)?,
            v1se: Net::load(models::MINIFASNET_V1SE, dir, rt, 4.0, 1)?,
            parallel: rt.parallel_stages,
        })
    }

    /// P(real) of `fr_liveness` for the face in `face` (0..1).
    pub fn real_probability(&self, img: &RgbImage, face: &BBox) -> Result<f32> {
        self.fr.real_probability(img, face)
    }

    /// P(real) of every passive model. With
    /// [`RuntimeConfig::parallel_stages`], `fr_liveness` runs beside the two
    /// MiniFASNets on rayon's pool (about as long as both together): the
    /// same scores as one after the other, sooner when a second core is free.
    pub fn scores(&self, img: &RgbImage, face: &BBox) -> Result<PadScores> {
        let fr = || self.fr.real_probability(img, face);
        let mf = || -> Result<f32> {
            let v2 = self.v2.real_probability(img, face)?;
            let v1se = self.v1se.real_probability(img, face)?;
            Ok(0.5 * (v2 + v1se))
        };
        let (fr, mf) = if self.parallel {
            rayon::join(fr, mf)
        } else {
            (fr(), mf())
        };
        Ok(PadScores {
            fr_liveness: fr?,
            minifasnet: mf?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_is_scaled_and_kept_inside() {
        let face = BBox {
            x: 100.0,
            y: 100.0,
            w: 100.0,
            h: 100.0,
        };
        let (x, y, w, h) = pad_crop(&face, 1000, 1000);
        assert!((w - 270.0).abs() < 1e-3 && (h - 270.0).abs() < 1e-3);
        assert!((x - 15.0).abs() < 1e-3 && (y - 15.0).abs() < 1e-3);
        // near the corner: shifted inside
        let face = BBox {
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 100.0,
        };
        let (x, y, ..) = pad_crop(&face, 1000, 1000);
        assert_eq!((x, y), (0.0, 0.0));
        // a frame smaller than 2.7x the face: the crop shrinks to fit
        let face = BBox {
            x: 50.0,
            y: 50.0,
            w: 200.0,
            h: 200.0,
        };
        let (x, y, w, h) = pad_crop(&face, 300, 400);
        assert!(
            w <= 299.0 + 1e-3 && x >= 0.0 && x + w <= 299.0 + 1e-3,
            "{x} {w}"
        );
        assert!(y >= 0.0 && y + h <= 399.0 + 1e-3);
    }
}
