//! Per-frame face tracking for live sessions: detect, then follow the face
//! with the mesh (the detector's region carried along by the mesh's motion),
//! re-running the detector every `detect_every` frames, whenever the mesh
//! loses the face, and whenever the mesh moved from the region it ran in by
//! more than [`MAX_DRIFT`]. The periodic detection keeps the "exactly one
//! face" rule: a second face is seen within `detect_every` frames.
//!
//! Why the drift gate: a mesh run in a region that lags the face (a face,
//! or a print, that moved since the previous frame) is distorted. On a
//! print shaken by hand its eyes close and its yaw swings (the synthetic
//! affine attack: eye opening 0.23 down to 0.08 on single frames with the
//! previous frame's region), which is how the first tracker (issue #26)
//! let photo attacks blink and turn (affine 5/50, prints 3/50). The mesh
//! pulls its output towards the region it ran in, so a lagging frame's
//! own mesh understates the motion; a second mesh run in the region it
//! implies settles on a distorted fixed point as often as not, so a drifted
//! frame is detected, exactly as `detect_every` = 1 would.

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
    /// The face box: the detector's on detection frames, else the last
    /// detection's carried along by the mesh's motion.
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

/// How far a tracked frame's mesh may sit from the region it ran in before
/// the frame is detected instead (see the module's documentation). With
/// [`MAX_DRIFT`], every frame of the 120-frame shaken-print attacks
/// (synthetic affine and blur) is detected, so they are seen exactly as
/// with the detector on every frame; genuine clips are tracked on 33-79%
/// of their frames (`examples/track_drift.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// Largest centre offset, as a share of the region's side.
    pub center: f32,
    /// Largest change of the side, as a share.
    pub side: f32,
    /// Largest in-plane rotation, in degrees.
    pub angle_deg: f32,
}

/// The default [`Drift`] bounds.
pub const MAX_DRIFT: Drift = Drift {
    center: 0.02,
    side: 0.03,
    angle_deg: 2.0,
};

impl Drift {
    /// Whether `implied` (the region a mesh implies) lies within these
    /// bounds of `ran` (the region it ran in).
    pub fn holds(&self, ran: &Roi, implied: &Roi) -> bool {
        let side = ran.side.max(1.0);
        let turn = (implied.angle - ran.angle).to_degrees();
        let turn = (turn + 180.0).rem_euclid(360.0) - 180.0;
        ran.center.dist(implied.center) / side <= self.center
            && (implied.side / side - 1.0).abs() <= self.side
            && turn.abs() <= self.angle_deg
    }
}

/// Where the mesh asked for came from.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The region carried from the previous frame.
    Tracked(Roi),
    /// The detector's face on this frame, with its region.
    Detected { bbox: BBox, roi: Roi },
}

/// The last detection: its box and region, and the mesh's box and eye-line
/// angle on that frame. A tracked frame's box and region are the
/// detector's, carried along by the mesh's motion since (shifted, scaled
/// and turned as the mesh moved): on a still face they are the detection's
/// own, so a tracked frame frames the face as a detected one does (the
/// mesh's own outline frames it differently, and its landmarks differ by up
/// to a tenth of an eye opening), and every frame's box is one the passive
/// models' crops and the session's box checks were fitted to.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    bbox: BBox,
    roi: Roi,
    mesh: BBox,
    mesh_angle: f32,
}

impl Anchor {
    fn new(bbox: BBox, roi: Roi, mesh: &Mesh) -> Self {
        Self {
            bbox,
            roi,
            mesh: mesh.bbox(),
            mesh_angle: mesh.next_roi().angle,
        }
    }

    /// The detector's box and region carried to where `mesh` is.
    fn carry(&self, mesh: &Mesh) -> (BBox, Roi) {
        let size = |b: &BBox| b.w.max(b.h).max(1.0);
        let now = mesh.bbox();
        let k = size(&now) / size(&self.mesh);
        let (d, a, m) = (self.bbox.center(), self.mesh.center(), now.center());
        let (w, h) = (self.bbox.w * k, self.bbox.h * k);
        let bbox = BBox {
            x: m.x + (d.x - a.x) * k - w * 0.5,
            y: m.y + (d.y - a.y) * k - h * 0.5,
            w,
            h,
        };
        let roi = Roi {
            center: bbox.center(),
            side: self.roi.side * k,
            angle: self.roi.angle + (mesh.next_roi().angle - self.mesh_angle),
        };
        (bbox, roi)
    }
}

/// The tracker's state between frames. One frame is a short exchange,
/// [`Tracker::begin`], then [`Tracker::detected`] or [`Tracker::meshed`]
/// as asked, until [`TrackNeed::Done`]: [`Tracker::next`] runs it with the
/// engine's models, and a page that runs the models itself (ONNX Runtime
/// Web) runs the same exchange, so both track alike.
///
/// With `detect_every` = 1 every frame is detected and meshed in the
/// detector's region (the `full` behaviour). Above 1, every
/// `detect_every`-th frame is still exactly that (the faces counted, the
/// mesh in the detector's region); in between, the mesh runs in the
/// detector's region carried along by the previous frames' meshes. A
/// tracked mesh that implies a region beyond [`MAX_DRIFT`] of the one it
/// ran in (the face moved: the region lagged it) is thrown away and the
/// frame detected; when that detection finds the face moved from the
/// previous frame's region, the next frame is detected too (while the face
/// keeps moving, no mesh is thrown away). So a tracked frame is one where
/// the face, by the mesh's own measure, stood still.
#[derive(Debug, Clone)]
pub struct Tracker {
    detect_every: usize,
    since_detect: usize,
    roi: Option<Roi>,
    anchor: Option<Anchor>,
    pending: Option<Pending>,
    moving: bool,
}

impl Tracker {
    /// A tracker that runs the detector at least every `detect_every` frames
    /// (1 = every frame, i.e. no tracking).
    pub fn new(detect_every: usize) -> Self {
        Self {
            detect_every: detect_every.max(1),
            since_detect: 0,
            roi: None,
            anchor: None,
            pending: None,
            moving: false,
        }
    }

    /// Forgets the face (the next frame is detected).
    pub fn reset(&mut self) {
        self.roi = None;
        self.anchor = None;
        self.since_detect = 0;
        self.pending = None;
        self.moving = false;
    }

    /// A new frame: the mesh in the carried region while tracking, else the
    /// detector.
    pub fn begin(&mut self) -> TrackNeed {
        self.pending = None;
        match self.roi {
            Some(roi) if !self.moving && self.since_detect < self.detect_every => {
                self.pending = Some(Pending::Tracked(roi));
                TrackNeed::Mesh(roi)
            }
            _ => TrackNeed::Detect,
        }
    }

    /// The detector's faces on this frame.
    pub fn detected(&mut self, faces: Vec<Face>) -> TrackNeed {
        self.since_detect = 1;
        self.pending = None;
        if faces.len() > 1 {
            self.reset();
            return TrackNeed::Done(TrackOutcome::Multiple(faces.len()));
        }
        let Some(face) = faces.into_iter().next() else {
            self.reset();
            return TrackNeed::Done(TrackOutcome::NoFace);
        };
        let roi = Roi::from_face(&face);
        // the face moved since the previous frame: the next frame is
        // detected too (a mesh in a lagging region would be thrown away)
        self.moving = self.roi.is_some_and(|prev| !MAX_DRIFT.holds(&prev, &roi));
        self.pending = Some(Pending::Detected {
            bbox: face.bbox,
            roi,
        });
        TrackNeed::Mesh(roi)
    }

    /// The mesh asked for ([`FaceEngine::landmarks_in`]'s answer, or
    /// [`crate::engine::landmarks_of`]'s): a tracked face lost or drifted
    /// there is looked for again on this same frame.
    pub fn meshed(&mut self, found: Result<FaceLandmarks>) -> Result<TrackNeed> {
        let pending = self.pending.take().ok_or_else(|| {
            Error::invalid("tracker", "a mesh came that the tracker did not ask for")
        })?;
        let FaceLandmarks { mesh, map, .. } = match (pending, found) {
            (_, Ok(l)) => l,
            (Pending::Tracked(_), Err(Error::NoFace)) => return Ok(self.redetect()),
            (Pending::Detected { .. }, Err(Error::NoFace)) => {
                self.reset();
                return Ok(TrackNeed::Done(TrackOutcome::NoFace));
            }
            (_, Err(e)) => return Err(e),
        };
        let (bbox, detected, next) = match pending {
            Pending::Detected { bbox, roi } => {
                // the detection's own region is where the next frame looks
                self.anchor = Some(Anchor::new(bbox, roi, &mesh));
                (bbox, true, roi)
            }
            Pending::Tracked(roi) => {
                let Some(anchor) = self.anchor else {
                    return Ok(self.redetect());
                };
                let (bbox, implied) = anchor.carry(&mesh);
                if !MAX_DRIFT.holds(&roi, &implied) {
                    return Ok(self.redetect());
                }
                self.since_detect += 1;
                (bbox, false, implied)
            }
        };
        self.roi = (self.detect_every > 1).then_some(next);
        Ok(TrackNeed::Done(TrackOutcome::Face(Box::new(Tracked {
            bbox,
            mesh,
            map,
            detected,
        }))))
    }

    /// The detector on this frame, for a tracked face lost or drifted
    /// (the region it ran in stays, to tell whether the face is moving).
    fn redetect(&mut self) -> TrackNeed {
        self.pending = None;
        TrackNeed::Detect
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::geometry::Point;

    fn roi(x: f32, y: f32, side: f32, angle_deg: f32) -> Roi {
        Roi {
            center: Point::new(x, y),
            side,
            angle: angle_deg.to_radians(),
        }
    }

    /// A mesh of 468 points on a ring, moved by `shift` and scaled by `k`.
    fn mesh(shift: (f32, f32), k: f32) -> Mesh {
        let points = (0..468)
            .map(|i| {
                let a = i as f32 * 0.37;
                [
                    100.0 + shift.0 + k * 40.0 * a.cos(),
                    120.0 + shift.1 + k * 50.0 * a.sin(),
                    0.0,
                ]
            })
            .collect();
        Mesh {
            points,
            presence: 1.0,
            roi: roi(100.0, 120.0, 150.0, 0.0),
        }
    }

    #[test]
    fn drift_bounds_centre_side_and_angle() {
        let ran = roi(100.0, 100.0, 200.0, 10.0);
        let d = MAX_DRIFT;
        assert!(d.holds(&ran, &ran));
        assert!(d.holds(&ran, &roi(103.0, 100.0, 200.0, 10.0)));
        assert!(!d.holds(&ran, &roi(105.0, 100.0, 200.0, 10.0)));
        assert!(d.holds(&ran, &roi(100.0, 100.0, 205.0, 10.0)));
        assert!(!d.holds(&ran, &roi(100.0, 100.0, 190.0, 10.0)));
        assert!(d.holds(&ran, &roi(100.0, 100.0, 200.0, 11.5)));
        assert!(!d.holds(&ran, &roi(100.0, 100.0, 200.0, 13.0)));
        // angles compare across the wrap
        let wrap = roi(0.0, 0.0, 100.0, 179.5);
        assert!(d.holds(&wrap, &roi(0.0, 0.0, 100.0, -179.5)));
    }

    #[test]
    fn the_detectors_box_is_carried_with_the_mesh() {
        let detected = BBox {
            x: 70.0,
            y: 80.0,
            w: 60.0,
            h: 70.0,
        };
        let start = mesh((0.0, 0.0), 1.0);
        let region = roi(100.0, 115.0, 105.0, 2.0);
        let anchor = Anchor::new(detected, region, &start);
        // the mesh where it was: the detection's own box and region
        let (b, r) = anchor.carry(&start);
        assert!((b.x - detected.x).abs() < 1e-3 && (b.w - detected.w).abs() < 1e-3);
        assert!(r.center.dist(region.center) < 1e-3 && (r.side - region.side).abs() < 1e-3);
        assert!((r.angle - region.angle).abs() < 1e-6);
        // moved and grown: the box moves and grows with it
        let (b, r) = anchor.carry(&mesh((10.0, -5.0), 1.5));
        let c = b.center();
        assert!(
            (b.w - 90.0).abs() < 0.5 && (b.h - 105.0).abs() < 0.5,
            "{b:?}"
        );
        // the box's offset from the mesh's centre grows by the same factor
        assert!((c.x - (100.0 + 10.0)).abs() < 0.5, "{c:?}");
        assert!(
            (c.y - (120.0 - 5.0 + 1.5 * (115.0 - 120.0))).abs() < 0.5,
            "{c:?}"
        );
        assert!((r.side - 157.5).abs() < 0.5);
    }

    #[test]
    fn a_mesh_nobody_asked_for_is_refused() {
        let mut t = Tracker::new(5);
        assert!(t.meshed(Err(Error::NoFace)).is_err());
        assert!(matches!(t.begin(), TrackNeed::Detect));
    }
}
