//! One face frame's measurements, as a session takes them for every frame:
//! mesh geometry ([`FrameFeatures`]), the eye-state model, the aligned face
//! (its sharpness feeds the blink guard and the quality score) and, when
//! due, the passive model. Sessions, `realface bench` and the liveness
//! evaluation all measure through here, so they measure the same thing.

use image::RgbImage;

use super::eye_state::{EyeState, EyeStateModel};
use super::features::FrameFeatures;
use super::pad::model::{PadModel, PadScores};
use crate::error::Result;
use crate::face::align::aligned_image;
use crate::face::landmarks::Mesh;
use crate::face::sharpness::laplacian_log_variance;
use crate::imaging::geometry::{Affine, BBox};
use crate::matching::embed::Embedding;

/// The models a face frame is measured with. [`crate::FaceEngine`] is the
/// one the library ships (measurement does not need the engine itself, so
/// the engine can measure through here without a circle).
pub trait FaceModels: Sync {
    /// The eye-state model.
    fn eye_state(&self) -> &EyeStateModel;
    /// The passive presentation-attack models.
    fn pad(&self) -> &PadModel;
    /// The embedding of the face that `map` aligns.
    fn embed_face(&self, frame: &RgbImage, map: Affine) -> Result<Embedding>;
    /// Whether independent model calls run side by side
    /// ([`crate::RuntimeConfig::parallel_stages`]).
    fn parallel_stages(&self) -> bool;
}

/// An engine shared between threads measures as the engine does.
impl<T: FaceModels + Send + ?Sized> FaceModels for std::sync::Arc<T> {
    fn eye_state(&self) -> &EyeStateModel {
        (**self).eye_state()
    }
    fn pad(&self) -> &PadModel {
        (**self).pad()
    }
    fn embed_face(&self, frame: &RgbImage, map: Affine) -> Result<Embedding> {
        (**self).embed_face(frame, map)
    }
    fn parallel_stages(&self) -> bool {
        (**self).parallel_stages()
    }
}

/// What [`measure_face`] found.
#[derive(Debug, Clone)]
pub struct FaceMeasure {
    /// Geometry, eye state and sharpness.
    pub features: FrameFeatures,
    /// The 112x112 aligned face (for the quality score).
    pub aligned: RgbImage,
    /// P(real) of the passive models, when they were due.
    pub pad: Option<PadScores>,
}

/// Measures one face: `mesh`, its aligned-crop map and its detection box.
/// `pad_due` runs the passive model too.
pub fn measure_face<M: FaceModels + ?Sized>(
    engine: &M,
    frame: &RgbImage,
    mesh: &Mesh,
    map: &Affine,
    bbox: &BBox,
    pad_due: bool,
) -> Result<FaceMeasure> {
    let eyes = engine.eye_state().run(frame, mesh)?;
    let mut measure = measure_with_eyes(frame, mesh, map, eyes);
    if pad_due {
        measure.pad = Some(engine.pad().scores(frame, bbox)?);
    }
    Ok(measure)
}

/// [`measure_face`] without the passive model, given the eye-state model's
/// answer (a page that runs the models itself measures through here).
pub fn measure_with_eyes(
    frame: &RgbImage,
    mesh: &Mesh,
    map: &Affine,
    eyes: EyeState,
) -> FaceMeasure {
    let mut features = FrameFeatures::from_mesh(mesh);
    features.eyes_closed = eyes.both_closed();
    let aligned = aligned_image(frame, map);
    features.sharpness = laplacian_log_variance(&aligned);
    FaceMeasure {
        features,
        aligned,
        pad: None,
    }
}

/// [`measure_face`], and the face's embedding when `embed_due`: what a
/// session observes on a face frame. With
/// [`crate::RuntimeConfig::parallel_stages`] the embedding runs beside the
/// measurements on rayon's pool; the results are the same either way, and a
/// failed measurement is reported before a failed embedding.
pub fn measure_and_embed<M: FaceModels + ?Sized>(
    engine: &M,
    frame: &RgbImage,
    mesh: &Mesh,
    map: &Affine,
    bbox: &BBox,
    pad_due: bool,
    embed_due: bool,
) -> Result<(FaceMeasure, Option<Embedding>)> {
    let measure = || measure_face(engine, frame, mesh, map, bbox, pad_due);
    if !embed_due {
        return Ok((measure()?, None));
    }
    if engine.parallel_stages() {
        let (m, e) = rayon::join(measure, || engine.embed_face(frame, *map));
        Ok((m?, Some(e?)))
    } else {
        let m = measure()?;
        Ok((m, Some(engine.embed_face(frame, *map)?)))
    }
}
