//! References as ID documents are: a reference photo is often a small,
//! compressed ID photo. [`degrade_reference`] turns a photo into one — the
//! face downscaled to [`REFERENCE_EYE_DISTANCE`] px between the eyes (never
//! upscaled) and re-encoded as JPEG at [`REFERENCE_JPEG_QUALITY`] — so that
//! `realface eval match --degrade-reference` can report TAR/FAR for them.

use image::RgbImage;

use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::face::detect::keypoint::{LEFT_EYE, RIGHT_EYE};
use crate::session::photo::jpeg_bytes;

/// Distance between the eye centres after degradation (pixels).
pub const REFERENCE_EYE_DISTANCE: f32 = 100.0;

/// JPEG quality of the degraded reference.
pub const REFERENCE_JPEG_QUALITY: u8 = 50;

/// The photo as a small, compressed ID photo (see the module docs). The face
/// is the one the engine's face policy selects.
pub fn degrade_reference(engine: &FaceEngine, img: &RgbImage) -> Result<RgbImage> {
    let face = engine.select_face(engine.detect(img)?)?;
    let (Some(r), Some(l)) = (face.keypoints.get(RIGHT_EYE), face.keypoints.get(LEFT_EYE)) else {
        return Err(Error::NoFace);
    };
    let eyes = r.dist(*l);
    let scale = if eyes > REFERENCE_EYE_DISTANCE {
        REFERENCE_EYE_DISTANCE / eyes
    } else {
        1.0
    };
    let w = ((img.width() as f32 * scale).round() as u32).max(1);
    let h = ((img.height() as f32 * scale).round() as u32).max(1);
    let small = if scale < 1.0 {
        image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
    } else {
        img.clone()
    };
    let bytes = jpeg_bytes(
        &small,
        REFERENCE_JPEG_QUALITY,
        "the degraded reference as JPEG",
    )?;
    engine.decode(&bytes)
}
