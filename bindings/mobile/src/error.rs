//! One error type for Kotlin and Swift: a sealed class of exceptions in
//! Kotlin (`RealfaceException.Input`, ...), an `Error` enum in Swift, each
//! case carrying the library's stable code.

use realface::Error;

/// A refused call: the case says which kind of problem it is, `code` and
/// `name` are the library's stable error code (`ErrorCode`: 400 and
/// `INVALID_ARGUMENT`, ...), `detail` a sentence for a developer (never
/// biometric data; not `message`, which Kotlin's `Throwable` owns).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RealfaceError {
    /// 1xx: ONNX Runtime or a model could not be used (a missing or wrong
    /// model file, a runtime library that does not load, NaN output).
    #[error("{name} ({code}): {detail}")]
    Runtime {
        /// Stable numeric code.
        code: u32,
        /// Stable name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// 2xx: an image or frame that cannot be read (corrupt, too large,
    /// empty, a plane shorter than its stride says).
    #[error("{name} ({code}): {detail}")]
    Input {
        /// Stable numeric code.
        code: u32,
        /// Stable name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// 3xx: no face, or more than one, where exactly one is needed.
    #[error("{name} ({code}): {detail}")]
    Face {
        /// Stable numeric code.
        code: u32,
        /// Stable name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// 4xx: a bad argument (unknown matcher or action, zero stride, NaN
    /// reference embedding, frames out of order).
    #[error("{name} ({code}): {detail}")]
    Argument {
        /// Stable numeric code.
        code: u32,
        /// Stable name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// 5xx: the certifyId is missing, unknown, expired or used, or the
    /// session is already finished.
    #[error("{name} ({code}): {detail}")]
    Certify {
        /// Stable numeric code.
        code: u32,
        /// Stable name.
        name: String,
        /// What went wrong.
        detail: String,
    },
    /// 6xx and 9xx: the camera, or a fault inside the library.
    #[error("{name} ({code}): {detail}")]
    Internal {
        /// Stable numeric code.
        code: u32,
        /// Stable name.
        name: String,
        /// What went wrong.
        detail: String,
    },
}

impl From<Error> for RealfaceError {
    fn from(e: Error) -> Self {
        let c = e.code();
        let (code, name, detail) = (c.as_u32(), c.name().to_string(), e.to_string());
        match code / 100 {
            1 => Self::Runtime { code, name, detail },
            2 => Self::Input { code, name, detail },
            3 => Self::Face { code, name, detail },
            4 => Self::Argument { code, name, detail },
            5 => Self::Certify { code, name, detail },
            _ => Self::Internal { code, name, detail },
        }
    }
}

impl RealfaceError {
    /// A bad argument named `what`.
    pub(crate) fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        Error::invalid(what, message).into()
    }

    /// The stable code (e.g. 400).
    pub fn code(&self) -> u32 {
        match self {
            Self::Runtime { code, .. }
            | Self::Input { code, .. }
            | Self::Face { code, .. }
            | Self::Argument { code, .. }
            | Self::Certify { code, .. }
            | Self::Internal { code, .. } => *code,
        }
    }
}

/// The results of this crate's calls.
pub type Result<T> = std::result::Result<T, RealfaceError>;

/// A poisoned lock (a panic in an earlier call on the same object) is an
/// INTERNAL error, not a second panic.
pub(crate) fn poisoned() -> RealfaceError {
    Error::Internal {
        reason: "an earlier call on this object panicked".into(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use realface::ErrorCode;

    #[test]
    fn each_code_lands_in_its_case() {
        let e: RealfaceError = Error::invalid("x", "bad").into();
        assert!(
            matches!(e, RealfaceError::Argument { code: 400, .. }),
            "{e}"
        );
        let e: RealfaceError = Error::NoFace.into();
        assert!(matches!(e, RealfaceError::Face { code: 300, .. }), "{e}");
        assert_eq!(e.code(), ErrorCode::NoFace.as_u32());
    }
}
