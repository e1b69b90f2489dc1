//! The browser side of the server's tests: a headless Chromium (the Debian
//! `chromium` and `chromium-driver` packages) whose camera is a file, the
//! capture page driven to its end, what it showed, and figures written to
//! target/web/figures.json.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use realface::source::TimedFrame;
use realface::RgbImage;
use serde_json::{json, Value};

use super::TestServer;

/// Writes frames as a YUV4MPEG2 file (4:2:0, BT.601 full range), the fake
/// camera's format.
pub fn write_y4m(path: &Path, frames: &[RgbImage], fps: u32) {
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
pub fn camera_file(dir: &Path, name: &str, frames: &[TimedFrame], min_ms: u64) -> PathBuf {
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
pub async fn browser(driver: &str, y4m: Option<&Path>, size: (u32, u32)) -> Client {
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

pub async fn state_of(c: &Client) -> (String, String, String) {
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
pub async fn in_view(c: &Client, css: &str) -> (bool, Value) {
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

/// What a capture showed: its last state, error code and text, every
/// state it went through in order (`ready:HINT` for the live hints before
/// the prompts), and the root's `data-analysis`, `data-analysis-fps` and
/// `data-mode`.
pub struct Shown {
    pub state: String,
    pub error: String,
    pub text: String,
    pub seen: Vec<String>,
    pub analysis: String,
    pub fps: f64,
    /// `data-mode`: how the prompts were timed (`device`, `scheduled`).
    pub mode: String,
}

/// Appends the root's state with its live hint (`ready:face_in_circle`)
/// to `seen` when it changed, and the live hint during the capture
/// (`capture:face_in_circle`; `capture:` when it went) when that changed.
pub async fn note_state(c: &Client, seen: &mut Vec<String>) {
    let v = c
        .execute(
            "var r = document.querySelector('section.rfc'); if (!r) return ['', '']; \
             var s = r.getAttribute('data-state') || ''; \
             return [s === 'ready' ? s + ':' + (r.getAttribute('data-live-hint') || '') : s, \
                     r.getAttribute('data-capture-hint') || ''];",
            vec![],
        )
        .await
        .expect("script");
    let now = v[0].as_str().unwrap_or_default();
    if !now.is_empty() && seen.last().map(String::as_str) != Some(now) {
        seen.push(now.to_string());
    }
    let hint = format!("capture:{}", v[1].as_str().unwrap_or_default());
    let last = seen.iter().rev().find(|x| x.starts_with("capture:"));
    if last.map_or(hint != "capture:", |l| *l != hint) {
        seen.push(hint);
    }
}

/// The live hints shown during a capture (`capture:KEY` entries of
/// [`Shown::seen`]).
pub fn capture_hints(seen: &[String]) -> Vec<&str> {
    seen.iter()
        .filter_map(|x| x.strip_prefix("capture:"))
        .filter(|k| !k.is_empty())
        .collect()
}

/// Opens the capture page for (`id`, `token`), waits for the end of the
/// capture (screenshots of the first prompt and of the end when `shots`
/// names them) and returns what it showed.
pub async fn capture(
    c: &Client,
    s: &TestServer,
    id: &str,
    token: &str,
    shots: Option<&str>,
) -> Shown {
    capture_prompted(c, s, id, token, shots, "device").await
}

/// [`capture`] with the page's `prompting` option: `device` (the page's
/// session prompts, its default) or `scheduled` (the nonce's fixed
/// schedule), which may carry further fragment parameters
/// (`scheduled&lang=zh-CN`).
pub async fn capture_prompted(
    c: &Client,
    s: &TestServer,
    id: &str,
    token: &str,
    shots: Option<&str>,
    prompting: &str,
) -> Shown {
    let url = format!(
        "{}/capture/{}#certifyId={id}&deviceToken={token}&prompting={prompting}",
        s.url, s.app.app_id
    );
    c.goto(&url).await.expect("open the capture page");
    let dir = super::root().join("target/web");
    std::fs::create_dir_all(&dir).expect("target/web");
    let t = Instant::now();
    let mut prompted = false;
    let mut hinted = false;
    let mut seen: Vec<String> = Vec::new();
    loop {
        note_state(c, &mut seen).await;
        let (state, error, text) = state_of(c).await;
        // a state seen here counts as seen, however briefly it showed
        if !state.is_empty() && state != "ready" && seen.last() != Some(&state) {
            seen.push(state.clone());
        }
        if state == "ready" && !hinted && !text.is_empty() {
            // the live hint is where the prompts will be: in view
            hinted = true;
            let (shown, rect) = in_view(c, ".rfc-prompt").await;
            assert!(shown, "the hint out of view: {rect}");
        }
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
                    .is_some_and(|t| t.starts_with("Step 1 of ") || t.starts_with("第 1 步")),
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
            let root = c.find(Locator::Css("section.rfc")).await.expect("root");
            let analysis = root
                .attr("data-analysis")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let fps = root
                .attr("data-analysis-fps")
                .await
                .ok()
                .flatten()
                .and_then(|f| f.parse().ok())
                .unwrap_or(0.0);
            let mode = root
                .attr("data-mode")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            return Shown {
                state,
                error,
                text,
                seen,
                analysis,
                fps,
                mode,
            };
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the capture did not end: {state} {error} {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An empty camera's lead before the person arrives (longer than the page
/// takes to load its analysis, so the person arrives after it runs).
pub const LEAD_MS: u64 = 5_000;
/// The person holds still this long before the recording starts: the
/// page's readiness time (`readyMs`, 800 ms) and about a frame.
pub const HOLD_MS: u64 = 900;

/// The camera of a person who arrives late: `lead_ms` of an empty grey
/// picture, then `hold_ms` of `frames`' first picture, then `frames` (their
/// times counted from the end of the hold, where the recording starts).
pub fn arriving_late(frames: &[TimedFrame], lead_ms: u64, hold_ms: u64) -> Vec<TimedFrame> {
    let first = &frames[0].image;
    let grey = RgbImage::from_pixel(first.width(), first.height(), image::Rgb([118, 118, 118]));
    let t0 = frames[0].t_ms;
    let mut out = vec![
        TimedFrame {
            image: grey,
            t_ms: 0,
        },
        TimedFrame {
            image: first.clone(),
            t_ms: lead_ms,
        },
    ];
    out.extend(frames.iter().map(|f| TimedFrame {
        image: f.image.clone(),
        t_ms: lead_ms + hold_ms + (f.t_ms - t0),
    }));
    out
}

pub fn verdict(s: &TestServer, id: &str) -> Value {
    let (status, v) = s.get(&format!("/v1/certify/{id}/result"));
    assert_eq!(status, 200, "{v}");
    v
}

/// Writes one figure of the web capture to target/web/figures.json (merged
/// with what other tests wrote).
pub fn write_figure(name: &str, value: Value) {
    let dir = super::root().join("target/web");
    std::fs::create_dir_all(&dir).expect("target/web");
    let path = dir.join("figures.json");
    let mut all: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    all[name] = value;
    std::fs::write(&path, serde_json::to_string_pretty(&all).expect("json")).expect("figures");
}

/// Sends `img` to the page as ImageData and runs `script` on it (with
/// `img` bound, and `done` to call with the answer).
pub async fn with_image(c: &Client, img: &RgbImage, script: &str, args: Vec<Value>) -> Value {
    use base64::Engine as _;
    let rgb = base64::engine::general_purpose::STANDARD.encode(img.as_raw());
    let mut all = vec![json!(rgb), json!(img.width()), json!(img.height())];
    all.extend(args);
    c.execute_async(
        &format!(
            "var done = arguments[arguments.length - 1]; \
             var raw = atob(arguments[0]); var w = arguments[1], h = arguments[2]; \
             var img = new ImageData(w, h); \
             for (var i = 0, j = 0; i < w * h; i++) {{ \
               img.data[j++] = raw.charCodeAt(3 * i); img.data[j++] = raw.charCodeAt(3 * i + 1); \
               img.data[j++] = raw.charCodeAt(3 * i + 2); img.data[j++] = 255; }} \
             var args = Array.prototype.slice.call(arguments, 3, arguments.length - 1); {script}"
        ),
        all,
    )
    .await
    .expect("script")
}
