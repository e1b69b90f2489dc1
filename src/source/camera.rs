//! The camera source (feature `camera`), through nokhwa's native backend
//! (V4L2 on Linux, AVFoundation on macOS, Media Foundation on Windows).

use std::time::Instant;

use image::RgbImage;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{ApiBackend, CameraIndex, RequestedFormat, RequestedFormatType};
use nokhwa::Camera;

use super::{FrameSource, TimedFrame};
use crate::error::{Error, Result};

/// The cameras the system reports, as `"index: name"`.
pub(super) fn list() -> Result<Vec<String>> {
    let cams = nokhwa::query(ApiBackend::Auto).map_err(|e| Error::Camera {
        reason: format!("cannot list cameras: {e}"),
        found: Vec::new(),
    })?;
    Ok(cams
        .iter()
        .map(|c| format!("{}: {}", c.index(), c.human_name()))
        .collect())
}

/// A live camera stream; timestamps count from the moment it opened.
pub(super) struct CameraSource {
    camera: Camera,
    name: String,
    fps: f64,
    start: Instant,
    last_ms: Option<u64>,
}

impl CameraSource {
    pub(super) fn open(index: u32) -> Result<Self> {
        let found = list()?;
        if found.is_empty() {
            return Err(Error::Camera {
                reason: format!("camera {index} cannot be opened: no camera found"),
                found,
            });
        }
        let fail = |what: &str, e: nokhwa::NokhwaError, found: &[String]| Error::Camera {
            reason: format!("camera {index}: {what}: {e}"),
            found: found.to_vec(),
        };
        let format =
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let mut camera = Camera::new(CameraIndex::Index(index), format)
            .map_err(|e| fail("cannot open", e, &found))?;
        camera
            .open_stream()
            .map_err(|e| fail("cannot start the stream", e, &found))?;
        let fps = f64::from(camera.frame_rate());
        Ok(Self {
            name: format!("camera {index}: {}", camera.info().human_name()),
            camera,
            fps,
            start: Instant::now(),
            last_ms: None,
        })
    }
}

impl FrameSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<TimedFrame>> {
        let buffer = self.camera.frame().map_err(|e| Error::Camera {
            reason: format!("{}: frame lost: {e}", self.name),
            found: Vec::new(),
        })?;
        let decoded = buffer
            .decode_image::<RgbFormat>()
            .map_err(|e| Error::Decode {
                reason: format!("camera frame: {e}"),
                source: None,
            })?;
        let (w, h) = (decoded.width(), decoded.height());
        let image =
            RgbImage::from_raw(w, h, decoded.into_raw()).ok_or_else(|| Error::EmptyImage {
                what: format!("camera frame {w}x{h} with a short buffer"),
            })?;
        // Strictly increasing, even if two buffers arrive within one ms.
        let mut t_ms = self.start.elapsed().as_millis() as u64;
        if let Some(prev) = self.last_ms {
            t_ms = t_ms.max(prev + 1);
        }
        self.last_ms = Some(t_ms);
        Ok(Some(TimedFrame { image, t_ms }))
    }

    fn describe(&self) -> String {
        format!("{} at {} fps", self.name, self.fps)
    }

    fn fps(&self) -> Option<f64> {
        Some(self.fps)
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        let _ = self.camera.stop_stream();
    }
}
