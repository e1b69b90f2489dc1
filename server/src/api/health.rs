//! What a load balancer asks: `/healthz` (the process answers) and
//! `/readyz` (this instance can take calls now: its database answers, its
//! models are loaded, a judging place is free). A balancer routes to an
//! instance only while `/readyz` is 200; `/healthz` alone says whether to
//! restart it.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;

/// Longest a readiness check waits for the database.
const DB_CHECK: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 `{"status": "ok"}` while the process serves.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 `{"status": "ready", ...}` when the database answered
/// within 2 s and a judging place is free; 503 `{"status": "not_ready",
/// "failing": [...]}` naming what is not (`database`, `judging`) otherwise.
/// The models are loaded before the server listens, so a listening
/// instance always has them.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = matches!(
        tokio::time::timeout(DB_CHECK, state.store.ping()).await,
        Ok(Ok(()))
    );
    let free = state.judge.free_places();
    let mut failing = Vec::new();
    if !database {
        failing.push("database");
    }
    if free == 0 {
        failing.push("judging");
    }
    let body = json!({
        "status": if failing.is_empty() { "ready" } else { "not_ready" },
        "database": if database { "ok" } else { "unreachable" },
        "models": "loaded",
        "judgingFree": free,
        "failing": failing,
    });
    let status = if failing.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
