//! The models bundled into the extension by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/models.rs"));

/// An engine configuration that loads every bundled model from memory (each
/// still checked by sha256 and shape when loaded).
pub fn bundled(mut cfg: realface::EngineConfig) -> realface::EngineConfig {
    for (file, bytes) in MODELS {
        cfg = cfg.with_model_bytes(*file, *bytes);
    }
    cfg
}
