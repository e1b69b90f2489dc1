//! What an operator reads: the settings file (a bad key is named), the
//! JSON logs of a whole flow (request id, route, certifyId, code, latency;
//! never the ID number, the name, an image, a key, a token or a secret),
//! on the binary as operators run it, on SQLite and PostgreSQL.

mod common;

use std::io::Read;

use common::{app_add, clip_file, fresh_db, request, Db, Process, ID_CARD};
use serde_json::{json, Value};

#[test]
fn a_bad_settings_file_is_refused_naming_the_key() {
    let (url, _dir) = fresh_db(Db::Sqlite);
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        ("[lockout]\nfailurs = 3\n", "lockout.failurs"),
        ("[webhook]\nmax_attempts = \"ten\"\n", "max_attempts"),
        ("challenge_count = 7\n", "challenge_count"),
        (
            "[session.prompt]\nreaction_min_ms = -5\n",
            "reaction_min_ms",
        ),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).expect("write");
        let out = common::server_bin()
            .args(["serve", "--db", &url, "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .output()
            .expect("serve");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text} was accepted");
        assert!(
            err.contains(key),
            "{text}: the error does not name `{key}`: {err}"
        );
    }
    // an environment override with a bad value is named by its variable
    let out = common::server_bin()
        .args(["config", "--check", "/dev/null"])
        .env("REALFACE_LOCKOUT__FAILURES", "many")
        .output()
        .expect("config");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("REALFACE_LOCKOUT__FAILURES"),
        "{err}"
    );
    // the defaults are a valid file, and `--check` resolves env overrides
    let out = common::server_bin()
        .args(["config", "--defaults"])
        .output()
        .expect("defaults");
    assert!(out.status.success());
    let path = dir.path().join("defaults.toml");
    std::fs::write(&path, &out.stdout).expect("write");
    let out = common::server_bin()
        .args(["config", "--check"])
        .arg(&path)
        .env("REALFACE_CHALLENGE_COUNT", "3")
        .output()
        .expect("check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("challenge_count = 3"),
        "{text}"
    );
}

#[test]
fn logs_of_a_whole_flow_hold_no_personal_data_or_secret() {
    for db in common::BOTH {
        logged_flow(db);
    }
}

fn logged_flow(db: Db) {
    let (url, _dir) = fresh_db(db);
    let app = app_add(&url, "logged");
    let hook = common::receiver::Receiver::start(common::receiver::OK);
    let secret = common::webhook_add(&url, &app.app_id, &hook.url);
    let out = common::server_bin()
        .args(["admin-key", "--db", &url])
        .output()
        .expect("admin-key");
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let logs = tempfile::NamedTempFile::new().expect("log file");
    let server = Process::serve_to(
        &url,
        &[
            "--log-format",
            "json",
            "--actions",
            "blink",
            "--challenge-count",
            "1",
        ],
        logs.reopen().expect("log file").into(),
    );
    let name = "Zhangsanfeng Testperson";
    let photo = common::b64(&clip_file("lp_d9", "frame_0001.jpg"));
    let body = json!({"realName": name, "idCard": ID_CARD, "reference": {"photo": photo}});
    let hs = [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ];
    let (s, v) = request(
        &server.url,
        "POST",
        "/v1/certify",
        &hs,
        Some("application/json"),
        body.to_string().as_bytes(),
    );
    assert_eq!(s, 200, "{v}");
    let id = v["certifyId"].as_str().expect("id").to_string();
    let token = v["deviceToken"].as_str().expect("token").to_string();
    let dev = [
        ("X-Realface-Device-Token", token.as_str()),
        ("X-Request-Id", "req-flow-1"),
    ];
    let (s, start) = request(
        &server.url,
        "POST",
        &format!("/v1/certify/{id}/start"),
        &dev,
        None,
        b"",
    );
    assert_eq!(s, 200, "{start}");
    let nonce = start["challengeNonce"].as_str().expect("nonce").to_string();
    let bundle = common::failing_bundle();
    let (s, v) = request(
        &server.url,
        "POST",
        &format!("/v1/certify/{id}/evidence"),
        &dev,
        Some("application/json"),
        &bundle,
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = request(
        &server.url,
        "GET",
        &format!("/v1/certify/{id}/result?needAlivePhoto=Y_O"),
        &hs,
        None,
        b"",
    );
    assert_eq!(s, 200, "{v}");
    // refused calls are logged too, still without what they carried
    let (s, _) = request(
        &server.url,
        "POST",
        &format!("/v1/certify/{id}/evidence"),
        &hs,
        Some("application/json"),
        &bundle,
    );
    assert_eq!(s, 401);
    let day = realface_server::billing::day_string(realface_server::billing::day_of(
        realface::session::certify::unix_now_ms(),
    ));
    let (s, v) = request(
        &server.url,
        "GET",
        &format!("/v1/records?day={day}"),
        &[("X-Realface-Admin", admin.as_str())],
        None,
        b"",
    );
    assert_eq!(s, 200, "{v}");
    hook.wait_for(20, |d| d.iter().any(|x| x.answered == 200));
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.kill();

    let mut text = String::new();
    std::fs::File::open(logs.path())
        .expect("logs")
        .read_to_string(&mut text)
        .expect("read logs");
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    // the flow is there: each call with its request id, route, certifyId, code and latency
    let evidence = lines
        .iter()
        .find(|l| {
            l["request_id"] == json!("req-flow-1")
                && l["route"] == json!("/v1/certify/{id}/evidence")
        })
        .unwrap_or_else(|| panic!("no evidence line in\n{text}"));
    assert_eq!(evidence["certify_id"], json!(id));
    assert_eq!(evidence["code"], json!(0));
    assert!(evidence["latency_ms"].as_f64().is_some(), "{evidence}");
    assert!(
        lines
            .iter()
            .any(|l| l["cause"] == json!("credential.app_key_not_here")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == json!("webhook") && l["outcome"] == json!("delivered")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l["route"] == json!("/v1/records")),
        "{text}"
    );
    // and nothing that identifies the person or opens anything
    for (what, secret) in [
        ("the ID number", ID_CARD),
        ("the ID number's last digits", &ID_CARD[10..]),
        ("the name", name),
        ("the name's first word", "Zhangsanfeng"),
        ("the app key", app.key.as_str()),
        ("the device token", token.as_str()),
        ("the admin key", admin.as_str()),
        ("the webhook secret", secret.as_str()),
        ("the nonce", nonce.as_str()),
        ("the reference photo", &photo[100..160]),
    ] {
        assert!(!text.contains(secret), "the logs hold {what}:\n{text}");
    }
}
