//! `realface.eval.match` / `realface.eval.pad`: the CLI's evaluations
//! (`realface eval match`, `realface eval pad`), returning their report as
//! JSON. Images are scored on a rayon pool with the GIL released; the
//! optional `progress` callable is called (with the GIL) once per image.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pyo3::prelude::*;
use rayon::prelude::*;
use realface::eval::dataset::{read_identities, read_pad_labels, read_pairs, Split};
use realface::eval::pad::{pad_report, PadScore};
use realface::eval::pad_scorer::PadScorer;
use realface::{EngineConfig, FaceEngine, FacePolicy, Matcher};

use crate::errors::{invalid, json, OrPy};

fn split_of(name: &str) -> PyResult<Split> {
    match name {
        "all" => Ok(Split::All),
        "calibration" => Ok(Split::Calibration),
        "report" => Ok(Split::Report),
        other => Err(invalid(
            "split",
            format!("`{other}` is not all, calibration or report"),
        )),
    }
}

fn threads_of(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        n
    }
}

fn root_of(root: Option<PathBuf>, csv: &Path) -> PathBuf {
    root.or_else(|| csv.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// An engine for a data set: the largest face (photo collections have
/// bystanders), one model session per thread.
fn engine(
    ort_library: PathBuf,
    models: Option<PathBuf>,
    matcher: Option<&str>,
    flip: bool,
    threads: usize,
) -> PyResult<FaceEngine> {
    let mut cfg = EngineConfig::default()
        .with_runtime_library(ort_library)
        .with_face_policy(FacePolicy::Largest)
        .with_flip_fusion(flip)
        .with_sessions_per_model(threads)
        .with_intra_threads(1);
    if let Some(m) = matcher {
        cfg = cfg.with_matcher(m.parse::<Matcher>().or_py()?);
    }
    cfg = match models {
        Some(dir) => cfg.with_model_dir(dir),
        None => crate::models::bundled(cfg),
    };
    FaceEngine::new(cfg).or_py()
}

fn pool(threads: usize) -> PyResult<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| invalid("threads", e.to_string()))
}

/// Calls `progress()` with the GIL; an exception in it is ignored (a
/// progress bar must not stop an evaluation).
fn tick(progress: &Option<Py<PyAny>>) {
    if let Some(p) = progress {
        Python::attach(|py| {
            let _ = p.call0(py);
        });
    }
}

/// `realface eval match`: pairs from `pairs` (a pairs CSV) or all against
/// all; the report as JSON.
#[pyfunction]
#[pyo3(signature = (identities, ort_library, root=None, pairs=None, split="report", matcher=None, flip=false, threads=0, models=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn eval_match(
    py: Python<'_>,
    identities: PathBuf,
    ort_library: PathBuf,
    root: Option<PathBuf>,
    pairs: Option<PathBuf>,
    split: &str,
    matcher: Option<&str>,
    flip: bool,
    threads: usize,
    models: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let split = split_of(split)?;
    let threads = threads_of(threads);
    let root = root_of(root, &identities);
    let images: Vec<_> = read_identities(&identities)
        .or_py()?
        .into_iter()
        .filter(|m| split.contains(&m.identity))
        .collect();
    if images.is_empty() {
        return Err(invalid("identities", "no images in the chosen split"));
    }
    let pair_list = pairs.as_deref().map(read_pairs).transpose().or_py()?;
    let engine = py.detach(|| engine(ort_library, models, matcher, flip, threads))?;
    let pool = pool(threads)?;
    let start = Instant::now();
    let (outcomes, scored) = py.detach(|| {
        let outcomes = pool.install(|| {
            realface::eval::embed_all(&engine, &root, &images, false, &|| tick(&progress))
        });
        let scored = match &pair_list {
            Some(p) => realface::eval::score_pairs(&images, &outcomes, &outcomes, p),
            None => realface::eval::score_all_vs_all(&images, &outcomes, &outcomes),
        };
        (outcomes, scored)
    });
    let scores = realface::eval::to_scores(&scored);
    let report = realface::eval::match_report(
        split,
        &outcomes,
        &scores,
        engine.calibration(),
        realface::DEFAULT_FAR,
        flip,
    )
    .or_py()?;
    let mut v = serde_json::to_value(&report).map_err(|e| invalid("report", e.to_string()))?;
    v["mode"] = serde_json::json!(if pair_list.is_some() {
        "pairs"
    } else {
        "all_vs_all"
    });
    v["matcher"] = serde_json::json!(engine.config().matcher.name());
    v["timing"] = serde_json::json!({
        "threads": threads,
        "total_seconds": start.elapsed().as_secs_f64(),
    });
    json(&v)
}

/// `realface eval pad`: ISO/IEC 30107-3 figures of a scorer on a labelled
/// set; the report as JSON, with each image's score under `scores`.
#[pyfunction]
#[pyo3(signature = (labels, ort_library, root=None, detector="model", threads=0, models=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn eval_pad(
    py: Python<'_>,
    labels: PathBuf,
    ort_library: PathBuf,
    root: Option<PathBuf>,
    detector: &str,
    threads: usize,
    models: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let scorer = detector.parse::<PadScorer>().or_py()?;
    let threads = threads_of(threads);
    let root = root_of(root, &labels);
    let samples = read_pad_labels(&labels).or_py()?;
    let engine = py.detach(|| engine(ort_library, models, None, false, threads))?;
    let pool = pool(threads)?;
    let scores: Vec<PadScore> = py.detach(|| {
        pool.install(|| {
            samples
                .par_iter()
                .map(|s| {
                    let score = scorer.score_file(&engine, &root.join(&s.path));
                    tick(&progress);
                    PadScore {
                        label: s.label.clone(),
                        bona_fide: s.is_bona_fide(),
                        score,
                    }
                })
                .collect()
        })
    });
    let report = pad_report(&scorer.name(detector), &scores);
    let mut v = serde_json::to_value(&report).map_err(|e| invalid("report", e.to_string()))?;
    v["scores"] = serde_json::json!(samples
        .iter()
        .zip(&scores)
        .map(|(s, sc)| serde_json::json!({"path": s.path, "label": s.label, "score": sc.score}))
        .collect::<Vec<_>>());
    json(&v)
}
