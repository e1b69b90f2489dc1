//! Liveness: passive single-image cues ([`passive`]), measured per attack
//! species before they are trusted.

pub mod passive;
