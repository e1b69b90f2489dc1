//! How ONNX Runtime is found and run ([`RuntimeConfig`]): the library's
//! path, threads, sessions per model, the arena, the graph optimisation
//! level and model files bundled in memory ([`ModelBundle`]).

use std::path::PathBuf;

use crate::error::{Error, Result};

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
    /// docs/performance.md for the time it costs.
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
