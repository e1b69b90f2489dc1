//! Pixels and plane geometry, no models: raw camera buffers ([`frame`]),
//! decoding photos within the limits (`image_io`), affine warps into model
//! tensors (`warp`), points, boxes and the similarity fit ([`geometry`]),
//! and image detail ([`sharpness`]). Imports nothing of the crate but
//! [`crate::error`] and [`crate::config`]'s limits.

pub mod frame;
pub mod geometry;
pub(crate) mod image_io;
pub mod sharpness;
pub(crate) mod warp;
