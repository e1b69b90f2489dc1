//! Limits against hostile or broken input: the largest image, decoded size
//! and encoded size accepted ([`Limits`]).

/// Limits against hostile or broken input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest accepted width or height of an image, in pixels.
    pub max_dimension: u32,
    /// Largest accepted decoded image size in bytes (decompression bombs).
    pub max_decoded_bytes: u64,
    /// Largest accepted encoded input size in bytes.
    pub max_encoded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_dimension: 8192,
            max_decoded_bytes: 256 * 1024 * 1024,
            max_encoded_bytes: 64 * 1024 * 1024,
        }
    }
}
