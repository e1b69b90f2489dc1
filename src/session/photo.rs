//! The verification photo: Y_O (original frame), Y_M (background mosaicked,
//! face and person kept clear) or N (none), as base64 JPEG.

use std::io::Cursor;

use base64::Engine as _;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which photo to return (`needAlivePhoto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PhotoKind {
    /// The original frame.
    #[serde(rename = "Y_O")]
    Original,
    /// Background mosaicked.
    #[serde(rename = "Y_M")]
    Mosaic,
    /// No photo (the default).
    #[default]
    #[serde(rename = "N")]
    None,
}

impl PhotoKind {
    /// The product's name: `Y_O`, `Y_M` or `N`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Original => "Y_O",
            Self::Mosaic => "Y_M",
            Self::None => "N",
        }
    }
}

impl std::fmt::Display for PhotoKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PhotoKind {
    type Err = Error;

    /// Parses `Y_O`, `Y_M` or `N`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "Y_O" => Ok(Self::Original),
            "Y_M" => Ok(Self::Mosaic),
            "N" => Ok(Self::None),
            other => Err(Error::invalid(
                "photo",
                format!("`{other}` (valid: Y_O, Y_M, N)"),
            )),
        }
    }
}

/// JPEG (quality 90) as base64.
pub fn jpeg_base64(img: &RgbImage) -> Result<String> {
    let bytes = jpeg_bytes(img, 90, "the verification photo as JPEG")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// JPEG at `quality` (1-100); `what` names the output in the error.
pub fn jpeg_bytes(img: &RgbImage, quality: u8, what: &'static str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), quality);
    img.write_with_encoder(enc)
        .map_err(|source| Error::Encode { what, source })?;
    Ok(bytes)
}
