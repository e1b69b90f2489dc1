//! Device tokens and lockout, on SQLite and on PostgreSQL: every route
//! with every kind of credential gets its answer (the app key never opens
//! a device route, a device token never opens a backend route), a device
//! token uploads once, and an identity is locked after repeated failed
//! verdicts until its cool-down ends or an admin lifts it.

mod common;

use common::{b64, clip_file, failing_bundle, request, Db, TestServer, BOTH, ID_CARD};
use realface::liveness::actions::Action;
use realface_server::lockout::LockoutSettings;
use realface_server::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "0123456789abcdef0123456789abcdef";
const HOUR: u64 = 3_600_000;

fn settings(lockout: LockoutSettings) -> Settings {
    Settings {
        actions: vec![Action::Blink],
        challenge_count: 1,
        lockout,
        ..Settings::default()
    }
}

fn certify_body(id_card: &str) -> Value {
    let photo = b64(&clip_file("blinkdet_video", "frame_0001.jpg"));
    json!({"realName": "Test", "idCard": id_card, "reference": {"photo": photo}})
}

/// certify → start → a failing upload; the FAIL verdict is stored.
fn fail_once(s: &TestServer, id_card: &str) -> String {
    let (status, v) = s.post_json("/v1/certify", &certify_body(id_card));
    assert_eq!(status, 200, "{v}");
    let id = v["certifyId"].as_str().expect("id").to_string();
    s.start_id(&id);
    let (status, v) = s.upload_bundle(&id, &failing_bundle());
    assert_eq!(status, 200, "{v}");
    let (_, r) = s.get(&format!("/v1/certify/{id}/result"));
    assert_eq!(r["authState"], "FAIL", "{r}");
    id
}

/// certify of ID_CARD by a second app of the same server, with money.
fn certify_for_another_app(s: &TestServer) -> (u16, Value) {
    let other = s
        .block_on(s.state.store.add_app("other", 0, None))
        .expect("app");
    s.block_on(s.state.store.deposit(&other.app_id, 100_000, 0))
        .expect("deposit");
    request(
        &s.url,
        "POST",
        "/v1/certify",
        &[
            ("X-Realface-App", other.app_id.as_str()),
            ("X-Realface-Key", other.key.as_str()),
        ],
        Some("application/json"),
        certify_body(ID_CARD).to_string().as_bytes(),
    )
}

fn answer(
    s: &TestServer,
    method: &str,
    path: &str,
    hs: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let ctype = (method == "POST" && !body.is_empty()).then_some("application/json");
    request(&s.url, method, path, hs, ctype, body)
}

fn scope_run(db: Db) {
    let s = TestServer::start(db, settings(LockoutSettings::default()));
    s.block_on(s.state.store.set_admin_key(ADMIN))
        .expect("admin");
    let certify = certify_body(ID_CARD).to_string().into_bytes();
    let (status, v) = s.post_json("/v1/certify", &certify_body(ID_CARD));
    assert_eq!(status, 200, "{v}");
    let id = v["certifyId"].as_str().expect("id").to_string();
    let token = v["deviceToken"].as_str().expect("deviceToken").to_string();
    assert_eq!(token.len(), 64, "256 random bits");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let (_, other) = s.post_json("/v1/certify", &certify_body(ID_CARD));
    let other_token = other["deviceToken"].as_str().expect("token").to_string();
    assert_ne!(token, other_token);

    let app = s.app_creds();
    let device = [("X-Realface-Device-Token", token.as_str())];
    let foreign = [("X-Realface-Device-Token", other_token.as_str())];
    let admin = [("X-Realface-Admin", ADMIN)];
    let none: [(&str, &str); 0] = [];
    let today = realface_server::billing::day_string(realface_server::billing::day_of(
        s.state.clock.now_ms(),
    ));
    let result = format!("/v1/certify/{id}/result");
    let records = format!("/v1/records?day={today}");
    let stats = format!("/v1/stats?from={today}&to={today}");
    let lift = json!({"identity": "0".repeat(64), "scope": s.app.app_id}).to_string();
    // (route, method, body, [(credential, headers, status, cause)]); the
    // device routes' successes come last, once each
    type Cred<'a> = (&'a str, &'a [(&'a str, &'a str)]);
    let kinds: [Cred; 5] = [
        ("none", &none),
        ("app key", &app),
        ("device token", &device),
        ("another id's device token", &foreign),
        ("admin key", &admin),
    ];
    let backend = |ok: &'static str| {
        move |kind: &str| -> (u16, &'static str) {
            match kind {
                "app key" if ok == "app" => (200, ""),
                "admin key" if ok == "admin" => (200, ""),
                "device token" | "another id's device token" => {
                    (401, "credential.device_token_not_here")
                }
                _ if ok == "app" => (401, "credential.missing"),
                _ => (401, "admin.missing"),
            }
        }
    };
    let app_route = backend("app");
    let admin_route = backend("admin");
    type Expect = Box<dyn Fn(&str) -> (u16, &'static str)>;
    let routes: Vec<(&str, String, Vec<u8>, Expect)> = vec![
        (
            "POST",
            "/v1/certify".into(),
            certify.clone(),
            Box::new(app_route),
        ),
        ("GET", result.clone(), vec![], Box::new(app_route)),
        ("GET", records, vec![], Box::new(admin_route)),
        ("GET", stats, vec![], Box::new(admin_route)),
        (
            "GET",
            "/v1/admin/accounts".into(),
            vec![],
            Box::new(admin_route),
        ),
        (
            "GET",
            "/v1/admin/lockouts".into(),
            vec![],
            Box::new(admin_route),
        ),
        (
            "POST",
            "/v1/admin/lockouts/lift".into(),
            lift.into_bytes(),
            Box::new(admin_route),
        ),
    ];
    let device_route = |kind: &str| -> (u16, &'static str) {
        match kind {
            "none" => (401, "deviceToken.missing"),
            "app key" => (401, "credential.app_key_not_here"),
            "device token" => (200, ""),
            "another id's device token" => (401, "deviceToken.wrong"),
            _ => (401, "deviceToken.missing"),
        }
    };
    let mut n = 0;
    for (method, path, body, want) in &routes {
        for (kind, hs) in kinds {
            let (status, v) = answer(&s, method, path, hs, body);
            let (ws, wc) = want(kind);
            assert_eq!(status, ws, "{method} {path} with {kind}: {v}");
            if ws != 200 {
                assert_eq!(v["errCode"], 54021, "{method} {path} with {kind}: {v}");
                assert_eq!(v["cause"]["code"], wc, "{method} {path} with {kind}: {v}");
            }
            n += 1;
        }
    }
    let start = format!("/v1/certify/{id}/start");
    let evidence = format!("/v1/certify/{id}/evidence");
    let bundle = failing_bundle();
    for (method, path, body) in [("POST", &start, &vec![]), ("POST", &evidence, &bundle)] {
        let fp = s.fingerprint();
        for (kind, hs) in kinds.iter().filter(|(k, _)| *k != "device token") {
            let (status, v) = answer(&s, method, path, hs, body);
            let (ws, wc) = device_route(kind);
            assert_eq!(
                (status, &v["cause"]["code"]),
                (ws, &json!(wc)),
                "{path} with {kind}: {v}"
            );
            assert_eq!(v["errCode"], 54021);
            n += 1;
        }
        assert_eq!(fp, s.fingerprint(), "{path}: refused calls stored nothing");
        let (status, v) = answer(&s, method, path, &device, body);
        assert_eq!(status, 200, "{path} with its device token: {v}");
        n += 1;
    }
    // the token uploads once: again, nothing is stored
    let fp = s.fingerprint();
    let (status, v) = answer(&s, "POST", &evidence, &device, &bundle);
    assert_eq!(
        (status, &v["cause"]["code"]),
        (400, &json!("evidence.repeated")),
        "{v}"
    );
    assert_eq!(fp, s.fingerprint());
    // and an expired id's token opens nothing
    s.state.clock.advance(25 * HOUR);
    let (status, v) = answer(
        &s,
        "POST",
        &format!(
            "/v1/certify/{}/start",
            other["certifyId"].as_str().expect("id")
        ),
        &foreign,
        b"",
    );
    assert_eq!(
        (status, &v["cause"]["code"]),
        (404, &json!("certifyId.expired")),
        "{v}"
    );
    eprintln!("{db:?}: {n} route x credential answers as expected");
}

#[test]
fn every_route_takes_its_own_credential_on_sqlite() {
    scope_run(Db::Sqlite);
}

#[test]
fn every_route_takes_its_own_credential_on_postgres() {
    scope_run(Db::Postgres);
}

#[test]
fn a_second_upload_while_the_first_is_judged_is_refused() {
    for db in BOTH {
        let s = TestServer::start(
            db,
            Settings {
                actions: vec![Action::Nod],
                challenge_count: 1,
                ..Settings::default()
            },
        );
        let id = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
        s.start_id(&id);
        std::thread::scope(|scope| {
            // the nod never comes: the whole 8.6 s clip is judged
            let first = scope.spawn(|| s.upload_video(&id, "blinkdet_video"));
            std::thread::sleep(std::time::Duration::from_millis(700));
            let (status, v) = s.upload_bundle(&id, &failing_bundle());
            assert_eq!(
                (status, &v["cause"]["code"]),
                (400, &json!("evidence.repeated")),
                "{db:?}: {v}"
            );
            let (status, v) = first.join().expect("first");
            assert_eq!(status, 200, "{v}");
        });
        let problems = s.block_on(s.state.store.audit()).expect("audit");
        assert!(problems.is_empty(), "{db:?}: {problems:?}");
    }
}

fn lockout_run(db: Db) {
    let lock = LockoutSettings {
        failures: 2,
        window_ms: HOUR,
        cooldown_ms: 2 * HOUR,
        all_apps: false,
    };
    let s = TestServer::start(db, settings(lock));
    s.block_on(s.state.store.set_admin_key(ADMIN))
        .expect("admin");
    fail_once(&s, ID_CARD);
    // one failure: not locked yet
    fail_once(&s, ID_CARD);
    let fp = s.fingerprint();
    let (status, v) = s.post_json("/v1/certify", &certify_body(ID_CARD));
    assert_eq!((status, v["errCode"].as_u64()), (429, Some(54030)), "{v}");
    assert_eq!(v["cause"]["code"], "identity.locked");
    assert!(
        !v.to_string().contains(ID_CARD),
        "no ID number in the answer: {v}"
    );
    assert_eq!(
        fp,
        s.fingerprint(),
        "a locked certify stores nothing, freezes nothing"
    );
    // the same number in lower case is the same identity
    let (status, _) = s.post_json("/v1/certify", &certify_body(&ID_CARD.to_lowercase()));
    assert_eq!(status, 429);
    // another identity is not locked
    let first = "11010519491231003";
    let check = realface_server::idcard::check_char(first.as_bytes()).expect("digits") as char;
    let other_id = format!("{first}{check}");
    let (status, v) = s.post_json("/v1/certify", &certify_body(&other_id));
    assert_eq!(status, 200, "{v}");
    // another app counts its own failures
    let (status, v) = certify_for_another_app(&s);
    assert_eq!(status, 200, "per-app scope: {v}");

    // the lock shows in the listing, the records and the stats
    let (status, l) = s.admin_get(ADMIN, "/v1/admin/lockouts");
    assert_eq!(status, 200, "{l}");
    let list = l["lockouts"].as_array().expect("lockouts");
    assert_eq!(list.len(), 1, "{l}");
    assert_eq!(list[0]["scope"], s.app.app_id.as_str());
    assert_eq!(list[0]["failures"], 2);
    assert_eq!(list[0]["idMasked"], realface_server::idcard::mask(ID_CARD));
    assert!(!l.to_string().contains(ID_CARD));
    let today = realface_server::billing::day_string(realface_server::billing::day_of(
        s.state.clock.now_ms(),
    ));
    let (_, r) = s.admin_get(ADMIN, &format!("/v1/records?day={today}&pageSize=500"));
    let locked = r["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|x| x["step"] == "certify" && x["errCode"] == 54030)
        .count();
    assert_eq!(locked, 2, "{r}");
    let (_, st) = s.admin_get(ADMIN, &format!("/v1/stats?from={today}&to={today}"));
    assert_eq!(st["days"][0]["lockedOut"], 2, "{st}");

    // a lift with the wrong scope is refused; with the listing's, it lifts
    let identity = list[0]["identity"].as_str().expect("identity").to_string();
    let post = |body: Value| {
        request(
            &s.url,
            "POST",
            "/v1/admin/lockouts/lift",
            &[("X-Realface-Admin", ADMIN)],
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    };
    let (status, v) = post(json!({"identity": identity, "scope": "*"}));
    assert_eq!((status, v["errCode"].as_u64()), (400, Some(50002)), "{v}");
    let (status, v) = post(json!({"identity": identity, "scope": s.app.app_id}));
    assert_eq!(status, 200, "{v}");
    let (status, v) = s.post_json("/v1/certify", &certify_body(ID_CARD));
    assert_eq!(status, 200, "lifted: {v}");
    let (_, l) = s.admin_get(ADMIN, "/v1/admin/lockouts");
    assert_eq!(l["lockouts"], json!([]), "{l}");

    // locked again by two new failures; the cool-down ends it
    fail_once(&s, ID_CARD);
    fail_once(&s, ID_CARD);
    let (status, _) = s.post_json("/v1/certify", &certify_body(ID_CARD));
    assert_eq!(status, 429);
    s.state.clock.advance(2 * HOUR + 1_000);
    let (status, v) = s.post_json("/v1/certify", &certify_body(ID_CARD));
    assert_eq!(status, 200, "after the cool-down: {v}");
    let problems = s.block_on(s.state.store.audit()).expect("audit");
    assert!(problems.is_empty(), "{db:?}: {problems:?}");
    eprintln!("{db:?}: locked after 2 failures, lifted, locked again, freed by the cool-down");
}

#[test]
fn lockout_and_lift_on_sqlite() {
    lockout_run(Db::Sqlite);
}

#[test]
fn lockout_and_lift_on_postgres() {
    lockout_run(Db::Postgres);
}

#[test]
fn lockout_over_every_app() {
    let lock = LockoutSettings {
        failures: 1,
        all_apps: true,
        ..LockoutSettings::default()
    };
    let s = TestServer::start(Db::Sqlite, settings(lock));
    fail_once(&s, ID_CARD);
    let (status, v) = certify_for_another_app(&s);
    assert_eq!((status, v["errCode"].as_u64()), (429, Some(54030)), "{v}");
}
