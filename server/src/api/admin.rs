//! The operator's API (header `X-Realface-Admin`): accounts, call records
//! one day at a time, daily statistics; and the console page that shows them.

use std::collections::HashMap;

use base64::Engine as _;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::{header as header_value, ok, AppState};
use crate::billing::{contract_year_start, day_of, day_string, parse_day, price_of, yuan, TIERS};
use crate::error::{ApiError, ApiResult, Code};
use crate::RECORD_DAYS;

/// Largest page of records.
pub const MAX_PAGE_SIZE: i64 = 500;

pub(super) async fn admin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    if header_value(headers, super::DEVICE_TOKEN).is_some() {
        return Err(super::device_token_refused());
    }
    let Some(key) = header_value(headers, "x-realface-admin") else {
        return Err(ApiError::new(
            Code::MissingCredential,
            "admin.missing",
            "the header X-Realface-Admin is required (realface-server admin-key)",
        ));
    };
    if !state.store.is_admin_key(key).await? {
        return Err(ApiError::new(
            Code::MissingCredential,
            "admin.wrong",
            "not the admin key",
        ));
    }
    Ok(())
}

pub(super) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

pub(super) fn params(q: Params) -> ApiResult<HashMap<String, String>> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::bad("query", e.to_string()))
}

/// A day within the records' window (the last [`RECORD_DAYS`] days).
fn day_param(p: &HashMap<String, String>, name: &str, today: i64) -> ApiResult<i64> {
    let text = p.get(name).ok_or_else(|| ApiError::missing(name))?;
    let day = parse_day(text)
        .ok_or_else(|| ApiError::bad(name, format!("`{text}` is not a YYYY-MM-DD date")))?;
    if day > today || day <= today - RECORD_DAYS {
        return Err(ApiError::new(
            Code::BadParameter,
            format!("{name}.range"),
            format!(
                "{text} is outside the last {RECORD_DAYS} days ({} to {})",
                day_string(today - RECORD_DAYS + 1),
                day_string(today)
            ),
        ));
    }
    Ok(day)
}

pub(super) fn int_param(
    p: &HashMap<String, String>,
    name: &str,
    default: i64,
    max: i64,
) -> ApiResult<i64> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| ApiError::bad(name, format!("`{v}`: a whole number from 1 to {max}"))),
    }
}

/// `GET /v1/admin/accounts`: every app's balance, frozen and billed
/// amounts, contract year, calls this year and current tier.
pub async fn accounts(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let today = day_of(state.clock.now_ms());
    let mut list = Vec::new();
    for a in state.store.accounts().await? {
        let year = contract_year_start(a.contract_start_day, today);
        let calls = if a.year_start_day == year {
            a.year_calls
        } else {
            0
        };
        let next = price_of(u64::try_from(calls).unwrap_or(0) + 1);
        let tier = TIERS
            .iter()
            .position(|(_, p)| *p == next)
            .map_or(TIERS.len(), |i| i + 1);
        list.push(json!({
            "appId": a.app_id,
            "depositedFen": a.deposited, "deposited": yuan(a.deposited),
            "availableFen": a.available, "available": yuan(a.available),
            "frozenFen": a.frozen, "frozen": yuan(a.frozen),
            "settledFen": a.settled, "settled": yuan(a.settled),
            "contractStart": day_string(a.contract_start_day),
            "contractYearStart": day_string(year),
            "callsThisYear": calls,
            "tier": tier,
            "tierPrice": yuan(next),
        }));
    }
    let mut out = Map::new();
    out.insert("accounts".into(), Value::Array(list));
    Ok(ok(out))
}

/// The opaque form of a records position (`nextCursor`).
fn cursor_text(at_ms: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at_ms}.{id}"))
}

fn cursor_of(text: &str) -> ApiResult<(i64, String)> {
    let bad = || ApiError::bad("cursor", "not a cursor this server gave (`nextCursor`)");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = raw.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((at, id.to_string()))
}

/// `GET /v1/records?day=YYYY-MM-DD&pageSize=M[&cursor=C]`: a page of the
/// day's records, oldest first; `nextCursor` continues (null at the end).
pub async fn records(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Params,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let p = params(q)?;
    if p.contains_key("page") {
        return Err(ApiError::bad(
            "page",
            "records are paged with `cursor` (the previous page's `nextCursor`), not page numbers",
        ));
    }
    let today = day_of(state.clock.now_ms());
    let day = day_param(&p, "day", today)?;
    let size = int_param(&p, "pageSize", 50, MAX_PAGE_SIZE)?;
    let after = p.get("cursor").map(|c| cursor_of(c)).transpose()?;
    let (total, rows, next) = state.store.records_of_day(day, after, size).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            v["billed"] = json!(yuan(r.billed_fen));
            v
        })
        .collect();
    let mut out = Map::new();
    out.insert("day".into(), json!(day_string(day)));
    out.insert("pageSize".into(), json!(size));
    out.insert("total".into(), json!(total));
    out.insert("pages".into(), json!((total + size - 1) / size));
    out.insert("records".into(), Value::Array(rows));
    out.insert(
        "nextCursor".into(),
        next.map_or(Value::Null, |(at, id)| json!(cursor_text(at, &id))),
    );
    Ok(ok(out))
}

/// `GET /v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD`: per day, requests,
/// successful requests (errCode 0), verdicts (`verified`: SUCCESS,
/// `notVerified`: FAIL) and the billed amount.
pub async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Params,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let p = params(q)?;
    let today = day_of(state.clock.now_ms());
    let from = day_param(&p, "from", today)?;
    let to = day_param(&p, "to", today)?;
    if from > to {
        return Err(ApiError::bad("from", "`from` is after `to`"));
    }
    let days: Vec<Value> = state
        .store
        .stats(from, to)
        .await?
        .iter()
        .map(|d| {
            json!({
                "day": day_string(d.day),
                "requests": d.requests,
                "successful": d.successful,
                "verified": d.verified,
                "notVerified": d.not_verified,
                "lockedOut": d.locked_out,
                "billedFen": d.billed_fen,
                "billed": yuan(d.billed_fen),
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("days".into(), Value::Array(days));
    Ok(ok(out))
}

/// `GET /v1/admin/lockouts`: every identity locked now, by scope (an app,
/// or `*` when failures count over every app), with its masked ID number,
/// its identity key (for a lift), the failures counted and the lock's end.
pub async fn lockouts(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let now = state.clock.now_ms();
    let lock = state.settings.lockout;
    let mut seen = std::collections::BTreeMap::new();
    for f in state.store.recent_failures(lock.since(now)).await? {
        let scope = lock.scope(&f.app_id).to_string();
        seen.entry((f.id_hash.clone(), scope))
            .or_insert(f.id_masked);
    }
    let mut list = Vec::new();
    for ((id_hash, scope), id_masked) in seen {
        let failures = state
            .store
            .failures(&id_hash, &scope, lock.since(now))
            .await?;
        if let Some(until) = lock.locked_until(&failures, now) {
            list.push(json!({
                "identity": id_hash,
                "scope": scope,
                "idMasked": id_masked,
                "failures": failures.len(),
                "lockedUntil": until,
            }));
        }
    }
    let mut out = Map::new();
    out.insert("failuresToLock".into(), json!(lock.failures));
    out.insert("windowMs".into(), json!(lock.window_ms));
    out.insert("cooldownMs".into(), json!(lock.cooldown_ms));
    out.insert("allApps".into(), json!(lock.all_apps));
    out.insert("lockouts".into(), Value::Array(list));
    Ok(ok(out))
}

/// `POST /v1/admin/lockouts/lift` with `{"identity": KEY, "scope": APP|"*"}`
/// (the listing's fields) or `{"idCard": NUMBER, "scope": ...}`: the
/// failures judged until now no longer count.
pub async fn lift(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<Value>> {
    admin(&state, &headers).await?;
    let bytes = super::body(raw, 64 << 10)?;
    let obj = super::json_object(&bytes)?;
    let identity = match (obj.get("identity"), obj.get("idCard")) {
        (Some(Value::String(h)), None)
            if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            h.to_ascii_lowercase()
        }
        (None, Some(Value::String(id))) => {
            crate::idcard::keyed_hash(state.store.secret(), id.trim())
        }
        (None, None) => return Err(ApiError::missing("identity")),
        _ => {
            return Err(ApiError::bad(
                "identity",
                "give `identity` (64 hex digits, from the listing) or `idCard`, not both",
            ))
        }
    };
    let scope = super::str_field(&obj, "scope", 64)?.to_string();
    let lock = state.settings.lockout;
    if lock.all_apps != (scope == crate::lockout::ALL_APPS) {
        return Err(ApiError::bad(
            "scope",
            if lock.all_apps {
                "failures count over every app here: the scope is `*`"
            } else {
                "failures count per app here: the scope is the app id"
            },
        ));
    }
    state
        .store
        .lift_lockout(&identity, &scope, state.clock.now_ms())
        .await?;
    let mut out = Map::new();
    out.insert("lifted".into(), json!(true));
    out.insert("scope".into(), json!(scope));
    Ok(ok(out))
}

/// `GET /console`: the operator's page (it asks for the admin key and
/// calls the API above from the browser; nothing is loaded from elsewhere).
pub async fn console() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(include_str!("console.html")),
    )
        .into_response()
}
