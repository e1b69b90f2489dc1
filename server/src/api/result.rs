//! getAuthResult: `GET /v1/certify/{id}/result?needAlivePhoto=Y_O|Y_M|N`.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use realface::PhotoKind;
use serde_json::{json, Map, Value};

use super::certify::live_row;
use super::record::Rec;
use super::{authenticate, ok, AppState};
use crate::error::{ApiError, ApiResult};
use crate::verdict::Verdict;

/// `GET /v1/certify/{id}/result`.
pub async fn result(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let mut rec = Rec::new("result", &headers, peer, Some(&id));
    let r = result_call(&state, &headers, peer, id, query, &mut rec).await;
    rec.answer(&state, r).await
}

async fn result_call(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    id: String,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let app = authenticate(state, headers, peer).await?;
    let Query(query) = query.map_err(|e| ApiError::bad("query", e.to_string()))?;
    let kind = match query.get("needAlivePhoto") {
        None => PhotoKind::None,
        Some(v) => v
            .parse::<PhotoKind>()
            .map_err(|_| ApiError::bad("needAlivePhoto", format!("`{v}`: Y_O, Y_M or N")))?,
    };
    read(state, &app, &id, kind, rec).await
}

/// The verdict of `app`'s certifyId `id` as getAuthResult answers it.
pub(super) async fn read(
    state: &AppState,
    app: &str,
    id: &str,
    kind: PhotoKind,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let row = live_row(state, id, app, state.clock.now_ms()).await?;
    rec.identity(&row);
    let mut out = Map::new();
    out.insert("certifyId".into(), json!(id));
    let Some(text) = row.verdict.as_deref() else {
        out.insert("authState".into(), json!("PROCESSING"));
        return Ok(ok(out));
    };
    let verdict: Verdict =
        serde_json::from_str(text).map_err(|e| ApiError::internal("verdict", e))?;
    rec.0.verdict = Some(verdict.auth_state.clone());
    if let Value::Object(m) =
        serde_json::to_value(&verdict).map_err(|e| ApiError::internal("verdict", e))?
    {
        out.extend(m);
    }
    let photo = match kind {
        PhotoKind::Original => row.photo_o,
        PhotoKind::Mosaic => row.photo_m,
        PhotoKind::None => None,
    };
    if let Some(p) = photo {
        out.insert("base64Photo".into(), json!(p));
    }
    if row.capture.is_some() {
        // a browser's capture: how its prompts were timed
        let (capture, prompts) = super::certify::capture_names(row.capture.as_deref());
        out.insert("capture".into(), json!(capture));
        out.insert("prompts".into(), json!(prompts));
    }
    Ok(ok(out))
}
