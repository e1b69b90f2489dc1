//! Eye state from the eye's pixels: a small classifier (`fr_eye.onnx`) on a
//! 24x24 grey crop of each eye, placed by the face mesh.
//!
//! The plain face mesh barely moves its eyelids on a real blink (its eye ratio
//! fell only to 0.76-0.80 of the open baseline on unseen 30 fps clips), so the
//! blink detector reads the eye's appearance instead. The crop follows the
//! model's own recipe: a square of 1.6x the corner-to-corner eye width,
//! centred on the mean of the upper and lower lid points, grey
//! (0.299 R + 0.587 G + 0.114 B) / 255, bilinear; here it is also rotated
//! with the eye line, so a tilted head gives the same crop.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::face::landmarks::Mesh;
use crate::imaging::geometry::Point;
use crate::imaging::warp::sample;
use crate::runtime::models;
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;
use image::RgbImage;

/// Crop side of the eye model.
pub const EYE_INPUT: usize = 24;
/// Crop side over the corner-to-corner eye width.
const EYE_PADDING: f32 = 1.6;

/// Mesh points of one eye: (corner, corner, upper lid x2, lower lid x2).
const RIGHT_EYE: [usize; 6] = [33, 133, 160, 158, 144, 153];
const LEFT_EYE: [usize; 6] = [263, 362, 387, 385, 373, 380];

/// Closed-eye probabilities of one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct EyeState {
    /// The subject's right eye (image left in an unmirrored frame), 0..1.
    pub right_closed: f32,
    /// The subject's left eye, 0..1.
    pub left_closed: f32,
}

impl EyeState {
    /// From the model's two logits for each eye (a page that runs the model
    /// itself): the softmax's "closed" class, as [`EyeStateModel::run`] takes it.
    pub fn from_logits(right: [f32; 2], left: [f32; 2]) -> Result<EyeState> {
        let closed = |l: [f32; 2]| -> Result<f32> {
            if l.iter().any(|v| !v.is_finite()) {
                return Err(crate::error::Error::NonFiniteOutput { stage: "eye_state" });
            }
            let m = l[0].max(l[1]);
            let e = [(l[0] - m).exp(), (l[1] - m).exp()];
            Ok(e[CLOSED] / (e[0] + e[1]))
        };
        Ok(EyeState {
            right_closed: closed(right)?,
            left_closed: closed(left)?,
        })
    }

    /// Both eyes closed: the lower of the two probabilities (a wink is not a blink).
    pub fn both_closed(&self) -> f32 {
        self.right_closed.min(self.left_closed)
    }
}

/// The eye-state stage. Build once; `Send + Sync`.
#[derive(Debug)]
pub struct EyeStateModel {
    model: OnnxModel,
}

/// Index of the "closed" class in the model's output (measured: open eyes of
/// the shared clips score > 0.9 on index 1).
const CLOSED: usize = 0;

/// The 24x24 grey crop of one eye, values in [0, 1] (black outside the image).
pub fn eye_crop(img: &RgbImage, mesh: &Mesh, idx: &[usize; 6]) -> Vec<f32> {
    let a = mesh.point(idx[0]);
    let b = mesh.point(idx[1]);
    let c = idx[2..]
        .iter()
        .map(|&i| mesh.point(i))
        .fold(Point::new(0.0, 0.0), |s, p| {
            Point::new(s.x + p.x / 4.0, s.y + p.y / 4.0)
        });
    // Unit vector along the eye line, image left to right.
    let (mut dx, mut dy) = (b.x - a.x, b.y - a.y);
    if dx < 0.0 {
        (dx, dy) = (-dx, -dy);
    }
    let width = (dx * dx + dy * dy).sqrt();
    let (ux, uy) = if width > 1e-3 {
        (dx / width, dy / width)
    } else {
        (1.0, 0.0)
    };
    let side = (width * EYE_PADDING).max(1.0);
    let step = side / EYE_INPUT as f32;
    let mut out = vec![0.0; EYE_INPUT * EYE_INPUT];
    for (v, row) in out.chunks_mut(EYE_INPUT).enumerate() {
        let oy = (v as f32 + 0.5) * step - side / 2.0;
        for (u, px) in row.iter_mut().enumerate() {
            let ox = (u as f32 + 0.5) * step - side / 2.0;
            let x = c.x + ox * ux - oy * uy;
            let y = c.y + ox * uy + oy * ux;
            *px = sample(img, x, y)
                .map(|p| (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0)
                .unwrap_or(0.0);
        }
    }
    out
}

/// The two eye crops the model classifies ([`eye_crop`] of the subject's
/// right eye, then the left), for a page that runs the model itself.
pub fn eye_crops(img: &RgbImage, mesh: &Mesh) -> [Vec<f32>; 2] {
    [
        eye_crop(img, mesh, &RIGHT_EYE),
        eye_crop(img, mesh, &LEFT_EYE),
    ]
}

impl EyeStateModel {
    /// Loads the model from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::EYE_STATE, dir, rt)?,
        })
    }

    /// The model's two raw outputs on one crop made by [`eye_crops`] (what
    /// a page running the model itself hands to [`EyeState::from_logits`]).
    pub fn logits(&self, crop: &[f32]) -> Result<[f32; 2]> {
        let input = ndarray::Array4::from_shape_vec((1, 1, EYE_INPUT, EYE_INPUT), crop.to_vec())
            .map_err(|e| crate::error::Error::invalid("eye crop", e.to_string()))?;
        let out = self.model.run(input.view().into_dyn())?;
        match out.first().map(|a| a.iter().copied().collect::<Vec<f32>>()) {
            Some(v) if v.len() == 2 => Ok([v[0], v[1]]),
            _ => Err(crate::error::Error::Inference {
                stage: "eye_state",
                message: "expected 2 outputs".into(),
                source: None,
            }),
        }
    }

    fn closed(&self, crop: Vec<f32>) -> Result<f32> {
        let p = self.model.classify((1, 1, EYE_INPUT, EYE_INPUT), crop, 2)?;
        Ok(p[CLOSED])
    }

    /// Closed-eye probability of each eye of the face given by its mesh.
    pub fn run(&self, img: &RgbImage, mesh: &Mesh) -> Result<EyeState> {
        Ok(EyeState {
            right_closed: self.closed(eye_crop(img, mesh, &RIGHT_EYE))?,
            left_closed: self.closed(eye_crop(img, mesh, &LEFT_EYE))?,
        })
    }
}
