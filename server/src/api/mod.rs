//! The HTTP API: routes, the shared state, caller authentication and the
//! body helpers every handler uses.

mod admin;
mod certify;
mod evidence;
mod health;
mod hooks;
mod observe;
mod record;
mod result;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::clock::Clock;
use crate::error::{ApiError, ApiResult, Code};
use crate::judge::Judge;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::{CertifyRow, Store};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The models and their pool.
    pub judge: Judge,
    /// The operator's settings.
    pub settings: Arc<Settings>,
    /// The clock.
    pub clock: Arc<Clock>,
    /// Wakes the webhook courier when a verdict queued an event.
    pub webhooks: Arc<tokio::sync::Notify>,
    /// The counters `/metrics` shows.
    pub metrics: Metrics,
    /// The demo app (`--demo`): `/demo` and its backend calls are served
    /// only when set.
    pub demo: Option<Arc<str>>,
    /// [`Settings::test_seed`]'s generator (tests only).
    pub seeded: Option<Arc<std::sync::Mutex<realface::rng::SplitMix>>>,
    /// What the capture page runs in the browser (onnxruntime-web and the
    /// detector), checked by sha256 at start.
    pub web: Arc<crate::web_runtime::WebRuntime>,
    /// The capture script as served (its prompt table and runtime URLs
    /// filled in), made once at start.
    pub capture_js: Arc<web::Asset>,
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let limits = state.settings.limits;
    Router::new()
        .route(
            "/v1/certify",
            post(certify::certify).layer(DefaultBodyLimit::max(limits.max_certify_bytes)),
        )
        .route(
            "/v1/certify/{id}/start",
            post(certify::start).options(web::preflight).layer(
                axum::middleware::from_fn_with_state(state.clone(), web::cors),
            ),
        )
        .route(
            "/v1/certify/{id}/evidence",
            post(evidence::evidence)
                .options(web::preflight)
                .layer(DefaultBodyLimit::max(limits.max_bytes))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    web::cors,
                )),
        )
        .route("/v1/certify/{id}/result", get(result::result))
        .route("/v1/admin/accounts", get(admin::accounts))
        .route("/v1/records", get(admin::records))
        .route("/v1/stats", get(admin::stats))
        .route("/v1/admin/lockouts", get(admin::lockouts))
        .route("/v1/admin/lockouts/lift", post(admin::lift))
        .route("/v1/admin/webhooks", get(hooks::outbox))
        .route("/v1/admin/webhooks/redeliver", post(hooks::redeliver))
        .route(
            "/v1/webhook",
            get(hooks::get_webhook).put(hooks::put_webhook),
        )
        .route("/v1/webhook/rotate", post(hooks::rotate))
        .route("/metrics", get(hooks::metrics))
        .route("/console", get(admin::console))
        .route("/v1/web", get(web::get_web).put(web::put_web))
        .route("/sdk/v1/realface-capture.js", get(web::capture_js))
        .route("/sdk/v1/realface-capture.css", get(web::capture_css))
        .route("/sdk/v1/capture-page.js", get(web::page_js))
        .route("/sdk/v1/realface-analyse.js", get(web::analyse_js))
        .route("/sdk/v1/rt/{file}", get(web::runtime_file))
        .route("/capture/{app}", get(web::capture_page))
        .route("/demo", get(web::demo_page))
        .route("/demo/demo.js", get(web::demo_js))
        .route("/demo/demo.css", get(web::demo_css))
        .route("/demo/certify", post(web::demo_certify))
        .route("/demo/result/{id}", get(web::demo_result))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(|| async {
            ApiError::new(Code::BadParameter, "path.unknown", "no such endpoint")
                .with_status(StatusCode::NOT_FOUND)
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                Code::BadParameter,
                "method.unknown",
                "method not allowed here",
            )
            .with_status(StatusCode::METHOD_NOT_ALLOWED)
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The header a device calls `start` and `evidence` with.
pub const DEVICE_TOKEN: &str = "x-realface-device-token";

/// 54021 for a device token on a backend route.
pub(crate) fn device_token_refused() -> ApiError {
    ApiError::new(
        Code::MissingCredential,
        "credential.device_token_not_here",
        "a device token only opens start and evidence; this route takes the app key or the admin key",
    )
}

/// Checks the device's credential for certifyId `id`: its device token
/// (`X-Realface-Device-Token`) and nothing else. The app key is refused
/// here: it never belongs on a device. Returns the id's row (expired or
/// not: the caller checks).
pub async fn authenticate_device(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> ApiResult<CertifyRow> {
    if header(headers, "x-realface-app").is_some() || header(headers, "x-realface-key").is_some() {
        return Err(ApiError::new(
            Code::MissingCredential,
            "credential.app_key_not_here",
            "start and evidence take the certifyId's device token (X-Realface-Device-Token), never the app key",
        ));
    }
    let Some(token) = header(headers, DEVICE_TOKEN) else {
        return Err(ApiError::new(
            Code::MissingCredential,
            "deviceToken.missing",
            "the header X-Realface-Device-Token is required (certify returned it with the certifyId)",
        ));
    };
    let row = state.store.certify_by_id(id).await?;
    let Some(row) = row else {
        return Err(ApiError::new(
            Code::UnknownCertifyId,
            "certifyId.unknown",
            "no such certifyId",
        ));
    };
    let ok = row
        .device_token_hash
        .as_deref()
        .is_some_and(|h| crate::secret::matches(token, h));
    if !ok {
        return Err(ApiError::new(
            Code::MissingCredential,
            "deviceToken.wrong",
            "the device token does not belong to this certifyId",
        ));
    }
    Ok(row)
}

/// Checks the caller's credential (`X-Realface-App`, `X-Realface-Key`) and
/// address; returns the app id. A device token is refused.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> ApiResult<String> {
    if header(headers, DEVICE_TOKEN).is_some() {
        return Err(device_token_refused());
    }
    let (Some(app), Some(key)) = (
        header(headers, "x-realface-app"),
        header(headers, "x-realface-key"),
    ) else {
        return Err(ApiError::new(
            Code::MissingCredential,
            "credential.missing",
            "the headers X-Realface-App and X-Realface-Key are required",
        ));
    };
    let auth = match state.store.app_auth(app).await? {
        Some(a) if !a.revoked => a,
        _ => {
            return Err(ApiError::new(
                Code::UnknownApp,
                "app.unknown",
                format!("no app `{app}`"),
            ))
        }
    };
    if !crate::secret::matches(key, &auth.key_hash) {
        return Err(ApiError::new(
            Code::MissingCredential,
            "credential.wrong",
            "the key does not belong to this app",
        ));
    }
    let ip = peer.ip().to_string();
    if !auth.callers.is_empty() && !auth.callers.contains(&ip) {
        return Err(ApiError::new(
            Code::NotAllowed,
            "caller.not_allowed",
            format!("caller {ip} is not on the app's allow-list"),
        ));
    }
    Ok(app.to_string())
}

/// The body, or 50002 with HTTP 413 when it is over the route's limit.
pub fn body(
    body: Result<axum::body::Bytes, BytesRejection>,
    limit: usize,
) -> ApiResult<axum::body::Bytes> {
    body.map_err(|e| {
        let status = e.status();
        let err = ApiError::bad(
            "body",
            format!("the body could not be read ({e}); limit {limit} bytes"),
        );
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::BadParameter,
                "body.too_large",
                format!("the body is over {limit} bytes"),
            )
            .with_status(status)
        } else {
            err
        }
    })
}

/// The body as a JSON object.
pub fn json_object(bytes: &[u8]) -> ApiResult<serde_json::Map<String, Value>> {
    if bytes.is_empty() {
        return Err(ApiError::new(
            Code::MissingParameter,
            "body.missing",
            "a JSON body is required",
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("body", "the body must be a JSON object")),
        Err(e) => Err(ApiError::bad("body", format!("not JSON: {e}"))),
    }
}

/// A required field (absent or null: 50001).
pub fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> ApiResult<&'a Value> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(ApiError::missing(name)),
        Some(v) => Ok(v),
    }
}

/// A required string field: present, a string, not blank, at most `max` characters.
pub fn str_field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
    max: usize,
) -> ApiResult<&'a str> {
    let s = field(obj, name)?
        .as_str()
        .ok_or_else(|| ApiError::bad(name, format!("`{name}` must be a string")))?;
    if s.trim().is_empty() {
        return Err(ApiError::missing(name));
    }
    if s.chars().count() > max {
        return Err(ApiError::bad(
            name,
            format!("`{name}` is longer than {max} characters"),
        ));
    }
    Ok(s)
}

/// The `errCode: 0` answer with `fields`.
pub fn ok(mut fields: serde_json::Map<String, Value>) -> Json<Value> {
    fields.insert("errCode".into(), Value::from(0));
    Json(Value::Object(fields))
}
