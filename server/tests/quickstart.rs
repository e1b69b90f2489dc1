//! The README's server quick start, run as it stands in the README: the
//! shell block under "Quick start on SQLite" is read from README.md (not a
//! copy), with only what a test must change substituted (the binary this
//! test was built with instead of the `cargo build` line, a free port, a
//! scratch database, the shared data's path), and run with bash. It must
//! get a certifyId on its first call and end with the verdict the README
//! says: FAIL with ACTION_TIMEOUT, because a recording made before `start`
//! cannot answer the prompts.

mod common;

use std::process::Command;

use serde_json::Value;

/// The fenced `sh` block that follows the line starting with `heading`.
fn block_after(readme: &str, heading: &str) -> String {
    let from = readme.find(heading).expect("the quick start's heading");
    let rest = &readme[from..];
    let open = rest.find("```sh\n").expect("its sh block") + "```sh\n".len();
    let len = rest[open..].find("```").expect("the block's end");
    rest[open..open + len].to_string()
}

#[test]
fn the_readme_server_quick_start_runs_as_written() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let block = block_after(&readme, "Quick start on SQLite");
    assert!(
        block.contains("deposit") && block.contains("/v1/certify") && block.contains("jq"),
        "{block}"
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bin = env!("CARGO_BIN_EXE_realface-server");
    let data = common::data_dir();
    let script = block
        .replace("cargo build --release -p realface-server", ":")
        .replace("target/release/realface-server", bin)
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace(
            "realface.db",
            &tmp.path().join("realface.db").display().to_string(),
        )
        .replace("../shared/data", &data.display().to_string())
        .replace(
            "/tmp/certify.json",
            &tmp.path().join("certify.json").display().to_string(),
        );
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
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // every JSON answer the block printed, in order
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .filter_map(Result::ok)
        .collect();
    let certify = answers
        .iter()
        .find(|v| v.get("deviceToken").is_some())
        .unwrap_or_else(|| panic!("no certifyId: {stdout}\n{stderr}"));
    assert_eq!(certify["errCode"], 0, "{certify}");
    let evidence = answers
        .iter()
        .find(|v| v.get("judged").is_some())
        .unwrap_or_else(|| panic!("no upload answer: {stdout}"));
    assert_eq!(
        (&evidence["judged"], &evidence["hint"]),
        (&Value::Bool(true), &Value::from("hint.no_answer")),
        "{evidence}"
    );
    let result = answers.last().expect("the result");
    assert_eq!(result["authState"], "FAIL", "{result}");
    assert_eq!(result["reasons"][0]["code"], "ACTION_TIMEOUT", "{result}");
}
