//! Simple passive image cues on the aligned face (sharpness, saturation),
//! kept as baselines for `realface eval pad --detector sharpness|saturation`.
//! They decide nothing in a session: the passive gate of a session is the
//! model of [`crate::liveness::pad::model`], fused per session by
//! [`crate::liveness::pad`]. Every cue returns a score where higher means
//! "more likely live".

use image::RgbImage;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::face::align::aligned_image;
use crate::face::sharpness::laplacian_log_variance;
use crate::imaging::geometry::Affine;

/// A passive cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PassiveCue {
    /// Log variance of the Laplacian of the grey aligned face (detail; recaptured
    /// prints and screens lose fine texture).
    Sharpness,
    /// Mean colour saturation of the aligned face (prints and screens shift the gamut).
    Saturation,
}

impl std::str::FromStr for PassiveCue {
    type Err = Error;

    /// Parses a cue name (`sharpness`, `saturation`).
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "sharpness" => Ok(Self::Sharpness),
            "saturation" => Ok(Self::Saturation),
            other => Err(Error::invalid(
                "detector",
                format!("unknown passive cue `{other}` (valid: sharpness, saturation)"),
            )),
        }
    }
}

impl std::fmt::Display for PassiveCue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PassiveCue {
    /// Every cue.
    pub const ALL: [PassiveCue; 2] = [PassiveCue::Sharpness, PassiveCue::Saturation];

    /// The cue's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sharpness => "sharpness",
            Self::Saturation => "saturation",
        }
    }

    /// Scores the face given by its aligned-crop -> image map.
    pub fn score(self, img: &RgbImage, crop_to_image: &Affine) -> f32 {
        let face = aligned_image(img, crop_to_image);
        match self {
            Self::Sharpness => laplacian_log_variance(&face),
            Self::Saturation => mean_saturation(&face),
        }
    }
}

/// Mean HSV saturation (0..1) of the face crop.
pub fn mean_saturation(face: &RgbImage) -> f32 {
    let n = (face.width() * face.height()).max(1) as f32;
    face.pixels()
        .map(|p| {
            let max = p.0.iter().copied().max().unwrap_or(0);
            let min = p.0.iter().copied().min().unwrap_or(0);
            if max == 0 {
                0.0
            } else {
                f32::from(max - min) / f32::from(max)
            }
        })
        .sum::<f32>()
        / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_image_has_no_detail_and_grey_no_saturation() {
        let flat = RgbImage::from_pixel(112, 112, image::Rgb([90, 90, 90]));
        assert_eq!(laplacian_log_variance(&flat), 0.0);
        assert_eq!(mean_saturation(&flat), 0.0);
        let noisy = RgbImage::from_fn(112, 112, |x, y| {
            let v = ((x * 7919 + y * 104_729) % 251) as u8;
            image::Rgb([v, 255 - v, v / 2])
        });
        assert!(laplacian_log_variance(&noisy) > 5.0);
        assert!(mean_saturation(&noisy) > 0.3);
    }

    #[test]
    fn names_round_trip() {
        for c in PassiveCue::ALL {
            assert_eq!(c.name().parse::<PassiveCue>().expect("known"), c);
        }
        assert!("magic".parse::<PassiveCue>().is_err());
    }
}
