//! Pixels and plane geometry, no models: raw camera buffers ([`frame`],
//! and the phones' YUV 4:2:0 layouts with rotation and mirroring: [`yuv`]),
//! the limits against hostile input ([`limits`]), decoding photos within
//! them (`image_io`), affine warps into model tensors (`warp`), and points,
//! boxes and the similarity fit ([`geometry`]). Imports nothing of the
//! crate but [`crate::error`].

pub mod frame;
pub mod geometry;
pub(crate) mod image_io;
pub mod limits;
pub(crate) mod warp;
pub mod yuv;
