//! `POST /v1/certify/{id}/evidence`: the device's recording, judged once.

use std::net::SocketAddr;

use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Json;
use base64::Engine as _;
use realface::embed::Embedding;
use realface::liveness::actions::Action;
use serde_json::{json, Map, Value};

use super::certify::{live_row, unexpired};
use super::record::Rec;
use super::{authenticate_device, body, field, json_object, ok, AppState};
use crate::error::{ApiError, ApiResult, Code};
use crate::evidence::{judge, Abandoned, Case, Evidence};
use crate::store::{CertifyRow, Judged};
use crate::verdict::Verdict;
use crate::webhook::{new_event_id, VerdictEvent};

/// Largest device-side result kept as advisory, bytes.
const MAX_ADVISORY: usize = 64 << 10;

fn advisory_of(v: Option<&Value>) -> ApiResult<Option<String>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if !v.is_object() {
        return Err(ApiError::bad("deviceResult", "must be a JSON object"));
    }
    let text = v.to_string();
    if text.len() > MAX_ADVISORY {
        return Err(ApiError::bad(
            "deviceResult",
            format!("over {MAX_ADVISORY} bytes"),
        ));
    }
    Ok(Some(text))
}

/// A JSON bundle: `{"frames": [{"tMs": 0, "jpeg": BASE64}, ...], "deviceResult"?: {...}}`.
/// A bundle marked `"demo": true` (`realface demo-evidence`) is judged only
/// by a server started with `--demo` (`demo`). `{"abandoned": "no_face"}`,
/// `"not_ready"` or `"quit"` ends the capture without frames (a page that
/// never saw a face, or never saw it ready, a person who quit): it can
/// only fail.
fn bundle(bytes: &[u8], demo: bool) -> ApiResult<(Evidence, Option<String>)> {
    let obj = json_object(bytes)?;
    if let Some(why) = obj.get("abandoned") {
        let why = match why.as_str() {
            Some("no_face") => Abandoned::NoFace,
            Some("quit") => Abandoned::Quit,
            Some("not_ready") => Abandoned::NotReady,
            _ => {
                return Err(ApiError::bad(
                    "abandoned",
                    "must be \"no_face\", \"not_ready\" or \"quit\"",
                ))
            }
        };
        return Ok((Evidence::Abandoned(why), None));
    }
    if !demo && obj.get("demo").is_some_and(|v| v != &Value::Bool(false)) {
        return Err(ApiError::new(
            Code::BadParameter,
            "evidence.demo",
            "a demo bundle (realface demo-evidence) is judged only by a server started with --demo",
        ));
    }
    let frames = field(&obj, "frames")?
        .as_array()
        .ok_or_else(|| ApiError::bad("frames", "must be an array"))?;
    let mut out = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        let name = format!("frames[{i}]");
        let f = f
            .as_object()
            .ok_or_else(|| ApiError::bad(&name, "each frame is {\"tMs\": ms, \"jpeg\": BASE64}"))?;
        let t = field(f, "tMs")?.as_u64().ok_or_else(|| {
            ApiError::bad(&format!("{name}.tMs"), "must be a non-negative integer")
        })?;
        let jpeg = field(f, "jpeg")?
            .as_str()
            .ok_or_else(|| ApiError::bad(&format!("{name}.jpeg"), "must be a base64 string"))?;
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(jpeg)
            .map_err(|e| ApiError::bad(&format!("{name}.jpeg"), format!("not base64: {e}")))?;
        out.push((t, jpeg));
    }
    Ok((Evidence::Frames(out), advisory_of(obj.get("deviceResult"))?))
}

fn parse(
    headers: &HeaderMap,
    bytes: axum::body::Bytes,
    demo: bool,
) -> ApiResult<(Evidence, Option<String>)> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let Some(ctype) = ctype.filter(|c| !c.is_empty()) else {
        return Err(ApiError::missing("Content-Type"));
    };
    if bytes.is_empty() {
        return Err(ApiError::new(
            Code::MissingParameter,
            "evidence.missing",
            "the body is empty",
        ));
    }
    match ctype.as_str() {
        "video/webm" | "video/mp4" | "video/mpeg" => {
            let advisory = match headers.get("x-realface-device-result") {
                None => None,
                Some(h) => {
                    let v: Value = h
                        .to_str()
                        .ok()
                        .and_then(|s| serde_json::from_str(s).ok())
                        .ok_or_else(|| {
                            ApiError::bad("deviceResult", "the header must hold JSON")
                        })?;
                    advisory_of(Some(&v))?
                }
            };
            Ok((Evidence::Video(bytes), advisory))
        }
        "application/json" => bundle(&bytes, demo),
        other => Err(ApiError::bad(
            "Content-Type",
            format!("`{other}`: send video/webm, video/mp4, video/mpeg or application/json"),
        )),
    }
}

fn not_startable(row: &CertifyRow, arrived: u64) -> Option<ApiError> {
    let refuse = |cause: &str, msg: &str| Some(ApiError::new(Code::BadParameter, cause, msg));
    if row.auth_state != "PROCESSING" {
        return refuse(
            "evidence.repeated",
            "evidence for this certifyId was already judged",
        );
    }
    match row.deadline_ms {
        None => refuse(
            "evidence.not_started",
            "start the certifyId before uploading evidence",
        ),
        Some(d) if (arrived as i64) > d => refuse(
            "evidence.late",
            "the evidence arrived after the session's time limit",
        ),
        _ => None,
    }
}

/// `POST /v1/certify/{id}/evidence`.
pub async fn evidence(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let mut rec = Rec::new("evidence", &headers, peer, Some(&id));
    let r = evidence_call(&state, &headers, id, raw, &mut rec).await;
    rec.answer(&state, r).await
}

async fn evidence_call(
    state: &AppState,
    headers: &HeaderMap,
    id: String,
    raw: Result<axum::body::Bytes, BytesRejection>,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let state = state.clone();
    let arrived = state.clock.now_ms();
    let row = authenticate_device(&state, headers, &id).await?;
    let row = unexpired(Some(row), arrived)?;
    rec.identity(&row);
    if let Some(e) = not_startable(&row, arrived) {
        return Err(e);
    }
    let bytes = body(raw, state.settings.limits.max_bytes)?;
    let (evidence, advisory) = parse(headers, bytes, state.demo.is_some())?;
    // the id's one upload: a second one (the same token again, at once or
    // later) is refused while this one holds it or after its verdict
    if !state
        .store
        .claim_evidence(&id, arrived, state.settings.evidence_lease_ms)
        .await?
    {
        return Err(ApiError::new(
            Code::BadParameter,
            "evidence.repeated",
            "this certifyId's evidence was already uploaded (a device token uploads once)",
        ));
    }
    let judged = judge_claimed(&state, &row, evidence, advisory, arrived, rec).await;
    if judged.is_err() {
        // nothing was judged: the device may upload again
        let _ = state.store.release_evidence(&id, arrived).await;
    }
    judged
}

async fn judge_claimed(
    state: &AppState,
    row: &CertifyRow,
    evidence: Evidence,
    advisory: Option<String>,
    arrived: u64,
    rec: &mut Rec,
) -> ApiResult<Json<Value>> {
    let id = row.certify_id.clone();
    let app = row.app_id.clone();
    let reference: Embedding = crate::reference::decode(
        row.reference.as_deref().unwrap_or(""),
        state.judge.engine().config().matcher,
    )?;
    let actions = serde_json::from_str::<Vec<String>>(row.actions.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::internal("challenge", e))?
        .iter()
        .map(|a| a.parse::<Action>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal("challenge", e))?;
    let case = Case {
        certify_id: id.clone(),
        nonce: row.nonce.clone(),
        expires_ms: u64::try_from(row.expires_ms).unwrap_or(0),
        reference,
        actions,
        prompt_mode: super::certify::prompt_mode(row.capture.as_deref()),
    };
    let options = state.settings.session.clone();
    let limits = state.settings.limits;
    let t0 = std::time::Instant::now();
    state.metrics.judge_queue.inc();
    let judged = state
        .judge
        .run(move |engine| judge(engine, case, evidence, options, limits, arrived))
        .await;
    state.metrics.judge_queue.dec();
    let judged = judged?;
    state.metrics.judged(t0.elapsed().as_secs_f64());
    let verdict = Verdict::from(&judged.result);
    let text = serde_json::to_string(&verdict).map_err(|e| ApiError::internal("verdict", e))?;
    let now = state.clock.now_ms();
    let event = VerdictEvent::new(
        new_event_id().map_err(|e| ApiError::internal("event", e))?,
        &id,
        &verdict,
        now,
    );
    let event_body = serde_json::to_string(&event).map_err(|e| ApiError::internal("event", e))?;
    // the verdict, its bill, this call's record and the webhook event in
    // one transaction
    let stored = state
        .store
        .judge(
            &id,
            &app,
            arrived,
            now,
            &Judged {
                auth_state: &verdict.auth_state,
                verdict: &text,
                photo_o: judged.photo_o.as_deref(),
                photo_m: judged.photo_m.as_deref(),
                advisory: advisory.as_deref(),
                event: (&event.event_id, &event_body),
            },
            &mut rec.0,
        )
        .await?;
    if stored.is_none() {
        // another upload was judged first, or the id expired meanwhile
        let row = live_row(state, &id, &app, arrived).await?;
        return Err(not_startable(&row, arrived).unwrap_or_else(|| {
            ApiError::new(
                Code::Internal,
                "evidence.store",
                "the verdict could not be stored",
            )
        }));
    }
    rec.written();
    state.webhooks.notify_one();
    state.metrics.verdict(
        &verdict.auth_state,
        verdict.reasons.first().map_or("none", |r| r.code.as_str()),
    );
    tracing::info!(certify_id = %id, auth_state = %verdict.auth_state, client_code = verdict.client_code, "verdict");
    let mut out = Map::new();
    out.insert("certifyId".into(), json!(id));
    out.insert("judged".into(), json!(true));
    out.insert("clientCode".into(), json!(verdict.client_code));
    // what the person may be told (a prompt-table key: no face, too dark,
    // the face left the oval, no answer in time, not still, one face only,
    // or try again): never the reason itself, which is the business
    // backend's to read
    let hint = (verdict.client_code != 0)
        .then(|| judged.result.hint())
        .flatten();
    out.insert("hint".into(), json!(hint));
    Ok(ok(out))
}
