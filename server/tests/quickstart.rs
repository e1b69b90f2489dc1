//! The guide's server quick start, run as it stands in `docs/server.md`:
//! the shell block under "Quick start on SQLite" and the one after "A
//! recording does not pass" are read from the page (not a copy), with only
//! what a test must change substituted (the binaries this test run built
//! instead of the `cargo build` line, a free port, the shared data's path),
//! and run with bash in a scratch directory. The first must get a certifyId
//! on its first call and end in SUCCESS, camera-free (`realface
//! demo-evidence`); the second must end in the FAIL the page shows.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The fenced `sh` block that follows the line starting with `heading`.
fn block_after(page: &str, heading: &str) -> String {
    let from = page.find(heading).expect("the quick start's heading");
    let rest = &page[from..];
    let open = rest.find("```sh\n").expect("its sh block") + "```sh\n".len();
    let len = rest[open..].find("```").expect("the block's end");
    rest[open..open + len].to_string()
}

#[test]
fn the_guide_server_quick_start_reaches_success_and_a_recording_fails() {
    let page =
        std::fs::read_to_string(common::root().join("docs/server.md")).expect("docs/server.md");
    let first = block_after(&page, "## Quick start on SQLite");
    let second = block_after(&page, "A recording does not pass");
    assert!(
        first.contains("deposit") && first.contains("/v1/certify") && first.contains("jq"),
        "{first}"
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = env!("CARGO_BIN_EXE_realface-server");
    // the CLI of the same build (profile and target directory): the
    // workspace's test build makes it beside the server
    let cli = Path::new(server).with_file_name("realface");
    assert!(
        cli.is_file(),
        "{} missing: build the workspace's tests (cargo test --workspace --no-run)",
        cli.display()
    );
    let data = common::data_dir();
    let script = format!("{first}\n{second}")
        .replace("cargo build --release -p realface -p realface-server", ":")
        .replace("target/release/realface-server", server)
        .replace("target/release/realface ", &format!("{} ", cli.display()))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("../shared/data", &data.display().to_string());
    // the server the block starts in the background is stopped at the end
    let script = format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n{script}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = std::fs::read_to_string(tmp.path().join("server.log")).unwrap_or_default();
    assert!(out.status.success(), "{stdout}\n{stderr}\n{log}");
    // every JSON answer the blocks printed, in order
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .filter_map(Result::ok)
        .collect();
    let certify = answers
        .iter()
        .find(|v| v.get("deviceToken").is_some())
        .unwrap_or_else(|| panic!("no certifyId: {stdout}\n{stderr}"));
    assert_eq!(certify["errCode"], 0, "{certify}");
    let results: Vec<&Value> = answers
        .iter()
        .filter(|v| v.get("authState").is_some())
        .collect();
    assert_eq!(results.len(), 2, "{stdout}");
    assert_eq!(results[0]["authState"], "SUCCESS", "{}", results[0]);
    let threshold = results[0]["threshold"].as_f64().unwrap_or(0.0);
    assert!((threshold - 0.3671).abs() < 1e-4, "{}", results[0]);
    let uploads: Vec<&Value> = answers
        .iter()
        .filter(|v| v.get("judged").is_some())
        .collect();
    assert_eq!(uploads.len(), 2, "{stdout}");
    assert_eq!(uploads[0]["clientCode"], 0, "{}", uploads[0]);
    assert_eq!(
        (&uploads[1]["judged"], &uploads[1]["hint"]),
        (&Value::Bool(true), &Value::from("hint.no_answer")),
        "{}",
        uploads[1]
    );
    assert_eq!(results[1]["authState"], "FAIL", "{}", results[1]);
    assert_eq!(
        results[1]["reasons"][0]["code"], "ACTION_TIMEOUT",
        "{}",
        results[1]
    );
}
