//! realface errors as the Python package's exception classes
//! (`realface._errors`): one per [`ErrorCode`], all subclasses of
//! `realface.Error`, with `.code` and `.name`.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use realface::{Error, ErrorCode};

/// The exception for a realface error.
pub fn to_py(e: Error) -> PyErr {
    raise(e.code(), &e.to_string())
}

/// An exception of `code`'s class with `message`.
pub fn raise(code: ErrorCode, message: &str) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("realface._errors")
            .and_then(|m| m.getattr("_from_code"))
            .and_then(|f| f.call1((code.as_u32(), code.name(), message)));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

/// `INVALID_ARGUMENT` about `what`.
pub fn invalid(what: &'static str, message: impl Into<String>) -> PyErr {
    to_py(Error::invalid(what, message.into()))
}

/// Converts a library result.
pub trait OrPy<T> {
    /// The value, or the exception.
    fn or_py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for realface::Result<T> {
    fn or_py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A JSON value for Python (`json.loads` on the Python side).
pub fn json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| raise(ErrorCode::Internal, &e.to_string()))
}

/// Every error code: name -> number (the Python classes are built from it).
#[pyfunction]
pub fn error_codes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for c in ALL {
        d.set_item(c.name(), c.as_u32())?;
    }
    Ok(d)
}

const ALL: [ErrorCode; 22] = [
    ErrorCode::RuntimeUnavailable,
    ErrorCode::ModelInvalid,
    ErrorCode::Inference,
    ErrorCode::NonFiniteOutput,
    ErrorCode::RandomUnavailable,
    ErrorCode::Io,
    ErrorCode::Decode,
    ErrorCode::Unsupported,
    ErrorCode::LimitExceeded,
    ErrorCode::EmptyImage,
    ErrorCode::Encode,
    ErrorCode::NoFace,
    ErrorCode::MultipleFaces,
    ErrorCode::InvalidArgument,
    ErrorCode::FrameOrder,
    ErrorCode::CertifyIdEmpty,
    ErrorCode::CertifyIdUnknown,
    ErrorCode::CertifyIdExpired,
    ErrorCode::CertifyIdReused,
    ErrorCode::SessionFinished,
    ErrorCode::CameraUnavailable,
    ErrorCode::Internal,
];
