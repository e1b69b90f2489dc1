//! Pixels and plane geometry, no models: raw camera buffers ([`frame`]),
//! the limits against hostile input ([`limits`]), decoding photos within
//! them (`image_io`), affine warps into model tensors (`warp`), and points,
//! boxes and the similarity fit ([`geometry`]). Imports nothing of the
//! crate but [`crate::error`].

pub mod frame;
pub mod geometry;
pub(crate) mod image_io;
pub mod limits;
pub(crate) mod warp;
