//! The browser side: `realface-capture.js` and its stylesheet, the hosted
//! capture page, the demo (`--demo` only) and CORS for the device routes.
//!
//! Pages are served with a strict Content-Security-Policy (scripts, styles
//! and calls from this server only, nothing inline) whose `frame-ancestors`
//! is the app's setting; `start` and `evidence` answer cross-origin calls
//! only from the origins the app registered.

use std::net::SocketAddr;
use std::sync::LazyLock;

use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use realface::PhotoKind;
use serde_json::{json, Map, Value};

use super::record::Rec;
use super::{authenticate, body, field, json_object, AppState};
use crate::error::{ApiError, ApiResult, Code};
use crate::store::{is_origin, WebSettings};
use crate::web_runtime::WebRuntime;

const CAPTURE_JS: &str = include_str!("../../web/realface-capture.js");
const ANALYSE_JS: &str = include_str!("../../web/realface-analyse.js");
const CAPTURE_CSS: &str = include_str!("../../web/realface-capture.css");
const PAGE_JS: &str = include_str!("../../web/capture-page.js");
const PAGE_HTML: &str = include_str!("../../web/capture.html");
const DEMO_HTML: &str = include_str!("../../web/demo.html");
const DEMO_JS: &str = include_str!("../../web/demo.js");
const DEMO_CSS: &str = include_str!("../../web/demo.css");

/// The Content-Security-Policy of a page, framed by `ancestors` (none if empty).
pub fn csp(ancestors: &[String]) -> String {
    let frame = if ancestors.is_empty() {
        "'none'".to_string()
    } else {
        ancestors.join(" ")
    };
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
         media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors {frame}"
    )
}

/// A script or stylesheet and its ETag (a sha256 of the text), made once:
/// served revalidated on every use (`no-cache`), so a returning page gets
/// 304 and no body.
#[derive(Debug)]
pub struct Asset {
    ctype: &'static str,
    text: axum::body::Bytes,
    etag: String,
}

impl Asset {
    /// `text` served as `ctype`.
    pub fn new(ctype: &'static str, text: impl Into<String>) -> Self {
        use sha2::{Digest, Sha256};
        let text: String = text.into();
        let sum = Sha256::digest(text.as_bytes());
        let tag: String = sum[..12].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            ctype,
            text: text.into(),
            etag: format!("\"{tag}\""),
        }
    }

    /// The response to a request with `headers` (304 when its
    /// `If-None-Match` names this text).
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == self.etag));
        let mut r = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [
                    (header::CONTENT_TYPE, self.ctype),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                self.text.clone(),
            )
                .into_response()
        };
        let h = r.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // business pages on other origins load the script
        h.insert(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            h.insert(header::ETAG, v);
        }
        r
    }
}

// the fixed scripts and stylesheets, each made on its first request
static ANALYSE: LazyLock<Asset> = LazyLock::new(|| Asset::new(JS, ANALYSE_JS));
static CSS: LazyLock<Asset> = LazyLock::new(|| Asset::new(STYLE, CAPTURE_CSS));
static PAGE: LazyLock<Asset> = LazyLock::new(|| Asset::new(JS, PAGE_JS));
static DEMO: LazyLock<Asset> = LazyLock::new(|| Asset::new(JS, DEMO_JS));
static DEMO_STYLE: LazyLock<Asset> = LazyLock::new(|| Asset::new(STYLE, DEMO_CSS));
const JS: &str = "text/javascript; charset=utf-8";
const STYLE: &str = "text/css; charset=utf-8";

fn page(html: &'static str, ancestors: &[String]) -> Response {
    let mut r = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&csp(ancestors)) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// The capture script, made once per server ([`AppState::capture_js`]).
pub fn capture_js_asset(web: &WebRuntime) -> Asset {
    Asset::new(JS, capture_js_text(web))
}

/// The capture script with the library's prompt table filled in (one
/// table of texts and icons for every front end: `realface::prompts`) and
/// where its in-page analysis comes from (`null`: none).
fn capture_js_text(web: &WebRuntime) -> String {
    CAPTURE_JS
        .replacen(
            "/*REALFACE_PROMPTS*/[]/*END_REALFACE_PROMPTS*/",
            &realface::prompts::to_json(),
            1,
        )
        .replacen(
            "/*REALFACE_ANALYSIS*/null/*END_REALFACE_ANALYSIS*/",
            &web.page_config().to_string(),
            1,
        )
}

/// `GET /sdk/v1/realface-capture.js`.
pub async fn capture_js(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.capture_js.respond(&headers)
}

/// `GET /sdk/v1/rt/{file}?v=SHA`: onnxruntime-web and the detector, as
/// checked at start; cached for good (the URL carries the sha256), gzip
/// when the browser takes it.
pub async fn runtime_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let web = state.web.clone();
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    // the first gzip request compresses (megabytes): off the async threads
    let picked = tokio::task::spawn_blocking(move || {
        let f = web.file(&name)?;
        let zipped = if gzip { f.gzip() } else { None };
        Some((
            f.ctype,
            f.sha256.clone(),
            zipped.is_some(),
            zipped.unwrap_or_else(|| f.bytes.clone()),
        ))
    })
    .await;
    let Ok(Some((ctype, sha, zipped, bytes))) = picked else {
        return not_found();
    };
    let mut r = (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        bytes,
    )
        .into_response();
    let h = r.headers_mut();
    if zipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha}\"")) {
        h.insert(header::ETAG, v);
    }
    // a business page on another origin loads the script and the runtime
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

/// `GET /sdk/v1/realface-analyse.js`: the page's face detector and
/// readiness checks (loaded by the capture script when it can analyse).
pub async fn analyse_js(headers: HeaderMap) -> Response {
    ANALYSE.respond(&headers)
}

/// `GET /sdk/v1/realface-capture.css`.
pub async fn capture_css(headers: HeaderMap) -> Response {
    CSS.respond(&headers)
}

/// `GET /sdk/v1/capture-page.js`: the hosted page's script.
pub async fn page_js(headers: HeaderMap) -> Response {
    PAGE.respond(&headers)
}

fn not_found() -> Response {
    ApiError::new(Code::BadParameter, "path.unknown", "no such page")
        .with_status(StatusCode::NOT_FOUND)
        .into_response()
}

/// `GET /capture/{appId}#certifyId=…&deviceToken=…`: the hosted capture
/// page, framable by the app's `frameAncestors` only.
pub async fn capture_page(State(state): State<AppState>, Path(app): Path<String>) -> Response {
    match state.store.web(&app).await {
        Ok(Some(web)) => page(PAGE_HTML, &web.frame_ancestors),
        Ok(None) => not_found(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// CORS for `start` and `evidence`: a call from another origin is answered
/// with `Access-Control-Allow-Origin` only when the certifyId's app
/// registered that origin; a preflight from any other origin is refused.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let id = req
        .uri()
        .path()
        .strip_prefix("/v1/certify/")
        .and_then(|p| p.split('/').next())
        .map(str::to_string);
    let allowed = match (&origin, &id) {
        (Some(o), Some(id)) => state
            .store
            .origins_of_certify(id)
            .await
            .map(|list| list.iter().any(|x| x == o))
            .unwrap_or(false),
        _ => false,
    };
    if req.method() == Method::OPTIONS {
        if !allowed {
            return StatusCode::FORBIDDEN.into_response();
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, x-realface-device-token"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        allow(h, origin.as_deref());
        return r;
    }
    let mut r = next.run(req).await;
    if allowed {
        allow(r.headers_mut(), origin.as_deref());
    }
    r
}

fn allow(h: &mut HeaderMap, origin: Option<&str>) {
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// `OPTIONS` on the device routes (answered by [`cors`]).
pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `GET /demo` (only with `--demo`).
pub async fn demo_page(State(state): State<AppState>) -> Response {
    if state.demo.is_none() {
        return not_found();
    }
    page(DEMO_HTML, &[])
}

/// `GET /demo/demo.js`.
pub async fn demo_js(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.demo.is_none() {
        return not_found();
    }
    DEMO.respond(&headers)
}

/// `GET /demo/demo.css`.
pub async fn demo_css(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.demo.is_none() {
        return not_found();
    }
    DEMO_STYLE.respond(&headers)
}

/// A valid ID number for a demo identity (GB 11643 check character), random
/// so that a demo's failures never lock the next try.
fn demo_id_card() -> ApiResult<String> {
    let r =
        realface::session::certify::random_hex(4).map_err(|e| ApiError::internal("random", e))?;
    let n = u32::from_str_radix(&r, 16).unwrap_or(0) % 1000;
    let first17 = format!("11010519900101{n:03}");
    let check = crate::idcard::check_char(first17.as_bytes())
        .ok_or_else(|| ApiError::internal("demo", "no check character"))?;
    Ok(format!("{first17}{}", check as char))
}

/// `POST /demo/certify` `{"photo": BASE64}`: the server plays the business
/// backend and issues a certifyId for the demo app (whose key never leaves
/// the server).
pub async fn demo_certify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let Some(app) = state.demo.clone() else {
        return not_found();
    };
    let mut rec = Rec::new("certify", &headers, peer, None);
    let r = async {
        let bytes = body(raw, state.settings.limits.max_certify_bytes)?;
        let obj = json_object(&bytes)?;
        let photo = field(&obj, "photo")?.clone();
        let mut req = Map::new();
        req.insert("realName".into(), json!("Demo User"));
        req.insert("idCard".into(), json!(demo_id_card()?));
        req.insert("reference".into(), json!({ "photo": photo }));
        super::certify::issue(&state, app.to_string(), &req, &mut rec).await
    }
    .await;
    rec.answer(&state, r).await
}

/// `GET /demo/result/{id}`: the demo backend's getAuthResult (no photo).
pub async fn demo_result(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(app) = state.demo.clone() else {
        return not_found();
    };
    let mut rec = Rec::new("result", &headers, peer, Some(&id));
    let r: ApiResult<Json<Value>> =
        super::result::read(&state, &app, &id, PhotoKind::None, &mut rec).await;
    rec.answer(&state, r).await
}

fn web_json(web: &WebSettings) -> Json<Value> {
    let mut out = Map::new();
    out.insert("origins".into(), json!(web.origins));
    out.insert("frameAncestors".into(), json!(web.frame_ancestors));
    super::ok(out)
}

/// `GET /v1/web`: the app's browser settings.
pub async fn get_web(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let app = authenticate(&state, &headers, peer).await?;
    let web = state
        .store
        .web(&app)
        .await?
        .ok_or_else(|| ApiError::internal("web", "the app disappeared"))?;
    Ok(web_json(&web))
}

fn origin_list(obj: &Map<String, Value>, name: &str) -> ApiResult<Vec<String>> {
    let Some(v) = obj.get(name).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| ApiError::bad(name, "must be a list of origins"))?;
    if list.len() > 32 {
        return Err(ApiError::bad(name, "at most 32 origins"));
    }
    list.iter()
        .map(|o| match o.as_str() {
            Some(s) if is_origin(s) => Ok(s.to_string()),
            _ => Err(ApiError::bad(
                name,
                format!("{o}: an origin is http(s)://host[:port], nothing after it"),
            )),
        })
        .collect()
}

/// `PUT /v1/web {"origins": [...], "frameAncestors": [...]}`: the origins
/// whose pages may call `start` and `evidence` of this app's ids, and the
/// ones that may frame `/capture/{appId}`.
pub async fn put_web(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<axum::body::Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let app = authenticate(&state, &headers, peer).await?;
    let bytes = body(raw, 16 << 10)?;
    let obj = json_object(&bytes)?;
    let web = WebSettings {
        origins: origin_list(&obj, "origins")?,
        frame_ancestors: origin_list(&obj, "frameAncestors")?,
    };
    if !state.store.set_web(&app, &web).await? {
        return Err(ApiError::internal("web", "the app disappeared"));
    }
    Ok(web_json(&web))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capture_script_carries_the_librarys_prompt_table() {
        let js = capture_js_text(&WebRuntime::default());
        assert!(!js.contains("/*REALFACE_PROMPTS*/"), "placeholder left");
        // without the runtime the page is told to run without analysis
        assert!(js.contains("var ANALYSIS = null;"), "analysis placeholder");
        for p in realface::prompts::PROMPTS {
            assert!(js.contains(p.en) && js.contains(p.zh_hans), "{}", p.key);
        }
    }
}
