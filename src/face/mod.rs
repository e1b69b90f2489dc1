//! Finding and describing one face: detection ([`detect`], BlazeFace),
//! the 468-point mesh ([`landmarks`]), SCRFD's and YuNet's keypoints for
//! the embedding crop ([`scrfd`], [`yunet`]), the five-point alignment
//! ([`align`]), person segmentation for the Y_M photo ([`segment`]), the
//! mesh's per-frame features ([`features`]: pose, eyes, mouth), the detail
//! of a face crop ([`sharpness`]) and the quality score ([`quality`]).
//! Built on [`crate::runtime`] and [`crate::imaging`].

pub mod align;
pub mod detect;
pub mod features;
pub mod landmarks;
pub mod quality;
pub mod scrfd;
pub mod segment;
pub mod sharpness;
pub mod yunet;
