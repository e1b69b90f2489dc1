//! Configuration: where the runtime and models are, which detector, which face
//! policy, resource limits. The runtime's own settings live in
//! [`crate::runtime::options`] and the matchers in [`crate::matching::matcher`];
//! both are re-exported here, where [`EngineConfig`] gathers them. Every struct has a safe `Default` and `with_*`
//! setters; [`EngineConfig::validate`] states the valid range of each value.

use std::path::PathBuf;

use crate::error::{Error, Result};
pub use crate::face::detect::DetectorChoice;
pub use crate::imaging::limits::Limits;
pub use crate::matching::matcher::{Alignment, Matcher};
pub use crate::runtime::options::{GraphOptimization, ModelBundle, RuntimeConfig};

/// What to do when a photo holds several faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacePolicy {
    /// Exactly one face, else [`Error::NoFace`] / [`Error::MultipleFaces`].
    /// The default: an identity check must not pick one of several people.
    #[default]
    ExactlyOne,
    /// The largest face (by box area); others are ignored. For photo collections
    /// with bystanders (evaluation data), never for live verification.
    Largest,
}

/// Configuration of a [`crate::FaceEngine`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// ONNX Runtime settings.
    pub runtime: RuntimeConfig,
    /// Folder with the model files; `None` = `REALFACE_MODEL_DIR`, then the
    /// crate's own `models/`.
    pub model_dir: Option<PathBuf>,
    /// Detector variant.
    pub detector: DetectorChoice,
    /// Several-faces policy.
    pub face_policy: FacePolicy,
    /// Minimum detector score (0..1) for a face.
    pub min_detection_score: f32,
    /// Minimum face-mesh presence (0..1) for a face to be aligned and embedded.
    pub min_mesh_presence: f32,
    /// Average the embeddings of the face and its mirror image.
    pub flip_fusion: bool,
    /// Which embedder compares faces.
    pub matcher: Matcher,
    /// Which points align the face for the embedder; `None` = the
    /// matcher's own ([`Matcher::alignment`]), the one its shipped tables
    /// were fitted with.
    pub alignment: Option<Alignment>,
    /// Input limits.
    pub limits: Limits,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            runtime: RuntimeConfig {
                library_path: None,
                intra_threads: 1,
                sessions_per_model: 1,
                bundled_models: ModelBundle::default(),
                arena: false,
                optimization: GraphOptimization::All,
                inter_threads: 1,
                deterministic: false,
                parallel_stages: true,
            },
            model_dir: None,
            detector: DetectorChoice::Auto,
            face_policy: FacePolicy::ExactlyOne,
            min_detection_score: 0.5,
            min_mesh_presence: 0.5,
            flip_fusion: false,
            matcher: Matcher::default(),
            alignment: None,
            limits: Limits::default(),
        }
    }
}

impl EngineConfig {
    /// Sets the face policy.
    pub fn with_face_policy(mut self, policy: FacePolicy) -> Self {
        self.face_policy = policy;
        self
    }

    /// Sets the detector variant.
    pub fn with_detector(mut self, detector: DetectorChoice) -> Self {
        self.detector = detector;
        self
    }

    /// Bundles a model file's bytes (e.g. `include_bytes!` or an app asset):
    /// it is loaded from memory instead of the model folder, after the same
    /// sha256 and shape checks.
    pub fn with_model_bytes(
        mut self,
        file: impl Into<String>,
        bytes: impl Into<std::sync::Arc<[u8]>>,
    ) -> Self {
        self.runtime.bundled_models.insert(file, bytes);
        self
    }

    /// Folder with the model files.
    pub fn with_model_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model_dir = Some(dir.into());
        self
    }

    /// Turns ONNX Runtime's CPU arena and memory patterns on or off
    /// ([`RuntimeConfig::arena`]).
    pub fn with_arena(mut self, on: bool) -> Self {
        self.runtime.arena = on;
        self
    }

    /// Sets ONNX Runtime's graph optimisation level
    /// ([`RuntimeConfig::optimization`]).
    pub fn with_graph_optimization(mut self, level: GraphOptimization) -> Self {
        self.runtime.optimization = level;
        self
    }

    /// Sets the inter-op threads ([`RuntimeConfig::inter_threads`]).
    pub fn with_inter_threads(mut self, threads: usize) -> Self {
        self.runtime.inter_threads = threads;
        self
    }

    /// Turns ONNX Runtime's deterministic compute on or off
    /// ([`RuntimeConfig::deterministic`]).
    pub fn with_deterministic(mut self, on: bool) -> Self {
        self.runtime.deterministic = on;
        self
    }

    /// Runs a frame's independent model calls side by side or not
    /// ([`RuntimeConfig::parallel_stages`]).
    pub fn with_parallel_stages(mut self, on: bool) -> Self {
        self.runtime.parallel_stages = on;
        self
    }

    /// Sets the ONNX Runtime library path.
    pub fn with_runtime_library(mut self, path: impl Into<PathBuf>) -> Self {
        self.runtime.library_path = Some(path.into());
        self
    }

    /// Enables or disables flip fusion of embeddings.
    pub fn with_flip_fusion(mut self, on: bool) -> Self {
        self.flip_fusion = on;
        self
    }

    /// Chooses the embedder (or the fusion of embedders) that compares faces.
    pub fn with_matcher(mut self, matcher: Matcher) -> Self {
        self.matcher = matcher;
        self
    }

    /// Chooses the alignment (`None`: the matcher's own). Only the matcher's
    /// own has a shipped table: another needs `realface calibrate` and
    /// [`crate::FaceEngine::set_calibration`].
    pub fn with_alignment(mut self, alignment: Option<Alignment>) -> Self {
        self.alignment = alignment;
        self
    }

    /// The alignment in effect: the chosen one, else the matcher's own.
    pub fn effective_alignment(&self) -> Alignment {
        self.alignment.unwrap_or(self.matcher.alignment())
    }

    /// Sets how many sessions each model keeps (parallel callers).
    pub fn with_sessions_per_model(mut self, n: usize) -> Self {
        self.runtime.sessions_per_model = n;
        self
    }

    /// Sets the intra-op thread count of each session.
    pub fn with_intra_threads(mut self, n: usize) -> Self {
        self.runtime.intra_threads = n;
        self
    }

    /// Sets the input limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Checks every value against its valid range.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &'static str, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(name, format!("{v} is outside 0..=1")))
            }
        };
        unit("min_detection_score", self.min_detection_score)?;
        unit("min_mesh_presence", self.min_mesh_presence)?;
        if !(1..=64).contains(&self.runtime.sessions_per_model) {
            return Err(Error::invalid(
                "sessions_per_model",
                format!("{} is outside 1..=64", self.runtime.sessions_per_model),
            ));
        }
        if self.runtime.intra_threads > 256 {
            return Err(Error::invalid(
                "intra_threads",
                "must be at most 256 (0 = automatic)",
            ));
        }
        if self.limits.max_dimension == 0 || self.limits.max_decoded_bytes == 0 {
            return Err(Error::invalid("limits", "limits must be positive"));
        }
        Ok(())
    }
}
