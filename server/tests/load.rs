//! Bounded load on 127.0.0.1 with wrk (Debian package): getCertifyId and
//! getAuthResult at concurrency 32 on SQLite and on PostgreSQL, then
//! evidence verdicts per minute. Not a timed test: it requires no errors
//! and reports the latencies (target/load/*.json); REALFACE_LOAD_SECONDS
//! sets each run's length (default 10, the test suite's small version; the
//! figures in docs/EVALUATION.md are from runs of 30 s:
//! `REALFACE_LOAD_SECONDS=30 cargo test --profile ci -p realface-server --test load`).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{app_add, fresh_db, request, Db, Process, BOTH};
use serde_json::{json, Value};

/// One wrk run's figures.
fn wrk(url: &str, script: &Path, seconds: u64) -> Value {
    let out = Command::new("wrk")
        .args(["-t", "2", "-c", "32", "--timeout", "10s", "--latency"])
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk (Debian package `wrk`; bash scripts/system-deps.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let ms = |label: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"));
        let v = line.split_whitespace().nth(1).expect("value");
        let (num, factor) = if let Some(n) = v.strip_suffix("us") {
            (n, 1e-3)
        } else if let Some(n) = v.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = v.strip_suffix('s') {
            (n, 1e3)
        } else {
            (v, 1.0)
        };
        num.parse::<f64>().expect("number") * factor
    };
    let count = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|rest| rest.trim().parse().unwrap_or(u64::MAX))
            .unwrap_or(0)
    };
    let requests: u64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("request count");
    assert!(!text.contains("Socket errors"), "transport errors: {text}");
    json!({
        "requests": requests,
        "rps": requests as f64 / seconds as f64,
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "errors": count("Non-2xx or 3xx responses:"),
    })
}

fn script(
    dir: &Path,
    name: &str,
    method: &str,
    body: Option<&str>,
    app: &str,
    key: &str,
) -> std::path::PathBuf {
    let mut lua = format!(
        "wrk.method = \"{method}\"\nwrk.headers[\"X-Realface-App\"] = \"{app}\"\nwrk.headers[\"X-Realface-Key\"] = \"{key}\"\n"
    );
    if let Some(b) = body {
        lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        lua.push_str(&format!("wrk.body = [[{b}]]\n"));
    }
    let p = dir.join(name);
    std::fs::write(&p, lua).expect("script");
    p
}

fn verdicts_per_minute(server: &Process, hs: &[(&str, &str)], n: usize) -> f64 {
    let (path, ctype) = common::source_video("blinkdet_video");
    let video = std::fs::read(path).expect("video");
    let body = common::certify_body_with_embedding("blinkdet_video");
    let ids: Vec<(String, String)> = (0..n)
        .map(|_| {
            let (s, v) = request(
                &server.url,
                "POST",
                "/v1/certify",
                hs,
                Some("application/json"),
                body.as_bytes(),
            );
            assert_eq!(s, 200, "{v}");
            let id = v["certifyId"].as_str().expect("id").to_string();
            let token = v["deviceToken"].as_str().expect("token").to_string();
            let (s, v) = request(
                &server.url,
                "POST",
                &format!("/v1/certify/{id}/start"),
                &[("X-Realface-Device-Token", token.as_str())],
                None,
                b"",
            );
            assert_eq!(s, 200, "{v}");
            (id, token)
        })
        .collect();
    let t = Instant::now();
    std::thread::scope(|scope| {
        for chunk in ids.chunks(n.div_ceil(2)) {
            let video = &video;
            scope.spawn(move || {
                for (id, token) in chunk {
                    let (s, v) = request(
                        &server.url,
                        "POST",
                        &format!("/v1/certify/{id}/evidence"),
                        &[("X-Realface-Device-Token", token.as_str())],
                        Some(ctype),
                        video,
                    );
                    assert_eq!(s, 200, "{v}");
                }
            });
        }
    });
    n as f64 * 60.0 / t.elapsed().as_secs_f64()
}

fn run(db: Db, seconds: u64) -> Value {
    let (url, _dir) = fresh_db(db);
    let app = app_add(&url, "load");
    let hs = [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ];
    let server = Process::serve(&url, &["--actions", "blink", "--challenge-count", "1"]);
    let tmp = tempfile::tempdir().expect("tmp");
    let body = common::certify_body_with_embedding("blinkdet_video");
    let certify = script(
        tmp.path(),
        "certify.lua",
        "POST",
        Some(&body),
        &app.app_id,
        &app.key,
    );
    let issue = wrk(&format!("{}/v1/certify", server.url), &certify, seconds);
    let (s, v) = request(
        &server.url,
        "POST",
        "/v1/certify",
        &hs,
        Some("application/json"),
        body.as_bytes(),
    );
    assert_eq!(s, 200, "{v}");
    let id = v["certifyId"].as_str().expect("id");
    let get = script(tmp.path(), "result.lua", "GET", None, &app.app_id, &app.key);
    let result = wrk(
        &format!("{}/v1/certify/{id}/result", server.url),
        &get,
        seconds,
    );
    let per_minute = verdicts_per_minute(&server, &hs, 6);
    for (what, r) in [("getCertifyId", &issue), ("getAuthResult", &result)] {
        assert_eq!(r["errors"], 0, "{db:?} {what}: {r}");
        assert!(
            r["requests"].as_u64().unwrap_or(0) > 0,
            "{db:?} {what}: {r}"
        );
    }
    json!({
        "store": format!("{db:?}"),
        "seconds": seconds,
        "concurrency": 32,
        "getCertifyId": issue,
        "getAuthResult": result,
        "evidence_verdicts_per_minute": per_minute,
        "evidence": "blinkdet_video/source.mp4 (14.0 s, 23.9 fps, 334 frames), 2 uploads at a time",
    })
}

#[test]
fn load_on_both_stores() {
    let seconds = std::env::var("REALFACE_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let out_dir = common::root().join("target/load");
    std::fs::create_dir_all(&out_dir).expect("target/load");
    for db in BOTH {
        let report = run(db, seconds);
        eprintln!("{report}");
        let name = format!("load-{}.json", format!("{db:?}").to_lowercase());
        std::fs::write(
            out_dir.join(name),
            serde_json::to_string_pretty(&report).expect("json"),
        )
        .expect("write");
    }
}
