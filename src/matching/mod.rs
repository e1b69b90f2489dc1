//! Who the face is: the matchers and their networks ([`matcher`]), the
//! embedding as a value ([`vector`]), the embedder ([`embed`]), score-level fusion of several networks
//! ([`fusion`]) and the comparison at a calibrated threshold
//! ([`compare`]). Built on [`crate::face`] (the aligned crop),
//! [`crate::runtime`] and [`crate::imaging`].

pub mod compare;
pub mod embed;
pub mod fusion;
pub mod matcher;
pub mod vector;
