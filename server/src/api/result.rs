//! getAuthResult: `GET /v1/certify/{id}/result?needAlivePhoto=Y_O|Y_M|N`.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use realface::PhotoKind;
use serde_json::{json, Map, Value};

use super::certify::live_row;
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
) -> ApiResult<Json<Value>> {
    let app = authenticate(&state, &headers, peer).await?;
    let Query(query) = query.map_err(|e| ApiError::bad("query", e.to_string()))?;
    let kind = match query.get("needAlivePhoto") {
        None => PhotoKind::None,
        Some(v) => v
            .parse::<PhotoKind>()
            .map_err(|_| ApiError::bad("needAlivePhoto", format!("`{v}`: Y_O, Y_M or N")))?,
    };
    let row = live_row(&state, &id, &app, state.clock.now_ms()).await?;
    let mut out = Map::new();
    out.insert("certifyId".into(), json!(id));
    let Some(text) = row.verdict.as_deref() else {
        out.insert("authState".into(), json!("PROCESSING"));
        return Ok(ok(out));
    };
    let verdict: Verdict =
        serde_json::from_str(text).map_err(|e| ApiError::internal("verdict", e))?;
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
    Ok(ok(out))
}
