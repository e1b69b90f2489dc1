//! `realface.Engine`: the photo pipeline (detect, embed, compare, quality).

use std::sync::Arc;

use numpy::{PyArray1, PyArray3, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use realface::{Embedding, EngineConfig, FaceEngine, Matcher};

use crate::errors::{invalid, json, OrPy};
use crate::image::image;

/// The engine: models loaded once, shared by any number of threads and
/// sessions.
#[pyclass(module = "realface._realface", frozen)]
pub struct Engine {
    pub(crate) inner: Arc<FaceEngine>,
    pub(crate) far: f64,
}

/// A 1-D float array as an embedding (non-finite values are refused).
pub fn embedding_of(obj: &Bound<'_, PyAny>) -> PyResult<Option<Embedding>> {
    let Ok(ndim) = obj.getattr("ndim").and_then(|n| n.extract::<usize>()) else {
        return Ok(None);
    };
    if ndim != 1 {
        return Ok(None);
    }
    let arr: PyReadonlyArray1<'_, f32> = obj
        .call_method1("astype", ("float32",))
        .and_then(|a| a.extract())
        .map_err(|_| invalid("embedding", "a 1-D embedding must be a float array"))?;
    let v: Vec<f32> = arr.as_array().iter().copied().collect();
    if v.iter().any(|x| !x.is_finite()) {
        return Err(invalid(
            "embedding",
            "the embedding holds NaN or infinite values",
        ));
    }
    if arr.len() == 0 {
        return Err(invalid("embedding", "empty embedding"));
    }
    Embedding::from_raw(v).map(Some).or_py()
}

impl Engine {
    fn embed_any(&self, obj: &Bound<'_, PyAny>, bgr: bool) -> PyResult<Embedding> {
        if let Some(e) = embedding_of(obj)? {
            let want = self.inner.embedder().dim();
            if e.dim() != want {
                return Err(invalid(
                    "embedding",
                    format!("{} values, the matcher's have {want}", e.dim()),
                ));
            }
            return Ok(e);
        }
        let img = image(&self.inner, obj, bgr)?;
        let engine = self.inner.clone();
        obj.py().detach(move || engine.embed_image(&img)).or_py()
    }
}

#[pymethods]
impl Engine {
    /// Loads ONNX Runtime from `ort_library` and the models (bundled in the
    /// extension, or the files of `models` if given), checking each model's
    /// sha256 and shapes.
    #[new]
    #[pyo3(signature = (ort_library, models=None, matcher=None, far=realface::DEFAULT_FAR, threads=1))]
    fn new(
        py: Python<'_>,
        ort_library: std::path::PathBuf,
        models: Option<std::path::PathBuf>,
        matcher: Option<&str>,
        far: f64,
        threads: usize,
    ) -> PyResult<Self> {
        if !(far > 0.0 && far < 1.0) {
            return Err(invalid("far", format!("{far} is not in (0, 1)")));
        }
        let mut cfg = EngineConfig::default()
            .with_runtime_library(ort_library)
            .with_sessions_per_model(threads.max(1))
            .with_intra_threads(1);
        if let Some(m) = matcher {
            cfg = cfg.with_matcher(m.parse::<Matcher>().or_py()?);
        }
        cfg = match models {
            Some(dir) => cfg.with_model_dir(dir),
            None => crate::models::bundled(cfg),
        };
        let inner = py.detach(move || FaceEngine::new(cfg)).or_py()?;
        Ok(Self {
            inner: Arc::new(inner),
            far,
        })
    }

    /// The matcher's name.
    #[getter]
    fn matcher(&self) -> &'static str {
        self.inner.config().matcher.name()
    }

    /// The target FAR of `compare`.
    #[getter]
    fn far(&self) -> f64 {
        self.far
    }

    /// An image file decoded (EXIF orientation applied) as a uint8 HxWx3
    /// RGB array, with the engine's size limits.
    fn load<'py>(
        &self,
        py: Python<'py>,
        path: std::path::PathBuf,
    ) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let engine = self.inner.clone();
        let img = py.detach(move || engine.load(&path)).or_py()?;
        let (w, h) = img.dimensions();
        PyArray1::from_vec(py, img.into_raw()).reshape([h as usize, w as usize, 3])
    }

    /// The faces in an image, as JSON.
    #[pyo3(signature = (img, bgr=false))]
    fn detect(&self, img: &Bound<'_, PyAny>, bgr: bool) -> PyResult<String> {
        let im = image(&self.inner, img, bgr)?;
        let engine = self.inner.clone();
        let faces = img.py().detach(move || engine.detect(&im)).or_py()?;
        json(&faces)
    }

    /// The unit-length embedding of the one face in an image.
    #[pyo3(signature = (img, bgr=false))]
    fn embed<'py>(
        &self,
        img: &Bound<'py, PyAny>,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let e = self.embed_any(img, bgr)?;
        Ok(PyArray1::from_vec(img.py(), e.into()))
    }

    /// The decision for two images (or embeddings), as JSON.
    #[pyo3(signature = (a, b, bgr=false, far=None))]
    fn compare(
        &self,
        a: &Bound<'_, PyAny>,
        b: &Bound<'_, PyAny>,
        bgr: bool,
        far: Option<f64>,
    ) -> PyResult<String> {
        let ea = self.embed_any(a, bgr)?;
        let eb = self.embed_any(b, bgr)?;
        let d = self
            .inner
            .compare_embeddings(&ea, &eb, far.unwrap_or(self.far))
            .or_py()?;
        json(&d)
    }

    /// The capture quality of the one face in an image, as JSON.
    #[pyo3(signature = (img, bgr=false))]
    fn quality(&self, img: &Bound<'_, PyAny>, bgr: bool) -> PyResult<String> {
        let im = image(&self.inner, img, bgr)?;
        let engine = self.inner.clone();
        let q = img.py().detach(move || engine.photo_quality(&im)).or_py()?;
        json(&q)
    }
}
