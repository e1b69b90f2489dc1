//! One log line and one metric per call: a request id (the caller's
//! `X-Request-Id` if it is short and plain, else a fresh one, echoed in the
//! answer), the route pattern, the certifyId, the errCode and cause code,
//! the status and the latency. Never a body, a header value other than
//! the request id, or a query: images, embeddings, ID numbers, names and
//! secrets travel only there.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::error::Answered;

const REQUEST_ID: &str = "x-request-id";

fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| realface::session::certify::random_hex(8).unwrap_or_default())
}

/// The certifyId in a `/v1/certify/{id}/...` path (random, not personal).
fn certify_id(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/certify/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(id)
}

/// The middleware.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let id = request_id(&req);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", |m| m.as_str())
        .to_string();
    let method = req.method().clone();
    let certify = certify_id(req.uri().path()).map(str::to_string);
    let mut response = next.run(req).await;
    let status = response.status().as_u16();
    let answered = response.extensions().get::<Answered>().cloned();
    let code = match &answered {
        Some(a) => i64::from(a.err_code),
        None if response.status().is_success() => 0,
        None => i64::from(status),
    };
    let cause = answered.and_then(|a| a.cause).unwrap_or_default();
    state.metrics.request(&route, code);
    let latency_ms = t0.elapsed().as_secs_f64() * 1e3;
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        certify_id = certify.as_deref().unwrap_or(""),
        code,
        cause = %cause,
        status,
        latency_ms,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}
