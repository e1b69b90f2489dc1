//! The web capture's server side over HTTP, without a browser: the fixed
//! schedule `start` gives (recomputed from the nonce by the judge, whatever
//! a client claims), the app's browser settings, CORS on the device routes,
//! the pages' Content-Security-Policy and the demo's switch.

mod common;

use base64::Engine as _;
use common::{agent, clip_file, Db, TestServer, BOTH};
use realface::liveness::actions::Action;
use realface::session::challenge::{draw, seed};
use realface::session::prompt::{Schedule, ScheduledPrompt};
use realface::source::TimedFrame;
use realface_server::Settings;
use serde_json::{json, Value};

fn settings() -> Settings {
    Settings {
        actions: vec![Action::TurnLeft, Action::TurnRight],
        challenge_count: 1,
        workers: 2,
        queue: 8,
        ..Settings::default()
    }
}

fn start_web(s: &TestServer, id: &str) -> Value {
    let (status, v) = s.call(
        "POST",
        &format!("/v1/certify/{id}/start"),
        Some("application/json"),
        br#"{"capture": "web"}"#,
    );
    assert_eq!(status, 200, "{v}");
    v
}

/// A frame bundle of `frames`, with `extra` fields a client might add.
fn bundle(frames: &[TimedFrame], extra: Value) -> Vec<u8> {
    let frames: Vec<Value> = frames
        .iter()
        .map(|f| {
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
                .encode_image(&f.image)
                .expect("jpeg");
            json!({"tMs": f.t_ms, "jpeg": base64::engine::general_purpose::STANDARD.encode(jpeg)})
        })
        .collect();
    let mut v = json!({ "frames": frames });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    serde_json::to_vec(&v).expect("json")
}

#[test]
fn the_schedule_is_the_nonces_and_what_a_client_claims_is_ignored() {
    let clip = common::clip_video_frames("apfol_real2");
    for db in BOTH {
        let s = TestServer::start(db, settings());
        // start gives the schedule the judge recomputes from the stored nonce
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let v = start_web(&s, &id);
        assert_eq!(v["capture"], "web");
        let schedule: Schedule = serde_json::from_value(v["schedule"].clone()).expect("schedule");
        let row = s
            .block_on(s.state.store.certify_by_id(&id))
            .expect("store")
            .expect("row");
        let st = &s.state.settings;
        let sd = seed(&id, &row.nonce);
        let actions = draw(&st.actions, 1, sd).expect("actions");
        assert_eq!(
            schedule,
            Schedule::of(sd, &actions, &st.session.prompt, st.session.warmup_ms),
            "{db:?}"
        );
        assert_eq!(v["sessionOptions"]["prompt"]["mode"], "scheduled");
        // a recording that answers it, with a made-up schedule attached
        let mut claimed = schedule.clone();
        claimed.prompts = vec![ScheduledPrompt {
            action: schedule.prompts[0].action,
            at_ms: schedule.prompts[0].at_ms + 3_000,
        }];
        let person = common::puppet_for_turns(&clip, 500);
        let claim = json!({"schedule": claimed, "promptDelaysMs": [claimed.prompts[0].at_ms],
                           "deviceResult": {"schedule": claimed}});
        let (status, v) = s.upload_bundle(&id, &bundle(&person.script(&schedule), claim.clone()));
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["clientCode"],
            0,
            "{db:?}: {}",
            s.get(&format!("/v1/certify/{id}/result")).1
        );
        assert_eq!(
            s.get(&format!("/v1/certify/{id}/result")).1["authState"],
            "SUCCESS"
        );
        assert!(
            v.get("similarity").is_none() && v.get("score").is_none(),
            "{v}"
        );

        // a recording that answers the claimed schedule instead: FAIL
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let v = start_web(&s, &id);
        let schedule: Schedule = serde_json::from_value(v["schedule"].clone()).expect("schedule");
        let mut claimed = schedule.clone();
        claimed.prompts[0].at_ms += 3_000;
        claimed.end_ms += 3_000;
        let claim = json!({"schedule": claimed, "deviceResult": {"schedule": claimed}});
        let (status, v) = s.upload_bundle(&id, &bundle(&person.script(&claimed), claim));
        assert_eq!(status, 200, "{v}");
        assert_ne!(v["clientCode"], 0, "{db:?}");
        let r = s.get(&format!("/v1/certify/{id}/result")).1;
        assert_eq!(r["authState"], "FAIL", "{r}");
        let prompt = r["actions"][0]["promptMs"].as_u64();
        assert!(
            prompt.is_none() || prompt == Some(schedule.prompts[0].at_ms),
            "judged on the nonce's schedule: {r}"
        );

        // an unknown capture mode is refused; nothing is started
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let (status, v) = s.call(
            "POST",
            &format!("/v1/certify/{id}/start"),
            Some("application/json"),
            br#"{"capture": "phone"}"#,
        );
        assert_eq!((status, v["errCode"].as_u64()), (400, Some(50002)), "{v}");
        assert_eq!(v["cause"]["code"], "capture.invalid");
        assert_eq!(start_web(&s, &id)["capture"], "web");
    }
}

/// A browser capture prompted by the page's own session (`prompts:
/// "device"`): start gives the session's options and no schedule, the judge
/// runs the device's session (prompts recomputed from the frames), and the
/// result says which mode ran. A made-up `prompts` value is refused.
#[test]
fn a_web_capture_prompted_by_the_pages_session_is_judged_as_a_device() {
    for db in BOTH {
        // turning left only: the puppet's right turn (apfol_real2 at 3.6 s)
        // is taken for a presentation attack by the device's passive check
        // under some nonces' timings (2 in 16), and the nonce is random here
        let s = TestServer::start(
            db,
            Settings {
                actions: vec![Action::TurnLeft],
                ..settings()
            },
        );
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let (status, v) = s.call(
            "POST",
            &format!("/v1/certify/{id}/start"),
            Some("application/json"),
            br#"{"capture": "web", "prompts": "device"}"#,
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            (v["capture"].as_str(), v["prompts"].as_str()),
            (Some("web"), Some("device"))
        );
        assert!(v.get("schedule").is_none(), "{v}");
        assert_eq!(v["sessionOptions"]["prompt"]["mode"], "device");
        assert!(
            !v["sessionOptions"]["prompt"]["release"].is_null(),
            "release cues as on a device: {v}"
        );
        let row = s
            .block_on(s.state.store.certify_by_id(&id))
            .expect("store")
            .expect("row");
        assert_eq!(row.capture.as_deref(), Some("web-device"));
        // a person answering the device's prompts (the page's session)
        let bundle = common::answered_bundle(&id, &v, "apfol_real2");
        let (status, up) = s.upload_bundle(&id, &bundle);
        assert_eq!(status, 200, "{up}");
        let r = s.get(&format!("/v1/certify/{id}/result")).1;
        assert_eq!(up["clientCode"], 0, "{db:?}: {r}");
        assert_eq!(r["authState"], "SUCCESS", "{r}");
        assert_eq!(
            (r["capture"].as_str(), r["prompts"].as_str()),
            (Some("web"), Some("device")),
            "{r}"
        );

        // the fixed schedule says so too
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        assert_eq!(start_web(&s, &id)["prompts"], "scheduled");

        // prompts other than "device" or "scheduled", or without a web
        // capture, are refused; nothing is started
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        for body in [
            &br#"{"capture": "web", "prompts": "sometimes"}"#[..],
            &br#"{"capture": "device", "prompts": "device"}"#[..],
        ] {
            let (status, v) = s.call(
                "POST",
                &format!("/v1/certify/{id}/start"),
                Some("application/json"),
                body,
            );
            assert_eq!((status, v["errCode"].as_u64()), (400, Some(50002)), "{v}");
        }
        assert_eq!(start_web(&s, &id)["capture"], "web");
    }
}

fn raw(method: &str, url: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
    let a = agent();
    let r = match method {
        "OPTIONS" => {
            let mut r = a.options(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        _ => {
            let mut r = a.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
    };
    let mut resp = r.expect("request");
    let hs = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (status, hs, body)
}

fn get_header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn browsers_get_what_the_app_allowed_and_nothing_more() {
    let s = TestServer::start(Db::Sqlite, settings());
    let shop = "https://shop.example";
    // the settings: origins checked, the backend's key only
    let (status, v) = s.call(
        "PUT",
        "/v1/web",
        Some("application/json"),
        br#"{"origins": ["https://shop.example/path"]}"#,
    );
    assert_eq!((status, v["errCode"].as_u64()), (400, Some(50002)), "{v}");
    let body = json!({"origins": [shop], "frameAncestors": ["https://portal.example"]});
    let (status, v) = s.call(
        "PUT",
        "/v1/web",
        Some("application/json"),
        &serde_json::to_vec(&body).expect("json"),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(s.get("/v1/web").1["origins"], json!([shop]));
    let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
    let (status, v) = common::request(
        &s.url,
        "GET",
        "/v1/web",
        &[("X-Realface-Device-Token", s.token(&id).as_str())],
        None,
        b"",
    );
    assert_eq!(status, 401, "a device token opens no backend route: {v}");

    // CORS: the registered origin's preflight passes, another's does not
    let start = format!("{}/v1/certify/{id}/start", s.url);
    let pre = |origin: &str| {
        raw(
            "OPTIONS",
            &start,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "x-realface-device-token, content-type",
                ),
            ],
        )
    };
    let (status, hs, _) = pre(shop);
    assert_eq!(status, 204);
    assert_eq!(get_header(&hs, "access-control-allow-origin"), Some(shop));
    assert!(get_header(&hs, "access-control-allow-headers")
        .is_some_and(|h| h.contains("x-realface-device-token")));
    let (status, hs, _) = pre("https://evil.example");
    assert_eq!(status, 403);
    assert_eq!(get_header(&hs, "access-control-allow-origin"), None);
    // the real call answers with the origin only when it is registered
    let token = s.token(&id);
    for (origin, allowed) in [(shop, true), ("https://evil.example", false)] {
        let resp = agent()
            .post(&format!("{}/v1/certify/{}/start", s.url, "nope"))
            .header("Origin", origin)
            .header("X-Realface-Device-Token", token.as_str())
            .send(&b""[..])
            .expect("post");
        assert!(
            resp.headers().get("access-control-allow-origin").is_none(),
            "unknown id"
        );
        let resp = agent()
            .post(&start)
            .header("Origin", origin)
            .header("X-Realface-Device-Token", token.as_str())
            .header("Content-Type", "application/json")
            .send(&br#"{"capture": "web"}"#[..])
            .expect("post");
        assert_eq!(
            resp.headers().get("access-control-allow-origin").is_some(),
            allowed,
            "{origin}"
        );
    }

    // pages: a strict policy, framed by the app's setting only
    let (status, hs, html) = raw("GET", &format!("{}/capture/{}", s.url, s.app.app_id), &[]);
    assert_eq!(status, 200);
    assert!(html.contains("realface-capture.js"));
    let csp = get_header(&hs, "content-security-policy").expect("csp");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors https://portal.example",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    // WebAssembly may compile (the in-page detector); eval never runs
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains(" 'unsafe-eval'"),
        "{csp}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "nothing inline"
    );
    let (status, _, _) = raw("GET", &format!("{}/capture/app_unknown", s.url), &[]);
    assert_eq!(status, 404);
    let (status, hs, js) = raw("GET", &format!("{}/sdk/v1/realface-capture.js", s.url), &[]);
    assert_eq!(status, 200);
    assert!(get_header(&hs, "content-type").is_some_and(|t| t.starts_with("text/javascript")));
    assert!(js.contains("RealfaceCapture") && js.contains("X-Realface-Device-Token"));
    // the token travels in a header, never in a URL
    assert!(!js.contains("deviceToken=") && !js.contains("?token"));
    // no demo unless the server was started with it
    for path in ["/demo", "/demo/demo.js"] {
        assert_eq!(
            raw("GET", &format!("{}{path}", s.url), &[]).0,
            404,
            "{path}"
        );
    }
}

#[test]
fn the_demo_plays_the_backend_only_when_enabled() {
    let (url, dir) = common::fresh_db(Db::Sqlite);
    s_demo(&url);
    drop(dir);
}

fn s_demo(db: &str) {
    let rt = common::runtime();
    let (addr, _stop) = rt.block_on(async {
        let store = realface_server::Store::open(db, 4).await.expect("store");
        let mut server = realface_server::Server::with_parts(store, common::engine(), settings());
        server.enable_demo().await.expect("demo");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = server
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await;
        });
        (addr, tx)
    });
    let base = format!("http://{addr}");
    let (status, hs, html) = raw("GET", &format!("{base}/demo"), &[]);
    assert_eq!(status, 200);
    assert!(html.contains("demo.js") && html.contains("type=\"file\""));
    assert!(get_header(&hs, "content-security-policy")
        .is_some_and(|c| c.contains("frame-ancestors 'none'")));
    let photo = common::b64(&clip_file("apfol_real2", "frame_0001.jpg"));
    let (status, v) = common::request(
        &base,
        "POST",
        "/demo/certify",
        &[],
        Some("application/json"),
        &serde_json::to_vec(&json!({ "photo": photo })).expect("json"),
    );
    assert_eq!(status, 200, "{v}");
    let (id, token) = (
        v["certifyId"].as_str().expect("id"),
        v["deviceToken"].as_str().expect("token"),
    );
    let (status, v) = common::device_start(&base, id, token);
    assert_eq!(status, 200, "{v}");
    let (status, v) = common::request(&base, "GET", &format!("/demo/result/{id}"), &[], None, b"");
    assert_eq!(
        (status, v["authState"].as_str()),
        (200, Some("PROCESSING")),
        "{v}"
    );
}

/// The in-page runtime: onnxruntime-web and the detector, served as
/// checked at start, at the URLs the capture script names (versioned by
/// sha256, cached for good, gzip when asked); nothing else under /rt/.
#[test]
fn the_page_gets_the_runtime_the_server_checked() {
    let s = TestServer::start(Db::Sqlite, settings());
    assert!(
        s.state.web.available(),
        "run scripts/setup.sh: {:?}",
        s.state.web.missing
    );
    let (_, _, js) = raw("GET", &format!("{}/sdk/v1/realface-capture.js", s.url), &[]);
    let config = s.state.web.page_config();
    for key in ["ort", "mjs", "wasm", "detector"] {
        let url = config[key].as_str().expect("url");
        assert!(js.contains(url), "{key}: {url} not in the script");
        let (status, hs, _) = raw("GET", &format!("{}/sdk/v1/{url}", s.url), &[]);
        assert_eq!(status, 200, "{url}");
        assert_eq!(
            get_header(&hs, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let name = url
            .trim_start_matches("rt/")
            .split('?')
            .next()
            .expect("name");
        let file = s.state.web.file(name).expect("served file");
        // the bytes are the checked file's, plain or gzip
        let mut a = agent()
            .get(&format!("{}/sdk/v1/{url}", s.url))
            .header("Accept-Encoding", "identity")
            .call()
            .expect("get");
        let plain = a
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .expect("body");
        assert_eq!(plain.len(), file.bytes.len(), "{name}");
        assert_eq!(&plain[..], &file.bytes[..], "{name}");
    }
    let (status, hs, _) = raw(
        "GET",
        &format!(
            "{}/sdk/v1/{}",
            s.url,
            config["wasm"].as_str().expect("wasm")
        ),
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(status, 200);
    assert_eq!(get_header(&hs, "content-encoding"), Some("gzip"));
    assert_eq!(get_header(&hs, "content-type"), Some("application/wasm"));
    for path in [
        "/sdk/v1/rt/w600k_mbf.onnx",
        "/sdk/v1/rt/..%2fCargo.toml",
        "/sdk/v1/rt/x",
    ] {
        assert_eq!(
            raw("GET", &format!("{}{path}", s.url), &[]).0,
            404,
            "{path}"
        );
    }
    // without the files, the page is told to run without analysis
    let none = realface_server::web_runtime::WebRuntime::default();
    assert!(none.page_config().is_null());
}

/// Uploads `body` as `id`'s evidence (with its device token).
fn evidence_json(s: &TestServer, id: &str, body: Value) -> (u16, Value) {
    s.call(
        "POST",
        &format!("/v1/certify/{id}/evidence"),
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

/// A page that never recorded ends its certifyId with the reason the
/// server can stand behind: no face (NO_FACE_CAPTURED), never ready (no
/// face frame either: NO_FACE_CAPTURED, with its detail), a quit
/// (USER_QUIT). It can only fail; anything else is refused.
#[test]
fn a_capture_that_never_recorded_ends_as_a_failure() {
    let s = TestServer::start(Db::Sqlite, settings());
    let photo = clip_file("apfol_real2", "frame_0001.jpg");
    for (why, code, client, hint) in [
        ("no_face", "NO_FACE_CAPTURED", 10010, Some("hint.no_face")),
        ("not_ready", "NO_FACE_CAPTURED", 10010, Some("hint.no_face")),
        ("quit", "USER_QUIT", 10011, None),
    ] {
        let id = s.certify(&photo);
        start_web(&s, &id);
        let (status, v) = evidence_json(&s, &id, json!({ "abandoned": why }));
        assert_eq!(status, 200, "{why}: {v}");
        assert_eq!(v["clientCode"], client, "{why}: {v}");
        assert_eq!(v["hint"].as_str(), hint, "{why}: {v}");
        let (_, r) = s.get(&format!("/v1/certify/{id}/result"));
        assert_eq!(r["authState"], "FAIL", "{why}: {r}");
        assert_eq!(r["reasons"][0]["code"], code, "{why}: {r}");
        // once: the id is judged
        let (status, _) = evidence_json(&s, &id, json!({"abandoned": "no_face"}));
        assert_eq!(status, 400, "{why}: a second upload");
    }
    let id = s.certify(&photo);
    start_web(&s, &id);
    let (status, v) = evidence_json(&s, &id, json!({"abandoned": "passed"}));
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["cause"]["code"], "abandoned.invalid", "{v}");
    let (_, r) = s.get(&format!("/v1/certify/{id}/result"));
    assert_eq!(r["authState"], "PROCESSING", "{r}");
}
