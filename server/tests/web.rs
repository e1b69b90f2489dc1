//! The web capture end to end in a real headless Chromium whose camera is a
//! file (`--use-file-for-fake-video-capture=FILE.y4m`): the hosted capture
//! page (`/capture/{appId}`) loads `realface-capture.js`, asks for the
//! camera, starts the certifyId as a web capture, shows the prompts of the
//! schedule fixed from its nonce while `MediaRecorder` records, uploads the
//! WebM and shows the server's verdict.
//!
//! - Genuine: `apfol_real2`'s real frames, arranged so that its recorded
//!   turns answer the prompts of the schedule (the test reads the nonce
//!   from the store and recomputes it, as the server does): SUCCESS.
//! - Attacks: the same clip as recorded, and the phone-screen replay
//!   `fake2.webm` (of the same person): FAIL.
//! - Errors: a denied camera and an expired certifyId show their messages.
//!
//! Screenshots go to target/web/*.png.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{chromedriver, clip_file, Db, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};
use realface::liveness::actions::Action;
use realface::session::challenge::{draw, seed};
use realface::session::prompt::Schedule;
use realface::source::TimedFrame;
use realface::RgbImage;
use realface_server::Settings;
use serde_json::{json, Value};

const SEED: u64 = 20_261_204;
const ADMIN: &str = "0123456789abcdef0123456789abcdef";

fn settings() -> Settings {
    Settings {
        // apfol_real2 turns left at 0.7 s, before any prompt can come
        // (warm-up plus the shortest delay, 1 s): as recorded it cannot
        // answer, whatever the nonce
        actions: vec![Action::TurnLeft],
        challenge_count: 1,
        workers: 2,
        queue: 8,
        // the test server's fixed seed: the same certifyIds, nonces and
        // schedules on every run
        test_seed: Some(SEED),
        ..Settings::default()
    }
}

/// Writes frames as a YUV4MPEG2 file (4:2:0, BT.601 full range), the fake
/// camera's format.
fn write_y4m(path: &Path, frames: &[RgbImage], fps: u32) {
    use std::io::Write;
    let (w, h) = (frames[0].width() & !1, frames[0].height() & !1);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("y4m"));
    writeln!(out, "YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg").expect("header");
    let (cw, ch) = (w / 2, h / 2);
    for f in frames {
        let mut y = Vec::with_capacity((w * h) as usize);
        let mut u = vec![0f32; (cw * ch) as usize];
        let mut v = vec![0f32; (cw * ch) as usize];
        for row in 0..h {
            for col in 0..w {
                let p = f
                    .get_pixel(col.min(f.width() - 1), row.min(f.height() - 1))
                    .0;
                let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
                y.push(
                    (0.299 * r + 0.587 * g + 0.114 * b)
                        .round()
                        .clamp(0.0, 255.0) as u8,
                );
                let i = ((row / 2) * cw + col / 2) as usize;
                u[i] += 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
                v[i] += 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
            }
        }
        let chroma = |c: Vec<f32>| -> Vec<u8> {
            c.into_iter()
                .map(|x| (x / 4.0).round().clamp(0.0, 255.0) as u8)
                .collect()
        };
        out.write_all(b"FRAME\n").expect("frame");
        out.write_all(&y).expect("y");
        out.write_all(&chroma(u)).expect("u");
        out.write_all(&chroma(v)).expect("v");
    }
    out.flush().expect("flush");
}

/// The fake camera's file for `frames` at 30 fps (each camera frame the
/// latest frame at its time), held on their last frame up to `min_ms` so
/// the camera does not loop back during a capture.
fn camera_file(dir: &Path, name: &str, frames: &[TimedFrame], min_ms: u64) -> PathBuf {
    let t0 = frames[0].t_ms;
    let mut images: Vec<RgbImage> = Vec::new();
    let mut i = 0;
    let mut j = 0u64;
    loop {
        let t = t0 + j * 1000 / 30;
        while i + 1 < frames.len() && frames[i + 1].t_ms <= t {
            i += 1;
        }
        if t > frames[frames.len() - 1].t_ms && t - t0 > min_ms {
            break;
        }
        images.push(frames[i].image.clone());
        j += 1;
    }
    let path = dir.join(format!("{name}.y4m"));
    write_y4m(&path, &images, 30);
    path
}

/// A browser whose camera is `y4m` (or that denies the camera), its window
/// `size` (width, height) pixels.
async fn browser(driver: &str, y4m: Option<&Path>, size: (u32, u32)) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        format!("--window-size={},{}", size.0, size.1),
        "--autoplay-policy=no-user-gesture-required".into(),
    ];
    let mut options = serde_json::Map::new();
    match y4m {
        Some(file) => {
            args.push("--use-fake-device-for-media-stream".into());
            args.push("--use-fake-ui-for-media-stream".into());
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                file.display()
            ));
        }
        None => {
            // the user says no to the camera
            args.push("--use-fake-device-for-media-stream".into());
            options.insert(
                "prefs".into(),
                json!({"profile.default_content_setting_values.media_stream_camera": 2}),
            );
        }
    }
    if size.0 < 500 {
        // a headless window is never narrower than 500 px: a phone's
        // viewport comes from the device emulation
        options.insert(
            "mobileEmulation".into(),
            json!({"deviceMetrics": {"width": size.0, "height": size.1, "pixelRatio": 1.0}}),
        );
    }
    options.insert("binary".into(), json!("/usr/bin/chromium"));
    options.insert("args".into(), json!(args));
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), Value::Object(options));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a WebDriver session")
}

async fn state_of(c: &Client) -> (String, String, String) {
    let root = match c.find(Locator::Css("section.rfc")).await {
        Ok(r) => r,
        Err(_) => return (String::new(), String::new(), String::new()),
    };
    let attr = |name: &'static str| {
        let root = root.clone();
        async move { root.attr(name).await.ok().flatten().unwrap_or_default() }
    };
    let prompt = match c.find(Locator::Css(".rfc-prompt")).await {
        Ok(p) => p.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    (attr("data-state").await, attr("data-error").await, prompt)
}

/// Whether the element `css` is shown and wholly inside the window's
/// viewport (seen without scrolling), with the viewport's size.
async fn in_view(c: &Client, css: &str) -> (bool, Value) {
    let v = c
        .execute(
            "var e = document.querySelector(arguments[0]); if (!e) return null; \
             var r = e.getBoundingClientRect(); \
             return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, \
                     w: window.innerWidth, h: window.innerHeight, text: e.textContent};",
            vec![json!(css)],
        )
        .await
        .expect("script");
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let shown = num("bottom") > num("top")
        && num("top") >= 0.0
        && num("left") >= 0.0
        && num("bottom") <= num("h")
        && num("right") <= num("w");
    (shown, v)
}

/// Opens the capture page for (`id`, `token`), waits for the end of the
/// capture (screenshots of the first prompt and of the end when `shots`
/// names them) and returns (state, error code, shown text).
async fn capture(
    c: &Client,
    s: &TestServer,
    id: &str,
    token: &str,
    shots: Option<&str>,
) -> (String, String, String) {
    let url = format!(
        "{}/capture/{}#certifyId={id}&deviceToken={token}",
        s.url, s.app.app_id
    );
    c.goto(&url).await.expect("open the capture page");
    let dir = common::root().join("target/web");
    std::fs::create_dir_all(&dir).expect("target/web");
    let t = Instant::now();
    let mut prompted = false;
    loop {
        let (state, error, text) = state_of(c).await;
        if state == "prompt" && !prompted {
            prompted = true;
            // the prompt and the step are on screen without scrolling, and
            // no countdown number is shown
            for css in [".rfc-prompt", ".rfc-step"] {
                let (shown, rect) = in_view(c, css).await;
                assert!(shown, "{css} out of view: {rect}");
            }
            let (_, step) = in_view(c, ".rfc-step").await;
            assert!(
                step["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Step 1 of ")),
                "{step}"
            );
            assert!(c.find(Locator::Css(".rfc-count")).await.is_err());
            if let Some(name) = shots {
                let png = c.screenshot().await.expect("screenshot");
                std::fs::write(dir.join(format!("{name}-prompt.png")), png).expect("png");
            }
        }
        if matches!(state.as_str(), "verified" | "failed" | "error" | "quit") {
            // read the final view once more after it settled
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (state, error, text) = state_of(c).await;
            if let Some(name) = shots {
                let png = c.screenshot().await.expect("screenshot");
                assert!(png.len() > 10_000, "a real screenshot");
                std::fs::write(dir.join(format!("{name}-verdict.png")), png).expect("png");
            }
            // the token left the address bar with the fragment
            let now = c.current_url().await.expect("url");
            assert!(!now.as_str().contains(token), "{now}");
            return (state, error, text);
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the capture did not end: {state} {error} {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn certify(s: &TestServer) -> (String, String) {
    let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
    let token = s.token(&id);
    (id, token)
}

/// The schedule the server will judge `id` by, from the stored nonce.
fn schedule_of(s: &TestServer, id: &str) -> Schedule {
    let row = s
        .block_on(s.state.store.certify_by_id(id))
        .expect("store")
        .expect("row");
    let st = &s.state.settings;
    let sd = seed(id, &row.nonce);
    let actions = draw(&st.actions, st.challenge_count, sd).expect("challenge");
    Schedule::of(sd, &actions, &st.session.prompt, st.session.warmup_ms)
}

fn verdict(s: &TestServer, id: &str) -> Value {
    let (status, v) = s.get(&format!("/v1/certify/{id}/result"));
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn the_browser_capture_answers_its_schedule_and_recordings_do_not() {
    let s = TestServer::start(Db::Sqlite, settings());
    s.block_on(s.state.store.set_admin_key(ADMIN))
        .expect("admin key");
    let tmp = tempfile::tempdir().expect("tmp");
    let clip = common::clip_video_frames("apfol_real2");

    // genuine: the clip's turns placed 700 ms after each prompt (the
    // recording starts a little after the camera, so the reaction seen is
    // a little shorter)
    let (id, token) = certify(&s);
    let schedule = schedule_of(&s, &id);
    eprintln!("schedule: {schedule:?}");
    let person = common::puppet_for_turns(&clip, 700).script(&schedule);
    let genuine = camera_file(tmp.path(), "genuine", &person, schedule.end_ms + 5_000);
    let raw = camera_file(tmp.path(), "raw", &clip, 20_000);
    let replay = camera_file(
        tmp.path(),
        "replay",
        &common::decode(&common::data_dir().join("spoof/apfol/videos/fake2.webm")),
        20_000,
    );

    let (_driver, driver) = chromedriver();
    s.block_on(async {
        let c = browser(&driver, Some(&genuine), (1366, 768)).await;
        let (state, error, text) = capture(&c, &s, &id, &token, Some("genuine")).await;
        assert_eq!(
            (state.as_str(), error.as_str()),
            ("verified", ""),
            "{text}: {}",
            verdict(&s, &id)
        );
        assert_eq!(text, "Verified");
        // the end user saw no score
        let page = c.source().await.expect("source");
        assert!(!page.contains("similarity") && !page.contains("score"));
        // the console lists the web verification's calls like a device's
        c.goto(&format!("{}/console", s.url))
            .await
            .expect("console");
        c.find(Locator::Id("key"))
            .await
            .expect("key")
            .send_keys(ADMIN)
            .await
            .expect("type");
        c.find(Locator::Id("login"))
            .await
            .expect("login")
            .click()
            .await
            .expect("click");
        let row = c
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("#records tbody tr"))
            .await
            .expect("records");
        let mut rows = vec![row.text().await.expect("row")];
        for r in c
            .find_all(Locator::Css("#records tbody tr"))
            .await
            .expect("rows")
        {
            rows.push(r.text().await.expect("row"));
        }
        assert!(
            rows.iter()
                .any(|r| r.contains(&id) && r.contains("evidence") && r.contains("SUCCESS")),
            "{rows:?}"
        );
        c.close().await.expect("close");
    });
    let v = verdict(&s, &id);
    assert_eq!(v["authState"], "SUCCESS", "{v}");
    for (a, p) in v["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .zip(&schedule.prompts)
    {
        assert_eq!(
            a["promptMs"],
            json!(p.at_ms),
            "judged on the nonce's schedule: {v}"
        );
    }

    // attacks: the clip as recorded, and its replay on a phone screen
    for (name, file, size) in [
        ("recorded", &raw, (360, 740)),
        ("replay", &replay, (1920, 1080)),
    ] {
        let (id, token) = certify(&s);
        // the clip turns left at 0.7 s and again at 2.3 s: a prompt just
        // before 2.3 s is answered by the recording itself (8 of 300
        // schedules, tests/scheduled.rs); the fixed seed's is not there
        let first = schedule_of(&s, &id).prompts[0].at_ms;
        assert!(
            !(1_800..=2_500).contains(&first),
            "{name}: the seed's prompt at {first} ms; pick another seed"
        );
        s.block_on(async {
            let c = browser(&driver, Some(file), size).await;
            let (state, _, text) = capture(&c, &s, &id, &token, Some(name)).await;
            assert_eq!(state, "failed", "{name}: {text}");
            // the person is told a safe category at most, never the attack
            let page = c.source().await.expect("source").to_lowercase();
            for word in ["attack", "spoof", "replay", "similarity", "score"] {
                assert!(!page.contains(word), "{name}: the page says {word}");
            }
            c.close().await.expect("close");
        });
        let v = verdict(&s, &id);
        assert_eq!(v["authState"], "FAIL", "{name}: {v}");
        eprintln!("{name}: FAIL {}", v["reasons"]);
    }

    // errors: the camera denied; an expired certifyId
    let (id, token) = certify(&s);
    s.block_on(async {
        let c = browser(&driver, None, (600, 900)).await;
        let (state, error, text) = capture(&c, &s, &id, &token, Some("denied")).await;
        assert_eq!((state.as_str(), error.as_str()), ("error", "camera_denied"));
        assert!(text.contains("Camera access was denied"), "{text}");
        c.close().await.expect("close");
    });
    // nothing was started: the id still waits for its capture
    assert_eq!(verdict(&s, &id)["authState"], "PROCESSING");
    s.state
        .clock
        .advance(realface::session::certify::CERTIFY_ID_TTL_MS + 1);
    s.block_on(async {
        let c = browser(&driver, Some(&raw), (600, 900)).await;
        let (state, error, text) = capture(&c, &s, &id, &token, Some("expired")).await;
        assert_eq!(
            (state.as_str(), error.as_str()),
            ("error", "certify_expired")
        );
        assert!(text.contains("expired"), "{text}");
        c.close().await.expect("close");
    });

    // the keyboard quits: Esc opens the quit dialog, its Quit button ends
    // the capture, nothing is uploaded
    let (id, token) = certify(&s);
    s.block_on(async {
        let c = browser(&driver, Some(&raw), (600, 900)).await;
        let url = format!(
            "{}/capture/{}#certifyId={id}&deviceToken={token}",
            s.url, s.app.app_id
        );
        c.goto(&url).await.expect("open the capture page");
        let t = Instant::now();
        while state_of(&c).await.0 != "hold" {
            assert!(t.elapsed() < Duration::from_secs(60), "no hold state");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.active_element()
            .await
            .expect("focus")
            .send_keys("\u{e00c}")
            .await
            .expect("Esc");
        let dialog = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(".rfc-dialog:not([hidden]) button.rfc-danger"))
            .await
            .expect("the quit dialog");
        dialog.click().await.expect("quit");
        let (state, error, _) = state_of(&c).await;
        assert_eq!((state.as_str(), error.as_str()), ("quit", ""));
        c.close().await.expect("close");
    });
    assert_eq!(
        verdict(&s, &id)["authState"],
        "PROCESSING",
        "nothing uploaded"
    );
}

/// An empty camera (a grey picture), through the demo page: the demo's form
/// leaves the screen during the capture, the server's verdict is
/// NO_FACE_CAPTURED, the person is told that no face was seen, and Try again
/// starts a new capture on a new certifyId from the host page's `onRetry`.
#[test]
fn an_empty_camera_is_told_no_face_and_may_try_again() {
    let s = TestServer::start_demo(Db::Sqlite, settings());
    let tmp = tempfile::tempdir().expect("tmp");
    let grey = vec![RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118])); 30];
    let empty = tmp.path().join("empty.y4m");
    write_y4m(&empty, &grey, 30);
    let photo = clip_file("apfol_real2", "frame_0001.jpg");
    let (_driver, driver) = chromedriver();
    s.block_on(async {
        let c = browser(&driver, Some(&empty), (360, 740)).await;
        c.goto(&format!("{}/demo", s.url)).await.expect("demo");
        c.find(Locator::Id("photo"))
            .await
            .expect("#photo")
            .send_keys(&photo.display().to_string())
            .await
            .expect("pick the photo");
        c.find(Locator::Id("go"))
            .await
            .expect("#go")
            .click()
            .await
            .expect("start");
        c.wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("section.rfc"))
            .await
            .expect("the capture");
        for id in ["demo-form", "intro"] {
            let e = c.find(Locator::Id(id)).await.expect(id);
            assert!(
                !e.is_displayed().await.expect("shown?"),
                "#{id} shown during the capture"
            );
        }
        let first = c
            .find(Locator::Id("demo-status"))
            .await
            .expect("status")
            .text()
            .await
            .expect("text");
        let t = Instant::now();
        let (state, _, text) = loop {
            let now = state_of(&c).await;
            if matches!(now.0.as_str(), "failed" | "verified" | "error") {
                break now;
            }
            assert!(t.elapsed() < Duration::from_secs(120), "no end: {now:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(state, "failed", "{text}");
        let root = c.find(Locator::Css("section.rfc")).await.expect("root");
        assert_eq!(
            root.attr("data-hint").await.expect("hint").as_deref(),
            Some("hint.no_face")
        );
        let message = c
            .find(Locator::Id("rfc-dialog-message"))
            .await
            .expect("dialog")
            .text()
            .await
            .expect("text");
        assert!(message.starts_with("No face was seen"), "{message}");
        let png = c.screenshot().await.expect("screenshot");
        let dir = common::root().join("target/web");
        std::fs::create_dir_all(&dir).expect("target/web");
        std::fs::write(dir.join("empty-verdict.png"), png).expect("png");
        // the backend's view: NO_FACE_CAPTURED, with its reasons
        let backend = c
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("#backend:not([hidden]) #backend-result"))
            .await
            .expect("#backend-result")
            .text()
            .await
            .expect("text");
        let v: Value = serde_json::from_str(&backend).expect("json");
        assert_eq!(v["authState"], "FAIL", "{v}");
        assert_eq!(v["reasons"][0]["code"], "NO_FACE_CAPTURED", "{v}");
        // Try again: a new certifyId, a new capture
        c.find(Locator::Css(".rfc-dialog:not([hidden]) button.rfc-retry"))
            .await
            .expect("Try again")
            .click()
            .await
            .expect("click");
        let t = Instant::now();
        loop {
            let status = c
                .find(Locator::Id("demo-status"))
                .await
                .expect("status")
                .text()
                .await
                .expect("text");
            let (state, _, _) = state_of(&c).await;
            if status != first && matches!(state.as_str(), "camera" | "starting" | "hold") {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "no new capture: {status} {state}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.close().await.expect("close");
    });
}
