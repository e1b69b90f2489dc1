//! Liveness: per-frame measurements ([`crate::face::features`] from the mesh, the eye-state
//! model in [`eye_state`], all taken by [`measure`]), the actions and their
//! thresholds ([`actions`]), the answers to prompts ([`answer`]) and their
//! release cue ([`release`]), the flat-motion cues ([`flat`] from the mesh,
//! [`planar`] from the pixels), and the passive
//! presentation-attack models ([`pad::model`]) fused per session ([`pad`]).
//! [`passive`] holds image-cue baselines for evaluation only.

pub mod actions;
pub mod answer;
pub mod eye_state;
/// The mesh's per-frame features, now [`crate::face::features`]; this path
/// stays for one release.
pub use crate::face::features; // compat
pub mod flat;
pub mod measure;
pub mod pad;
/// The passive models, now [`pad::model`]; this path stays for one release.
pub use pad::model as pad_model; // compat
pub mod passive;
pub mod planar;
pub mod release;
