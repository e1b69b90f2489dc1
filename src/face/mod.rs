//! Finding and describing one face: detection ([`detect`], BlazeFace),
//! the 468-point mesh ([`landmarks`]), SCRFD's and YuNet's keypoints for
//! the embedding crop ([`scrfd`], [`yunet`]), the five-point alignment
//! ([`align`]), person segmentation for the Y_M photo ([`segment`]), the
//! quality score ([`quality`]) and tracking across frames ([`track`]).
//! Built on [`crate::runtime`] and [`crate::imaging`].

pub mod align;
pub mod detect;
pub mod landmarks;
pub mod quality;
pub mod scrfd;
pub mod segment;
pub mod track;
pub mod yunet;
