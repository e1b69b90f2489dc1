//! Signed verdict webhooks, on SQLite and PostgreSQL, against a receiver on
//! loopback: the signature checks (valid, tampered, stale, rotated), the
//! retries and the give-up visible to the operator, redelivery, and
//! delivery exactly once by `eventId` after a `kill -9` between the
//! verdict and its delivery. Also `/metrics`.

mod common;

use std::time::Duration;

use common::receiver::{Delivery, Receiver, FAIL, HOLD, OK};
use common::{app_add, fresh_db, request, Db, Process, TestServer, BOTH};
use realface_server::store::OutboxState;
use realface_server::webhook::{verify, SignatureError, WebhookSettings, DEFAULT_TOLERANCE_S};
use realface_server::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "admin-key-for-webhook-tests";

fn now_s() -> u64 {
    realface::session::certify::unix_now_ms() / 1000
}

/// The delivery's signature checked now against `secret`.
fn signed_by(d: &Delivery, secret: &str) -> Result<(), SignatureError> {
    verify(
        &d.signature,
        &d.body,
        &[secret],
        now_s(),
        DEFAULT_TOLERANCE_S,
    )
}

fn fast_webhooks() -> Settings {
    Settings {
        webhook: WebhookSettings {
            timeout_ms: 1_000,
            max_attempts: 3,
            backoff_base_ms: 100,
            backoff_cap_ms: 400,
            poll_ms: 50,
            ..WebhookSettings::default()
        },
        ..Settings::default()
    }
}

/// certify + start + a failing bundle: a judged id (FAIL).
fn judge_one(s: &TestServer) -> String {
    let id = s.certify(&common::clip_file("lp_d9", "frame_0001.jpg"));
    s.start_id(&id);
    let (st, v) = s.upload_bundle(&id, &common::failing_bundle());
    assert_eq!(st, 200, "{v}");
    id
}

fn call(s: &TestServer, method: &str, path: &str, body: &Value) -> (u16, Value) {
    common::request(
        &s.url,
        method,
        path,
        &s.app_creds(),
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

fn signed_flow(db: Db) {
    let s = TestServer::start(db, fast_webhooks());
    s.block_on(s.state.store.set_admin_key(ADMIN))
        .expect("admin key");
    let rx = Receiver::start(FAIL);
    // PUT /v1/webhook is not a PUT-less route: it answers the URL and secret
    let (st, v) = common::request(
        &s.url,
        "PUT",
        "/v1/webhook",
        &s.app_creds(),
        Some("application/json"),
        json!({ "url": rx.url }).to_string().as_bytes(),
    );
    assert_eq!(st, 200, "{v}");
    let secret = v["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 64, "{v}");
    let (st, v) = s.get("/v1/webhook");
    assert_eq!(
        (st, v["url"].as_str(), v["secret"].as_str()),
        (200, Some(rx.url.as_str()), Some(secret.as_str()))
    );

    // the receiver fails every try: 3 tries, then the event is given up
    let id = judge_one(&s);
    let got = rx.wait_for(20, |d| d.len() >= 3);
    assert_eq!(got.len(), 3, "{db:?}: tries {got:?}");
    let event_id = got[0].event_id();
    assert!(got
        .iter()
        .all(|d| d.event_id() == event_id && d.event_id_header == event_id));
    let failed = (0..100)
        .find_map(|_| {
            let (_, v) = s.admin_get(ADMIN, "/v1/admin/webhooks?state=failed");
            let found = v["events"].as_array().and_then(|a| a.first().cloned());
            if found.is_none() {
                std::thread::sleep(Duration::from_millis(50));
            }
            found
        })
        .expect("the given-up event is listed");
    assert_eq!(failed["eventId"], json!(event_id));
    assert_eq!(failed["certifyId"], json!(id));
    assert_eq!(failed["attempts"], json!(3));
    assert!(
        failed["lastError"].as_str().unwrap_or("").contains("500"),
        "{failed}"
    );
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(rx.deliveries().len(), 3, "no try after giving up");

    // the operator puts it back; the receiver is up again: one delivery
    rx.set(OK);
    let (st, v) = common::request(
        &s.url,
        "POST",
        "/v1/admin/webhooks/redeliver",
        &[("X-Realface-Admin", ADMIN)],
        Some("application/json"),
        json!({ "eventId": event_id }).to_string().as_bytes(),
    );
    assert_eq!(st, 200, "{v}");
    let got = rx.wait_for(20, |d| d.iter().any(|x| x.answered == 200));
    let ok: Vec<_> = got.iter().filter(|d| d.answered == 200).collect();
    assert_eq!(ok.len(), 1, "{db:?}: {got:?}");
    let d = ok[0];
    let body = d.json();
    assert_eq!(body["certifyId"], json!(id));
    assert_eq!(body["authState"], json!("FAIL"));
    assert_eq!(body["type"], json!("verdict"));
    assert!(
        body["codes"].as_array().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert!(body["decidedAt"].as_u64().is_some(), "{body}");
    // the result the backend reads agrees with the event
    let (_, r) = s.get(&format!("/v1/certify/{id}/result"));
    assert_eq!(r["clientCode"], body["clientCode"]);
    assert_eq!(r["reasons"][0]["code"], body["codes"][0]);

    // the signature: valid now, refused when tampered, stale or foreign
    assert_eq!(signed_by(d, &secret), Ok(()));
    let mut tampered = d.body.clone();
    let at = tampered
        .iter()
        .position(|&b| b == b'F')
        .expect("FAIL in the body");
    tampered[at] = b'S';
    assert_eq!(
        verify(
            &d.signature,
            &tampered,
            &[&secret],
            now_s(),
            DEFAULT_TOLERANCE_S
        ),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        verify(
            &d.signature,
            &d.body,
            &[&secret],
            now_s() + 3_600,
            DEFAULT_TOLERANCE_S
        ),
        Err(SignatureError::Stale { .. })
    ));
    assert_eq!(signed_by(d, "whsec_other"), Err(SignatureError::Mismatch));

    // rotation: the next delivery is signed by the new and the old secret
    let (st, v) = call(&s, "POST", "/v1/webhook/rotate", &json!({}));
    assert_eq!(st, 200, "{v}");
    let new = v["secret"].as_str().expect("secret").to_string();
    assert_ne!(new, secret);
    assert!(v["previousSecretValidUntil"].as_u64().is_some(), "{v}");
    let id2 = judge_one(&s);
    let got = rx.wait_for(20, |d| {
        d.iter().any(|x| x.json()["certifyId"] == json!(id2))
    });
    let d = got
        .iter()
        .find(|x| x.json()["certifyId"] == json!(id2))
        .expect("the second verdict's delivery");
    assert_eq!(d.signature.matches("v1=").count(), 2, "{}", d.signature);
    for k in [&new, &secret] {
        assert_eq!(signed_by(d, k), Ok(()));
    }
    assert_ne!(d.event_id(), event_id);

    // a device token or no key cannot read or set the webhook
    let token = s.token(&id2);
    let (st, v) = common::request(
        &s.url,
        "GET",
        "/v1/webhook",
        &[("X-Realface-Device-Token", &token)],
        None,
        b"",
    );
    assert_eq!(
        (st, &v["cause"]["code"]),
        (401, &json!("credential.device_token_not_here")),
        "{v}"
    );
    let (st, v) = call(
        &s,
        "PUT",
        "/v1/webhook",
        &json!({"url": "https://example.test/hook"}),
    );
    assert_eq!(
        (st, &v["cause"]["code"]),
        (400, &json!("url.invalid")),
        "{v}"
    );

    // metrics: behind the admin key; counts what happened above
    let (st, _) = common::request(&s.url, "GET", "/metrics", &[], None, b"");
    assert_eq!(st, 401);
    let (st, m) = common::request(
        &s.url,
        "GET",
        "/metrics",
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        None,
        b"",
    );
    assert_eq!(st, 200);
    let text = m.as_str().unwrap_or_default().to_string();
    for want in [
        "realface_webhook_tries_total{outcome=\"retry\"} 2",
        "realface_webhook_tries_total{outcome=\"given_up\"} 1",
        "realface_webhook_tries_total{outcome=\"delivered\"} 2",
        "realface_verdicts_total{state=\"FAIL\"",
        "realface_requests_total{route=\"/v1/certify/{id}/evidence\",code=\"0\"} 2",
        "realface_judge_seconds_count 2",
        "realface_judge_queue_depth 0",
        "realface_webhook_backlog 0",
    ] {
        assert!(text.contains(want), "{db:?}: `{want}` not in\n{text}");
    }
    let (st, v) = s.admin_get(ADMIN, "/v1/admin/webhooks?state=delivered");
    assert_eq!(st, 200);
    assert_eq!(v["events"].as_array().map(Vec::len), Some(2), "{v}");
    let audit = s.block_on(s.state.store.audit()).expect("audit");
    assert!(audit.is_empty(), "{audit:?}");
    // the sweeper deletes settled events with their ids' rows, not before
    let store = &s.state.store;
    let now = s.state.clock.now_ms();
    s.block_on(store.sweep(now, 0)).expect("sweep");
    let delivered = s
        .block_on(store.outbox(OutboxState::Delivered, 10))
        .expect("outbox");
    assert_eq!(delivered.len(), 2, "swept before its id expired");
    s.block_on(store.sweep(now + 2 * 86_400_000, 0))
        .expect("sweep");
    let delivered = s
        .block_on(store.outbox(OutboxState::Delivered, 10))
        .expect("outbox");
    assert!(delivered.is_empty(), "{delivered:?}");
}

#[test]
fn webhooks_are_signed_retried_given_up_and_redelivered() {
    for db in BOTH {
        signed_flow(db);
    }
}

fn kill_run(db: Db) {
    let (url, _dir) = fresh_db(db);
    let app = app_add(&url, "hooked");
    let rx = Receiver::start(HOLD);
    let secret = common::webhook_add(&url, &app.app_id, &rx.url);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("realface.toml");
    std::fs::write(
        &config,
        "actions = [\"blink\"]\nchallenge_count = 1\n[lockout]\nfailures = 0\n\
         [webhook]\ntimeout_ms = 1500\npoll_ms = 50\nbackoff_base_ms = 100\nbackoff_cap_ms = 500\n",
    )
    .expect("config");
    let config = config.to_string_lossy().into_owned();
    let args = ["--config", config.as_str()];
    let server = Process::serve(&url, &args);
    let hs = [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ];
    let body = common::certify_body_with_embedding("blinkdet_video");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (id, token) = common::issue(&server.url, &app, &body).expect("certify");
        let (st, v) = common::device_start(&server.url, &id, &token);
        assert_eq!(st, 200, "{v}");
        let (st, v) = common::device_upload(&server.url, &id, &token, &common::failing_bundle());
        assert_eq!(st, 200, "{v}");
        ids.push(id);
    }
    // every verdict's delivery is in flight, held by the receiver: kill -9
    let held = rx.wait_for(20, |d| d.len() >= 3);
    assert!(held.len() >= 3, "{db:?}: {held:?}");
    server.kill();
    rx.set(OK);
    let server = Process::serve(&url, &args);
    // after the restart (and the killed server's leases lapse) each
    // event arrives, answered once
    let delivered = |d: &[common::receiver::Delivery]| {
        ids.iter().all(|id| {
            d.iter()
                .any(|x| x.answered == 200 && x.json()["certifyId"] == json!(id))
        })
    };
    let got = rx.wait_for(40, delivered);
    assert!(delivered(&got), "{db:?}: not all delivered: {got:?}");
    std::thread::sleep(Duration::from_millis(1_500));
    let got = rx.deliveries();
    let mut events = std::collections::BTreeSet::new();
    for id in &ids {
        let answered: Vec<_> = got
            .iter()
            .filter(|x| x.answered == 200 && x.json()["certifyId"] == json!(id))
            .collect();
        assert_eq!(
            answered.len(),
            1,
            "{db:?}: {id} acknowledged {} times",
            answered.len()
        );
        let d = answered[0];
        assert_eq!(signed_by(d, &secret), Ok(()));
        // the held try before the kill carried the same event id
        assert!(got
            .iter()
            .any(|x| x.answered == 0 && x.event_id() == d.event_id()));
        events.insert(d.event_id());
    }
    assert_eq!(events.len(), ids.len());
    for id in &ids {
        let (st, v) = request(
            &server.url,
            "GET",
            &format!("/v1/certify/{id}/result"),
            &hs,
            None,
            b"",
        );
        assert_eq!((st, &v["authState"]), (200, &json!("FAIL")), "{v}");
    }
    let problems = common::runtime().block_on(async {
        let store = realface_server::Store::open(&url, 2).await.expect("store");
        let p = store.audit().await.expect("audit");
        store.close().await;
        p
    });
    assert!(problems.is_empty(), "{db:?}: {problems:?}");
    drop(server);
    eprintln!("{db:?}: 3 deliveries held, kill -9, restart: each event acknowledged once");
}

#[test]
fn a_webhook_arrives_exactly_once_after_kill_9() {
    for db in BOTH {
        kill_run(db);
    }
}
