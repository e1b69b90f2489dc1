//! `realface._realface`: the extension module under the `realface` Python
//! package (`python/realface/`). Values cross as NumPy arrays (images in,
//! embeddings out) or as JSON text that the Python layer turns into typed
//! objects; errors are raised as the package's exception classes, one per
//! [`realface::ErrorCode`]. Inference runs with the GIL released.

use pyo3::prelude::*;

mod engine;
mod errors;
mod eval;
mod image;
mod models;
mod session;
mod webhook;

/// The prompt table (`realface::prompts::PROMPTS`) as JSON.
#[pyfunction]
fn prompts_json() -> String {
    realface::prompts::to_json()
}

#[pymodule]
fn _realface(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Engine>()?;
    m.add_class::<session::Session>()?;
    m.add_function(wrap_pyfunction!(eval::eval_match, m)?)?;
    m.add_function(wrap_pyfunction!(eval::eval_pad, m)?)?;
    m.add_function(wrap_pyfunction!(webhook::verify_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(webhook::sign_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(prompts_json, m)?)?;
    m.add("ORT_VERSION", realface::runtime::ORT_VERSION)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
