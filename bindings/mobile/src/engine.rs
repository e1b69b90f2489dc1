//! `Engine`: the models, loaded once and shared by every session and thread.

use std::sync::Arc;

use realface::{EngineConfig, FaceEngine, DEFAULT_FAR};

use crate::error::Result;
use crate::frame::Frame;

/// A model file the app bundles (an Android asset, an iOS bundle resource)
/// and passes as bytes: checked by sha256 and shape as a file is.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ModelFile {
    /// Its file name in `models/` (e.g. `blazeface_short.onnx`).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// How to load the engine. Every field may be left empty.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct EngineOptions {
    /// Folder with the model files (default: the library's search path,
    /// see docs/models.md).
    pub model_dir: Option<String>,
    /// Model files given as bytes; they take the place of the same names
    /// in `model_dir`.
    pub models: Vec<ModelFile>,
    /// Path of the ONNX Runtime shared library the app ships (Android:
    /// `libonnxruntime.so` from the `onnxruntime-android` AAR, found by name
    /// once the AAR is a dependency; iOS: the framework's binary).
    pub runtime_library: Option<String>,
    /// The face matcher: `w600k_mbf` (default, non-commercial research use
    /// only), `permissive`, `fused` or `mobilefacenet`. An unknown name is
    /// INVALID_ARGUMENT.
    pub matcher: Option<String>,
}

/// Two faces compared.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Comparison {
    /// Cosine similarity.
    pub similarity: f32,
    /// 0-100 score.
    pub score: f32,
    /// The similarity needed at the false-accept target.
    pub threshold: f32,
    /// The false-accept target (1e-4).
    pub far_target: f64,
    /// The same person at that target.
    pub same_person: bool,
}

impl From<realface::Decision> for Comparison {
    fn from(d: realface::Decision) -> Self {
        Self {
            similarity: d.similarity,
            score: d.score,
            threshold: d.threshold,
            far_target: d.far_target,
            same_person: d.same_person,
        }
    }
}

/// A photo's quality for verification.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Quality {
    /// Overall 0-100.
    pub score: f32,
    /// Face size, 0-1.
    pub size: f32,
    /// Detail, 0-1.
    pub sharpness: f32,
    /// Exposure, 0-1.
    pub exposure: f32,
    /// Frontal pose, 0-1.
    pub pose: f32,
    /// Eyes open, 0-1.
    pub eyes: f32,
}

/// The loaded models. One per app: sessions on any thread share it.
#[derive(uniffi::Object)]
pub struct Engine {
    pub(crate) inner: Arc<FaceEngine>,
}

impl Engine {
    pub(crate) fn image(&self, frame: &Frame) -> Result<realface::RgbImage> {
        frame.to_rgb(&self.inner, &self.inner.config().limits)
    }
}

#[uniffi::export]
impl Engine {
    /// Loads the models (sha256 and shapes checked) and ONNX Runtime.
    #[uniffi::constructor]
    pub fn new(options: EngineOptions) -> Result<Arc<Self>> {
        let mut cfg = EngineConfig::default();
        if let Some(d) = options.model_dir {
            cfg = cfg.with_model_dir(d);
        }
        for m in options.models {
            cfg = cfg.with_model_bytes(m.name, m.bytes);
        }
        if let Some(l) = options.runtime_library {
            cfg = cfg.with_runtime_library(l);
        }
        if let Some(m) = options.matcher {
            cfg = cfg.with_matcher(m.parse()?);
        }
        Ok(Arc::new(Self {
            inner: Arc::new(FaceEngine::new(cfg)?),
        }))
    }

    /// The matcher's name (embeddings only compare under the matcher that
    /// made them).
    pub fn matcher(&self) -> String {
        self.inner.config().matcher.name().to_string()
    }

    /// The embedding of the one face in `frame` (NO_FACE, MULTIPLE_FACES
    /// otherwise): a stored reference for [`crate::Reference::Embedding`].
    pub fn embed(&self, frame: Frame) -> Result<Vec<f32>> {
        let img = self.image(&frame)?;
        Ok(self.inner.embed_image(&img)?.as_slice().to_vec())
    }

    /// Compares the one face in each frame at the default false-accept
    /// target (1e-4).
    pub fn compare(&self, a: Frame, b: Frame) -> Result<Comparison> {
        let (a, b) = (self.image(&a)?, self.image(&b)?);
        let d = self.inner.compare_images(&a, &b, DEFAULT_FAR)?;
        Ok(d.into())
    }

    /// Compares two stored embeddings (from [`Engine::embed`], same
    /// matcher) at the default false-accept target.
    pub fn compare_embeddings(&self, a: Vec<f32>, b: Vec<f32>) -> Result<Comparison> {
        let a = realface::Embedding::from_raw(a)?;
        let b = realface::Embedding::from_raw(b)?;
        let d = self.inner.compare_embeddings(&a, &b, DEFAULT_FAR)?;
        Ok(d.into())
    }

    /// The quality of the one face in `frame` as a verification photo.
    pub fn quality(&self, frame: Frame) -> Result<Quality> {
        let img = self.image(&frame)?;
        let q = self.inner.photo_quality(&img)?;
        Ok(Quality {
            score: q.score,
            size: q.size,
            sharpness: q.sharpness,
            exposure: q.exposure,
            pose: q.pose,
            eyes: q.eyes,
        })
    }
}
