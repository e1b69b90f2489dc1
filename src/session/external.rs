//! Sessions whose models run outside the library: a browser page runs the
//! model files in ONNX Runtime Web (whose calls are asynchronous, so the
//! library cannot call them) and hands their outputs back, and the library
//! does everything else, the same code a device runs: tracking, the models'
//! pre- and post-processing, measurements, the prompt schedule, answers,
//! progress.
//!
//! A frame is a short exchange: [`VerificationSession::begin_external`]
//! says what it needs ([`ModelNeed`]), the caller runs that model and hands
//! its output to [`VerificationSession::external_faces`],
//! [`VerificationSession::external_mesh`] or
//! [`VerificationSession::external_eyes`], until [`ModelNeed::Done`] with
//! the frame's [`Progress`]. The passive models and the embedding do not run
//! here: such a session prompts and follows the answers, and the server
//! judges the recording with every model.

use image::RgbImage;

use super::replay::FrameObs;
use super::track::{TrackNeed, TrackOutcome, Tracked};
use super::{Progress, VerificationSession};
use crate::engine::landmarks_of;
use crate::error::{Error, Result};
use crate::face::detect::Face;
use crate::face::landmarks::{mesh_input, Mesh, Roi};
use crate::liveness::eye_state::{eye_crops, EyeState};
use crate::liveness::measure::measure_with_eyes;

/// What the session needs next for the frame at hand.
#[derive(Debug, Clone)]
pub enum ModelNeed {
    /// The detector's faces on the frame (BlazeFace short range, its
    /// post-processing as [`crate::face::detect`] does it).
    Detect,
    /// The mesh model on this input: 192x192x3 (NHWC), values in [0, 1].
    Mesh(Vec<f32>),
    /// The eye-state model on these two 24x24 grey crops (subject's right
    /// eye, then left), values in [0, 1].
    Eyes([Vec<f32>; 2]),
    /// The frame is done.
    Done(Progress),
}

/// The frame being analysed.
#[derive(Debug, Clone)]
pub(super) struct PageFrame {
    frame: RgbImage,
    t_ms: u64,
    roi: Option<Roi>,
    tracked: Option<Tracked>,
}

fn out_of_turn(what: &str) -> Error {
    Error::invalid(
        "external",
        format!("{what} came when the session did not ask for it"),
    )
}

impl VerificationSession {
    /// Starts a frame taken at `t_ms` whose models run outside the library.
    /// The frame is checked and counted as [`VerificationSession::push_frame`]
    /// does; an unfinished earlier frame is dropped.
    pub fn begin_external(&mut self, frame: RgbImage, t_ms: u64) -> Result<ModelNeed> {
        if self.result.is_some() {
            return Err(Error::SessionFinished);
        }
        self.external = None;
        self.check_frame(&frame, t_ms)?;
        if let Some(p) = self.begin_frame(t_ms) {
            return Ok(ModelNeed::Done(p));
        }
        let need = self.tracker.begin();
        self.external = Some(PageFrame {
            frame,
            t_ms,
            roi: None,
            tracked: None,
        });
        self.external_need(need)
    }

    /// The detector's faces on the frame, after [`ModelNeed::Detect`].
    pub fn external_faces(&mut self, faces: Vec<Face>) -> Result<ModelNeed> {
        if self
            .external
            .as_ref()
            .is_none_or(|p| p.roi.is_some() || p.tracked.is_some())
        {
            return Err(out_of_turn("faces"));
        }
        let need = self.tracker.detected(faces);
        self.external_need(need)
    }

    /// The mesh model's outputs (468 x 3 crop coordinates and the presence
    /// logit), after [`ModelNeed::Mesh`].
    pub fn external_mesh(&mut self, coords: &[f32], presence_logit: f32) -> Result<ModelNeed> {
        let roi = self
            .external
            .as_mut()
            .and_then(|p| p.roi.take())
            .ok_or_else(|| out_of_turn("a mesh"))?;
        let min = self.engine.config().min_mesh_presence;
        let found = Mesh::decode(coords, presence_logit, roi).and_then(|m| landmarks_of(m, min));
        let need = match self.tracker.meshed(found) {
            Ok(need) => need,
            Err(e) => {
                // the frame is refused, as push_frame refuses it
                self.external = None;
                return Err(e);
            }
        };
        self.external_need(need)
    }

    /// The eye-state model's two outputs (its two raw values per eye),
    /// after [`ModelNeed::Eyes`]: the frame's progress.
    pub fn external_eyes(&mut self, right: [f32; 2], left: [f32; 2]) -> Result<ModelNeed> {
        let page = match self.external.take() {
            Some(PageFrame {
                frame,
                t_ms,
                tracked: Some(tracked),
                ..
            }) => (frame, t_ms, tracked),
            other => {
                self.external = other;
                return Err(out_of_turn("eye states"));
            }
        };
        let (frame, t_ms, tracked) = page;
        let eyes = EyeState::from_logits(right, left)?;
        let measure = measure_with_eyes(&frame, &tracked.mesh, &tracked.map, eyes);
        let obs = FrameObs::Face(Box::new(self.face_obs(&frame, tracked, measure, None)?));
        self.apply(t_ms, &obs, Some(&frame)).map(ModelNeed::Done)
    }

    /// The frame being analysed now.
    fn page(&mut self) -> Result<&mut PageFrame> {
        self.external
            .as_mut()
            .ok_or_else(|| out_of_turn("a model output"))
    }

    fn external_need(&mut self, need: TrackNeed) -> Result<ModelNeed> {
        match need {
            TrackNeed::Detect => Ok(ModelNeed::Detect),
            TrackNeed::Mesh(roi) => {
                let page = self.page()?;
                let input = mesh_input(&page.frame, roi)?;
                page.roi = Some(roi);
                Ok(ModelNeed::Mesh(input))
            }
            TrackNeed::Done(TrackOutcome::Face(t)) => {
                let page = self.page()?;
                let crops = eye_crops(&page.frame, &t.mesh);
                page.tracked = Some(*t);
                Ok(ModelNeed::Eyes(crops))
            }
            TrackNeed::Done(TrackOutcome::NoFace) => self.external_apply(FrameObs::NoFace),
            TrackNeed::Done(TrackOutcome::Multiple(n)) => {
                self.external_apply(FrameObs::Multiple(n))
            }
        }
    }

    fn external_apply(&mut self, obs: FrameObs) -> Result<ModelNeed> {
        let page = self.external.take().ok_or_else(|| out_of_turn("a frame"))?;
        self.apply(page.t_ms, &obs, Some(&page.frame))
            .map(ModelNeed::Done)
    }
}
