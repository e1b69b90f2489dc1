//! Passive (single-image) presentation-attack cues on the aligned face.
//!
//! No packaged anti-spoofing model is good enough here (see MODELS.md: the one
//! available rejects 85% of live faces and is worse than chance on replays), so
//! realface measures simple image cues per attack species with `realface eval
//! pad` and trusts none of them alone: liveness rests on the active challenge.
//! Every cue returns a score where higher means "more likely live".

use image::RgbImage;
use serde::Serialize;

use crate::align::{aligned_image, ALIGNED_SIZE};
use crate::error::{Error, Result};
use crate::geometry::Affine;

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

impl PassiveCue {
    /// Every cue.
    pub const ALL: [PassiveCue; 2] = [PassiveCue::Sharpness, PassiveCue::Saturation];

    /// Parses a cue name (`sharpness`, `saturation`).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "sharpness" => Ok(Self::Sharpness),
            "saturation" => Ok(Self::Saturation),
            other => Err(Error::invalid(
                "detector",
                format!("unknown passive cue `{other}` (valid: sharpness, saturation)"),
            )),
        }
    }

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

fn grey(img: &RgbImage) -> Vec<f32> {
    img.pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

/// ln(1 + variance of the 4-neighbour Laplacian) over the inner face region.
pub fn laplacian_log_variance(face: &RgbImage) -> f32 {
    let (w, h) = (face.width() as usize, face.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let g = grey(face);
    let m = (ALIGNED_SIZE as usize / 8).min(w.min(h) / 4).max(1);
    let mut vals = Vec::with_capacity(w * h);
    for y in m.max(1)..h - m.max(1) {
        for x in m.max(1)..w - m.max(1) {
            let c = g[y * w + x];
            let lap = g[y * w + x - 1] + g[y * w + x + 1] + g[(y - 1) * w + x] + g[(y + 1) * w + x]
                - 4.0 * c;
            vals.push(lap);
        }
    }
    let n = vals.len().max(1) as f32;
    let mean = vals.iter().sum::<f32>() / n;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    var.ln_1p()
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
            assert_eq!(PassiveCue::from_name(c.name()).expect("known"), c);
        }
        assert!(PassiveCue::from_name("magic").is_err());
    }
}
