//! Per-frame face tracking for live sessions: detect, then follow the face
//! with the mesh's own region from the previous frame (as MediaPipe does),
//! re-running the detector every `detect_every` frames and whenever the
//! mesh loses the face. The periodic detection keeps the "exactly one face"
//! rule: a second face is seen within `detect_every` frames.

use image::RgbImage;

use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::face::landmarks::{Mesh, Roi};
use crate::imaging::geometry::{Affine, BBox};

/// One frame's face.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The face box (the detector's on detection frames, the mesh's otherwise).
    pub bbox: BBox,
    /// The mesh.
    pub mesh: Mesh,
    /// Aligned-crop -> image map for the embedder.
    pub map: Affine,
    /// Whether the detector ran on this frame.
    pub detected: bool,
}

/// What a frame holds.
#[derive(Debug, Clone)]
pub enum TrackOutcome {
    /// No usable face.
    NoFace,
    /// The detector counted this many faces (more than one).
    Multiple(usize),
    /// Exactly one face.
    Face(Box<Tracked>),
}

/// The tracker's state between frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    detect_every: usize,
    since_detect: usize,
    roi: Option<Roi>,
}

impl Tracker {
    /// A tracker that runs the detector at least every `detect_every` frames
    /// (1 = every frame, i.e. no tracking).
    pub fn new(detect_every: usize) -> Self {
        Self {
            detect_every: detect_every.max(1),
            since_detect: 0,
            roi: None,
        }
    }

    /// Forgets the face (the next frame is detected).
    pub fn reset(&mut self) {
        self.roi = None;
        self.since_detect = 0;
    }

    /// Finds the face of one frame.
    pub fn next(&mut self, engine: &FaceEngine, frame: &RgbImage) -> Result<TrackOutcome> {
        if let Some(roi) = self.roi.take() {
            if self.since_detect < self.detect_every {
                match engine.landmarks_in(frame, roi) {
                    Ok(crate::engine::FaceLandmarks { mesh, map, .. }) => {
                        self.since_detect += 1;
                        self.roi = Some(mesh.next_roi());
                        return Ok(TrackOutcome::Face(Box::new(Tracked {
                            bbox: mesh.bbox(),
                            mesh,
                            map,
                            detected: false,
                        })));
                    }
                    // Lost: fall through to the detector on this same frame.
                    Err(Error::NoFace) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.since_detect = 1;
        let faces = engine.detect(frame)?;
        if faces.len() > 1 {
            return Ok(TrackOutcome::Multiple(faces.len()));
        }
        let Some(face) = faces.into_iter().next() else {
            return Ok(TrackOutcome::NoFace);
        };
        match engine.landmarks(frame, &face) {
            Ok(crate::engine::FaceLandmarks { mesh, map, .. }) => {
                self.roi = Some(mesh.next_roi());
                Ok(TrackOutcome::Face(Box::new(Tracked {
                    bbox: face.bbox,
                    mesh,
                    map,
                    detected: true,
                })))
            }
            Err(Error::NoFace) => Ok(TrackOutcome::NoFace),
            Err(e) => Err(e),
        }
    }
}
