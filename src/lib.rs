//! # realface
//!
//! On-device real-person authentication: is the face in front of the camera
//! live, and is it the person of the reference photo? This crate holds the
//! whole pipeline — face detection (BlazeFace), 468-point landmarks (MediaPipe
//! Face Mesh), 5-point alignment, embedding (MobileFaceNet) and a 1:1 decision
//! at a threshold calibrated for a target false-accept rate (default 1e-4) —
//! running on ONNX Runtime, with no network at build or run time.
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
//! ## Layout
//! One module per stage: [`detect`], [`landmarks`], [`align`], [`embed`],
//! [`compare`]; pure maths in [`geometry`] and [`warp`]; ONNX Runtime only in
//! [`runtime`]; the model table in [`models`].

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod align;
pub mod compare;
pub mod config;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
#[cfg(feature = "ffi")]
#[allow(unsafe_code)]
pub mod ffi;
pub mod frame;
pub mod geometry;
pub mod image_io;
pub mod landmarks;
pub mod liveness;
pub mod models;
pub mod quality;
pub mod runtime;
pub mod segment;
pub mod session;
pub mod source;
pub mod track;
pub mod warp;

pub use compare::{Calibration, Decision, DEFAULT_FAR};
pub use config::{DetectorChoice, EngineConfig, FacePolicy, Limits, RuntimeConfig};
pub use detect::{Face, FaceDetector};
pub use embed::{Embedding, FaceEmbedder};
pub use engine::{FaceAnalysis, FaceEngine};
pub use error::{Error, ErrorCode, Result};
pub use geometry::{BBox, Point};
pub use image::RgbImage;
pub use landmarks::{FaceMesh, Mesh};
