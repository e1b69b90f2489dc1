//! # realface
//!
//! On-device real-person authentication: is the face in front of the camera
//! live, and is it the person of the reference photo? This crate holds the
//! whole pipeline — face detection (BlazeFace, SCRFD for alignment),
//! 468-point landmarks (MediaPipe Face Mesh), 5-point alignment, passive
//! anti-spoofing (`fr_liveness` and MiniFASNet on every session), prompted
//! actions (blink, mouth, turns, nod), an embedding (by default InsightFace's
//! WebFace600K MobileFaceNet, `w600k_mbf`, whose weights are for
//! non-commercial research only; [`Matcher::Permissive`] and
//! [`Matcher::Fused`] are the licence-clean choices, see [`Matcher`]) and a
//! 1:1 decision at a threshold calibrated for a target false-accept rate
//! (default 1e-4) — running on ONNX Runtime, with no network at build or run
//! time.
//!
//! ## Quick start
//!
//! ```no_run
//! use realface::{EngineConfig, FaceEngine, DEFAULT_FAR};
//!
//! # fn main() -> realface::Result<()> {
//! // Loads ONNX Runtime (set up by `scripts/setup.sh`) and the models in
//! // `models/`, verifying each model's sha256 and tensor shapes.
//! let engine = FaceEngine::new(EngineConfig::default())?;
//!
//! let reference = engine.load("id_photo.jpg")?;
//! let probe = engine.load("selfie.jpg")?;
//! let decision = engine.compare_images(&reference, &probe, DEFAULT_FAR)?;
//! println!(
//!     "similarity {:.3}, score {:.1}, same person: {}",
//!     decision.similarity, decision.score, decision.same_person
//! );
//! # Ok(())
//! # }
//! ```
//!
//! Errors are one enum, [`Error`], with a stable numeric [`ErrorCode`]; "no
//! face" and "several faces" are typed outcomes, never panics.
//!
//! A live check is a [`VerificationSession`]: a claimed certifyId
//! ([`CertifyRegistry`]), a reference ([`Reference`]), [`SessionOptions`];
//! frames are pushed with timestamps and it ends with an [`AuthResult`] (see
//! the guide's "Verification sessions", `docs/sessions.md`, for a full
//! example, compiled as a doctest).
//!
//! ## Layout
//! Layers, lowest first (`docs/ARCHITECTURE.md` says what each may import):
//! [`error`] and [`config`]; [`runtime`] (ONNX Runtime, the model table);
//! [`imaging`] (frames, decoding, warps, geometry, sharpness); [`face`]
//! (detection, mesh, keypoints, alignment, segmentation, features,
//! sharpness, quality);
//! [`matching`] (matchers, embeddings, fusion, comparison); [`liveness`]
//! (measurements, actions, answers, passive models); [`engine`] (the
//! models loaded together); [`session`] (the state machine, its options and
//! its verdict); [`source`] (frame sources); the texts a client shows in
//! [`prompts`]; [`eval`] (behind the default-on feature `eval`) and the C
//! ABI in `ffi` (feature `ffi`) on top.
//!
//! ## Features
//! - `cli` (default): the `realface` tool; pulls in `eval` and `video`.
//! - `eval`: the offline evaluation harness.
//! - `video`: video files as frame sources (FFmpeg).
//! - `ffi`: the C ABI; `cargo build --release -p realface-c` (bindings/c) builds `librealface.so`.
//! - `camera`: live capture (nokhwa). `gui`: the desktop example.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod engine;
pub mod error;
#[cfg(feature = "eval")]
pub mod eval;
pub mod face;
#[cfg(feature = "ffi")]
#[allow(unsafe_code)]
pub mod ffi;
pub mod imaging;
pub mod liveness;
pub mod matching;
pub mod prompts;
pub mod rng;
pub mod runtime;
pub mod session;
pub mod source;
pub mod webhook;

// The paths before the layout of 2026-12-06 (issue #41), kept for one
// release: `realface::detect` is `realface::face::detect`, and so on.
pub use face::{align, detect, landmarks, quality, scrfd, segment, sharpness, yunet};
pub use imaging::{frame, geometry};
pub use matching::{compare, embed, fusion};
pub use runtime::models;
pub use session::track;

pub use config::{
    Alignment, DetectorChoice, EngineConfig, FacePolicy, GraphOptimization, Limits, Matcher,
    ModelBundle, RuntimeConfig,
};
pub use engine::{FaceAnalysis, FaceEngine, FaceLandmarks};
pub use error::{Error, ErrorCode, Result};
pub use face::detect::{Face, FaceDetector};
pub use face::landmarks::{FaceMesh, Mesh};
pub use image::RgbImage;
pub use imaging::geometry::{BBox, Point};
pub use liveness::actions::{Action, ActionParams};
pub use liveness::pad::PadOptions;
pub use matching::compare::{Calibration, Decision, DEFAULT_FAR};
pub use matching::embed::{Embedding, FaceEmbedder};
pub use session::certify::{CertifyRegistry, CertifyTicket, IssuedId, CERTIFY_ID_TTL_MS};
pub use session::challenge::ChallengeSpec;
pub use session::photo::PhotoKind;
pub use session::result::{ActionOutcome, AuthResult, AuthState, Reason, ReasonCode};
pub use session::ui::UiOptions;
pub use session::{Progress, Reference, SessionOptions, SessionState, VerificationSession};

/// The README's and the guide's Rust examples (docs/), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[doc = include_str!("../docs/sessions.md")]
#[doc = include_str!("../docs/library.md")]
#[doc = include_str!("../docs/operating.md")]
pub struct GuideDoctests;
