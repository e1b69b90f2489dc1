//! Bad requests, on SQLite and on PostgreSQL: each is answered with its
//! product code and HTTP status and the error body, and none writes to the
//! store.

mod common;

use common::{b64, clip_file, request, source_video, Db, TestServer, BOTH, ID_CARD};
use realface::liveness::actions::Action;
use realface_server::{EvidenceLimits, Settings};
use serde_json::{json, Value};

struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    ctype: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: u64,
}

fn check(s: &TestServer, c: &Case) {
    let before = s.fingerprint();
    let hs: Vec<(&str, &str)> = c
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, v) = request(&s.url, c.method, &c.path, &hs, c.ctype, &c.body);
    assert_eq!(
        (status, v["errCode"].as_u64()),
        (c.status, Some(c.code)),
        "{}: {v}",
        c.what
    );
    assert_eq!(v["errSubject"], "realface", "{}: {v}", c.what);
    assert!(v["errMsg"].is_string(), "{}: {v}", c.what);
    assert_eq!(before, s.fingerprint(), "{}: the store changed", c.what);
}

fn creds(app: &str, key: &str) -> Vec<(String, String)> {
    vec![
        ("X-Realface-App".into(), app.into()),
        ("X-Realface-Key".into(), key.into()),
    ]
}

fn embedding(v: Value) -> Vec<u8> {
    json!({"realName": "Test", "idCard": ID_CARD, "reference": {"embedding": v}})
        .to_string()
        .into_bytes()
}

fn id_with_date(date: &str) -> String {
    let first = format!("110105{date}002");
    let c = realface_server::idcard::check_char(first.as_bytes()).expect("digits") as char;
    format!("{first}{c}")
}

fn run(db: Db) {
    let dim = realface::Matcher::default().dim();
    let settings = Settings {
        actions: vec![Action::Blink],
        challenge_count: 1,
        workers: 2,
        queue: 8,
        limits: EvidenceLimits {
            max_bytes: 4 << 20,
            max_certify_bytes: 1 << 20,
            ..EvidenceLimits::default()
        },
        ..Settings::default()
    };
    let s = TestServer::start(db, settings);
    let store = &s.state.store;
    let listed = s.block_on(store.add_app("listed", 0, None)).expect("app");
    assert!(s
        .block_on(store.allow_caller(&listed.app_id, "10.0.0.1"))
        .expect("allow"));
    let revoked = s.block_on(store.add_app("revoked", 0, None)).expect("app");
    let broke = s.block_on(store.add_app("broke", 0, None)).expect("app");
    assert!(s
        .block_on(store.deposit(&broke.app_id, 84, 0))
        .expect("deposit"));
    assert!(s
        .block_on(store.revoke_app(&revoked.app_id, 0))
        .expect("revoke"));
    let good = creds(&s.app.app_id, &s.app.key);
    let dev = |id: &str| vec![("X-Realface-Device-Token".to_string(), s.token(id))];
    let photo = b64(&clip_file("blinkdet_video", "frame_0001.jpg"));
    let certify = |v: Value| v.to_string().into_bytes();
    let valid = |name: Value, id: Value, reference: Value| {
        let mut m = serde_json::Map::new();
        for (k, v) in [("realName", name), ("idCard", id), ("reference", reference)] {
            if !v.is_null() {
                m.insert(k.into(), v);
            }
        }
        certify(Value::Object(m))
    };
    let photo_ref = json!({"photo": photo});
    // ids in each state
    let fresh = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    let started = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    s.start_id(&started);
    let other = TestServer::start(Db::Sqlite, Settings::default());
    let foreign = other.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));

    let mut cases: Vec<Case> = Vec::new();
    let mut add = |what,
                   method,
                   path: String,
                   headers: Vec<(String, String)>,
                   ctype,
                   body: Vec<u8>,
                   status,
                   code| {
        cases.push(Case {
            what,
            method,
            path,
            headers,
            ctype,
            body,
            status,
            code,
        })
    };
    let ok_body = valid(json!("Test"), json!(ID_CARD), photo_ref.clone());
    let c = "/v1/certify".to_string();
    let j = Some("application/json");
    // credentials and callers
    add(
        "no credential",
        "POST",
        c.clone(),
        vec![],
        j,
        ok_body.clone(),
        401,
        54021,
    );
    add(
        "app without key",
        "POST",
        c.clone(),
        vec![("X-Realface-App".into(), s.app.app_id.clone())],
        j,
        ok_body.clone(),
        401,
        54021,
    );
    add(
        "key without app",
        "POST",
        c.clone(),
        vec![("X-Realface-Key".into(), s.app.key.clone())],
        j,
        ok_body.clone(),
        401,
        54021,
    );
    add(
        "unknown app",
        "POST",
        c.clone(),
        creds("app_0000000000000000", &s.app.key),
        j,
        ok_body.clone(),
        401,
        54003,
    );
    add(
        "wrong key",
        "POST",
        c.clone(),
        creds(&s.app.app_id, "00000000000000000000000000000000"),
        j,
        ok_body.clone(),
        401,
        54021,
    );
    add(
        "another app's key",
        "POST",
        c.clone(),
        creds(&s.app.app_id, &listed.key),
        j,
        ok_body.clone(),
        401,
        54021,
    );
    add(
        "revoked app",
        "POST",
        c.clone(),
        creds(&revoked.app_id, &revoked.key),
        j,
        ok_body.clone(),
        401,
        54003,
    );
    add(
        "caller not allow-listed",
        "POST",
        c.clone(),
        creds(&listed.app_id, &listed.key),
        j,
        ok_body.clone(),
        403,
        54004,
    );
    // the certify body
    add(
        "empty body",
        "POST",
        c.clone(),
        good.clone(),
        j,
        vec![],
        400,
        50001,
    );
    add(
        "not JSON",
        "POST",
        c.clone(),
        good.clone(),
        j,
        b"{realName".to_vec(),
        400,
        50002,
    );
    add(
        "a JSON array",
        "POST",
        c.clone(),
        good.clone(),
        j,
        b"[1, 2]".to_vec(),
        400,
        50002,
    );
    add(
        "no realName",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(Value::Null, json!(ID_CARD), photo_ref.clone()),
        400,
        50001,
    );
    add(
        "realName a number",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!(7), json!(ID_CARD), photo_ref.clone()),
        400,
        50002,
    );
    add(
        "realName blank",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("  "), json!(ID_CARD), photo_ref.clone()),
        400,
        50001,
    );
    add(
        "realName too long",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("x".repeat(65)), json!(ID_CARD), photo_ref.clone()),
        400,
        50002,
    );
    add(
        "no idCard",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), Value::Null, photo_ref.clone()),
        400,
        50001,
    );
    add(
        "idCard a number",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!(110105194912310020u64),
            photo_ref.clone(),
        ),
        400,
        50002,
    );
    add(
        "idCard 17 characters",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(&ID_CARD[..17]), photo_ref.clone()),
        400,
        50002,
    );
    add(
        "idCard wrong check character",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!("110105194912310021"),
            photo_ref.clone(),
        ),
        400,
        50002,
    );
    add(
        "idCard with letters",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!("11010519491231A02X"),
            photo_ref.clone(),
        ),
        400,
        50002,
    );
    add(
        "idCard 30 February",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!(id_with_date("19900230")),
            photo_ref.clone(),
        ),
        400,
        50002,
    );
    add(
        "idCard month 13",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!(id_with_date("19901301")),
            photo_ref.clone(),
        ),
        400,
        50002,
    );
    add(
        "idCard born in the future",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!(id_with_date("20991231")),
            photo_ref.clone(),
        ),
        400,
        50002,
    );
    add(
        "no reference",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(ID_CARD), Value::Null),
        400,
        50001,
    );
    add(
        "reference a string",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(ID_CARD), json!("photo")),
        400,
        50002,
    );
    add(
        "reference empty",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(ID_CARD), json!({})),
        400,
        50001,
    );
    add(
        "photo and embedding",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!(ID_CARD),
            json!({"photo": photo, "embedding": [0.1]}),
        ),
        400,
        50002,
    );
    add(
        "photo not base64",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(ID_CARD), json!({"photo": "%%%"})),
        400,
        50002,
    );
    add(
        "photo not an image",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(
            json!("Test"),
            json!(ID_CARD),
            json!({"photo": "aGVsbG8gd29ybGQ="}),
        ),
        400,
        50002,
    );
    let blank = {
        let img = image::RgbImage::from_pixel(320, 240, image::Rgb([240, 240, 240]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("jpeg");
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, out.into_inner())
    };
    add(
        "photo without a face",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(ID_CARD), json!({"photo": blank})),
        400,
        50002,
    );
    add(
        "photo a number",
        "POST",
        c.clone(),
        good.clone(),
        j,
        valid(json!("Test"), json!(ID_CARD), json!({"photo": 5})),
        400,
        50002,
    );
    add(
        "embedding too short",
        "POST",
        c.clone(),
        good.clone(),
        j,
        embedding(json!(vec![0.1; 16])),
        400,
        50002,
    );
    for (what, matcher) in [
        ("embedding from another matcher", json!("mobilefacenet")),
        ("embedding's matcher not a name", json!(5)),
    ] {
        let body = json!({"realName": "Test", "idCard": ID_CARD,
            "reference": {"embedding": vec![0.1; dim], "matcher": matcher}});
        add(
            what,
            "POST",
            c.clone(),
            good.clone(),
            j,
            body.to_string().into_bytes(),
            400,
            50002,
        );
    }
    let mut strings = vec![json!(0.1); dim];
    strings[3] = json!("x");
    add(
        "embedding with a string",
        "POST",
        c.clone(),
        good.clone(),
        j,
        embedding(Value::Array(strings)),
        400,
        50002,
    );
    add(
        "embedding of zeros",
        "POST",
        c.clone(),
        good.clone(),
        j,
        embedding(json!(vec![0.0; dim])),
        400,
        50002,
    );
    let mut huge = vec![json!(0.1); dim];
    huge[0] = json!(1e39);
    add(
        "embedding overflowing f32",
        "POST",
        c.clone(),
        good.clone(),
        j,
        embedding(Value::Array(huge)),
        400,
        50002,
    );
    add(
        "certify body over the limit",
        "POST",
        c.clone(),
        good.clone(),
        j,
        vec![b' '; (1 << 20) + 10],
        413,
        50002,
    );
    // start
    add(
        "start an unknown id",
        "POST",
        "/v1/certify/00112233445566778899aabbccddeeff/start".into(),
        dev(&fresh),
        None,
        vec![],
        404,
        54020,
    );
    add(
        "start with another id's device token",
        "POST",
        format!("/v1/certify/{fresh}/start"),
        dev(&started),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "start another server's id",
        "POST",
        format!("/v1/certify/{foreign}/start"),
        vec![("X-Realface-Device-Token".into(), other.token(&foreign))],
        None,
        vec![],
        404,
        54020,
    );
    add(
        "start with the app key",
        "POST",
        format!("/v1/certify/{fresh}/start"),
        good.clone(),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "start with the app key and the device token",
        "POST",
        format!("/v1/certify/{fresh}/start"),
        [good.clone(), dev(&fresh)].concat(),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "start with a wrong device token",
        "POST",
        format!("/v1/certify/{fresh}/start"),
        vec![("X-Realface-Device-Token".into(), "0".repeat(64))],
        None,
        vec![],
        401,
        54021,
    );
    add(
        "start twice",
        "POST",
        format!("/v1/certify/{started}/start"),
        dev(&started),
        None,
        vec![],
        400,
        50002,
    );
    add(
        "start without credential",
        "POST",
        format!("/v1/certify/{fresh}/start"),
        vec![],
        None,
        vec![],
        401,
        54021,
    );
    // evidence
    let (video, vtype) = source_video("blinkdet_video");
    let video = std::fs::read(video).expect("video");
    let ev = |id: &str| format!("/v1/certify/{id}/evidence");
    add(
        "evidence before start",
        "POST",
        ev(&fresh),
        dev(&fresh),
        Some(vtype),
        video.clone(),
        400,
        50002,
    );
    add(
        "evidence for an unknown id",
        "POST",
        ev("00112233445566778899aabbccddeeff"),
        dev(&started),
        Some(vtype),
        video.clone(),
        404,
        54020,
    );
    add(
        "evidence with the app key",
        "POST",
        ev(&started),
        good.clone(),
        Some(vtype),
        video.clone(),
        401,
        54021,
    );
    add(
        "evidence without credential",
        "POST",
        ev(&started),
        vec![],
        Some(vtype),
        video.clone(),
        401,
        54021,
    );
    add(
        "evidence with another id's device token",
        "POST",
        ev(&started),
        dev(&fresh),
        Some(vtype),
        video.clone(),
        401,
        54021,
    );
    add(
        "evidence without Content-Type",
        "POST",
        ev(&started),
        dev(&started),
        None,
        video.clone(),
        400,
        50001,
    );
    add(
        "evidence as text/plain",
        "POST",
        ev(&started),
        dev(&started),
        Some("text/plain"),
        video.clone(),
        400,
        50002,
    );
    add(
        "evidence empty",
        "POST",
        ev(&started),
        dev(&started),
        Some(vtype),
        vec![],
        400,
        50001,
    );
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    add(
        "corrupt video",
        "POST",
        ev(&started),
        dev(&started),
        Some("video/webm"),
        noise,
        400,
        50002,
    );
    add(
        "truncated video",
        "POST",
        ev(&started),
        dev(&started),
        Some(vtype),
        video[..4096].to_vec(),
        400,
        50002,
    );
    add(
        "evidence over the limit",
        "POST",
        ev(&started),
        dev(&started),
        Some(vtype),
        vec![0u8; (4 << 20) + 10],
        413,
        50002,
    );
    add(
        "bundle without frames",
        "POST",
        ev(&started),
        dev(&started),
        j,
        b"{}".to_vec(),
        400,
        50001,
    );
    add(
        "bundle frames not a list",
        "POST",
        ev(&started),
        dev(&started),
        j,
        br#"{"frames": 3}"#.to_vec(),
        400,
        50002,
    );
    add(
        "bundle with no frame",
        "POST",
        ev(&started),
        dev(&started),
        j,
        br#"{"frames": []}"#.to_vec(),
        400,
        50002,
    );
    add(
        "bundle frame without tMs",
        "POST",
        ev(&started),
        dev(&started),
        j,
        format!(r#"{{"frames": [{{"jpeg": "{photo}"}}]}}"#).into_bytes(),
        400,
        50001,
    );
    add(
        "bundle frame negative tMs",
        "POST",
        ev(&started),
        dev(&started),
        j,
        format!(r#"{{"frames": [{{"tMs": -5, "jpeg": "{photo}"}}]}}"#).into_bytes(),
        400,
        50002,
    );
    add(
        "bundle frame not base64",
        "POST",
        ev(&started),
        dev(&started),
        j,
        br#"{"frames": [{"tMs": 0, "jpeg": "***"}]}"#.to_vec(),
        400,
        50002,
    );
    add(
        "bundle frame not a JPEG",
        "POST",
        ev(&started),
        dev(&started),
        j,
        br#"{"frames": [{"tMs": 0, "jpeg": "aGVsbG8="}]}"#.to_vec(),
        400,
        50002,
    );
    add(
        "bundle timestamps going back",
        "POST",
        ev(&started),
        dev(&started),
        j,
        format!(
            r#"{{"frames": [{{"tMs": 100, "jpeg": "{photo}"}}, {{"tMs": 50, "jpeg": "{photo}"}}]}}"#
        )
        .into_bytes(),
        400,
        50002,
    );
    add(
        "bundle deviceResult not an object",
        "POST",
        ev(&started),
        dev(&started),
        j,
        format!(r#"{{"frames": [{{"tMs": 0, "jpeg": "{photo}"}}], "deviceResult": 3}}"#)
            .into_bytes(),
        400,
        50002,
    );
    // result
    let res = |id: &str, q: &str| format!("/v1/certify/{id}/result{q}");
    add(
        "result of an unknown id",
        "GET",
        res("nope", ""),
        good.clone(),
        None,
        vec![],
        404,
        54020,
    );
    add(
        "result of another app's id",
        "GET",
        res(&foreign, ""),
        good.clone(),
        None,
        vec![],
        404,
        54020,
    );
    add(
        "result with a bad needAlivePhoto",
        "GET",
        res(&started, "?needAlivePhoto=Y_X"),
        good.clone(),
        None,
        vec![],
        400,
        50002,
    );
    add(
        "result with the device token",
        "GET",
        res(&started, ""),
        dev(&started),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "result with the app key and the device token",
        "GET",
        res(&started, ""),
        [good.clone(), dev(&started)].concat(),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "certify with a device token",
        "POST",
        c.clone(),
        dev(&started),
        j,
        ok_body.clone(),
        401,
        54021,
    );
    add(
        "result without credential",
        "GET",
        res(&started, ""),
        vec![],
        None,
        vec![],
        401,
        54021,
    );
    add(
        "unknown endpoint",
        "GET",
        "/v1/nothing".into(),
        good.clone(),
        None,
        vec![],
        404,
        50002,
    );
    add(
        "wrong method",
        "GET",
        "/v1/certify".into(),
        good.clone(),
        None,
        vec![],
        405,
        50002,
    );
    // webhooks (backend routes) and the operator's outbox and metrics
    let admin_key = "bad-requests-admin-key";
    s.block_on(store.set_admin_key(admin_key))
        .expect("admin key");
    let admin = vec![("X-Realface-Admin".to_string(), admin_key.to_string())];
    let w = "/v1/webhook".to_string();
    let hook = |url: Value| json!({ "url": url }).to_string().into_bytes();
    for (what, body, status, code) in [
        (
            "webhook: https URL",
            hook(json!("https://example.test/h")),
            400,
            50002,
        ),
        (
            "webhook: ftp URL",
            hook(json!("ftp://example.test/h")),
            400,
            50002,
        ),
        (
            "webhook: URL without a host",
            hook(json!("http:///h")),
            400,
            50002,
        ),
        ("webhook: URL a number", hook(json!(42)), 400, 50002),
        (
            "webhook: URL not a URL",
            hook(json!("not a url")),
            400,
            50002,
        ),
        ("webhook: URL blank", hook(json!("  ")), 400, 50001),
        ("webhook: no url key", b"{}".to_vec(), 400, 50001),
        ("webhook: empty body", vec![], 400, 50001),
        ("webhook: not JSON", b"{url".to_vec(), 400, 50002),
    ] {
        add(what, "PUT", w.clone(), good.clone(), j, body, status, code);
    }
    let http = hook(json!("http://127.0.0.1:9/h"));
    add(
        "webhook: set with a device token",
        "PUT",
        w.clone(),
        dev(&started),
        j,
        http.clone(),
        401,
        54021,
    );
    add(
        "webhook: set without credential",
        "PUT",
        w.clone(),
        vec![],
        j,
        http.clone(),
        401,
        54021,
    );
    add(
        "webhook: set by a revoked app",
        "PUT",
        w.clone(),
        creds(&revoked.app_id, &revoked.key),
        j,
        http.clone(),
        401,
        54003,
    );
    add(
        "webhook: read with a device token",
        "GET",
        w.clone(),
        dev(&started),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "webhook: rotate with a device token",
        "POST",
        "/v1/webhook/rotate".into(),
        dev(&started),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "webhook: rotate with the admin key",
        "POST",
        "/v1/webhook/rotate".into(),
        admin.clone(),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "outbox: without the admin key",
        "GET",
        "/v1/admin/webhooks".into(),
        good.clone(),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "outbox: unknown state",
        "GET",
        "/v1/admin/webhooks?state=lost".into(),
        admin.clone(),
        None,
        vec![],
        400,
        50002,
    );
    add(
        "outbox: limit 0",
        "GET",
        "/v1/admin/webhooks?limit=0".into(),
        admin.clone(),
        None,
        vec![],
        400,
        50002,
    );
    let redeliver = "/v1/admin/webhooks/redeliver".to_string();
    add(
        "redeliver: unknown event",
        "POST",
        redeliver.clone(),
        admin.clone(),
        j,
        b"{\"eventId\":\"evt_none\"}".to_vec(),
        400,
        50002,
    );
    add(
        "redeliver: no eventId",
        "POST",
        redeliver.clone(),
        admin.clone(),
        j,
        b"{}".to_vec(),
        400,
        50001,
    );
    add(
        "redeliver: with the app key",
        "POST",
        redeliver,
        good.clone(),
        j,
        b"{\"eventId\":\"evt_none\"}".to_vec(),
        401,
        54021,
    );
    add(
        "metrics: without the admin key",
        "GET",
        "/metrics".into(),
        vec![],
        None,
        vec![],
        401,
        54021,
    );
    add(
        "metrics: with the app key",
        "GET",
        "/metrics".into(),
        good.clone(),
        None,
        vec![],
        401,
        54021,
    );
    add(
        "metrics: wrong bearer",
        "GET",
        "/metrics".into(),
        vec![("Authorization".into(), "Bearer nope".into())],
        None,
        vec![],
        401,
        54021,
    );
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for c in &cases {
        check(&s, c);
    }
    eprintln!(
        "{db:?}: {} bad requests answered with their codes, nothing stored",
        cases.len()
    );
}

#[test]
fn bad_requests_are_refused_on_sqlite() {
    run(Db::Sqlite);
}

#[test]
fn bad_requests_are_refused_on_postgres() {
    run(Db::Postgres);
}

#[test]
fn the_store_is_the_same_on_both() {
    for db in BOTH {
        let s = TestServer::start(db, Settings::default());
        let v = s.block_on(s.state.store.schema_version()).expect("version");
        assert_eq!(v, realface_server::store::SCHEMA_VERSION, "{db:?}");
        assert_eq!(v, 5);
    }
}
