//! The one module that touches ONNX Runtime (`ort`).
//!
//! It finds and loads the ONNX Runtime shared library once per process, and
//! wraps each model in an `OnnxModel`: the file is checked against its
//! [`ModelSpec`] (sha256, input and output tensors) before a session exists, and
//! a small pool of sessions lets several threads run the same model at once.
//!
//! Library search order: the path in [`RuntimeConfig`], then `REALFACE_ORT_LIB`,
//! then the project-local `.runtime/` folder written by `scripts/setup.sh`
//! (beside the crate, or two levels above the executable as in
//! `target/release/`), then `libonnxruntime.so.1.31.1` beside the executable,
//! then the system's dynamic loader path.

// WebAssembly builds keep the loader's code but never load (see `load`)
#![cfg_attr(target_arch = "wasm32", allow(dead_code))]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{TensorRef, ValueType};
use sha2::{Digest, Sha256};

pub mod models;
pub mod options;

use crate::error::{Error, Result};
use crate::runtime::models::ModelSpec;
use options::{GraphOptimization, RuntimeConfig};

/// The ONNX Runtime version realface is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";
/// Environment variable with the path of the ONNX Runtime library.
pub const ORT_LIB_ENV: &str = "REALFACE_ORT_LIB";

static MODEL_NANOS: AtomicU64 = AtomicU64::new(0);
static MODEL_RUNS: AtomicU64 = AtomicU64::new(0);
/// The same, per model (by [`ModelSpec::name`]).
static PER_MODEL: Mutex<Vec<(&'static str, ModelTime)>> = Mutex::new(Vec::new());

/// Time spent inside ONNX Runtime's `run` by every model of this process
/// since it started (all threads added up): what the benchmark subtracts
/// from the per-frame total to get the pre/post-processing share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelTime {
    /// Nanoseconds inside model runs.
    pub nanos: u64,
    /// Number of model runs.
    pub runs: u64,
}

/// The process-wide [`ModelTime`] so far; take two readings and subtract.
pub fn model_time() -> ModelTime {
    ModelTime {
        nanos: MODEL_NANOS.load(Ordering::Relaxed),
        runs: MODEL_RUNS.load(Ordering::Relaxed),
    }
}

/// The process-wide [`ModelTime`] of each model that ran so far, by model
/// name (in the order they first ran); take two readings and subtract.
pub fn model_times() -> Vec<(&'static str, ModelTime)> {
    PER_MODEL
        .lock()
        .map(|v| v.clone())
        .unwrap_or_else(|p| p.into_inner().clone())
}

/// Adds one run of `name` to the counters.
fn count_run(name: &'static str, nanos: u64) {
    MODEL_NANOS.fetch_add(nanos, Ordering::Relaxed);
    MODEL_RUNS.fetch_add(1, Ordering::Relaxed);
    let mut per = PER_MODEL.lock().unwrap_or_else(|p| p.into_inner());
    match per.iter_mut().find(|(n, _)| *n == name) {
        Some((_, t)) => {
            t.nanos += nanos;
            t.runs += 1;
        }
        None => per.push((name, ModelTime { nanos, runs: 1 })),
    }
}

fn library_file() -> String {
    format!("libonnxruntime.so.{ORT_VERSION}")
}

/// Candidate library paths, in search order (existing or not).
pub fn library_candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(p.to_path_buf());
        return out;
    }
    if let Some(p) = std::env::var_os(ORT_LIB_ENV) {
        out.push(PathBuf::from(p));
        return out;
    }
    let file = library_file();
    out.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".runtime")
            .join(&file),
    );
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        // target/{debug,release}/realface and target/*/deps|examples/<bin>
        for up in [dir.join("../../.runtime"), dir.join("../../../.runtime")] {
            out.push(up.join(&file));
        }
        out.push(dir.join(&file));
    }
    out
}

struct Runtime {
    env: ort::environment::Environment,
}

#[cfg(not(target_arch = "wasm32"))]
static RUNTIME: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
#[cfg(not(target_arch = "wasm32"))]
static INIT_LOCK: Mutex<()> = Mutex::new(());

#[cfg(not(target_arch = "wasm32"))]
fn load_error(path: &Path, e: &ort::LoadDynamicError) -> Error {
    let mut reason = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        src = s.source();
    }
    Error::RuntimeLoad {
        path: path.to_path_buf(),
        reason,
    }
}

/// In WebAssembly there is no ONNX Runtime library to load: a browser page
/// runs the model files in ONNX Runtime Web and hands their outputs to the
/// library's pre- and post-processing (`bindings/web`).
#[cfg(target_arch = "wasm32")]
fn runtime(_cfg: &RuntimeConfig) -> Result<&'static Runtime> {
    Err(Error::RuntimeMissing {
        version: ORT_VERSION,
        searched: Vec::new(),
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn runtime(cfg: &RuntimeConfig) -> Result<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let candidates = library_candidates(cfg.library_path.as_deref());
    let found = candidates.iter().find(|p| p.is_file()).cloned();
    let builder = match found {
        Some(path) => ort::init_from(&path).map_err(|e| load_error(&path, &e))?,
        None if cfg.library_path.is_some() || std::env::var_os(ORT_LIB_ENV).is_some() => {
            return Err(Error::RuntimeMissing {
                version: ORT_VERSION,
                searched: candidates,
            });
        }
        None => {
            // Last resort: the system loader path (e.g. a distribution package).
            let system = PathBuf::from(library_file());
            ort::init_from(&system).map_err(|_| {
                let mut searched = candidates.clone();
                searched.push(PathBuf::from(format!(
                    "{} (system loader path)",
                    library_file()
                )));
                Error::RuntimeMissing {
                    version: ORT_VERSION,
                    searched,
                }
            })?
        }
    };
    let env = builder
        .with_name("realface")
        .build()
        .map_err(|e| Error::Inference {
            stage: "runtime",
            message: e.to_string(),
            source: None,
        })?;
    Ok(RUNTIME.get_or_init(|| Runtime { env }))
}

/// Loads the ONNX Runtime library now (it is otherwise loaded with the first
/// model) and reports where from, or why not.
pub fn ensure_runtime(cfg: &RuntimeConfig) -> Result<()> {
    runtime(cfg).map(|_| ())
}

/// sha256 of a byte slice, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A verified model with a pool of ONNX Runtime sessions.
pub(crate) struct OnnxModel {
    spec: ModelSpec,
    sessions: Vec<Mutex<Session>>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("name", &self.spec.name)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

fn ort_err(stage: &'static str) -> impl Fn(ort::Error) -> Error {
    move |e| Error::Inference {
        stage,
        message: e.to_string(),
        source: Some(Box::new(e)),
    }
}

fn check_tensor(
    spec: &ModelSpec,
    what: &str,
    name: &str,
    ty: &ValueType,
    want: &[i64],
) -> Result<()> {
    let shape: Vec<i64> = match ty {
        ValueType::Tensor {
            ty: ort::value::TensorElementType::Float32,
            shape,
            ..
        } => shape.iter().copied().collect(),
        other => {
            return Err(Error::ModelShape {
                name: spec.name,
                detail: format!("{what} `{name}` is {other:?}, expected a float32 tensor"),
            })
        }
    };
    if shape != want {
        return Err(Error::ModelShape {
            name: spec.name,
            detail: format!("{what} `{name}` has shape {shape:?}, expected {want:?}"),
        });
    }
    Ok(())
}

impl OnnxModel {
    /// Reads, verifies and loads a model from `dir`.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn load(spec: ModelSpec, dir: &Path, cfg: &RuntimeConfig) -> Result<Self> {
        if let Some(bytes) = cfg.bundled_models.get(spec.file) {
            let name = Path::new("<bundled>").join(spec.file);
            return Self::from_bytes(spec, bytes, &name, cfg);
        }
        let path = dir.join(spec.file);
        let bytes = std::fs::read(&path).map_err(|e| Error::ModelMissing {
            name: spec.name,
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(spec, &bytes, &path, cfg)
    }

    /// WebAssembly: a stand-in that refuses to run; the page runs the model
    /// file in ONNX Runtime Web (see `crate::session::external`).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn load(spec: ModelSpec, _dir: &Path, _cfg: &RuntimeConfig) -> Result<Self> {
        Ok(Self {
            spec,
            sessions: Vec::new(),
        })
    }

    /// Verifies and loads a model from memory (`path` only names it in errors).
    pub(crate) fn from_bytes(
        spec: ModelSpec,
        bytes: &[u8],
        path: &Path,
        cfg: &RuntimeConfig,
    ) -> Result<Self> {
        let actual = sha256_hex(bytes);
        if actual != spec.sha256 {
            return Err(Error::ModelChecksum {
                name: spec.name,
                path: path.to_path_buf(),
                expected: spec.sha256,
                actual,
            });
        }
        let rt = runtime(cfg)?;
        let n = cfg.sessions_per_model.clamp(1, 64);
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            let session = Self::session(rt, bytes, cfg)?;
            if sessions.is_empty() {
                Self::check_io(&spec, &session)?;
            }
            sessions.push(Mutex::new(session));
        }
        Ok(Self { spec, sessions })
    }

    fn session(rt: &Runtime, bytes: &[u8], cfg: &RuntimeConfig) -> Result<Session> {
        let stage = "session";
        let mut builder = Session::builder(&rt.env).map_err(ort_err(stage))?;
        builder = builder
            .with_optimization_level(match cfg.optimization {
                GraphOptimization::Disable => GraphOptimizationLevel::Disable,
                GraphOptimization::Basic => GraphOptimizationLevel::Level1,
                GraphOptimization::Extended => GraphOptimizationLevel::Level2,
                GraphOptimization::Layout => GraphOptimizationLevel::Level3,
                GraphOptimization::All => GraphOptimizationLevel::All,
            })
            .map_err(|e| ort_err(stage)(e.into()))?;
        if cfg.intra_threads > 0 {
            builder = builder
                .with_intra_threads(cfg.intra_threads)
                .map_err(|e| ort_err(stage)(e.into()))?;
        }
        builder = builder
            .with_inter_threads(cfg.inter_threads.max(1))
            .map_err(|e| ort_err(stage)(e.into()))?
            .with_parallel_execution(cfg.inter_threads > 1)
            .map_err(|e| ort_err(stage)(e.into()))?;
        if cfg.deterministic {
            builder = builder
                .with_deterministic_compute(true)
                .map_err(|e| ort_err(stage)(e.into()))?;
        }
        if !cfg.arena {
            // no arena, no memory-pattern plan: each run allocates what it
            // needs and frees it (lower peak RSS, see RuntimeConfig::arena)
            builder = builder
                .with_memory_pattern(false)
                .map_err(|e| ort_err(stage)(e.into()))?
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .map_err(|e| ort_err(stage)(e.into()))?;
        }
        #[cfg(not(target_arch = "wasm32"))]
        return builder.commit_from_memory(bytes).map_err(ort_err(stage));
        // unreachable in WebAssembly: `runtime` refused first
        #[cfg(target_arch = "wasm32")]
        return {
            drop(builder);
            Err(Error::Inference {
                stage,
                message: format!("{} bytes: no ONNX Runtime in WebAssembly", bytes.len()),
                source: None,
            })
        };
    }

    fn check_io(spec: &ModelSpec, session: &Session) -> Result<()> {
        let inputs = session.inputs();
        if inputs.len() != 1 {
            return Err(Error::ModelShape {
                name: spec.name,
                detail: format!("{} inputs, expected 1", inputs.len()),
            });
        }
        let input = &inputs[0];
        if input.name() != spec.input.name {
            return Err(Error::ModelShape {
                name: spec.name,
                detail: format!(
                    "input is `{}`, expected `{}`",
                    input.name(),
                    spec.input.name
                ),
            });
        }
        check_tensor(spec, "input", input.name(), input.dtype(), spec.input.shape)?;
        let outputs = session.outputs();
        if outputs.len() != spec.outputs.len() {
            return Err(Error::ModelShape {
                name: spec.name,
                detail: format!("{} outputs, expected {}", outputs.len(), spec.outputs.len()),
            });
        }
        for want in spec.outputs {
            let got = outputs
                .iter()
                .find(|o| o.name() == want.name)
                .ok_or_else(|| Error::ModelShape {
                    name: spec.name,
                    detail: format!("no output `{}`", want.name),
                })?;
            check_tensor(spec, "output", want.name, got.dtype(), want.shape)?;
        }
        Ok(())
    }

    /// The model's spec.
    pub(crate) fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Session> {
        for s in &self.sessions {
            if let Ok(guard) = s.try_lock() {
                return guard;
            }
        }
        let i = rayon::current_thread_index().unwrap_or(0) % self.sessions.len();
        self.sessions[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a classifier on one input of `shape` (row-major `data`) and
    /// returns the softmax of its first output, which must hold `classes`
    /// values.
    pub(crate) fn classify(
        &self,
        shape: (usize, usize, usize, usize),
        data: Vec<f32>,
        classes: usize,
    ) -> Result<Vec<f32>> {
        let stage = self.spec.name;
        let input = ndarray::Array4::from_shape_vec(shape, data).map_err(|e| Error::Inference {
            stage,
            message: e.to_string(),
            source: None,
        })?;
        let out = self.run(input.view().into_dyn())?;
        let logits: Vec<f32> = out
            .first()
            .map(|a| a.iter().copied().collect())
            .unwrap_or_default();
        if logits.len() != classes {
            return Err(Error::Inference {
                stage,
                message: format!("{} outputs, expected {classes}", logits.len()),
                source: None,
            });
        }
        let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = logits.iter().map(|x| (x - m).exp()).collect();
        let sum: f32 = e.iter().sum();
        Ok(e.iter().map(|x| x / sum).collect())
    }

    /// Runs the model on one NHWC float32 input; returns the outputs in the
    /// order of the spec, each checked to be finite.
    pub(crate) fn run(&self, input: ArrayViewD<'_, f32>) -> Result<Vec<ArrayD<f32>>> {
        let stage = self.spec.name;
        if self.sessions.is_empty() {
            return Err(Error::Inference {
                stage,
                message: "no ONNX Runtime session here (WebAssembly: the page runs this model)"
                    .into(),
                source: None,
            });
        }
        let tensor = TensorRef::from_array_view(input).map_err(ort_err(stage))?;
        let mut session = self.lock();
        let started = Instant::now();
        #[cfg(not(target_arch = "wasm32"))]
        let outputs = session.run(ort::inputs![tensor]);
        // unreachable in WebAssembly: no model loads there
        #[cfg(target_arch = "wasm32")]
        let outputs: std::result::Result<ort::session::SessionOutputs<'_>, ort::Error> = {
            let _ = (&mut session, tensor);
            Err(ort::Error::new("no ONNX Runtime in WebAssembly"))
        };
        count_run(stage, started.elapsed().as_nanos() as u64);
        let outputs = outputs.map_err(ort_err(stage))?;
        let mut result = Vec::with_capacity(self.spec.outputs.len());
        for want in self.spec.outputs {
            let value = outputs.get(want.name).ok_or_else(|| Error::Inference {
                stage,
                message: format!("output `{}` missing", want.name),
                source: None,
            })?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(ort_err(stage))?;
            if data.iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFiniteOutput { stage });
            }
            let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
            let array = ArrayD::from_shape_vec(IxDyn(&dims), data.to_vec()).map_err(|e| {
                Error::Inference {
                    stage,
                    message: e.to_string(),
                    source: None,
                }
            })?;
            result.push(array);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::models::{TensorSpec, BLAZEFACE_SHORT, MOBILEFACENET};

    fn model_bytes(spec: &ModelSpec) -> Vec<u8> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(spec.file);
        std::fs::read(p).expect("model file")
    }

    #[test]
    fn wrong_input_shape_is_refused_at_load() {
        // The detector's bytes under a spec that expects the embedder's tensors.
        let bytes = model_bytes(&BLAZEFACE_SHORT);
        let spec = ModelSpec {
            sha256: BLAZEFACE_SHORT.sha256,
            ..MOBILEFACENET
        };
        let err = OnnxModel::from_bytes(spec, &bytes, Path::new("x"), &RuntimeConfig::default())
            .expect_err("shape mismatch");
        assert_eq!(err.code(), crate::ErrorCode::ModelInvalid);
        let spec = ModelSpec {
            input: TensorSpec {
                name: BLAZEFACE_SHORT.input.name,
                shape: &[1, 64, 64, 3],
            },
            ..BLAZEFACE_SHORT
        };
        let err = OnnxModel::from_bytes(spec, &bytes, Path::new("x"), &RuntimeConfig::default())
            .expect_err("shape mismatch");
        assert!(err.to_string().contains("shape"), "{err}");
    }

    #[test]
    fn wrong_checksum_is_refused_before_loading() {
        let bytes = model_bytes(&BLAZEFACE_SHORT);
        let err = OnnxModel::from_bytes(
            MOBILEFACENET,
            &bytes,
            Path::new("x"),
            &RuntimeConfig::default(),
        )
        .expect_err("checksum");
        assert!(matches!(err, Error::ModelChecksum { .. }));
    }

    #[test]
    fn runs_and_checks_input_size() {
        let bytes = model_bytes(&MOBILEFACENET);
        let m = OnnxModel::from_bytes(
            MOBILEFACENET,
            &bytes,
            Path::new("x"),
            &RuntimeConfig::default(),
        )
        .expect("loads");
        let ok = ndarray::Array4::<f32>::zeros((3, 112, 112, 3));
        let out = m.run(ok.view().into_dyn()).expect("runs");
        assert_eq!(out[0].shape(), &[3, 192]);
        let bad = ndarray::Array4::<f32>::zeros((1, 100, 112, 3));
        assert_eq!(
            m.run(bad.view().into_dyn()).expect_err("bad shape").code(),
            crate::ErrorCode::Inference
        );
    }

    #[test]
    fn nan_model_output_is_a_typed_error() {
        let bytes = model_bytes(&MOBILEFACENET);
        let m = OnnxModel::from_bytes(
            MOBILEFACENET,
            &bytes,
            Path::new("x"),
            &RuntimeConfig::default(),
        )
        .expect("loads");
        let nan = ndarray::Array4::<f32>::from_elem((1, 112, 112, 3), f32::NAN);
        assert_eq!(
            m.run(nan.view().into_dyn()).expect_err("NaN").code(),
            crate::ErrorCode::NonFiniteOutput
        );
        let inf = ndarray::Array4::<f32>::from_elem((1, 112, 112, 3), f32::INFINITY);
        assert_eq!(
            m.run(inf.view().into_dyn()).expect_err("inf").code(),
            crate::ErrorCode::NonFiniteOutput
        );
    }

    #[test]
    fn library_candidates_prefer_explicit_path() {
        let c = library_candidates(Some(Path::new("/x/lib.so")));
        assert_eq!(c, vec![PathBuf::from("/x/lib.so")]);
        if std::env::var_os(ORT_LIB_ENV).is_some() {
            return;
        }
        let c = library_candidates(None);
        assert!(c
            .iter()
            .any(|p| p.ends_with(format!(".runtime/libonnxruntime.so.{ORT_VERSION}"))));
    }
}
