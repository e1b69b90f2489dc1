//! The passive presentation-attack model (`fr_liveness.onnx`) on one frame.
//!
//! It needs the context around the face (the screen's or the print's edge,
//! moiré, the hand): its crop is the face box scaled 2.7x about its centre,
//! made smaller only where the frame is smaller, and shifted to stay inside
//! the frame; resized to 128x128, fed as raw 0..255 **BGR** values, NCHW.
//! Softmax index 0 is "real". On face-only crops it is worse than chance, and
//! one frame is too noisy to decide: [`super::pad::PadEvidence`] fuses a
//! session's frames.

use std::path::Path;

use image::RgbImage;

use crate::config::RuntimeConfig;
use crate::error::Result;
use crate::geometry::BBox;
use crate::models;
use crate::runtime::OnnxModel;
use crate::warp::sample;

/// Crop side of the model.
pub const PAD_INPUT: usize = 128;
/// Crop size over the face box.
pub const PAD_SCALE: f32 = 2.7;

/// The passive PAD stage. Build once; `Send + Sync`.
#[derive(Debug)]
pub struct PadModel {
    model: OnnxModel,
}

/// The crop of a face box in a `w x h` frame: (x, y, width, height).
pub fn pad_crop(face: &BBox, w: u32, h: u32) -> (f32, f32, f32, f32) {
    let (fw, fh) = (w as f32 - 1.0, h as f32 - 1.0);
    let bw = face.w.max(1.0);
    let bh = face.h.max(1.0);
    let scale = PAD_SCALE.min(fh / bh).min(fw / bw).max(0.0);
    let (nw, nh) = (bw * scale, bh * scale);
    let (cx, cy) = (face.x + bw / 2.0, face.y + bh / 2.0);
    let mut x0 = cx - nw / 2.0;
    let mut y0 = cy - nh / 2.0;
    x0 = x0.min(fw - nw).max(0.0);
    y0 = y0.min(fh - nh).max(0.0);
    (x0, y0, nw.max(1.0), nh.max(1.0))
}

impl PadModel {
    /// Loads the model from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::PAD_LIVENESS, dir, rt)?,
        })
    }

    /// P(real) of the face in `face` (0..1).
    pub fn real_probability(&self, img: &RgbImage, face: &BBox) -> Result<f32> {
        let (x0, y0, cw, ch) = pad_crop(face, img.width(), img.height());
        let n = PAD_INPUT;
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
        Ok(self.model.classify((1, 3, n, n), buf, 3)?[0])
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
