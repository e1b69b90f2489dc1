//! Liveness: per-frame measurements from the mesh ([`features`]), passive
//! single-image cues ([`passive`]), measured per attack species before they are
//! trusted.

pub mod actions;
pub mod eye_state;
pub mod features;
pub mod flat;
pub mod measure;
pub mod pad;
pub mod pad_model;
pub mod parallax;
pub mod passive;
