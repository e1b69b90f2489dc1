//! Images from Python: a NumPy `uint8` HxWx3 array (RGB, or BGR with
//! `bgr=True` as OpenCV gives it), a path (`str` or `os.PathLike`), or the
//! encoded bytes of an image file.

use numpy::{PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use realface::{FaceEngine, RgbImage};

use crate::errors::{invalid, OrPy};

/// The image `obj` holds (its size limits are checked by the stage that
/// takes it, as for any image). A contiguous RGB array is copied once into the
/// library's buffer; a strided or BGR array is converted pixel by pixel.
pub fn image(engine: &FaceEngine, obj: &Bound<'_, PyAny>, bgr: bool) -> PyResult<RgbImage> {
    let py = obj.py();
    if let Ok(b) = obj.cast::<PyBytes>() {
        let bytes = b.as_bytes().to_vec();
        return py.detach(|| engine.decode(&bytes)).or_py();
    }
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        let path: std::path::PathBuf = obj.extract()?;
        return py.detach(|| engine.load(&path)).or_py();
    }
    if !obj.hasattr("dtype")? {
        return Err(invalid(
            "image",
            "expected a uint8 HxWx3 NumPy array, a path or encoded image bytes",
        ));
    }
    let arr: PyReadonlyArray3<'_, u8> = obj.extract().map_err(|_| {
        let dtype = obj
            .getattr("dtype")
            .and_then(|d| d.str().map(|s| s.to_string()))
            .unwrap_or_default();
        let ndim = obj
            .getattr("ndim")
            .and_then(|n| n.extract::<usize>())
            .unwrap_or(0);
        invalid(
            "image",
            format!("expected a uint8 HxWx3 array, got dtype {dtype} with {ndim} dimensions"),
        )
    })?;
    let shape = arr.shape();
    let (h, w, c) = (shape[0], shape[1], shape[2]);
    if c != 3 {
        return Err(invalid(
            "image",
            format!("expected 3 channels (HxWx3), got {c}"),
        ));
    }
    if h == 0 || w == 0 {
        return Err(crate::errors::to_py(realface::Error::EmptyImage {
            what: format!("{w}x{h} array"),
        }));
    }
    let (Ok(w32), Ok(h32)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err(invalid("image", "dimensions overflow"));
    };
    let mut buf = match arr.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => arr.as_array().iter().copied().collect(),
    };
    if bgr {
        for px in buf.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
    }
    RgbImage::from_raw(w32, h32, buf).ok_or_else(|| invalid("image", "buffer size mismatch"))
}
