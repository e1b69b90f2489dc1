//! Face image quality, 0-100, per frame: face size, sharpness, exposure, pose
//! and open eyes, each scored 0..1 and combined as a weighted geometric mean
//! (one bad factor drags the whole score down). Used to pick the verification
//! photo and the frame that is embedded and compared.

use image::RgbImage;
use serde::Serialize;

use crate::face::align::aligned_image;
use crate::face::features::FrameFeatures;
use crate::face::sharpness::laplacian_log_variance;
use crate::imaging::geometry::Affine;

/// The parts of a quality score, each 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// Overall 0-100.
    pub score: f32,
    /// Face width: 1 at >= 120 px between the cheeks.
    pub size: f32,
    /// Detail (Laplacian variance of the aligned face).
    pub sharpness: f32,
    /// Brightness near mid-grey, few clipped pixels.
    pub exposure: f32,
    /// Frontal pose: 1 at 0 degrees, 0 at 30 degrees of yaw or pitch.
    pub pose: f32,
    /// Eyes open relative to the person's open-eye baseline.
    pub eyes: f32,
}

/// Scores one face. `ear_baseline` is the open-eye ratio of this person, if known.
pub fn assess(
    img: &RgbImage,
    crop_to_image: &Affine,
    f: &FrameFeatures,
    ear_baseline: Option<f32>,
) -> Quality {
    assess_aligned(&aligned_image(img, crop_to_image), f, ear_baseline)
}

/// Scores one face from its 112x112 aligned crop (see [`assess`]).
pub fn assess_aligned(face: &RgbImage, f: &FrameFeatures, ear_baseline: Option<f32>) -> Quality {
    let size = (f.face_width / 120.0).clamp(0.0, 1.0);
    let raw = if f.sharpness > 0.0 {
        f.sharpness
    } else {
        laplacian_log_variance(face)
    };
    let sharpness = ((raw - 2.5) / 3.0).clamp(0.0, 1.0);
    let n = (face.width() * face.height()).max(1) as f32;
    let (mut sum, mut clipped) = (0.0f32, 0usize);
    for p in face.pixels() {
        let y = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
        sum += y;
        if !(8.0..=247.0).contains(&y) {
            clipped += 1;
        }
    }
    let mean = sum / n;
    let exposure =
        ((1.0 - (mean - 128.0).abs() / 110.0) - 2.0 * clipped as f32 / n).clamp(0.0, 1.0);
    let pose = (1.0 - f.yaw.abs().max(f.pitch.abs()) / 30.0).clamp(0.0, 1.0);
    let eyes = match ear_baseline {
        Some(b) if b > 1e-4 => (f.ear_norm() / b).clamp(0.0, 1.0),
        _ => 1.0,
    };
    let parts = [
        (size, 0.2),
        (sharpness, 0.25),
        (exposure, 0.2),
        (pose, 0.2),
        (eyes, 0.15),
    ];
    let log: f32 = parts.iter().map(|(v, w)| w * v.max(1e-3).ln()).sum();
    let score = 100.0 * log.exp();
    Quality {
        score: if score.is_finite() { score } else { 0.0 },
        size,
        sharpness,
        exposure,
        pose,
        eyes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn textured(level: u8) -> RgbImage {
        RgbImage::from_fn(112, 112, |x, y| {
            let v = level.saturating_add(((x * 7 + y * 13) % 40) as u8);
            image::Rgb([v, v, v])
        })
    }

    fn frontal(width: f32) -> FrameFeatures {
        FrameFeatures {
            face_width: width,
            face_aspect: 1.0,
            ear: 0.3,
            ..FrameFeatures::default()
        }
    }

    #[test]
    fn a_good_face_scores_high_and_each_fault_lowers_it() {
        let good = assess_aligned(&textured(100), &frontal(160.0), Some(0.3));
        assert!(good.score > 80.0, "{good:?}");
        assert_eq!(good.size, 1.0);
        assert_eq!(good.pose, 1.0);
        assert_eq!(good.eyes, 1.0);
        let small = assess_aligned(&textured(100), &frontal(40.0), Some(0.3));
        assert!(small.size < 0.4 && small.score < good.score);
        let turned = FrameFeatures {
            yaw: 25.0,
            ..frontal(160.0)
        };
        let t = assess_aligned(&textured(100), &turned, Some(0.3));
        assert!(t.pose < 0.2 && t.score < good.score);
        let dark = assess_aligned(&textured(0), &frontal(160.0), Some(0.3));
        assert!(dark.exposure < good.exposure && dark.score < good.score);
        let flat = RgbImage::from_pixel(112, 112, image::Rgb([110, 110, 110]));
        let blurred = assess_aligned(&flat, &frontal(160.0), Some(0.3));
        assert_eq!(blurred.sharpness, 0.0);
        assert!(blurred.score < good.score);
        let closed = FrameFeatures {
            ear: 0.05,
            ..frontal(160.0)
        };
        let c = assess_aligned(&textured(100), &closed, Some(0.3));
        assert!(c.eyes < 0.2 && c.score < good.score);
    }

    #[test]
    fn non_finite_features_never_give_a_nan_score() {
        let f = FrameFeatures {
            yaw: f32::NAN,
            face_width: f32::INFINITY,
            ..frontal(160.0)
        };
        let q = assess_aligned(&textured(100), &f, Some(f32::NAN));
        assert!(
            q.score.is_finite() && (0.0..=100.0).contains(&q.score),
            "{q:?}"
        );
    }
}
