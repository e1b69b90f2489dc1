//! 468-point face mesh (MediaPipe Face Mesh; Kartynnik et al. 2019,
//! "Real-time Facial Surface Geometry from Monocular Video on Mobile GPUs").
//!
//! Model: `mediapipe/modules/face_landmark/face_landmark.tflite` from
//! `mediapipe==0.10.21`, converted to ONNX. The crop is the detector box
//! enlarged 1.5x, made square, and rotated so that the eye line is horizontal;
//! the 468 (x, y, z) points come back in crop pixels and are mapped to the
//! original image. The model also scores face presence (0..1).

use std::path::Path;

use image::RgbImage;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::face::detect::{keypoint, Face};
use crate::imaging::geometry::{Affine, BBox, Point};
use crate::imaging::warp::{with_input_tensor, Normalize};
use crate::runtime::models;
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;

/// Model input side in pixels.
pub const MESH_INPUT: u32 = 192;
/// Number of mesh points.
pub const MESH_POINTS: usize = 468;
/// Box enlargement from the detector box to the mesh crop.
pub const ROI_SCALE: f32 = 1.5;

/// Mesh indices of the points realface uses (MediaPipe canonical face mesh).
pub mod index {
    /// Subject's right eye: outer corner, inner corner, upper lid, lower lid.
    pub const RIGHT_EYE: [usize; 4] = [33, 133, 159, 145];
    /// Subject's left eye: outer corner, inner corner, upper lid, lower lid.
    pub const LEFT_EYE: [usize; 4] = [263, 362, 386, 374];
    /// Nose tip.
    pub const NOSE_TIP: usize = 1;
    /// Mouth corners: subject's right, subject's left.
    pub const MOUTH_CORNERS: [usize; 2] = [61, 291];
    /// Inner lips: upper, lower.
    pub const INNER_LIPS: [usize; 2] = [13, 14];
    /// Face outline extremes: subject's right cheek, left cheek, forehead, chin.
    pub const OUTLINE: [usize; 4] = [234, 454, 10, 152];
}

/// A square, rotated region of interest in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Roi {
    /// Centre.
    pub center: Point,
    /// Side length.
    pub side: f32,
    /// Rotation in radians (crop x axis along `(cos, sin)`).
    pub angle: f32,
}

impl Roi {
    /// The mesh crop for a detected face: box centre, 1.5x the longer side,
    /// rotated to level the eyes.
    pub fn from_face(face: &Face) -> Roi {
        let r = face.keypoints[keypoint::RIGHT_EYE];
        let l = face.keypoints[keypoint::LEFT_EYE];
        Roi {
            center: face.bbox.center(),
            side: face.bbox.w.max(face.bbox.h) * ROI_SCALE,
            angle: (l.y - r.y).atan2(l.x - r.x),
        }
    }

    /// The crop -> image map for a `size x size` crop.
    pub fn to_image(&self, size: u32) -> Affine {
        Affine::rotated_crop(self.center, self.side, self.angle, size as f32)
    }

    fn is_valid(&self) -> bool {
        self.center.x.is_finite()
            && self.center.y.is_finite()
            && self.angle.is_finite()
            && self.side.is_finite()
            && self.side >= 1.0
    }
}

/// The mesh of one face.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mesh {
    /// 468 points in image pixels; z is in the same scale as x, relative to
    /// the face centre (smaller = closer to the camera).
    pub points: Vec<[f32; 3]>,
    /// Face presence probability 0..1.
    pub presence: f32,
    /// The crop the mesh was computed on.
    pub roi: Roi,
}

impl Mesh {
    /// Point `i` in the image plane (origin if out of range).
    pub fn point(&self, i: usize) -> Point {
        self.points
            .get(i)
            .map(|p| Point::new(p[0], p[1]))
            .unwrap_or_default()
    }

    /// Mean of several points in the image plane.
    pub fn mean(&self, idx: &[usize]) -> Point {
        let n = idx.len().max(1) as f32;
        let (sx, sy) = idx.iter().fold((0.0, 0.0), |(x, y), &i| {
            let p = self.point(i);
            (x + p.x, y + p.y)
        });
        Point::new(sx / n, sy / n)
    }

    /// The five alignment points in ArcFace template order: image-left eye
    /// (subject's right), image-right eye, nose tip, image-left mouth corner,
    /// image-right mouth corner (for an unmirrored image).
    pub fn five_points(&self) -> [Point; 5] {
        [
            self.mean(&index::RIGHT_EYE),
            self.mean(&index::LEFT_EYE),
            self.point(index::NOSE_TIP),
            self.point(index::MOUTH_CORNERS[0]),
            self.point(index::MOUTH_CORNERS[1]),
        ]
    }

    /// The box around the mesh points in the image plane.
    pub fn bbox(&self) -> BBox {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in &self.points {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        if x0 > x1 || y0 > y1 {
            return BBox::default();
        }
        BBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// The ROI for the next frame, from this mesh (tracking without detection).
    pub fn next_roi(&self) -> Roi {
        let b = self.bbox();
        let r = self.mean(&index::RIGHT_EYE);
        let l = self.mean(&index::LEFT_EYE);
        Roi {
            center: b.center(),
            side: b.w.max(b.h) * ROI_SCALE,
            angle: (l.y - r.y).atan2(l.x - r.x),
        }
    }
}

/// The face-mesh stage. Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct FaceMesh {
    model: OnnxModel,
}

impl FaceMesh {
    /// Loads the mesh model from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::FACE_MESH, dir, rt)?,
        })
    }

    /// Runs the mesh on a region of the image.
    pub fn run(&self, img: &RgbImage, roi: Roi) -> Result<Mesh> {
        if !roi.is_valid() {
            return Err(Error::invalid("roi", format!("degenerate region {roi:?}")));
        }
        let n = MESH_INPUT as usize;
        let map = roi.to_image(MESH_INPUT);
        let out = with_input_tensor(img, &map, n, Normalize::UNIT, |input| {
            self.model.run(input.into_dyn())
        })?;
        let (coords, logit) = Self::split(out)?;
        Mesh::decode(&coords, logit, roi)
    }

    /// The model's raw outputs on an input made by [`mesh_input`]: the
    /// 468 x 3 crop coordinates and the presence logit (what a page running
    /// the model in ONNX Runtime Web hands back; the tests compare the two).
    pub fn outputs(&self, input: &[f32]) -> Result<(Vec<f32>, f32)> {
        let n = MESH_INPUT as usize;
        let view = ndarray::ArrayView4::from_shape((1, n, n, 3), input)
            .map_err(|e| Error::invalid("mesh input", e.to_string()))?;
        Self::split(self.model.run(view.into_dyn())?)
    }

    fn split(out: Vec<ndarray::ArrayD<f32>>) -> Result<(Vec<f32>, f32)> {
        match out.as_slice() {
            [coords, flag] => Ok((
                coords.iter().copied().collect(),
                flag.iter().next().copied().unwrap_or(f32::NEG_INFINITY),
            )),
            _ => Err(Error::Inference {
                stage: "face_mesh",
                message: "outputs".into(),
                source: None,
            }),
        }
    }
}

/// The mesh model's input for `roi` of `img`: 192x192x3 (NHWC), values in
/// [0, 1], what [`FaceMesh::run`] feeds the model (for a page that runs the
/// model itself).
pub fn mesh_input(img: &RgbImage, roi: Roi) -> Result<Vec<f32>> {
    if !roi.is_valid() {
        return Err(Error::invalid("roi", format!("degenerate region {roi:?}")));
    }
    let map = roi.to_image(MESH_INPUT);
    Ok(with_input_tensor(
        img,
        &map,
        MESH_INPUT as usize,
        Normalize::UNIT,
        |input| input.iter().copied().collect(),
    ))
}

impl Mesh {
    /// The mesh from the model's outputs on `roi`'s crop: the 468 x 3 crop
    /// coordinates and the face-presence logit.
    pub fn decode(coords: &[f32], presence_logit: f32, roi: Roi) -> Result<Mesh> {
        if coords.len() != MESH_POINTS * 3 {
            return Err(Error::Inference {
                stage: "face_mesh",
                message: "mesh size".into(),
                source: None,
            });
        }
        if coords.iter().any(|v| !v.is_finite()) || presence_logit.is_nan() {
            return Err(Error::NonFiniteOutput { stage: "face_mesh" });
        }
        let map = roi.to_image(MESH_INPUT);
        let presence = 1.0 / (1.0 + (-presence_logit.clamp(-100.0, 100.0)).exp());
        let scale = map.scale();
        let points = coords
            .chunks_exact(3)
            .map(|c| {
                // mesh x/y are continuous crop coordinates; pixel centres are at +0.5
                let p = map.apply(Point::new(c[0] - 0.5, c[1] - 0.5));
                [p.x, p.y, c[2] * scale]
            })
            .collect();
        Ok(Mesh {
            points,
            presence,
            roi,
        })
    }
}
