//! Person segmentation (MediaPipe Selfie Segmentation; `selfie_segmentation.tflite`
//! from `mediapipe==0.10.21`, its custom transposed convolution rewritten as
//! the builtin one, converted to ONNX) and the background mosaic of the Y_M
//! photo: the person stays sharp, everything else is pixelated.

use std::path::Path;

use image::RgbImage;

use crate::error::{Error, Result};
use crate::imaging::geometry::{Affine, BBox};
use crate::imaging::warp::{input_tensor, Normalize};
use crate::runtime::models;
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;

/// Model input side.
pub const SEGMENT_INPUT: u32 = 256;

/// The segmentation stage. Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct Segmenter {
    model: OnnxModel,
}

/// A person-probability mask at model resolution.
#[derive(Debug, Clone)]
pub struct Mask {
    /// 256 x 256 probabilities, row-major.
    pub values: Vec<f32>,
}

impl Mask {
    /// Person probability at image pixel (x, y) of a `w x h` image (nearest cell).
    pub fn at(&self, x: u32, y: u32, w: u32, h: u32) -> f32 {
        let s = SEGMENT_INPUT as usize;
        let u = ((x as usize * s) / w.max(1) as usize).min(s - 1);
        let v = ((y as usize * s) / h.max(1) as usize).min(s - 1);
        self.values.get(v * s + u).copied().unwrap_or(0.0)
    }
}

impl Segmenter {
    /// Loads the model from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::SELFIE_SEGMENTATION, dir, rt)?,
        })
    }

    /// Person probability over the image (plain resize, as the model expects).
    pub fn run(&self, img: &RgbImage) -> Result<Mask> {
        let n = SEGMENT_INPUT as usize;
        let (w, h) = (img.width() as f32, img.height() as f32);
        // output pixel u -> image x = (u + 0.5) * w / n - 0.5
        let map = Affine::scale_translate(
            w / n as f32,
            h / n as f32,
            0.5 * w / n as f32 - 0.5,
            0.5 * h / n as f32 - 0.5,
        );
        let input = input_tensor(img, &map, n, Normalize::UNIT);
        let out = self.model.run(input.view().into_dyn())?;
        let values: Vec<f32> = out
            .first()
            .map(|a| a.iter().copied().collect())
            .unwrap_or_default();
        if values.len() != n * n {
            return Err(Error::Inference {
                stage: "segment",
                message: "mask size".into(),
                source: None,
            });
        }
        Ok(Mask { values })
    }
}

/// Pixelates everything that is neither the person (mask >= 0.5) nor inside
/// the face box enlarged by half its size (so the face always stays clear).
pub fn mosaic_background(img: &RgbImage, mask: &Mask, face: &BBox) -> RgbImage {
    let (w, h) = img.dimensions();
    let block = (w.max(h) / 40).max(4);
    let mut out = img.clone();
    let keep_box = BBox::from_center(face.center().x, face.center().y, face.w * 1.5, face.h * 1.5);
    let keep = |x: u32, y: u32| {
        let (fx, fy) = (x as f32, y as f32);
        let in_face = fx >= keep_box.x
            && fx <= keep_box.x + keep_box.w
            && fy >= keep_box.y
            && fy <= keep_box.y + keep_box.h;
        in_face || mask.at(x, y, w, h) >= 0.5
    };
    for by in (0..h).step_by(block as usize) {
        for bx in (0..w).step_by(block as usize) {
            let (x1, y1) = ((bx + block).min(w), (by + block).min(h));
            let mut acc = [0u64; 3];
            let mut n = 0u64;
            for y in by..y1 {
                for x in bx..x1 {
                    let p = img.get_pixel(x, y);
                    for c in 0..3 {
                        acc[c] += u64::from(p[c]);
                    }
                    n += 1;
                }
            }
            let mean = image::Rgb(acc.map(|v| (v / n.max(1)) as u8));
            for y in by..y1 {
                for x in bx..x1 {
                    if !keep(x, y) {
                        out.put_pixel(x, y, mean);
                    }
                }
            }
        }
    }
    out
}
