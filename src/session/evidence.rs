//! The evidence a capturing device uploads to the server that decides:
//! every frame the session took, as JPEG with its timestamp, and the
//! device's own result as advisory. The bundle is the JSON that
//! `realface-server` takes on `POST /v1/certify/{id}/evidence`:
//! `{"frames": [{"tMs": 0, "jpeg": BASE64}, ...], "deviceResult": {...}}`.

use base64::Engine as _;
use image::RgbImage;

use super::photo::jpeg_bytes;
use super::result::AuthResult;
use crate::error::{Error, Result};

/// Most frames one bundle holds (the server's default limit).
pub const MAX_EVIDENCE_FRAMES: usize = 1_800;
/// Most JPEG bytes one bundle holds, before base64 (under the server's
/// default 32 MiB body limit once encoded).
pub const MAX_EVIDENCE_BYTES: usize = 22 << 20;
/// JPEG quality of recorded frames.
pub const EVIDENCE_JPEG_QUALITY: u8 = 85;

/// Frames recorded for upload.
#[derive(Debug, Clone, Default)]
pub struct EvidenceRecorder {
    frames: Vec<(u64, Vec<u8>)>,
    bytes: usize,
}

impl EvidenceRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one frame and returns it as the server will decode it (the
    /// device then judges the same pixels). Past [`MAX_EVIDENCE_FRAMES`] or
    /// [`MAX_EVIDENCE_BYTES`] it is [`Error::LimitExceeded`] and nothing is
    /// recorded.
    pub fn push(&mut self, frame: &RgbImage, t_ms: u64) -> Result<RgbImage> {
        if self.frames.len() >= MAX_EVIDENCE_FRAMES {
            return Err(Error::LimitExceeded {
                what: "evidence frames",
                value: self.frames.len() as u64 + 1,
                limit: MAX_EVIDENCE_FRAMES as u64,
            });
        }
        let jpeg = jpeg_bytes(frame, EVIDENCE_JPEG_QUALITY, "an evidence frame as JPEG")?;
        if self.bytes + jpeg.len() > MAX_EVIDENCE_BYTES {
            return Err(Error::LimitExceeded {
                what: "evidence bytes",
                value: (self.bytes + jpeg.len()) as u64,
                limit: MAX_EVIDENCE_BYTES as u64,
            });
        }
        let decoded = crate::imaging::image_io::decode_image(
            &jpeg,
            &crate::imaging::limits::Limits::default(),
        )?;
        self.bytes += jpeg.len();
        self.frames.push((t_ms, jpeg));
        Ok(decoded)
    }

    /// Frames recorded.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The upload: the JSON bundle, with `device` as the advisory result.
    pub fn bundle(&self, device: Option<&AuthResult>) -> Result<Vec<u8>> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let frames: Vec<serde_json::Value> = self
            .frames
            .iter()
            .map(|(t, jpeg)| serde_json::json!({"tMs": t, "jpeg": b64.encode(jpeg)}))
            .collect();
        let mut body = serde_json::json!({ "frames": frames });
        if let Some(r) = device {
            body["deviceResult"] = serde_json::to_value(r).map_err(|e| Error::Internal {
                reason: format!("the device result as JSON: {e}"),
            })?;
        }
        serde_json::to_vec(&body).map_err(|e| Error::Internal {
            reason: format!("the evidence bundle as JSON: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_hold_every_frame_in_order() {
        let mut r = EvidenceRecorder::new();
        let img = RgbImage::from_pixel(32, 24, image::Rgb([10, 200, 30]));
        r.push(&img, 0).expect("push");
        r.push(&img, 40).expect("push");
        let v: serde_json::Value =
            serde_json::from_slice(&r.bundle(None).expect("bundle")).expect("json");
        let frames = v["frames"].as_array().expect("frames");
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1]["tMs"], 40);
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(frames[0]["jpeg"].as_str().expect("jpeg"))
            .expect("base64");
        assert_eq!(image::load_from_memory(&jpeg).expect("jpeg").width(), 32);
        assert!(v.get("deviceResult").is_none());
    }
}
