//! Webhooks in the API. The business backend (app key) registers its URL
//! and reads or rotates its signing secret: `GET|PUT /v1/webhook`,
//! `POST /v1/webhook/rotate`. The operator (admin key) sees the outbox and
//! puts given-up events back: `GET /v1/admin/webhooks?state=`,
//! `POST /v1/admin/webhooks/redeliver`; and scrapes `GET /metrics`.

use std::net::SocketAddr;

use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::admin::{admin, int_param, params, Params};
use super::{authenticate, body, json_object, ok, str_field, AppState};
use crate::error::{ApiError, ApiResult};
use crate::store::{OutboxState, Webhook};

fn webhook_json(w: Webhook) -> Json<Value> {
    let mut out = Map::new();
    out.insert("url".into(), json!(w.url));
    out.insert("secret".into(), json!(w.secret));
    out.insert(
        "previousSecretValidUntil".into(),
        json!(w.previous_valid_until_ms),
    );
    ok(out)
}

fn unknown_app() -> ApiError {
    ApiError::internal("webhook", "the app disappeared")
}

/// `GET /v1/webhook`: the app's URL and signing secret.
pub async fn get_webhook(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let app = authenticate(&state, &headers, peer).await?;
    let w = state.store.webhook(&app).await?.ok_or_else(unknown_app)?;
    Ok(webhook_json(w))
}

/// `PUT /v1/webhook {"url": "http://..." | null}`: sets or removes the URL;
/// the first URL makes the signing secret, answered here and by GET.
pub async fn put_webhook(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let app = authenticate(&state, &headers, peer).await?;
    let bytes = body(raw, 16 << 10)?;
    let obj = json_object(&bytes)?;
    let url = match obj.get("url") {
        Some(Value::Null) => None,
        _ => {
            let url = str_field(&obj, "url", 2048)?;
            crate::webhook::check_url(url).map_err(|m| ApiError::bad("url", m))?;
            Some(url)
        }
    };
    let w = state
        .store
        .set_webhook(&app, url, state.clock.now_ms())
        .await?
        .ok_or_else(unknown_app)?;
    Ok(webhook_json(w))
}

/// `POST /v1/webhook/rotate`: a new signing secret; the previous one keeps
/// signing for `webhook.rotation_overlap_ms` so receivers can switch.
pub async fn rotate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let app = authenticate(&state, &headers, peer).await?;
    let w = state
        .store
        .rotate_webhook_secret(
            &app,
            state.clock.now_ms(),
            state.settings.webhook.rotation_overlap_ms,
        )
        .await?
        .ok_or_else(unknown_app)?;
    Ok(webhook_json(w))
}

/// `GET /v1/admin/webhooks?state=pending|delivered|failed&limit=N`.
pub async fn outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Params,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let p = params(q)?;
    let which = match p.get("state").map(String::as_str) {
        None | Some("failed") => OutboxState::Failed,
        Some("pending") => OutboxState::Pending,
        Some("delivered") => OutboxState::Delivered,
        Some(other) => {
            return Err(ApiError::bad(
                "state",
                format!("`{other}`: pending, delivered or failed"),
            ))
        }
    };
    let limit = int_param(&p, "limit", 100, 1000)?;
    let events = state.store.outbox(which, limit).await?;
    let mut out = Map::new();
    out.insert("events".into(), json!(events));
    out.insert("backlog".into(), json!(state.store.outbox_backlog().await?));
    Ok(ok(out))
}

/// `POST /v1/admin/webhooks/redeliver {"eventId": ...}`: a given-up event
/// is tried again from now, with a fresh count of tries.
pub async fn redeliver(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let bytes = body(raw, 16 << 10)?;
    let obj = json_object(&bytes)?;
    let id = str_field(&obj, "eventId", 64)?;
    if !state
        .store
        .redeliver_event(id, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::bad("eventId", "no given-up event with this id"));
    }
    state.webhooks.notify_one();
    let mut out = Map::new();
    out.insert("eventId".into(), json!(id));
    out.insert("queued".into(), json!(true));
    Ok(ok(out))
}

/// `GET /metrics` (admin key in `X-Realface-Admin`, or
/// `Authorization: Bearer <admin key>` as Prometheus sends it).
pub async fn metrics(State(state): State<AppState>, mut headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|k| k.trim().parse().ok());
    if let Some(key) = bearer {
        headers.insert("x-realface-admin", key);
    }
    if let Err(e) = admin(&state, &headers).await {
        return e.into_response();
    }
    if let Ok(n) = state.store.outbox_backlog().await {
        state.metrics.webhook_backlog.set(n);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
