//! The one error type of realface, with stable numeric codes.
//!
//! Every failure a caller can meet is a variant of [`Error`]; [`Error::code`] gives
//! a stable [`ErrorCode`] (its number and name never change meaning once
//! released), and [`Error::client_code`] maps it onto the product's client error
//! codes (10010 capture error, 10011 interrupted, ...). "No face yet" while a
//! session is still collecting frames is a status, not an error; a photo given
//! as a reference that has no face *is* an error.

use std::path::PathBuf;

/// An underlying error kept as the source of a realface error.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A realface result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable error codes. The numbers are part of the public contract (CLI JSON,
/// C ABI): they are never reused for another meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
#[repr(u32)]
pub enum ErrorCode {
    /// The ONNX Runtime shared library is missing, unloadable or the wrong version.
    RuntimeUnavailable = 100,
    /// A model file is missing, has the wrong checksum, or the wrong inputs/outputs.
    ModelInvalid = 101,
    /// ONNX Runtime failed while running a model.
    Inference = 102,
    /// A model produced NaN or infinite values.
    NonFiniteOutput = 103,
    /// The operating system's random source failed (certifyIds, nonces).
    RandomUnavailable = 104,
    /// A file could not be read.
    Io = 200,
    /// Image bytes could not be decoded (corrupt, truncated, unknown format).
    Decode = 201,
    /// The input is valid but uses something realface does not support.
    Unsupported = 202,
    /// The input exceeds a configured resource limit (dimensions, bytes, frames).
    LimitExceeded = 203,
    /// The image or frame has zero width or height, or no bytes.
    EmptyImage = 204,
    /// An output (the verification photo as JPEG) could not be encoded.
    Encode = 205,
    /// No face was found where exactly one was required.
    NoFace = 300,
    /// More than one face was found where exactly one was required.
    MultipleFaces = 301,
    /// An argument is out of its valid range or malformed.
    InvalidArgument = 400,
    /// A frame's timestamp is not after the previous frame's.
    FrameOrder = 401,
    /// The certifyId is empty (product client code 10001).
    CertifyIdEmpty = 500,
    /// The certifyId was never issued here (product server code 54020).
    CertifyIdUnknown = 501,
    /// The certifyId is older than its 23-hour validity (54020).
    CertifyIdExpired = 502,
    /// The certifyId was already used by a session (54020).
    CertifyIdReused = 503,
    /// The session has finished; it takes no more frames.
    SessionFinished = 504,
    /// No camera could be opened (none found, busy, refused, or the `camera`
    /// feature is not built).
    CameraUnavailable = 600,
    /// A bug inside realface (a caught panic): the session it happened in has
    /// ended as FAIL.
    Internal = 900,
}

impl ErrorCode {
    /// The stable number of this code.
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The stable name of this code, e.g. `"NO_FACE"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::RuntimeUnavailable => "RUNTIME_UNAVAILABLE",
            Self::ModelInvalid => "MODEL_INVALID",
            Self::Inference => "INFERENCE",
            Self::NonFiniteOutput => "NON_FINITE_OUTPUT",
            Self::RandomUnavailable => "RANDOM_UNAVAILABLE",
            Self::Encode => "ENCODE",
            Self::Internal => "INTERNAL",
            Self::Io => "IO",
            Self::Decode => "DECODE",
            Self::Unsupported => "UNSUPPORTED",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::EmptyImage => "EMPTY_IMAGE",
            Self::NoFace => "NO_FACE",
            Self::MultipleFaces => "MULTIPLE_FACES",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::FrameOrder => "FRAME_ORDER",
            Self::CertifyIdEmpty => "CERTIFY_ID_EMPTY",
            Self::CertifyIdUnknown => "CERTIFY_ID_UNKNOWN",
            Self::CertifyIdExpired => "CERTIFY_ID_EXPIRED",
            Self::CertifyIdReused => "CERTIFY_ID_REUSED",
            Self::SessionFinished => "SESSION_FINISHED",
            Self::CameraUnavailable => "CAMERA_UNAVAILABLE",
        }
    }
}

/// Everything that can go wrong in realface.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No ONNX Runtime library was found at any of the searched places.
    #[error(
        "ONNX Runtime {version} library not found (searched: {}); run `scripts/setup.sh` \
         or set REALFACE_ORT_LIB to the path of libonnxruntime.so.{version}",
        display_paths(searched)
    )]
    RuntimeMissing {
        /// The ONNX Runtime version realface needs.
        version: &'static str,
        /// Every path that was tried.
        searched: Vec<PathBuf>,
    },
    /// The ONNX Runtime library exists but could not be loaded.
    #[error("cannot load ONNX Runtime from {}: {reason}; run `scripts/setup.sh`", path.display())]
    RuntimeLoad {
        /// The library path.
        path: PathBuf,
        /// Why loading failed (the loader's own message, with its cause).
        reason: String,
    },
    /// A model file is missing or unreadable.
    #[error("model `{name}` not found at {}: {reason}", path.display())]
    ModelMissing {
        /// Model name from the model table.
        name: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// A model file's sha256 differs from the model table.
    #[error("model `{name}` at {} has sha256 {actual}, expected {expected}", path.display())]
    ModelChecksum {
        /// Model name.
        name: &'static str,
        /// File path.
        path: PathBuf,
        /// Expected sha256 (hex).
        expected: &'static str,
        /// Actual sha256 (hex).
        actual: String,
    },
    /// A model's inputs or outputs differ from the model table.
    #[error("model `{name}` has unexpected inputs/outputs: {detail}")]
    ModelShape {
        /// Model name.
        name: &'static str,
        /// What differs.
        detail: String,
    },
    /// ONNX Runtime reported an error while creating a session or running a model.
    #[error("ONNX Runtime error in {stage}: {message}")]
    Inference {
        /// Pipeline stage or model name.
        stage: &'static str,
        /// ONNX Runtime's message.
        message: String,
        /// ONNX Runtime's error, when there is one.
        #[source]
        source: Option<BoxedError>,
    },
    /// A model output contained NaN or infinity.
    #[error("model output of {stage} is not finite (NaN or infinity)")]
    NonFiniteOutput {
        /// Pipeline stage.
        stage: &'static str,
    },
    /// The operating system's random source failed.
    #[error("the system random source failed: {reason}")]
    Random {
        /// The source's message.
        reason: String,
    },
    /// Encoding an output failed.
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        #[source]
        source: image::ImageError,
    },
    /// A bug inside realface (a panic caught at the C boundary).
    #[error("internal error: {reason}")]
    Internal {
        /// What is known about it.
        reason: String,
    },
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Image bytes could not be decoded.
    #[error("cannot decode image: {reason}")]
    Decode {
        /// The decoder's message.
        reason: String,
        /// The decoder's error, when there is one.
        #[source]
        source: Option<BoxedError>,
    },
    /// Something valid but unsupported (an image format, a pixel layout...).
    #[error("unsupported input: {what}")]
    Unsupported {
        /// What is unsupported.
        what: String,
    },
    /// A configured resource limit was exceeded.
    #[error("{what} is {value}, over the limit of {limit}")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// The offending value.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// Empty input: no bytes, or zero width/height.
    #[error("empty image: {what}")]
    EmptyImage {
        /// Details.
        what: String,
    },
    /// No face where one was required.
    #[error("no face found")]
    NoFace,
    /// Several faces where exactly one was required.
    #[error("{count} faces found where exactly one is required")]
    MultipleFaces {
        /// Number of faces found.
        count: usize,
    },
    /// A frame's timestamp does not follow the previous one.
    #[error("frame timestamp {got} ms is not after the previous frame's {previous} ms")]
    FrameOrder {
        /// The previous timestamp.
        previous: u64,
        /// The offending timestamp.
        got: u64,
    },
    /// The certifyId is empty.
    #[error("certifyId is empty")]
    CertifyIdEmpty,
    /// The certifyId is unknown, expired or already used.
    #[error("certifyId `{id}` is {state}")]
    CertifyId {
        /// The id.
        id: String,
        /// Unknown, expired or reused.
        state: CertifyIdState,
    },
    /// The session has finished.
    #[error("the verification session has finished and takes no more frames")]
    SessionFinished,
    /// No camera could be opened.
    #[error("camera unavailable: {reason} (cameras found: {})", if found.is_empty() { "none".to_string() } else { found.join("; ") })]
    Camera {
        /// Why.
        reason: String,
        /// The cameras the system reported (index: name).
        found: Vec<String>,
    },
    /// An argument is malformed or out of range.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// Argument name.
        name: &'static str,
        /// What is wrong and what is valid.
        reason: String,
    },
}

/// Why a certifyId was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertifyIdState {
    /// Never issued.
    Unknown,
    /// Past its validity.
    Expired,
    /// Already used.
    Reused,
}

impl std::fmt::Display for CertifyIdState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Reused => "already used",
        })
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    let v: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    v.join(", ")
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::RuntimeMissing { .. } | Self::RuntimeLoad { .. } => ErrorCode::RuntimeUnavailable,
            Self::ModelMissing { .. } | Self::ModelChecksum { .. } | Self::ModelShape { .. } => {
                ErrorCode::ModelInvalid
            }
            Self::Inference { .. } => ErrorCode::Inference,
            Self::NonFiniteOutput { .. } => ErrorCode::NonFiniteOutput,
            Self::Random { .. } => ErrorCode::RandomUnavailable,
            Self::Encode { .. } => ErrorCode::Encode,
            Self::Internal { .. } => ErrorCode::Internal,
            Self::Io { .. } => ErrorCode::Io,
            Self::Decode { .. } => ErrorCode::Decode,
            Self::Unsupported { .. } => ErrorCode::Unsupported,
            Self::LimitExceeded { .. } => ErrorCode::LimitExceeded,
            Self::EmptyImage { .. } => ErrorCode::EmptyImage,
            Self::NoFace => ErrorCode::NoFace,
            Self::MultipleFaces { .. } => ErrorCode::MultipleFaces,
            Self::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Self::FrameOrder { .. } => ErrorCode::FrameOrder,
            Self::CertifyIdEmpty => ErrorCode::CertifyIdEmpty,
            Self::CertifyId {
                state: CertifyIdState::Unknown,
                ..
            } => ErrorCode::CertifyIdUnknown,
            Self::CertifyId {
                state: CertifyIdState::Expired,
                ..
            } => ErrorCode::CertifyIdExpired,
            Self::CertifyId {
                state: CertifyIdState::Reused,
                ..
            } => ErrorCode::CertifyIdReused,
            Self::SessionFinished => ErrorCode::SessionFinished,
            Self::Camera { .. } => ErrorCode::CameraUnavailable,
        }
    }

    /// The product's client error code for this error (see PRODUCT.md 1.5):
    /// bad input and capture problems are 10010 (face capture error, cause
    /// attached); a broken installation is a capture error too, since no
    /// capture can run.
    pub fn client_code(&self) -> u32 {
        match self {
            Self::CertifyIdEmpty => 10001,
            _ => 10010,
        }
    }

    /// The product's server error code (PRODUCT.md 1.5): 54020 for an
    /// unknown, expired or reused certifyId, 50001 for a missing one, 50002
    /// for a bad parameter, 55000 for everything internal.
    pub fn server_code(&self) -> u32 {
        match self {
            Self::CertifyId { .. } => 54020,
            Self::CertifyIdEmpty => 50001,
            Self::InvalidArgument { .. } | Self::FrameOrder { .. } => 50002,
            _ => 55000,
        }
    }

    /// Shorthand for [`Error::CertifyId`].
    pub fn certify_id(id: &str, state: CertifyIdState) -> Self {
        Self::CertifyId {
            id: id.to_string(),
            state,
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(Error::NoFace.code().as_u32(), 300);
        assert_eq!(
            Error::MultipleFaces { count: 2 }.code().name(),
            "MULTIPLE_FACES"
        );
        let e = Error::RuntimeMissing {
            version: "1.31.1",
            searched: vec!["/x".into()],
        };
        assert_eq!(e.code(), ErrorCode::RuntimeUnavailable);
        assert!(e.to_string().contains("scripts/setup.sh"));
    }
}
