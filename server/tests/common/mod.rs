//! Shared helpers of the server's tests: a real server on 127.0.0.1 over a
//! real store (a SQLite file, or a fresh database on the PostgreSQL server
//! that scripts/pg.sh started: $REALFACE_TEST_PG), one engine per test
//! binary, and an HTTP client. Missing data or PostgreSQL is a failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use realface::{EngineConfig, FaceEngine};
use realface_server::store::NewApp;
use realface_server::{AppState, Server, Settings, Store};
use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared evaluation data: $REALFACE_DATA, else ../shared/data beside the project.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("REALFACE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"));
    assert!(
        dir.join("actions/index.csv").is_file(),
        "evaluation data not found at {} (set REALFACE_DATA)",
        dir.display()
    );
    // Canonical, because a browser's file input refuses a path with `..` in it.
    dir.canonicalize().unwrap_or(dir)
}

pub fn clip_file(clip: &str, name: &str) -> PathBuf {
    data_dir().join("actions").join(clip).join(name)
}

/// The clip's original video (source.<ext>).
pub fn source_video(clip: &str) -> (PathBuf, &'static str) {
    for (ext, ctype) in [
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("mpg", "video/mpeg"),
    ] {
        let p = clip_file(clip, &format!("source.{ext}"));
        if p.is_file() {
            return (p, ctype);
        }
    }
    panic!("no source video in clip {clip}");
}

pub fn sample(name: &str) -> PathBuf {
    let p = root().join(".samples").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run `bash scripts/setup.sh`",
        p.display()
    );
    p
}

pub fn b64(path: &Path) -> String {
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(path).expect("read"))
}

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().expect("runtime"))
}

pub fn engine() -> Arc<FaceEngine> {
    static E: OnceLock<Arc<FaceEngine>> = OnceLock::new();
    E.get_or_init(|| {
        Arc::new(
            FaceEngine::new(EngineConfig::default().with_sessions_per_model(2))
                .unwrap_or_else(|e| panic!("engine: {e} (run `bash scripts/setup.sh`)")),
        )
    })
    .clone()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const BOTH: [Db; 2] = [Db::Sqlite, Db::Postgres];

/// The PostgreSQL server of scripts/pg.sh.
pub fn pg_admin_url() -> String {
    std::env::var("REALFACE_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "REALFACE_TEST_PG is not set: start PostgreSQL with \
             `d=$(mktemp -d) && bash scripts/pg.sh start $d && export REALFACE_TEST_PG=$(cat $d/url)` \
             (bash scripts/test.sh does it)"
        )
    })
}

/// A fresh, empty store of that kind; the TempDir keeps a SQLite file alive.
pub fn fresh_db(db: Db) -> (String, Option<tempfile::TempDir>) {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("realface.db");
            (path.to_string_lossy().into_owned(), Some(dir))
        }
        Db::Postgres => {
            let admin = pg_admin_url();
            let name = format!(
                "rf_{}",
                realface::session::certify::random_hex(8).expect("random")
            );
            runtime().block_on(async {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.expect("postgres");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut c)
                    .await
                    .expect("create database");
            });
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            (format!("{base}/{name}"), None)
        }
    }
}

/// A running server and an app to call it with.
pub struct TestServer {
    pub url: String,
    pub db: String,
    pub state: AppState,
    pub app: NewApp,
    /// The device token certify gave each id.
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
    _dir: Option<tempfile::TempDir>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    pub fn start(db: Db, settings: Settings) -> Self {
        Self::start_with(db, settings, false)
    }

    /// A server with `--demo` on (its /demo page plays the backend).
    pub fn start_demo(db: Db, settings: Settings) -> Self {
        Self::start_with(db, settings, true)
    }

    fn start_with(db: Db, settings: Settings, demo: bool) -> Self {
        let (url, dir) = fresh_db(db);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (server, addr, app) = runtime().block_on(async {
            let store = Store::open(&url, 8).await.expect("store");
            let app = store.add_app("test", 0, None).await.expect("app");
            assert!(store
                .deposit(&app.app_id, 10_000_000, 0)
                .await
                .expect("deposit"));
            let mut server = Server::with_parts(store, engine(), settings);
            if demo {
                server.enable_demo().await.expect("demo");
            }
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let s = server.clone();
            tokio::spawn(async move {
                let _ = s
                    .serve(listener, async {
                        let _ = rx.await;
                    })
                    .await;
            });
            (server, addr, app)
        });
        Self {
            url: format!("http://{addr}"),
            db: url,
            state: server.state().clone(),
            app,
            tokens: Default::default(),
            _dir: dir,
            _stop: tx,
        }
    }

    pub fn fingerprint(&self) -> String {
        runtime()
            .block_on(self.state.store.fingerprint())
            .expect("fingerprint")
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        runtime().block_on(f)
    }

    /// A request with the right credential: the id's device token on
    /// `start` and `evidence` (the device's routes), this app's key
    /// elsewhere. The device tokens certify answers are kept.
    pub fn call(&self, method: &str, path: &str, ctype: Option<&str>, body: &[u8]) -> (u16, Value) {
        let r = match device_route(path) {
            Some(id) => {
                let token = self.token(id);
                let hs = [("X-Realface-Device-Token", token.as_str())];
                request(&self.url, method, path, &hs, ctype, body)
            }
            None => request(&self.url, method, path, &self.app_creds(), ctype, body),
        };
        if path == "/v1/certify" {
            if let (Some(id), Some(t)) = (r.1["certifyId"].as_str(), r.1["deviceToken"].as_str()) {
                self.tokens
                    .lock()
                    .expect("tokens")
                    .insert(id.to_string(), t.to_string());
            }
        }
        r
    }

    /// This app's credential headers.
    pub fn app_creds(&self) -> [(&str, &str); 2] {
        [
            ("X-Realface-App", self.app.app_id.as_str()),
            ("X-Realface-Key", self.app.key.as_str()),
        ]
    }

    /// The device token certify gave `id` (empty if it gave none).
    pub fn token(&self, id: &str) -> String {
        self.tokens
            .lock()
            .expect("tokens")
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call(
            "POST",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None, b"")
    }

    /// A GET with the admin key `key`.
    pub fn admin_get(&self, key: &str, path: &str) -> (u16, Value) {
        request(
            &self.url,
            "GET",
            path,
            &[("X-Realface-Admin", key)],
            None,
            b"",
        )
    }

    /// certify with a reference photo; returns the certifyId.
    pub fn certify(&self, photo: &Path) -> String {
        let (s, v) = self.post_json(
            "/v1/certify",
            &serde_json::json!({"realName": "Test", "idCard": ID_CARD, "reference": {"photo": b64(photo)}}),
        );
        assert_eq!(s, 200, "{v}");
        v["certifyId"].as_str().expect("certifyId").to_string()
    }

    pub fn start_id(&self, id: &str) -> Value {
        let (s, v) = self.call("POST", &format!("/v1/certify/{id}/start"), None, b"");
        assert_eq!(s, 200, "{v}");
        v
    }

    pub fn upload_video(&self, id: &str, clip: &str) -> (u16, Value) {
        let (path, ctype) = source_video(clip);
        let bytes = std::fs::read(path).expect("video");
        self.call(
            "POST",
            &format!("/v1/certify/{id}/evidence"),
            Some(ctype),
            &bytes,
        )
    }
}

/// The certifyId of a device route (`/v1/certify/{id}/start|evidence`).
pub fn device_route(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/certify/")?;
    let (id, step) = rest.split_once('/')?;
    matches!(step, "start" | "evidence").then_some(id)
}

/// A valid ID number (the standard's worked example).
pub const ID_CARD: &str = "11010519491231002X";

pub fn agent() -> ureq::Agent {
    agent_within(None)
}

/// An agent whose calls end after `timeout` (None: no limit).
pub fn agent_within(timeout: Option<std::time::Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .build()
        .into()
}

/// Any request; the answer's status and JSON body.
pub fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    ctype: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    try_request(base, method, path, headers, ctype, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Any request; a transport error (server down) is an `Err`.
pub fn try_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    ctype: Option<&str>,
    body: &[u8],
) -> Result<(u16, Value), ureq::Error> {
    try_request_with(&agent(), base, method, path, headers, ctype, body)
}

/// [`try_request`] through `agent` (one with a time limit, say).
pub fn try_request_with(
    agent: &ureq::Agent,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    ctype: Option<&str>,
    body: &[u8],
) -> Result<(u16, Value), ureq::Error> {
    let url = format!("{base}{path}");
    let resp = if method == "GET" {
        let mut r = agent.get(&url);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.call()
    } else {
        let mut r = if method == "PUT" {
            agent.put(&url)
        } else {
            agent.post(&url)
        };
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(c) = ctype {
            r = r.header("Content-Type", c);
        }
        r.send(body)
    };
    let mut resp = resp?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()?;
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, v))
}

/// Evidence of three frames and no answer: judged quickly, and FAIL.
pub fn failing_bundle() -> Vec<u8> {
    let jpeg = b64(&clip_file("blinkdet_video", "frame_0001.jpg"));
    let frames: Vec<Value> = (0..3)
        .map(|i| serde_json::json!({"tMs": i * 100, "jpeg": jpeg}))
        .collect();
    serde_json::json!({ "frames": frames })
        .to_string()
        .into_bytes()
}

/// certify with the app's key on `base`: the certifyId and its device
/// token, or None when the call fails (the server is down, or refused).
pub fn issue(base: &str, app: &NewApp, body: &str) -> Option<(String, String)> {
    let hs = [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ];
    let Ok((200, v)) = try_request(
        base,
        "POST",
        "/v1/certify",
        &hs,
        Some("application/json"),
        body.as_bytes(),
    ) else {
        return None;
    };
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Some((field("certifyId"), field("deviceToken")))
}

/// The device's `start` of `id` on `base`, with its token.
pub fn device_start(base: &str, id: &str, token: &str) -> (u16, Value) {
    let dev = [("X-Realface-Device-Token", token)];
    request(
        base,
        "POST",
        &format!("/v1/certify/{id}/start"),
        &dev,
        None,
        b"",
    )
}

/// The device's `evidence` upload of a JSON `bundle` for `id`, with its token.
pub fn device_upload(base: &str, id: &str, token: &str, bundle: &[u8]) -> (u16, Value) {
    let dev = [("X-Realface-Device-Token", token)];
    request(
        base,
        "POST",
        &format!("/v1/certify/{id}/evidence"),
        &dev,
        Some("application/json"),
        bundle,
    )
}

/// The reference embedding of a photo, as the API takes it.
pub fn embedding_json(photo: &Path) -> Value {
    let e = engine();
    let img = e.load(photo).expect("photo");
    serde_json::to_value(e.embed_image(&img).expect("embedding")).expect("json")
}

/// A certify body whose reference is the embedding of the clip's first frame.
pub fn certify_body_with_embedding(clip: &str) -> String {
    let reference = embedding_json(&clip_file(clip, "frame_0001.jpg"));
    serde_json::json!({"realName": "Load", "idCard": ID_CARD, "reference": {"embedding": reference}})
        .to_string()
}

/// A `realface-server` process on a free port of 127.0.0.1.
pub struct Process {
    pub child: std::process::Child,
    pub url: String,
}

pub fn server_bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_realface-server"))
}

/// A free port of 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A plain connection pool to a store's database (`--db` as the server
/// takes it), for a test's own SQL.
pub async fn sql_pool(db: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&realface_server::store::url_of(db).0)
        .await
        .expect("store pool")
}

/// `realface-server app add --db DB --name NAME --json`, then a deposit.
pub fn app_add(db: &str, name: &str) -> NewApp {
    let out = server_bin()
        .args(["app", "add", "--db", db, "--name", name, "--json"])
        .output()
        .expect("realface-server app add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let app = NewApp {
        app_id: v["appId"].as_str().expect("appId").into(),
        key: v["key"].as_str().expect("key").into(),
    };
    // `realface-server deposit`: 100,000 yuan
    let out = server_bin()
        .args([
            "deposit",
            "--db",
            db,
            "--app",
            &app.app_id,
            "--amount",
            "100000",
        ])
        .output()
        .expect("realface-server deposit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app
}

/// `realface-server app webhook --db DB --app APP --url URL`: the secret.
pub fn webhook_add(db: &str, app: &str, url: &str) -> String {
    let out = server_bin()
        .args(["app", "webhook", "--db", db, "--app", app, "--url", url])
        .output()
        .expect("realface-server app webhook");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["secret"].as_str().expect("secret").to_string()
}

impl Process {
    /// `realface-server serve --db DB --listen 127.0.0.1:PORT ARGS...`, once
    /// it answers /healthz.
    pub fn serve(db: &str, args: &[&str]) -> Self {
        Self::serve_to(db, args, std::process::Stdio::null())
    }

    /// [`Process::serve`] with its stderr (the logs) going to `stderr`.
    pub fn serve_to(db: &str, args: &[&str], stderr: std::process::Stdio) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        let child = server_bin()
            .args(["serve", "--db", db, "--listen", &listen])
            .args(args)
            .stderr(stderr)
            .spawn()
            .expect("realface-server serve");
        let p = Self {
            child,
            url: format!("http://{listen}"),
        };
        for _ in 0..600 {
            if let Ok((200, _)) = try_request(&p.url, "GET", "/healthz", &[], None, b"") {
                return p;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("realface-server did not answer on {listen}");
    }

    /// SIGKILL, no shutdown.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who answers a challenge in the tests: `lp_d9` blinks slowly (its eyes
/// closed at 9.7 s), `apfol_real2` turns left (0.7 s) and right (3.6 s).
pub fn person_for(action: realface::Action) -> &'static str {
    match action {
        realface::Action::Blink => "lp_d9",
        _ => "apfol_real2",
    }
}

/// The device side of a server's challenge: a capture session claimed with
/// the id and nonce `start` answered, run with the server's own
/// `sessionOptions`, fed by a person (real frames of `clip`) who answers
/// each prompt 400 ms after it is shown; returns the evidence bundle.
pub fn answered_bundle(id: &str, start: &Value, clip: &str) -> Vec<u8> {
    use realface::eval::puppet::{answered_evidence, DemoClip, StartAnswer};
    let video = source_video(clip).0;
    let frames = realface::source::video::read_video(
        &video,
        engine().config().limits,
        realface::source::video::VideoLimits {
            max_frames: 20_000,
            max_duration_ms: 600_000,
        },
    )
    .expect("clip video");
    let puppet = DemoClip::named(clip)
        .and_then(|c| c.puppet(&frames))
        .expect("a demo clip");
    let start = StartAnswer::from_json(start).expect("the start answer");
    assert_eq!(start.certify_id, id, "the start answer's certifyId");
    answered_evidence(engine(), &start, &puppet).expect("the device's capture completes")
}

impl TestServer {
    /// Uploads a bundle as the evidence of `id`.
    pub fn upload_bundle(&self, id: &str, bundle: &[u8]) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/v1/certify/{id}/evidence"),
            Some("application/json"),
            bundle,
        )
    }

    /// Certifies `clip`'s first frame, starts it and uploads a person's
    /// answers to its prompts: the judged id.
    pub fn answered(&self, clip: &str) -> (String, (u16, Value)) {
        let id = self.certify(&clip_file(clip, "frame_0001.jpg"));
        let start = self.start_id(&id);
        let bundle = answered_bundle(&id, &start, clip);
        let r = self.upload_bundle(&id, &bundle);
        (id, r)
    }
}

/// The browser side: headless Chromium on the capture page.
pub mod page;

/// A webhook receiver on 127.0.0.1: it keeps every delivery and answers
/// as told (200, 500, or holds the request unanswered until told
/// otherwise, then closes it).
pub mod receiver {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::{Arc, Mutex};

    /// How the receiver answers.
    pub const OK: u8 = 0;
    pub const FAIL: u8 = 1;
    pub const HOLD: u8 = 2;
    /// Each request at random: 20% answered 500, 15% closed unanswered,
    /// 15% answered 200 after 800 ms, the rest 200 at once.
    pub const CHAOS: u8 = 3;

    /// What CHAOS does with the `n`th request: FAIL, HOLD (closed at once,
    /// unanswered), SLOW or OK.
    fn chaos(n: u64) -> u8 {
        match realface::rng::SplitMix::new(n).next_u64() % 100 {
            0..20 => FAIL,
            20..35 => HOLD,
            35..50 => SLOW,
            _ => OK,
        }
    }
    const SLOW: u8 = 4;

    /// One delivery as received.
    #[derive(Debug, Clone)]
    pub struct Delivery {
        pub signature: String,
        pub event_id_header: String,
        pub body: Vec<u8>,
        /// The status it was answered with (0: held, never answered).
        pub answered: u16,
    }

    impl Delivery {
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).expect("delivery JSON")
        }
        pub fn event_id(&self) -> String {
            self.json()["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    }

    pub struct Receiver {
        pub url: String,
        pub mode: Arc<AtomicU8>,
        pub got: Arc<Mutex<Vec<Delivery>>>,
    }

    /// A request's headers (lower-case names) and body.
    type Request = (Vec<(String, String)>, Vec<u8>);

    fn read_request(s: &mut std::net::TcpStream) -> Option<Request> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < len {
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Some((headers, body))
    }

    impl Receiver {
        pub fn start(mode: u8) -> Self {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
            let mode = Arc::new(AtomicU8::new(mode));
            let got = Arc::new(Mutex::new(Vec::new()));
            let (m, g) = (mode.clone(), got.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(mut s) = conn else { continue };
                    let (m, g) = (m.clone(), g.clone());
                    std::thread::spawn(move || {
                        let Some((headers, body)) = read_request(&mut s) else {
                            return;
                        };
                        let h = |name: &str| {
                            headers
                                .iter()
                                .find(|(k, _)| k == name)
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default()
                        };
                        let index = {
                            let mut got = g.lock().expect("lock");
                            got.push(Delivery {
                                signature: h("realface-signature"),
                                event_id_header: h("realface-event-id"),
                                body,
                                answered: 0,
                            });
                            got.len() - 1
                        };
                        let status = if m.load(Ordering::SeqCst) == CHAOS {
                            match chaos(index as u64) {
                                HOLD => return, // dropped: closed unanswered
                                FAIL => 500,
                                SLOW => {
                                    std::thread::sleep(std::time::Duration::from_millis(800));
                                    200
                                }
                                _ => 200,
                            }
                        } else {
                            // bounded: a held request is let go after 60 s
                            let mut waited = 0;
                            while m.load(Ordering::SeqCst) == HOLD && waited < 600 {
                                std::thread::sleep(std::time::Duration::from_millis(100));
                                waited += 1;
                            }
                            if waited > 0 {
                                return; // was held: closed unanswered
                            }
                            if m.load(Ordering::SeqCst) == OK {
                                200
                            } else {
                                500
                            }
                        };
                        let _ = write!(
                            s,
                            "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                        let _ = s.flush();
                        g.lock().expect("lock")[index].answered = status;
                    });
                }
            });
            Self { url, mode, got }
        }

        pub fn set(&self, mode: u8) {
            self.mode.store(mode, Ordering::SeqCst);
        }

        pub fn deliveries(&self) -> Vec<Delivery> {
            self.got.lock().expect("lock").clone()
        }

        /// Waits (at most `secs`) until `done` holds for the deliveries.
        pub fn wait_for(&self, secs: u64, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
            let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
            loop {
                let d = self.deliveries();
                if done(&d) || std::time::Instant::now() > end {
                    return d;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// A chromedriver process (Debian `chromium-driver`), killed on drop.
pub struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free port: the process and its URL.
pub fn chromedriver() -> (Driver, String) {
    use std::time::{Duration, Instant};
    let port = free_port();
    let child = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver (Debian package chromium-driver; bash scripts/system-deps.sh)");
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (Driver(child), url)
}

/// `apfol_real2` (its frames at 30 fps) as a person who answers turn
/// prompts: resting in its first 0.6 s, its recorded left (0.7 s) and
/// right (3.6 s) turns started `reaction_ms` after each prompt.
pub fn puppet_for_turns(
    frames: &[realface::source::TimedFrame],
    reaction_ms: u64,
) -> realface::eval::puppet::Puppet {
    use realface::eval::puppet::{Answer, Puppet};
    use realface::Action;
    let frame_ms = (frames[frames.len() - 1].t_ms - frames[0].t_ms) / (frames.len() as u64 - 1);
    Puppet {
        rest: Puppet::rest_from_clip(frames, 0, 600),
        answers: vec![
            Answer::from_clip(Action::TurnLeft, frames, 700, 200, 900),
            Answer::from_clip(Action::TurnRight, frames, 3600, 200, 700),
        ],
        frame_ms,
        reaction_ms,
    }
}

/// A video decoded at its own rate.
pub fn decode(path: &Path) -> Vec<realface::source::TimedFrame> {
    realface::source::video::read_video(
        path,
        engine().config().limits,
        realface::source::video::VideoLimits {
            max_frames: 20_000,
            max_duration_ms: 600_000,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A clip's original video, decoded.
pub fn clip_video_frames(clip: &str) -> Vec<realface::source::TimedFrame> {
    decode(&source_video(clip).0)
}
