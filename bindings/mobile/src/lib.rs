//! realface for Kotlin and Swift apps, through UniFFI: one API, generated
//! for both languages from this crate's built library.
//!
//! - [`Engine`]: the models, loaded once from a folder or from bytes the
//!   app bundles; `compare`, `embed`, `quality`.
//! - [`CaptureSession`]: the server flow, built from `start`'s answer;
//!   `push_frame` returns the [`Progress`] to draw, `evidence` the upload.
//! - [`LocalSession`]: an on-device verdict against a reference.
//! - [`Frame`]: the camera's own formats ([`Pixels`]: NV21, NV12, CameraX
//!   `YUV_420_888` planes, BGRA, RGBA, encoded), with a rotation and a
//!   mirror, converted once, here.
//! - [`RealfaceError`]: every refusal, with the library's stable code.
//!
//! Kotlin: `bash bindings/mobile/kotlin/test.sh` generates, compiles and
//! tests the bindings on the JVM; docs/mobile.md is the guide.
//!
//! ```
//! use realface_mobile::{Frame, Pixels};
//! // a 2x2 NV21 frame, captured sideways
//! let frame = Frame {
//!     pixels: Pixels::Nv21 {
//!         width: 2, height: 2,
//!         y: vec![16; 4], y_row_stride: 2,
//!         vu: vec![128; 2], vu_row_stride: 2,
//!         colour: realface_mobile::YuvColour::Bt601Limited,
//!     },
//!     rotation: 90,
//!     mirror: false,
//! };
//! assert_eq!(frame.rotation, 90);
//! ```

mod engine;
mod error;
mod frame;
mod progress;
mod session;

pub use engine::{Comparison, Engine, EngineOptions, ModelFile, Quality};
pub use error::{RealfaceError, Result};
pub use frame::{Frame, Pixels, Plane, YuvColour};
pub use progress::{ActionResult, Progress, Reason, State, Timer, Verdict};
pub use session::{CaptureSession, LocalOptions, LocalSession, Reference};

uniffi::setup_scaffolding!();

/// The text of a prompt key (`Progress::prompt_key`, `Reason::hint`) in a
/// language (`en`, `zh-Hans`; others fall back to English); none for an
/// unknown key.
#[uniffi::export]
pub fn prompt_text(key: String, lang: String) -> Option<String> {
    realface::prompts::text(&key, realface::prompts::Lang::from_tag(&lang)).map(str::to_string)
}
