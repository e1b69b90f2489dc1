//! The embedding as a value: an L2-normalised vector that no NaN, infinite,
//! empty or zero input can become, and the dot product that compares two.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An L2-normalised face embedding. Every way in, deserialisation included,
/// goes through [`Embedding::from_raw`]: no NaN, infinite, empty or zero
/// vector can become one (a stored reference of infinities once compared as
/// similarity 1.0 with any face).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Vec<f32>);

impl TryFrom<Vec<f32>> for Embedding {
    type Error = Error;
    fn try_from(v: Vec<f32>) -> Result<Self> {
        Self::from_raw(v)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(e: Embedding) -> Self {
        e.0
    }
}

impl Embedding {
    /// Normalises a raw vector; errors on empty, non-finite or zero vectors.
    pub fn from_raw(v: Vec<f32>) -> Result<Self> {
        if v.is_empty() {
            return Err(Error::invalid("embedding", "empty vector"));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFiniteOutput { stage: "embed" });
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm.is_nan() || norm <= 1e-12 {
            return Err(Error::invalid("embedding", "zero vector"));
        }
        Ok(Self(v.into_iter().map(|x| x / norm).collect()))
    }

    /// The values (unit length).
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Length of the vector.
    pub fn dim(&self) -> usize {
        self.0.len()
    }

    /// Cosine similarity in [-1, 1]; errors when the lengths differ.
    pub fn similarity(&self, other: &Embedding) -> Result<f32> {
        if self.0.len() != other.0.len() {
            return Err(Error::invalid(
                "embedding",
                format!("length {} does not match {}", other.0.len(), self.0.len()),
            ));
        }
        let s = dot(&self.0, &other.0);
        if !s.is_finite() {
            // fail closed: never clamp a NaN or an infinity into a match
            return Err(Error::NonFiniteOutput { stage: "compare" });
        }
        Ok(s.clamp(-1.0, 1.0))
    }
}

/// Dot product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
