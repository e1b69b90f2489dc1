//! The binary as operators and devices use it (`app add --json`, `serve`),
//! and crash safety: `kill -9` during a bounded load run, restart on the
//! same store, and every acknowledged certifyId is there in the state its
//! acknowledged calls left it, with its verdict, bill, call record and
//! webhook event in agreement (`Store::audit`).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{app_add, clip_file, fresh_db, request, try_request, Db, Process, BOTH, ID_CARD};
use serde_json::json;

fn crash_run(db: Db) {
    let (url, _dir) = fresh_db(db);
    let app = app_add(&url, "crash");
    // every verdict also queues a webhook event, in the same transaction
    let hook = common::receiver::Receiver::start(common::receiver::OK);
    common::webhook_add(&url, &app.app_id, &hook.url);
    let hs = [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ];
    // no lockout: the devices below fail the same identity many times
    let args = [
        "--actions",
        "blink",
        "--challenge-count",
        "1",
        "--lockout-failures",
        "0",
    ];
    let server = Process::serve(&url, &args);
    // one judged id before the crash
    let photo = common::b64(&clip_file("lp_d9", "frame_0001.jpg"));
    let body =
        json!({"realName": "Test", "idCard": ID_CARD, "reference": {"photo": photo}}).to_string();
    let (s, v) = request(
        &server.url,
        "POST",
        "/v1/certify",
        &hs,
        Some("application/json"),
        body.as_bytes(),
    );
    assert_eq!(s, 200, "{v}");
    let judged = v["certifyId"].as_str().expect("id").to_string();
    let token = v["deviceToken"].as_str().expect("deviceToken").to_string();
    let device = [("X-Realface-Device-Token", token.as_str())];
    let (s, v) = request(
        &server.url,
        "POST",
        &format!("/v1/certify/{judged}/start"),
        &device,
        None,
        b"",
    );
    assert_eq!((s, &v["actions"]), (200, &json!(["blink"])), "{v}");
    // a person answers its prompts (the server's schedule, from the nonce)
    let bundle = common::answered_bundle(&judged, &v, "lp_d9");
    let (s, v) = request(
        &server.url,
        "POST",
        &format!("/v1/certify/{judged}/evidence"),
        &device,
        Some("application/json"),
        &bundle,
    );
    assert_eq!(s, 200, "{v}");

    // load: 8 clients issue and start ids until the server dies
    let body = common::certify_body_with_embedding("blinkdet_video");
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let deadline = Instant::now() + Duration::from_secs(20);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (base, body, issued, started) = (
                server.url.clone(),
                body.clone(),
                issued.clone(),
                started.clone(),
            );
            let app = app.clone();
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    let Some((id, token)) = common::issue(&base, &app, &body) else {
                        return;
                    };
                    issued.lock().expect("lock").push(id.clone());
                    match try_request(
                        &base,
                        "POST",
                        &format!("/v1/certify/{id}/start"),
                        &[("X-Realface-Device-Token", token.as_str())],
                        None,
                        b"",
                    ) {
                        Ok((200, _)) => started.lock().expect("lock").push((id, token)),
                        Ok((s, v)) => panic!("start answered {s} {v}"),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // and 2 devices upload evidence that is judged FAIL, so the kill also
    // lands while verdicts, bills and records are being written
    let failing = common::failing_bundle();
    let uploads = Arc::new(Mutex::new(Vec::<(String, bool)>::new()));
    let devices: Vec<_> = (0..2)
        .map(|_| {
            let (base, body, failing, uploads) = (
                server.url.clone(),
                body.clone(),
                failing.clone(),
                uploads.clone(),
            );
            let app = app.clone();
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    let Some((id, token)) = common::issue(&base, &app, &body) else {
                        return;
                    };
                    let dev = [("X-Realface-Device-Token", token.as_str())];
                    let path = format!("/v1/certify/{id}");
                    if !matches!(
                        try_request(&base, "POST", &format!("{path}/start"), &dev, None, b""),
                        Ok((200, _))
                    ) {
                        return;
                    }
                    let r = try_request(
                        &base,
                        "POST",
                        &format!("{path}/evidence"),
                        &dev,
                        Some("application/json"),
                        &failing,
                    );
                    let acknowledged = matches!(r, Ok((200, _)));
                    uploads.lock().expect("lock").push((id, acknowledged));
                    if !acknowledged {
                        return;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    server.kill();
    for c in clients.into_iter().chain(devices) {
        c.join().expect("client");
    }
    let uploads = uploads.lock().expect("lock").clone();
    let issued = issued.lock().expect("lock").clone();
    let started = started.lock().expect("lock").clone();
    assert!(
        issued.len() > 20,
        "only {} ids issued before the kill",
        issued.len()
    );

    let server = Process::serve(&url, &args);
    // verdict, ledger and record agree for every id, whatever the kill cut
    let problems = common::runtime().block_on(async {
        let store = realface_server::Store::open(&url, 2).await.expect("store");
        let p = store.audit().await.expect("audit");
        store.close().await;
        p
    });
    assert!(problems.is_empty(), "{db:?}: {problems:?}");
    drop(hook);
    for (id, acknowledged) in &uploads {
        let (s, v) = request(
            &server.url,
            "GET",
            &format!("/v1/certify/{id}/result"),
            &hs,
            None,
            b"",
        );
        assert_eq!(s, 200, "{v}");
        if *acknowledged {
            assert_eq!(
                v["authState"], "FAIL",
                "an acknowledged verdict is kept: {v}"
            );
        } else {
            assert!(
                v["authState"] == "FAIL" || v["authState"] == "PROCESSING",
                "{v}"
            );
        }
    }
    assert!(
        uploads.iter().filter(|u| u.1).count() > 0,
        "no verdict before the kill"
    );
    for id in &issued {
        let (s, v) = request(
            &server.url,
            "GET",
            &format!("/v1/certify/{id}/result"),
            &hs,
            None,
            b"",
        );
        assert_eq!(
            (s, &v["authState"]),
            (200, &json!("PROCESSING")),
            "{id}: {v}"
        );
    }
    for (id, token) in &started {
        let (s, v) = request(
            &server.url,
            "POST",
            &format!("/v1/certify/{id}/start"),
            &[("X-Realface-Device-Token", token.as_str())],
            None,
            b"",
        );
        assert_eq!(
            (s, &v["cause"]["code"]),
            (400, &json!("start.repeated")),
            "{id}: {v}"
        );
    }
    let (s, v) = request(
        &server.url,
        "GET",
        &format!("/v1/certify/{judged}/result"),
        &hs,
        None,
        b"",
    );
    assert_eq!((s, &v["authState"]), (200, &json!("SUCCESS")), "{v}");
    eprintln!(
        "{db:?}: killed -9 after {} acknowledged ids ({} started) and {} uploads ({} acknowledged); all there after restart, verdicts, bills and records agreeing",
        issued.len(),
        started.len(),
        uploads.len(),
        uploads.iter().filter(|u| u.1).count()
    );
}

#[test]
fn acknowledged_ids_survive_kill_9() {
    for db in BOTH {
        crash_run(db);
    }
}

#[test]
fn the_admin_commands_manage_apps() {
    let (url, _dir) = fresh_db(Db::Sqlite);
    let app = app_add(&url, "shop");
    let run = |args: &[&str]| {
        let out = common::server_bin().args(args).output().expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, list) = run(&["app", "list", "--db", &url]);
    assert!(
        ok && list.contains(&app.app_id) && !list.contains(&app.key),
        "{list}"
    );
    assert!(
        run(&[
            "app",
            "allow",
            "--db",
            &url,
            "--app",
            &app.app_id,
            "--caller",
            "10.1.2.3"
        ])
        .0
    );
    assert!(
        !run(&[
            "app",
            "allow",
            "--db",
            &url,
            "--app",
            &app.app_id,
            "--caller",
            "not-an-ip"
        ])
        .0
    );
    assert!(
        !run(&[
            "app",
            "allow",
            "--db",
            &url,
            "--app",
            "app_missing",
            "--caller",
            "10.1.2.3"
        ])
        .0
    );
    let (_, list) = run(&["app", "list", "--db", &url]);
    assert!(list.contains("10.1.2.3"), "{list}");
    assert!(run(&["app", "revoke", "--db", &url, "--app", &app.app_id]).0);
    let (_, list) = run(&["app", "list", "--db", &url]);
    assert!(!list.contains("\"revokedMs\": null"), "{list}");
    let (ok, out) = run(&["sweep", "--db", &url]);
    assert!(ok && out.contains("swept"), "{out}");
    // a challenge pool that cannot give the count is refused at start-up
    let out = common::server_bin()
        .args([
            "serve",
            "--db",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--actions",
            "blink",
            "--challenge-count",
            "2",
        ])
        .output()
        .expect("serve");
    assert!(!out.status.success());
}

/// An id issued while the server compared with one matcher, judged after it
/// moved to another: the stored reference is refused with its own cause
/// (never compared across models), and nothing is written.
#[test]
fn a_reference_from_another_matcher_is_refused() {
    let (url, _dir) = fresh_db(Db::Sqlite);
    let app = app_add(&url, "matchers");
    let server = Process::serve(&url, &["--actions", "blink", "--challenge-count", "1"]);
    let photo = common::b64(&clip_file("lp_d9", "frame_0001.jpg"));
    let body =
        json!({"realName": "Test", "idCard": ID_CARD, "reference": {"photo": photo}}).to_string();
    let (id, token) = common::issue(&server.url, &app, &body).expect("certify");
    let (s, v) = common::device_start(&server.url, &id, &token);
    assert_eq!(s, 200, "{v}");
    server.kill();
    let dir = tempfile::tempdir().expect("dir");
    // from the default (w600k_mbf) to the licence-clean fused matcher
    let config = dir.path().join("fused.toml");
    std::fs::write(
        &config,
        "matcher = \"fused\"\nactions = [\"blink\"]\nchallenge_count = 1\n",
    )
    .expect("config");
    let server = Process::serve(&url, &["--config", &config.to_string_lossy()]);
    let (s, v) = common::device_upload(&server.url, &id, &token, &common::failing_bundle());
    assert_eq!(
        (s, &v["errCode"], &v["cause"]["code"]),
        (500, &json!(55000), &json!("reference.matcher_changed")),
        "{v}"
    );
    let hs = [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ];
    let (s, v) = request(
        &server.url,
        "GET",
        &format!("/v1/certify/{id}/result"),
        &hs,
        None,
        b"",
    );
    assert_eq!((s, &v["authState"]), (200, &json!("PROCESSING")), "{v}");
    // a new id under the new matcher is made and judged as usual
    let (id2, token2) = common::issue(&server.url, &app, &body).expect("certify");
    let (s, _) = common::device_start(&server.url, &id2, &token2);
    assert_eq!(s, 200);
    let (s, v) = common::device_upload(&server.url, &id2, &token2, &common::failing_bundle());
    assert_eq!((s, &v["judged"]), (200, &json!(true)), "{v}");
}

/// `realface-server audit --db`: exit 0 on a consistent store; exit 1 and
/// one line naming the id when a judged id lost its bill.
#[test]
fn audit_names_each_inconsistent_id() {
    let (url, _dir) = fresh_db(Db::Sqlite);
    let app = app_add(&url, "audit");
    let server = Process::serve(&url, &["--actions", "blink", "--challenge-count", "1"]);
    let body = common::certify_body_with_embedding("blinkdet_video");
    let (id, token) = common::issue(&server.url, &app, &body).expect("certify");
    let (s, v) = common::device_start(&server.url, &id, &token);
    assert_eq!(s, 200, "{v}");
    let (s, v) = common::device_upload(&server.url, &id, &token, &common::failing_bundle());
    assert_eq!(s, 200, "{v}");
    server.kill();
    let audit = || {
        common::server_bin()
            .args(["audit", "--db", &url])
            .output()
            .expect("realface-server audit")
    };
    let out = audit();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // the verdict's bill disappears: the audit names the id
    common::runtime().block_on(async {
        let pool = common::sql_pool(&url).await;
        sqlx::query("DELETE FROM ledger WHERE certify_id = $1 AND kind = 'settle'")
            .bind(&id)
            .execute(&pool)
            .await
            .expect("delete");
        pool.close().await;
    });
    let out = audit();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.starts_with(&id), "{lines}");
}
