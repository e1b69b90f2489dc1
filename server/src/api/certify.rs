//! getCertifyId (`POST /v1/certify`) and the challenge (`POST /v1/certify/{id}/start`).

use std::net::SocketAddr;

use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use base64::Engine as _;
use realface::embed::Embedding;
use realface::session::certify::{random_hex, CERTIFY_ID_TTL_MS};
use realface::session::challenge;
use realface::session::prompt::{PromptMode, Schedule};
use serde_json::{json, Map, Value};

use super::record::Rec;
use super::{authenticate, authenticate_device, body, field, json_object, ok, str_field, AppState};
use crate::error::{ApiError, ApiResult, Code};
use crate::idcard;
use crate::judge::lib_error;
use crate::store::{CertifyRow, NewCertify};

fn random(bytes: usize) -> ApiResult<String> {
    random_hex(bytes).map_err(|e| ApiError::internal("random", e))
}

/// 128 random bits as hex, or the test seed's next draw.
fn id_or_nonce(state: &AppState) -> ApiResult<String> {
    match &state.seeded {
        None => random(16),
        Some(rng) => {
            let mut rng = rng
                .lock()
                .map_err(|_| ApiError::internal("seeded", "poisoned"))?;
            Ok(format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()))
        }
    }
}

/// The reference of a certify request: an embedding, or a photo embedded
/// on the pool.
async fn reference(state: &AppState, obj: &Map<String, Value>) -> ApiResult<Embedding> {
    let reference = field(obj, "reference")?.as_object().ok_or_else(|| {
        ApiError::bad(
            "reference",
            "`reference` must be an object: {\"photo\": BASE64} or {\"embedding\": [...]}",
        )
    })?;
    let matcher = state.judge.engine().config().matcher;
    if let Some(m) = reference.get("matcher").filter(|v| !v.is_null()) {
        let m = m
            .as_str()
            .ok_or_else(|| ApiError::bad("reference.matcher", "must be a matcher's name"))?;
        if m != matcher.name() {
            return Err(ApiError::new(
                Code::BadParameter,
                "reference.matcher",
                format!(
                    "an embedding made by `{m}` cannot be compared: this server's matcher is `{}` (send the photo, or an embedding from `{}`)",
                    matcher.name(),
                    matcher.name()
                ),
            ));
        }
    }
    let photo = reference.get("photo").filter(|v| !v.is_null());
    let embedding = reference.get("embedding").filter(|v| !v.is_null());
    match (photo, embedding) {
        (None, None) => Err(ApiError::missing("reference.photo")),
        (Some(_), Some(_)) => Err(ApiError::bad(
            "reference",
            "give `photo` or `embedding`, not both",
        )),
        (None, Some(e)) => {
            let values = e.as_array().ok_or_else(|| {
                ApiError::bad("reference.embedding", "must be an array of numbers")
            })?;
            let dim = state.judge.engine().embedder().dim();
            if values.len() != dim {
                return Err(ApiError::bad(
                    "reference.embedding",
                    format!("{} values, {dim} expected", values.len()),
                ));
            }
            let v = values
                .iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| {
                    ApiError::bad("reference.embedding", "must be an array of numbers")
                })?;
            Embedding::from_raw(v).map_err(|e| lib_error("reference.embedding", &e))
        }
        (Some(p), None) => {
            let text = p
                .as_str()
                .ok_or_else(|| ApiError::bad("reference.photo", "must be a base64 string"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| ApiError::bad("reference.photo", format!("not base64: {e}")))?;
            state
                .judge
                .run(move |engine| {
                    let img = engine
                        .decode(&bytes)
                        .map_err(|e| lib_error("reference.photo", &e))?;
                    engine
                        .embed_image(&img)
                        .map_err(|e| lib_error("reference.photo", &e))
                })
                .await
        }
    }
}

/// `POST /v1/certify`: `realName`, `idCard`, `reference` → `certifyId`.
pub async fn certify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let mut rec = Rec::new("certify", &headers, peer, None);
    let r = certify_call(&state, &headers, peer, raw, &mut rec).await;
    rec.answer(&state, r).await
}

async fn certify_call(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    raw: Result<axum::body::Bytes, BytesRejection>,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let app = authenticate(state, headers, peer).await?;
    let bytes = body(raw, state.settings.limits.max_certify_bytes)?;
    let obj = json_object(&bytes)?;
    issue(state, app, &obj, rec).await
}

/// Issues a certifyId for `app` (authenticated already) from a certify body.
pub(super) async fn issue(
    state: &AppState,
    app: String,
    obj: &Map<String, Value>,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let state = state.clone();
    let obj = obj.clone();
    let name = str_field(&obj, "realName", 64)?;
    let id_card = str_field(&obj, "idCard", 64)?;
    let now = state.clock.now_ms();
    idcard::validate(id_card, now)
        .map_err(|(cause, msg)| ApiError::new(Code::BadParameter, cause, msg))?;
    let id_hash = idcard::keyed_hash(state.store.secret(), id_card);
    let name_masked = idcard::mask_name(name);
    let id_masked = idcard::mask(&id_card.to_ascii_uppercase());
    rec.0.name_masked = Some(name_masked.clone());
    rec.0.id_masked = Some(id_masked.clone());
    refuse_if_locked(&state, &id_hash, &app, now).await?;
    let reference = reference(&state, &obj).await?;
    let reference = crate::reference::encode(state.judge.engine().config().matcher, reference)?;
    // the device's credential for this one id: 256 random bits, shown once
    let device_token = random(32)?;
    let row = NewCertify {
        certify_id: id_or_nonce(&state)?,
        app_id: app,
        nonce: id_or_nonce(&state)?,
        name_masked,
        id_masked,
        id_hash,
        reference,
        device_token_hash: crate::secret::hash(&device_token),
        created_ms: now,
        expires_ms: now + CERTIFY_ID_TTL_MS,
    };
    if !state.store.insert_certify(&row).await? {
        return Err(ApiError::new(
            Code::Unavailable,
            "balance.insufficient",
            "the app's balance cannot cover one more check; deposit first",
        )
        .with_status(StatusCode::PAYMENT_REQUIRED));
    }
    rec.0.certify_id = Some(row.certify_id.clone());
    let mut out = Map::new();
    out.insert("certifyId".into(), json!(row.certify_id));
    // the backend hands (certifyId, deviceToken) to the device: the token
    // opens start and evidence of this id only, and expires with it
    out.insert("deviceToken".into(), json!(device_token));
    out.insert("expiresAt".into(), json!(row.expires_ms));
    Ok(ok(out))
}

/// 54030 while the identity is locked in this app's scope.
async fn refuse_if_locked(state: &AppState, id_hash: &str, app: &str, now: u64) -> ApiResult<()> {
    let lock = state.settings.lockout;
    if lock.failures == 0 {
        return Ok(());
    }
    let failures = state
        .store
        .failures(id_hash, lock.scope(app), lock.since(now))
        .await?;
    match lock.locked_until(&failures, now) {
        None => Ok(()),
        Some(until) => Err(ApiError::new(
            Code::LockedOut,
            "identity.locked",
            format!(
                "{} failed verdicts for this identity within {} h: no new certifyId until {until} (Unix ms), unless an admin lifts the lock",
                lock.failures,
                lock.window_ms / 3_600_000
            ),
        )),
    }
}

/// The app's unexpired certifyId, or 54020.
pub async fn live_row(state: &AppState, id: &str, app: &str, now_ms: u64) -> ApiResult<CertifyRow> {
    unexpired(state.store.certify(id, app).await?, now_ms)
}

/// The row if it is unexpired and not swept, else 54020.
pub fn unexpired(row: Option<CertifyRow>, now_ms: u64) -> ApiResult<CertifyRow> {
    match row {
        Some(r) if r.expires_ms > now_ms as i64 && r.reference.is_some() => Ok(r),
        Some(_) => Err(ApiError::new(
            Code::UnknownCertifyId,
            "certifyId.expired",
            "the certifyId expired",
        )),
        None => Err(ApiError::new(
            Code::UnknownCertifyId,
            "certifyId.unknown",
            "no such certifyId for this app",
        )),
    }
}

fn started_twice() -> ApiError {
    ApiError::new(
        Code::BadParameter,
        "start.repeated",
        "this certifyId was already started",
    )
}

/// How the device captures: a session that runs as it records (`device`,
/// the default), or a browser's recording (`web`) whose prompts come on a
/// schedule fixed from the nonce (`"prompts": "scheduled"`, the default) or
/// follow the page's own session (`"prompts": "device"`: the library in
/// WebAssembly, prompting as a device does).
fn capture_of(raw: Result<axum::body::Bytes, BytesRejection>) -> ApiResult<Option<&'static str>> {
    let bytes = body(raw, 4096)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let obj = json_object(&bytes)?;
    let prompts = match obj.get("prompts").map(|v| v.as_str()) {
        None => None,
        Some(Some(p @ ("scheduled" | "device"))) => Some(p),
        _ => {
            return Err(ApiError::bad(
                "prompts",
                "must be \"scheduled\" (on a schedule fixed from the nonce) or \"device\" (the page's session prompts as a device does)",
            ))
        }
    };
    match (obj.get("capture").map(|v| v.as_str()), prompts) {
        (None | Some(Some("device")), None) => Ok(None),
        (Some(Some("web")), None | Some("scheduled")) => Ok(Some(WEB)),
        (Some(Some("web")), Some(_)) => Ok(Some(WEB_DEVICE)),
        _ => Err(ApiError::bad(
            "capture",
            "must be \"device\" (a session run as it records) or \"web\" (a browser's recording; \"prompts\" says how it is prompted)",
        )),
    }
}

/// The stored capture mode of a browser's recording on the nonce's schedule.
pub const WEB: &str = "web";

/// The stored capture mode of a browser's recording prompted by the page's
/// own session (the library in WebAssembly): judged as a device's session,
/// the schedule recomputed from the recording's frames.
pub const WEB_DEVICE: &str = "web-device";

/// `POST /v1/certify/{id}/start`: draws the challenge (once). The body may
/// say `{"capture": "web"}`: the prompts then come on a schedule fixed from
/// the nonce, returned as `schedule`; or `{"capture": "web", "prompts":
/// "device"}`: the page runs the session and prompts as a device does.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let mut rec = Rec::new("start", &headers, peer, Some(&id));
    let r = start_call(&state, &headers, &id, raw, &mut rec).await;
    rec.answer(&state, r).await
}

async fn start_call(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    raw: Result<axum::body::Bytes, BytesRejection>,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let state = state.clone();
    let id = id.to_string();
    let row = authenticate_device(&state, headers, &id).await?;
    let capture = capture_of(raw)?;
    let now = state.clock.now_ms();
    let row = unexpired(Some(row), now)?;
    let app = row.app_id.clone();
    rec.identity(&row);
    if row.started_ms.is_some() {
        return Err(started_twice());
    }
    let s = &state.settings;
    let seed = challenge::seed(&id, &row.nonce);
    let actions = challenge::draw(&s.actions, s.challenge_count, seed)
        .map_err(|e| ApiError::internal("challenge", e))?;
    let names: Vec<&str> = actions.iter().map(|a| a.name()).collect();
    let deadline = now + s.window_ms();
    let stored = serde_json::to_string(&names).map_err(|e| ApiError::internal("challenge", e))?;
    if !state
        .store
        .start(&id, &app, now, deadline, &stored, capture)
        .await?
    {
        // another start won the race, or the id expired meanwhile
        live_row(&state, &id, &app, now).await?;
        return Err(started_twice());
    }
    let mut out = Map::new();
    out.insert("certifyId".into(), json!(id));
    out.insert("actions".into(), json!(names));
    out.insert("deadlineMs".into(), json!(deadline));
    // the device's capture session is claimed with these (the challenge is
    // known now, so the nonce is no secret any more)
    out.insert("challengeNonce".into(), json!(row.nonce));
    out.insert("expiresAt".into(), json!(row.expires_ms));
    out.insert("actionTimeoutMs".into(), json!(s.session.action_timeout_ms));
    out.insert("totalTimeoutMs".into(), json!(s.session.total_timeout_ms));
    // the session options the server judges with (prompt timing, answer
    // thresholds, passive gates) with this challenge: a device that runs its
    // capture with them shows the prompts when the server will expect them
    let device =
        crate::evidence::judged_options(s.session.clone(), actions.clone(), prompt_mode(capture));
    if capture == Some(WEB) {
        let schedule = Schedule::of(seed, &actions, &device.prompt, device.warmup_ms);
        out.insert(
            "schedule".into(),
            serde_json::to_value(&schedule).map_err(|e| ApiError::internal("schedule", e))?,
        );
    }
    let (kind, prompts) = capture_names(capture);
    out.insert("capture".into(), json!(kind));
    out.insert("prompts".into(), json!(prompts));
    out.insert(
        "sessionOptions".into(),
        serde_json::to_value(&device).map_err(|e| ApiError::internal("challenge", e))?,
    );
    Ok(ok(out))
}

/// A stored capture mode as the API names it: (`capture`, `prompts`).
pub fn capture_names(capture: Option<&str>) -> (&'static str, &'static str) {
    match capture {
        Some(WEB) => ("web", "scheduled"),
        Some(_) => ("web", "device"),
        None => ("device", "device"),
    }
}

/// The prompt mode of a stored capture mode: the judge's and the device's.
pub fn prompt_mode(capture: Option<&str>) -> PromptMode {
    match capture {
        Some(WEB) => PromptMode::Scheduled,
        // a device's session, and a page's (web-device): prompts follow
        // the answers, recomputed from the frames
        _ => PromptMode::Device,
    }
}
