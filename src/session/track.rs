//! Per-frame face tracking for live sessions: detect, then follow the face
//! with the mesh's own region from the previous frame (as MediaPipe does),
//! re-running the detector every `detect_every` frames and whenever the
//! mesh loses the face. The periodic detection keeps the "exactly one face"
//! rule: a second face is seen within `detect_every` frames.

use image::RgbImage;

use crate::engine::FaceEngine;
use crate::engine::FaceLandmarks;
use crate::error::{Error, Result};
use crate::face::detect::Face;
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

/// What the tracker needs next for the frame at hand.
#[derive(Debug, Clone)]
pub enum TrackNeed {
    /// The detector's faces ([`Tracker::detected`]).
    Detect,
    /// The mesh in this region ([`Tracker::meshed`]).
    Mesh(Roi),
    /// The frame's outcome.
    Done(TrackOutcome),
}

/// Where the mesh asked for came from.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The previous frame's mesh region.
    Tracked,
    /// A detection with this box.
    Detected(BBox),
}

/// The tracker's state between frames. One frame is a short exchange,
/// [`Tracker::begin`], then [`Tracker::detected`] or [`Tracker::meshed`]
/// as asked, until [`TrackNeed::Done`]: [`Tracker::next`] runs it with the
/// engine's models, and a page that runs the models itself (ONNX Runtime
/// Web) runs the same exchange, so both track alike.
#[derive(Debug, Clone)]
pub struct Tracker {
    detect_every: usize,
    since_detect: usize,
    roi: Option<Roi>,
    pending: Option<Pending>,
}

impl Tracker {
    /// A tracker that runs the detector at least every `detect_every` frames
    /// (1 = every frame, i.e. no tracking).
    pub fn new(detect_every: usize) -> Self {
        Self {
            detect_every: detect_every.max(1),
            since_detect: 0,
            roi: None,
            pending: None,
        }
    }

    /// Forgets the face (the next frame is detected).
    pub fn reset(&mut self) {
        self.roi = None;
        self.since_detect = 0;
        self.pending = None;
    }

    /// A new frame: the mesh in the previous frame's region while tracking,
    /// else the detector.
    pub fn begin(&mut self) -> TrackNeed {
        self.pending = None;
        if let Some(roi) = self.roi.take() {
            if self.since_detect < self.detect_every {
                self.pending = Some(Pending::Tracked);
                return TrackNeed::Mesh(roi);
            }
        }
        TrackNeed::Detect
    }

    /// The detector's faces on this frame.
    pub fn detected(&mut self, faces: Vec<Face>) -> TrackNeed {
        self.since_detect = 1;
        self.pending = None;
        if faces.len() > 1 {
            return TrackNeed::Done(TrackOutcome::Multiple(faces.len()));
        }
        let Some(face) = faces.into_iter().next() else {
            return TrackNeed::Done(TrackOutcome::NoFace);
        };
        self.pending = Some(Pending::Detected(face.bbox));
        TrackNeed::Mesh(Roi::from_face(&face))
    }

    /// The mesh asked for ([`FaceEngine::landmarks_in`]'s answer, or
    /// [`crate::engine::landmarks_of`]'s): a tracked face lost
    /// there is looked for by the detector on this same frame.
    pub fn meshed(&mut self, found: Result<FaceLandmarks>) -> Result<TrackNeed> {
        let pending = self.pending.take().ok_or_else(|| {
            Error::invalid("tracker", "a mesh came that the tracker did not ask for")
        })?;
        match (pending, found) {
            (pending, Ok(FaceLandmarks { mesh, map, .. })) => {
                self.roi = Some(mesh.next_roi());
                let (bbox, detected) = match pending {
                    Pending::Tracked => {
                        self.since_detect += 1;
                        (mesh.bbox(), false)
                    }
                    Pending::Detected(bbox) => (bbox, true),
                };
                Ok(TrackNeed::Done(TrackOutcome::Face(Box::new(Tracked {
                    bbox,
                    mesh,
                    map,
                    detected,
                }))))
            }
            // lost: the detector on this same frame
            (Pending::Tracked, Err(Error::NoFace)) => Ok(TrackNeed::Detect),
            (Pending::Detected(_), Err(Error::NoFace)) => Ok(TrackNeed::Done(TrackOutcome::NoFace)),
            (_, Err(e)) => Err(e),
        }
    }

    /// Finds the face of one frame with the engine's models.
    pub fn next(&mut self, engine: &FaceEngine, frame: &RgbImage) -> Result<TrackOutcome> {
        let mut need = self.begin();
        loop {
            need = match need {
                TrackNeed::Detect => self.detected(engine.detect(frame)?),
                TrackNeed::Mesh(roi) => self.meshed(engine.landmarks_in(frame, roi))?,
                TrackNeed::Done(outcome) => return Ok(outcome),
            };
        }
    }
}
