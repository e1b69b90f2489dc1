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
//! One module per stage: [`detect`], [`landmarks`], [`align`], [`embed`],
//! [`compare`]; liveness measurements and detectors in [`liveness`]; the
//! session state machine, its options and its verdict in [`session`]; the
//! texts and icons a client shows, in English and Simplified Chinese, in
//! [`prompts`]; image
//! detail in [`sharpness`] (shared by [`quality`] and liveness); pure maths in
//! [`geometry`] and `warp`; ONNX Runtime only in [`runtime`]; the model
//! table in [`models`]. The evaluation harness ([`eval`]: data sets,
//! metrics, synthetic attacks, held-out liveness) is behind the default-on
//! feature `eval`; the C ABI behind `ffi`.
//!
//! ## Features
//! - `cli` (default): the `realface` tool; pulls in `eval` and `video`.
//! - `eval`: the offline evaluation harness.
//! - `video`: video files as frame sources (FFmpeg).
//! - `ffi`: the C ABI; `cargo rustc --release --features ffi --lib --crate-type cdylib`.
//! - `camera`: live capture (nokhwa). `gui`: the desktop example.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod align;
pub mod compare;
pub mod config;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod error;
#[cfg(feature = "eval")]
pub mod eval;
#[cfg(feature = "ffi")]
#[allow(unsafe_code)]
pub mod ffi;
pub mod frame;
pub mod fusion;
pub mod geometry;
pub(crate) mod image_io;
pub mod landmarks;
pub mod liveness;
pub mod models;
pub mod prompts;
pub mod quality;
pub mod rng;
pub mod runtime;
pub mod scrfd;
pub mod segment;
pub mod session;
pub mod sharpness;
pub mod source;
pub mod track;
pub(crate) mod warp;
pub mod webhook;
pub mod yunet;

pub use compare::{Calibration, Decision, DEFAULT_FAR};
pub use config::{
    Alignment, DetectorChoice, EngineConfig, FacePolicy, GraphOptimization, Limits, Matcher,
    ModelBundle, RuntimeConfig,
};
pub use detect::{Face, FaceDetector};
pub use embed::{Embedding, FaceEmbedder};
pub use engine::{FaceAnalysis, FaceEngine, FaceLandmarks};
pub use error::{Error, ErrorCode, Result};
pub use geometry::{BBox, Point};
pub use image::RgbImage;
pub use landmarks::{FaceMesh, Mesh};
pub use liveness::actions::{Action, ActionParams};
pub use liveness::pad::PadOptions;
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
