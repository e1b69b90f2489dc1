//! The whole flow over HTTP on 127.0.0.1, on SQLite and on PostgreSQL:
//! certify → start → evidence → result, with real clips at their own
//! frame rate. The server's verdict is the one that counts.

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
    let id = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    assert_eq!(result(&s, &id, "N")["authState"], "PROCESSING");
    let start = s.start_id(&id);
    assert_eq!(start["actions"], json!(["blink"]));
    assert!(start["deadlineMs"].as_u64().expect("deadline") > 0);
    let (status, v) = s.upload_video(&id, "blinkdet_video");
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
    let (status, v) = s.upload_video(&id, "blinkdet_video");
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

#[test]
fn another_persons_reference_fails() {
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::Blink]));
        let id = s.certify(&sample("biden.jpg"));
        s.start_id(&id);
        let (status, v) = s.upload_video(&id, "blinkdet_video");
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
    // the 10 fps frames of a genuine clip, as a JSON bundle, with the
    // device's own result kept as advisory only
    let frames: Vec<Value> = (1..=40)
        .map(|i| {
            let f = clip_file("apfol_real2", &format!("frame_{i:04}.jpg"));
            json!({"tMs": (i - 1) * 100, "jpeg": common::b64(&f)})
        })
        .collect();
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::TurnLeft]));
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        s.start_id(&id);
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
    // nonce `start` gave, capture without the reference, upload the bundle
    use realface::session::{Reference, SessionOptions, VerificationSession};
    use realface::{AuthState, CertifyRegistry, ChallengeSpec, IssuedId};
    for db in BOTH {
        let s = TestServer::start(db, settings(&[Action::TurnLeft]));
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let start = s.start_id(&id);
        let issued = IssuedId {
            certify_id: id.clone(),
            challenge_nonce: start["challengeNonce"].as_str().expect("nonce").into(),
            expires_ms: start["expiresAt"].as_u64().expect("expiry"),
        };
        let ticket = CertifyRegistry::new()
            .claim_issued(&issued, realface::session::certify::unix_now_ms())
            .expect("ticket");
        let actions: Vec<Action> = start["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a.as_str().expect("name").parse().expect("action"))
            .collect();
        let options = SessionOptions::default()
            .with_challenge(ChallengeSpec::Fixed(actions))
            .with_record_evidence(true);
        let mut session =
            VerificationSession::new(common::engine(), ticket, Reference::Server, options)
                .expect("session");
        for i in 1..=40u64 {
            let f = common::engine()
                .load(clip_file("apfol_real2", &format!("frame_{i:04}.jpg")))
                .expect("frame");
            let _ = session.push_frame(&f, (i - 1) * 100);
            if session.is_finished() {
                break;
            }
        }
        let device = session.finish();
        assert_eq!(
            device.auth_state,
            AuthState::Processing,
            "capture only: {:?}",
            device.reasons
        );
        assert_eq!(device.client_code, 0);
        let bundle = session.evidence().expect("evidence");
        let (status, v) = s.call(
            "POST",
            &format!("/v1/certify/{id}/evidence"),
            Some("application/json"),
            &bundle,
        );
        assert_eq!(status, 200, "{v}");
        let r = result(&s, &id, "Y_M");
        assert_eq!(r["authState"], "SUCCESS", "{r}");
        assert!(r["base64Photo"].is_string());
    }
}

/// `realface verify --server`: the command-line device against this server,
/// with a video file (uploaded as recorded) and with a folder of frames
/// (uploaded as the capture session's bundle).
#[test]
fn the_cli_device_runs_the_whole_flow() {
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
    for (action, clip, source) in [
        (Action::Blink, "blinkdet_video", "video"),
        (Action::TurnLeft, "apfol_real2", "frames"),
    ] {
        let s = TestServer::start(Db::Sqlite, settings(&[action]));
        let mut cmd = std::process::Command::new(&realface);
        cmd.args([
            "verify",
            "--server",
            &s.url,
            "--app",
            &s.app.app_id,
            "--key",
            &s.app.key,
        ])
        .args([
            "--id-card",
            common::ID_CARD,
            "--photo",
            "Y_O",
            "--json",
            "--reference",
        ])
        .arg(clip_file(clip, "frame_0001.jpg"));
        if source == "video" {
            cmd.arg("--video").arg(common::source_video(clip).0);
        } else {
            cmd.arg("--frames")
                .arg(common::data_dir().join("actions").join(clip));
        }
        let out = cmd.output().expect("realface verify --server");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["device"]["auth_state"], "PROCESSING", "{source}: {v}");
        assert_eq!(v["server"]["authState"], "SUCCESS", "{source}: {v}");
        assert!(v["server"]["base64Photo"].is_string());
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
