//! The whole flow over HTTP on 127.0.0.1, on SQLite and on PostgreSQL:
//! certify → start → evidence → result, with real clips at their own
//! frame rate. The server's verdict is the one that counts, on the prompt
//! schedule it draws from the certifyId's nonce: evidence answers it (a
//! person answering the prompts, `common::answered_bundle`) or fails.

mod common;

use base64::Engine as _;
use common::{clip_file, sample, Db, TestServer, BOTH};
use realface::liveness::actions::Action;
use realface_server::Settings;
use serde_json::{json, Value};

fn settings(actions: &[Action]) -> Settings {
    Settings {
        actions: actions.to_vec(),
        challenge_count: 1,
        workers: 2,
        queue: 8,
        ..Settings::default()
    }
}

fn result(s: &TestServer, id: &str, photo: &str) -> Value {
    let (status, v) = s.get(&format!("/v1/certify/{id}/result?needAlivePhoto={photo}"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["errCode"], 0);
    v
}

fn reasons(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn genuine_blink(db: Db) {
    let s = TestServer::start(db, settings(&[Action::Blink]));
    let id = s.certify(&clip_file("lp_d9", "frame_0001.jpg"));
    assert_eq!(result(&s, &id, "N")["authState"], "PROCESSING");
    let start = s.start_id(&id);
    assert_eq!(start["actions"], json!(["blink"]));
    assert!(start["deadlineMs"].as_u64().expect("deadline") > 0);
    assert_eq!(
        start["sessionOptions"]["challenge"],
        json!({"fixed": ["blink"]})
    );
    let bundle = common::answered_bundle(&id, &start, "lp_d9");
    let (status, v) = s.upload_bundle(&id, &bundle);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["clientCode"], 0, "{v}");
    let r = result(&s, &id, "Y_O");
    assert_eq!(r["authState"], "SUCCESS", "{db:?}: {r}");
    assert!(
        r["similarity"].as_f64().expect("similarity")
            >= r["threshold"].as_f64().expect("threshold")
    );
    assert!(r["score"].as_f64().expect("score") >= 60.0);
    assert_eq!(r["actions"][0]["action"], "blink");
    assert_eq!(r["actions"][0]["passed"], true);
    let (p, o) = (&r["actions"][0]["promptMs"], &r["actions"][0]["onsetMs"]);
    assert!(p.is_u64() && o.as_u64() > p.as_u64(), "{r}");
    let photo = base64::engine::general_purpose::STANDARD
        .decode(r["base64Photo"].as_str().expect("Y_O photo"))
        .expect("base64");
    image::load_from_memory(&photo).expect("a JPEG");
    let m = result(&s, &id, "Y_M");
    assert!(m["base64Photo"].is_string());
    assert_ne!(m["base64Photo"], r["base64Photo"], "Y_M is mosaicked");
    assert!(result(&s, &id, "N").get("base64Photo").is_none());
    // one upload per certifyId
    let fp = s.fingerprint();
    let (status, v) = s.upload_bundle(&id, &bundle);
    assert_eq!((status, v["errCode"].as_u64()), (400, Some(50002)), "{v}");
    assert_eq!(v["cause"]["code"], "evidence.repeated");
    assert_eq!(fp, s.fingerprint());
}

#[test]
fn a_genuine_clip_with_its_challenge_succeeds_on_sqlite() {
    genuine_blink(Db::Sqlite);
}

#[test]
fn a_genuine_clip_with_its_challenge_succeeds_on_postgres() {
    genuine_blink(Db::Postgres);
}

#[test]
fn a_challenge_the_clip_does_not_perform_fails() {
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::Nod]));
        let id = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
        assert_eq!(s.start_id(&id)["actions"], json!(["nod"]));
        let (status, v) = s.upload_video(&id, "blinkdet_video");
        assert_eq!(status, 200, "{v}");
        assert_ne!(v["clientCode"], 0);
        let r = result(&s, &id, "Y_O");
        assert_eq!(r["authState"], "FAIL", "{r}");
        assert!(reasons(&r).contains(&"ACTION_TIMEOUT".to_string()), "{r}");
        assert!(r.get("base64Photo").is_none(), "no photo on FAIL");
    }
}

/// A bundle marked demo (`realface demo-evidence`) is refused by a server
/// not started with `--demo`, before anything is claimed or judged: the
/// id can still take a real upload.
#[test]
fn a_demo_bundle_is_refused_without_demo() {
    let s = TestServer::start(Db::Sqlite, settings(&[Action::Blink]));
    let id = s.certify(&clip_file("lp_d9", "frame_0001.jpg"));
    let start = s.start_id(&id);
    let bundle = common::answered_bundle(&id, &start, "lp_d9");
    let mut marked: Value = serde_json::from_slice(&bundle).expect("json");
    marked["demo"] = json!(true);
    let (status, v) = s.upload_bundle(&id, marked.to_string().as_bytes());
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        (&v["errCode"], &v["cause"]["code"]),
        (&json!(50002), &json!("evidence.demo")),
        "{v}"
    );
    assert_eq!(result(&s, &id, "N")["authState"], "PROCESSING");
    let (status, v) = s.upload_bundle(&id, &bundle);
    assert_eq!((status, &v["clientCode"]), (200, &json!(0)), "{v}");
}

/// Evidence that answers another certifyId's prompts: the same person, the
/// same real answer, but timed for a schedule the server did not draw for
/// this id. The server recomputes the schedule from the nonce: FAIL.
#[test]
fn evidence_answering_another_schedule_fails() {
    use realface::session::challenge::seed;
    use realface::session::prompt::{random_delays, PromptOptions};
    let o = PromptOptions::default();
    let first_delay = |id: &str, start: &Value| {
        random_delays(
            seed(id, start["challengeNonce"].as_str().expect("nonce")),
            &o,
            1,
        )[0]
    };
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::Blink]));
        // two ids whose first prompts come at least 1.2 s apart (ids are
        // drawn until two such are found: with delays of 0.5-2.5 s, an id
        // whose delay is near the middle has no such partner)
        let mut ids: Vec<(String, Value)> = Vec::new();
        let ((a, start_a), (b, start_b)) = 'found: {
            for _ in 0..200 {
                let id = s.certify(&clip_file("lp_d9", "frame_0001.jpg"));
                let start = s.start_id(&id);
                let d = first_delay(&id, &start);
                if let Some(i) = ids
                    .iter()
                    .position(|(x, sx)| first_delay(x, sx).abs_diff(d) >= 1200)
                {
                    break 'found (ids.swap_remove(i), (id, start));
                }
                ids.push((id, start));
            }
            panic!("no two of 200 ids had first prompts 1.2 s apart");
        };
        let bundle = common::answered_bundle(&a, &start_a, "lp_d9");
        assert_eq!(start_b["actions"], json!(["blink"]));
        let (status, v) = s.upload_bundle(&b, &bundle);
        assert_eq!(status, 200, "{v}");
        let r = result(&s, &b, "N");
        assert_eq!(r["authState"], "FAIL", "{db:?}: {r}");
        // the same bundle where it belongs passes
        let (status, v) = s.upload_bundle(&a, &bundle);
        assert_eq!(status, 200, "{v}");
        assert_eq!(result(&s, &a, "N")["authState"], "SUCCESS");
    }
}

#[test]
fn another_persons_reference_fails() {
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::Blink]));
        let id = s.certify(&sample("biden.jpg"));
        let start = s.start_id(&id);
        let bundle = common::answered_bundle(&id, &start, "lp_d9");
        let (status, v) = s.upload_bundle(&id, &bundle);
        assert_eq!(status, 200, "{v}");
        let r = result(&s, &id, "N");
        assert_eq!(r["authState"], "FAIL", "{r}");
        assert_eq!(reasons(&r), ["NO_MATCH"], "{r}");
    }
}

#[test]
fn a_phone_screen_replay_does_not_pass() {
    // fake2.webm replays real2.webm (apfol_real2) on a phone screen
    let video = common::data_dir().join("spoof/apfol/videos/fake2.webm");
    let bytes = std::fs::read(&video).expect("fake2.webm");
    for db in BOTH {
        for action in [Action::Blink, Action::TurnLeft] {
            let s = TestServer::start(db, settings(&[action]));
            let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
            s.start_id(&id);
            let (status, v) = s.call(
                "POST",
                &format!("/v1/certify/{id}/evidence"),
                Some("video/webm"),
                &bytes,
            );
            assert_eq!(status, 200, "{v}");
            let r = result(&s, &id, "N");
            eprintln!(
                "fake2.webm, {action}, {db:?}: {} {:?}",
                r["authState"],
                reasons(&r)
            );
            assert_eq!(r["authState"], "FAIL", "{r}");
        }
    }
}

#[test]
fn timestamped_frames_are_evidence_too() {
    // a person's answers as a JSON bundle of timestamped frames, with the
    // device's own result replaced by a FAIL: it is advisory only
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::TurnLeft]));
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let start = s.start_id(&id);
        let bundle = common::answered_bundle(&id, &start, "apfol_real2");
        let frames = serde_json::from_slice::<Value>(&bundle).expect("bundle")["frames"].clone();
        assert!(frames.as_array().is_some_and(|f| f.len() > 30));
        let body =
            json!({"frames": frames, "deviceResult": {"authState": "FAIL", "note": "advisory"}});
        let (status, v) = s.post_json(&format!("/v1/certify/{id}/evidence"), &body);
        assert_eq!(status, 200, "{v}");
        let r = result(&s, &id, "N");
        assert_eq!(
            r["authState"], "SUCCESS",
            "the device's own FAIL is advisory: {r}"
        );
    }
}

#[test]
fn late_evidence_and_expired_ids_are_refused() {
    for db in BOTH {
        let st = settings(&[Action::Blink]);
        let window = st.window_ms();
        let s = TestServer::start(db, st);
        // evidence after the window
        let id = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
        s.start_id(&id);
        s.state.clock.advance(window + 1);
        let fp = s.fingerprint();
        let (status, v) = s.upload_video(&id, "blinkdet_video");
        assert_eq!((status, v["errCode"].as_u64()), (400, Some(50002)), "{v}");
        assert_eq!(v["cause"]["code"], "evidence.late");
        assert_eq!(fp, s.fingerprint(), "nothing stored");
        assert_eq!(result(&s, &id, "N")["authState"], "PROCESSING");
        // a fresh id, then 23 h pass: every call answers 54020
        let id2 = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
        s.state.clock.advance(realface::CERTIFY_ID_TTL_MS);
        for (method, path) in [
            ("POST", format!("/v1/certify/{id2}/start")),
            ("GET", format!("/v1/certify/{id2}/result")),
            ("GET", format!("/v1/certify/{id}/result")),
        ] {
            let (status, v) = s.call(method, &path, None, b"");
            assert_eq!(
                (status, v["errCode"].as_u64()),
                (404, Some(54020)),
                "{path}: {v}"
            );
        }
        let (status, v) = s.upload_video(&id, "blinkdet_video");
        assert_eq!(v["errCode"], 54020, "{status} {v}");
        // the sweeper deletes the references of expired ids
        let (swept, _) = s
            .block_on(s.state.store.sweep(s.state.clock.now_ms(), 30 * 86_400_000))
            .expect("sweep");
        assert_eq!(swept, 2);
    }
}

#[test]
fn a_device_capture_session_uploads_what_it_saw() {
    // the device side with the library: claim the server's id with the
    // nonce `start` gave, capture without the reference with the server's
    // session options, a person answering the prompts; upload the bundle
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::TurnLeft]));
        let (id, (status, v)) = s.answered("apfol_real2");
        assert_eq!(status, 200, "{v}");
        let r = result(&s, &id, "Y_M");
        assert_eq!(r["authState"], "SUCCESS", "{r}");
        assert!(r["base64Photo"].is_string());
    }
}

/// The command line in both roles against this server: the backend
/// (`realface backend certify`, with the app key) hands the certifyId and
/// its device token to the device (`realface verify --server`, which never
/// sees the key), which uploads a video file as recorded or a folder of
/// frames as the capture session's bundle; the backend reads the verdict
/// (`realface backend result`). The clip is asked for a nod it never makes
/// (checked offline at every prompt delay from 0.4 to 9 s, postponed prompts
/// included), so the outcome does not hang on the nonce's draw: a recorded
/// clip that happens to act inside a random prompt's window would pass now
/// and then, which `eval challenge` measures and this test must not depend
/// on. The flow runs end to end and the server's verdict is FAIL, as the
/// device's own capture says.
#[test]
fn the_cli_backend_and_device_run_the_whole_flow() {
    let exe = std::env::current_exe().expect("exe");
    let realface = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("realface"))
        .expect("target dir");
    assert!(
        realface.is_file(),
        "{} is missing: cargo build --release (the workspace builds it)",
        realface.display()
    );
    use std::ffi::{OsStr, OsString};
    let run = |args: &[&OsStr]| -> Value {
        let out = std::process::Command::new(&realface)
            .args(args)
            .env_remove("REALFACE_KEY")
            .output()
            .expect("realface");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    // `realface backend CMD` with this server and its app's credential
    let backend = |s: &TestServer, cmd: &str, rest: &[&OsStr]| -> Value {
        let head = [
            "backend",
            cmd,
            "--server",
            &s.url,
            "--app",
            &s.app.app_id,
            "--key",
            &s.app.key,
            "--json",
        ]
        .map(OsString::from);
        let args: Vec<&OsStr> = head
            .iter()
            .map(OsString::as_os_str)
            .chain(rest.iter().copied())
            .collect();
        run(&args)
    };
    let os = OsStr::new;
    let clip = "blinkdet_video";
    for source in ["video", "frames"] {
        let s = TestServer::start(Db::Sqlite, settings(&[Action::Nod]));
        let reference = clip_file(clip, "frame_0001.jpg");
        let issued = backend(
            &s,
            "certify",
            &[
                os("--id-card"),
                os(common::ID_CARD),
                os("--reference"),
                reference.as_os_str(),
            ],
        );
        let id = issued["certifyId"].as_str().expect("certifyId").to_string();
        let token = issued["deviceToken"]
            .as_str()
            .expect("deviceToken")
            .to_string();
        let input = if source == "video" {
            ("--video", common::source_video(clip).0)
        } else {
            ("--frames", common::data_dir().join("actions").join(clip))
        };
        let v = run(&[
            os("verify"),
            os("--server"),
            os(&s.url),
            os("--certify-id"),
            os(&id),
            os("--device-token"),
            os(&token),
            os("--json"),
            os(input.0),
            input.1.as_os_str(),
        ]);
        assert_eq!(v["device"]["auth_state"], "FAIL", "{source}: {v}");
        assert_eq!(v["server"]["judged"], true, "{source}: {v}");
        assert_ne!(v["server"]["clientCode"], 0, "{source}: {v}");
        assert!(
            v["server"].get("authState").is_none(),
            "the verdict is the backend's: {v}"
        );
        let verdict = backend(
            &s,
            "result",
            &[os("--certify-id"), os(&id), os("--photo"), os("Y_O")],
        );
        assert_eq!(verdict["authState"], "FAIL", "{source}: {verdict}");
        let why = &verdict["reasons"][0]["code"];
        assert!(
            why == "ACTION_TIMEOUT" || why == "NOT_AT_REST",
            "{source}: {verdict}"
        );
        assert!(verdict.get("base64Photo").is_none());
    }
}

#[test]
fn a_full_judging_pool_answers_60000_at_once() {
    // one worker, no waiting place: an upload while another is judged is
    // refused at once with 60000 and nothing is stored for it
    let s = TestServer::start(
        Db::Sqlite,
        Settings {
            workers: 1,
            queue: 0,
            ..settings(&[Action::Nod])
        },
    );
    let busy = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    let second = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    s.start_id(&busy);
    s.start_id(&second);
    std::thread::scope(|scope| {
        // the nod never comes: the whole 8.6 s clip is judged
        let first = scope.spawn(|| s.upload_video(&busy, "blinkdet_video"));
        std::thread::sleep(std::time::Duration::from_millis(700));
        let fp = s.fingerprint();
        let t = std::time::Instant::now();
        let (status, v) = s.upload_video(&second, "blinkdet_video");
        let waited = t.elapsed();
        assert_eq!((status, v["errCode"].as_u64()), (503, Some(60000)), "{v}");
        assert_eq!(v["cause"]["code"], "queue.full");
        assert_eq!(fp, s.fingerprint());
        let (status, v) = first.join().expect("first upload");
        assert_eq!(status, 200, "{v}");
        eprintln!("60000 answered in {waited:?} while another upload was judged");
    });
    // once the pool is free the same upload is judged
    let (status, v) = s.upload_video(&second, "blinkdet_video");
    assert_eq!(status, 200, "{v}");
}
