//! realface's verification session inside a browser page.
//!
//! The library is compiled to WebAssembly (`scripts/build-web.sh`:
//! Debian's `rustc-web` and `rust-web-src`, `-Zbuild-std`, nothing
//! downloaded) and runs the session a device runs: tracking, the models'
//! pre- and post-processing, measurements, the prompt schedule (prompt k a
//! nonce-drawn delay after answer k-1 is seen, postponed while the face is
//! not at rest), the answers and their release cues. The page runs the three
//! model files it needs (BlazeFace, Face Mesh, the eye-state model) in ONNX
//! Runtime Web, whose calls are asynchronous, and hands their outputs back
//! ([`realface::session::external`]). The passive models and the embedding
//! do not run in the page: the server judges the recording with every
//! model and recomputes the schedule from the frames.
//!
//! The exports are a small C ABI over the module's memory ([`abi`]); the
//! logic lives in [`Page`], which the native tests drive directly.

pub mod abi;

use realface::face::detect::{DetectorKind, Face};
use realface::imaging::geometry::{BBox, Point};
use realface::session::external::ModelNeed;
use realface::{
    CertifyRegistry, DetectorChoice, EngineConfig, FaceEngine, IssuedId, Reference, SessionOptions,
    VerificationSession,
};
use serde::Deserialize;
use std::sync::Arc;

/// What the page must do next, with its data.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The frame is done: the session's progress (JSON).
    Done(String),
    /// Run the detector and hand its faces to [`Page::faces`].
    Detect,
    /// Run the mesh model on this input and hand its outputs to [`Page::mesh`].
    Mesh(Vec<f32>),
    /// Run the eye-state model on each crop and hand both to [`Page::eyes`].
    Eyes(Vec<f32>),
}

/// How a capture starts: what `POST .../start` answered.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    /// The certifyId.
    pub certify_id: String,
    /// Its challenge nonce.
    pub challenge_nonce: String,
    /// The options the server judges with (the challenge fixed).
    pub session_options: SessionOptions,
}

/// A face of the page's detector (`realface-analyse.js`).
#[derive(Debug, Deserialize)]
pub struct PageFace {
    /// The box: x, y, width, height (pixels).
    pub bbox: [f32; 4],
    /// Its score, 0..1.
    pub score: f32,
    /// The six keypoints (x, y), in the library's order.
    pub kps: Vec<[f32; 2]>,
}

/// An error as the page sees it: the library's stable code and its message.
#[derive(Debug, Clone, PartialEq)]
pub struct PageError {
    /// The stable code name (`INVALID_ARGUMENT`, ...).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl From<realface::Error> for PageError {
    fn from(e: realface::Error) -> Self {
        Self {
            code: e.code().name(),
            message: e.to_string(),
        }
    }
}

fn invalid(what: &'static str, message: impl std::fmt::Display) -> PageError {
    PageError::from(realface::Error::invalid(what, message.to_string()))
}

/// One capture's session.
#[derive(Debug)]
pub struct Page {
    session: VerificationSession,
}

impl Page {
    /// The session of a started certifyId (`start` is the JSON of
    /// [`Start`]). Its models are stand-ins: the page runs them.
    pub fn new(engine: Arc<FaceEngine>, start: &str) -> Result<Self, PageError> {
        let s: Start = serde_json::from_str(start).map_err(|e| invalid("start", e))?;
        let issued = IssuedId {
            certify_id: s.certify_id,
            challenge_nonce: s.challenge_nonce,
            // the page keeps no clock of its own: the server holds the expiry
            expires_ms: realface::CERTIFY_ID_TTL_MS,
        };
        let ticket = CertifyRegistry::new().claim_issued(&issued, 0)?;
        let session =
            VerificationSession::new(engine, ticket, Reference::Server, s.session_options)?;
        Ok(Self { session })
    }

    /// The engine a page's sessions share (its models run in the page).
    pub fn engine() -> Result<Arc<FaceEngine>, PageError> {
        // the page runs BlazeFace short range only
        let config = EngineConfig::default().with_detector(DetectorChoice::Short);
        Ok(Arc::new(FaceEngine::new(config)?))
    }

    /// A frame (RGBA, `w` x `h`) taken at `t_ms` since the recording began.
    pub fn frame(&mut self, rgba: &[u8], w: u32, h: u32, t_ms: u64) -> Result<Next, PageError> {
        let n = (w as usize) * (h as usize);
        if rgba.len() != n * 4 {
            return Err(invalid(
                "frame",
                format!("{} bytes for {w}x{h} RGBA", rgba.len()),
            ));
        }
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let img = realface::RgbImage::from_raw(w, h, rgb)
            .ok_or_else(|| invalid("frame", "the pixels do not fill the frame"))?;
        let need = self.session.begin_external(img, t_ms)?;
        next(need)
    }

    /// The detector's faces (JSON array of [`PageFace`]).
    pub fn faces(&mut self, faces: &str) -> Result<Next, PageError> {
        let faces: Vec<PageFace> = serde_json::from_str(faces).map_err(|e| invalid("faces", e))?;
        let faces = faces
            .into_iter()
            .map(|f| {
                let kp: Vec<Point> = f.kps.iter().map(|p| Point::new(p[0], p[1])).collect();
                let keypoints: [Point; 6] = kp
                    .try_into()
                    .map_err(|_| invalid("faces", "six keypoints per face"))?;
                Ok(Face {
                    bbox: BBox {
                        x: f.bbox[0],
                        y: f.bbox[1],
                        w: f.bbox[2],
                        h: f.bbox[3],
                    },
                    score: f.score,
                    keypoints,
                    detector: DetectorKind::Short,
                })
            })
            .collect::<Result<Vec<_>, PageError>>()?;
        next(self.session.external_faces(faces)?)
    }

    /// The mesh model's outputs.
    pub fn mesh(&mut self, coords: &[f32], presence_logit: f32) -> Result<Next, PageError> {
        next(self.session.external_mesh(coords, presence_logit)?)
    }

    /// The eye-state model's outputs, right eye then left.
    pub fn eyes(&mut self, right: [f32; 2], left: [f32; 2]) -> Result<Next, PageError> {
        next(self.session.external_eyes(right, left)?)
    }
}

fn next(need: ModelNeed) -> Result<Next, PageError> {
    Ok(match need {
        ModelNeed::Detect => Next::Detect,
        ModelNeed::Mesh(input) => Next::Mesh(input),
        ModelNeed::Eyes([r, l]) => Next::Eyes([r, l].concat()),
        ModelNeed::Done(p) => {
            Next::Done(serde_json::to_string(&p).map_err(|e| invalid("progress", e))?)
        }
    })
}
