//! The server's errors: the product's codes, one HTTP status each, and the
//! body every error carries: `{errSubject, errCode, errMsg, cause?}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// The product's server error codes (PRODUCT.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 50001: a required parameter is missing.
    MissingParameter,
    /// 50002: a parameter has the wrong type or value (bad ID number,
    /// over a limit, undecodable evidence, a step out of order...).
    BadParameter,
    /// 54003: the appId does not exist (or was revoked).
    UnknownApp,
    /// 54004: the caller's address is not on the app's allow-list.
    NotAllowed,
    /// 54020: no such certifyId for this app, or it expired.
    UnknownCertifyId,
    /// 54021: the call credential is missing or wrong (or the wrong kind:
    /// an app key on a device route, a device token on a backend route).
    MissingCredential,
    /// 54030: the identity is locked after repeated failed verdicts, until
    /// its cool-down ends or an admin lifts it (realface's own code).
    LockedOut,
    /// 55000: an internal error (store, model).
    Internal,
    /// 60000: the service is overloaded; try again later.
    Unavailable,
}

impl Code {
    /// The numeric code.
    pub fn number(self) -> u32 {
        match self {
            Self::MissingParameter => 50001,
            Self::BadParameter => 50002,
            Self::UnknownApp => 54003,
            Self::NotAllowed => 54004,
            Self::UnknownCertifyId => 54020,
            Self::MissingCredential => 54021,
            Self::LockedOut => 54030,
            Self::Internal => 55000,
            Self::Unavailable => 60000,
        }
    }

    /// The HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingParameter | Self::BadParameter => StatusCode::BAD_REQUEST,
            Self::UnknownApp | Self::MissingCredential => StatusCode::UNAUTHORIZED,
            Self::NotAllowed => StatusCode::FORBIDDEN,
            Self::LockedOut => StatusCode::TOO_MANY_REQUESTS,
            Self::UnknownCertifyId => StatusCode::NOT_FOUND,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::MissingParameter => "missing parameter",
            Self::BadParameter => "parameter has wrong type or value",
            Self::UnknownApp => "appId does not exist",
            Self::NotAllowed => "caller not in whitelist",
            Self::UnknownCertifyId => "request record does not exist, certifyId invalid",
            Self::MissingCredential => "missing call credential",
            Self::LockedOut => "identity locked after repeated failures",
            Self::Internal => "internal error",
            Self::Unavailable => "service unavailable",
        }
    }
}

/// The detail under an error.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    /// A stable machine-readable detail (`field.missing`, `idCard.check`...).
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// An error answered to a caller.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {}: {}", .code.number(), .code.message(), .cause.as_ref().map(|c| c.message.as_str()).unwrap_or(""))]
pub struct ApiError {
    /// The product's code.
    pub code: Code,
    /// The detail, if any.
    pub cause: Option<Cause>,
    /// The HTTP status, when it is not the code's own (413 for a body over
    /// the limit).
    pub status: Option<StatusCode>,
}

impl ApiError {
    /// An error with a cause.
    pub fn new(code: Code, cause: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            cause: Some(Cause {
                code: cause.into(),
                message: message.into(),
            }),
            status: None,
        }
    }

    /// 50001 for a missing field.
    pub fn missing(field: &str) -> Self {
        Self::new(
            Code::MissingParameter,
            format!("{field}.missing"),
            format!("`{field}` is required"),
        )
    }

    /// 50002 for a field with a wrong type or value.
    pub fn bad(field: &str, message: impl Into<String>) -> Self {
        Self::new(Code::BadParameter, format!("{field}.invalid"), message)
    }

    /// 55000 with the underlying error's text.
    pub fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        Self::new(Code::Internal, what, e.to_string())
    }

    /// This error answered with another HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

/// The body of every error.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    err_subject: &'static str,
    err_code: u32,
    err_msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a Cause>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            err_subject: "realface",
            err_code: self.code.number(),
            err_msg: self.code.message(),
            cause: self.cause.as_ref(),
        };
        let mut r = (self.status.unwrap_or(self.code.status()), Json(body)).into_response();
        // the logs and metrics read the code and cause from here
        r.extensions_mut().insert(Answered {
            err_code: self.code.number(),
            cause: self.cause.as_ref().map(|c| c.code.clone()),
        });
        r
    }
}

/// What an error answer carried, for the request log and the metrics.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The errCode.
    pub err_code: u32,
    /// The cause's stable code (`deviceToken.wrong`...).
    pub cause: Option<String>,
}

impl From<sqlx::Error> for ApiError {
    /// Answered 55000; when the database cannot be reached (no connection within the
    /// pool's wait, a connection lost, the server shutting down) the cause
    /// is `store.unavailable` and the HTTP status 503, so a client or a
    /// balancer tries again or elsewhere.
    fn from(e: sqlx::Error) -> Self {
        if store_unreachable(&e) {
            Self::new(Code::Internal, STORE_UNAVAILABLE, e.to_string())
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
        } else {
            Self::internal("store", e)
        }
    }
}

/// The cause of a 55000 answered because the database could not be reached.
pub const STORE_UNAVAILABLE: &str = "store.unavailable";

/// Whether `e` says the database is out of reach rather than that a
/// statement failed: no connection in time, the connection broke, or the
/// server refuses connections or is shutting down (SQLSTATE classes 08
/// and 57P).
pub fn store_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl ApiError {
    /// Whether this answers a store that could not be reached.
    pub fn is_store_unavailable(&self) -> bool {
        self.cause
            .as_ref()
            .is_some_and(|c| c.code == STORE_UNAVAILABLE)
    }
}

/// The server's result type.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
