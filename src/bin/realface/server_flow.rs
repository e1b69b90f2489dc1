//! The command line against a realface-server, in its two roles:
//! - the business backend (`realface backend certify|result`): it holds the
//!   app key, issues a certifyId with the reference photo (the server hands
//!   back the id's device token) and reads the verdict;
//! - the device (`realface verify --server URL --certify-id ID
//!   --device-token T`): it holds only that id and token, starts the
//!   challenge, runs a capture-only session over the video or frames and
//!   uploads what it saw (the video file as recorded, or the session's
//!   frame bundle). It never sees the app key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use realface::session::start::StartAnswer;
use realface::{ChallengeSpec, EngineConfig, Error, FaceEngine, Result};
use serde_json::{json, Value};

use crate::verify_cmd::{open_source, show};
use crate::{Cli, CmdResult};

/// How a call authenticates.
pub enum Credential<'a> {
    /// The business backend: its app id and key.
    App { app: &'a str, key: &'a str },
    /// The device: one certifyId's device token.
    Device { token: &'a str },
}

struct Client<'a> {
    base: &'a str,
    credential: Credential<'a>,
    agent: ureq::Agent,
}

impl<'a> Client<'a> {
    fn new(base: &'a str, credential: Credential<'a>) -> Self {
        Self {
            base,
            credential,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    fn headers(&self) -> Vec<(&'static str, &str)> {
        match self.credential {
            Credential::App { app, key } => vec![("X-Realface-App", app), ("X-Realface-Key", key)],
            Credential::Device { token } => vec![("X-Realface-Device-Token", token)],
        }
    }

    /// One call; an answer with `errCode` != 0 is an error carrying its body.
    fn call(
        &self,
        method: &str,
        path: &str,
        ctype: Option<&str>,
        extra: Option<(&str, &str)>,
        body: &[u8],
    ) -> Result<Value> {
        let url = format!("{}{path}", self.base.trim_end_matches('/'));
        let transport = |e: ureq::Error| Error::Io {
            path: PathBuf::from(&url),
            source: std::io::Error::other(e.to_string()),
        };
        let resp = if method == "GET" {
            let mut r = self.agent.get(&url);
            for (k, v) in self.headers() {
                r = r.header(k, v);
            }
            r.call()
        } else {
            let mut r = self.agent.post(&url);
            for (k, v) in self.headers() {
                r = r.header(k, v);
            }
            if let Some(c) = ctype {
                r = r.header("Content-Type", c);
            }
            if let Some((k, v)) = extra {
                r = r.header(k, v);
            }
            r.send(body)
        };
        let text = resp
            .map_err(transport)?
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(transport)?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|_| Error::invalid("server", format!("{method} {path}: not JSON: {text}")))?;
        if v["errCode"] != 0 {
            return Err(Error::invalid("server", format!("{method} {path}: {v}")));
        }
        Ok(v)
    }
}

fn print(v: &Value, json: bool) {
    if json {
        println!("{v}");
    } else {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
}

/// What `realface backend certify` sends.
pub struct CertifyArgs<'a> {
    pub server: &'a str,
    pub app: &'a str,
    pub key: &'a str,
    pub id_card: &'a str,
    pub name: &'a str,
    pub reference: &'a Path,
    pub json: bool,
}

/// The backend issues a certifyId: prints `certifyId`, `deviceToken` (hand
/// both to the device) and `expiresAt`.
pub fn certify(args: &CertifyArgs) -> Result<()> {
    let client = Client::new(
        args.server,
        Credential::App {
            app: args.app,
            key: args.key,
        },
    );
    let photo = std::fs::read(args.reference).map_err(|e| Error::Io {
        path: args.reference.to_path_buf(),
        source: e,
    })?;
    let body = json!({
        "realName": args.name,
        "idCard": args.id_card,
        "reference": {"photo": base64::engine::general_purpose::STANDARD.encode(photo)},
    });
    let v = client.call(
        "POST",
        "/v1/certify",
        Some("application/json"),
        None,
        body.to_string().as_bytes(),
    )?;
    let out = json!({
        "certifyId": v["certifyId"],
        "deviceToken": v["deviceToken"],
        "expiresAt": v["expiresAt"],
    });
    print(&out, args.json);
    Ok(())
}

/// The backend reads the verdict of `certify_id` (`photo`: Y_O, Y_M or N).
pub fn result(
    server: &str,
    app: &str,
    key: &str,
    certify_id: &str,
    photo: &str,
    json: bool,
) -> Result<()> {
    let client = Client::new(server, Credential::App { app, key });
    let v = client.call(
        "GET",
        &format!("/v1/certify/{certify_id}/result?needAlivePhoto={photo}"),
        None,
        None,
        b"",
    )?;
    print(&v, json);
    Ok(())
}

/// What the device side of `realface verify --server` runs with.
pub struct DeviceArgs<'a> {
    pub server: &'a str,
    pub certify_id: &'a str,
    pub device_token: &'a str,
    pub frames: Option<&'a Path>,
    pub video: Option<&'a Path>,
    pub fps: f64,
    pub json: bool,
}

fn video_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("webm") => "video/webm",
        Some("mpg" | "mpeg") => "video/mpeg",
        _ => "video/mp4",
    }
}

/// The device: start, capture, upload; prints the device's own result and
/// the server's answer to the upload (`judged`, `clientCode`). The verdict
/// itself is the backend's to read.
pub fn run_device(args: &DeviceArgs, cfg: EngineConfig) -> Result<()> {
    let client = Client::new(
        args.server,
        Credential::Device {
            token: args.device_token,
        },
    );
    let id = args.certify_id;
    let start = client.call("POST", &format!("/v1/certify/{id}/start"), None, None, b"")?;
    // the server's own actions, timing and thresholds (its `start` hands
    // them over), so the prompts show when the server will expect the answers
    let start = StartAnswer::from_json(&start)?;
    if !args.json {
        let names: Vec<&str> = match &start.options.challenge {
            ChallengeSpec::Fixed(actions) => actions.iter().map(|a| a.name()).collect(),
            _ => Vec::new(),
        };
        eprintln!("certifyId {id}; the server asks for: {}", names.join(", "));
    }
    let engine = Arc::new(FaceEngine::new(cfg)?);
    let mut session = start.capture_session(engine.clone(), args.video.is_none())?;
    let mut source = open_source(args.video, args.frames, args.fps, engine.config().limits)?;
    let device = realface::source::run(&mut session, source.as_mut(), show(args.json));
    let device_json = serde_json::to_string(&device).unwrap_or_default();
    let path = format!("/v1/certify/{id}/evidence");
    let answer = match args.video {
        // the recording as the camera made it
        Some(v) => {
            let bytes = std::fs::read(v).map_err(|e| Error::Io {
                path: v.to_path_buf(),
                source: e,
            })?;
            client.call(
                "POST",
                &path,
                Some(video_type(v)),
                Some(("X-Realface-Device-Result", &device_json)),
                &bytes,
            )?
        }
        None => client.call(
            "POST",
            &path,
            Some("application/json"),
            None,
            &session.evidence()?,
        )?,
    };
    print(
        &json!({"certifyId": id, "device": device, "server": answer}),
        args.json,
    );
    Ok(())
}

/// The server a backend command calls, and the app's credential.
#[derive(clap::Args)]
pub struct BackendServer {
    /// The server (http://HOST:PORT).
    #[arg(long)]
    pub server: String,
    /// The app id (X-Realface-App).
    #[arg(long, env = "REALFACE_APP")]
    pub app: String,
    /// The app key (X-Realface-Key).
    #[arg(long, env = "REALFACE_KEY", hide_env_values = true)]
    pub key: String,
}

/// The business backend's calls to a realface-server.
#[derive(clap::Subcommand)]
pub enum BackendCommand {
    /// Issues a certifyId for a person: prints certifyId, deviceToken
    /// (hand both to the device) and expiresAt.
    Certify(BackendCertifyCmd),
    /// Reads the server's verdict on a certifyId.
    Result(BackendResultCmd),
}

impl BackendCommand {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        match self {
            Self::Certify(c) => c.run(cli),
            Self::Result(c) => c.run(cli),
        }
    }
}
/// Issues a certifyId for a person: prints certifyId, deviceToken
/// (hand both to the device) and expiresAt.
#[derive(clap::Args)]
pub struct BackendCertifyCmd {
    #[command(flatten)]
    pub to: BackendServer,
    /// The 18-character resident ID number.
    #[arg(long)]
    pub id_card: String,
    /// The real name.
    #[arg(long, default_value = "realface")]
    pub name: String,
    /// The reference photo (ID or enrolment photo) with one face.
    #[arg(long)]
    pub reference: PathBuf,
    /// Print one JSON line.
    #[arg(long)]
    pub json: bool,
}

impl BackendCertifyCmd {
    /// Runs the command.
    pub fn run(&self, _cli: &Cli) -> CmdResult {
        let Self {
            to,
            id_card,
            name,
            reference,
            json,
        } = self;

        certify(&CertifyArgs {
            server: &to.server,
            app: &to.app,
            key: &to.key,
            id_card,
            name,
            reference,
            json: *json,
        })
        .map_err(|e| ("backend certify".to_string(), e))
    }
}

/// Reads the server's verdict on a certifyId.
#[derive(clap::Args)]
pub struct BackendResultCmd {
    #[command(flatten)]
    pub to: BackendServer,
    /// The certifyId.
    #[arg(long)]
    pub certify_id: String,
    /// Photo in the result: Y_O original, Y_M background mosaicked, N none.
    #[arg(long, default_value = "N")]
    pub photo: String,
    /// Print one JSON line.
    #[arg(long)]
    pub json: bool,
}

impl BackendResultCmd {
    /// Runs the command.
    pub fn run(&self, _cli: &Cli) -> CmdResult {
        let Self {
            to,
            certify_id,
            photo,
            json,
        } = self;

        result(&to.server, &to.app, &to.key, certify_id, photo, *json)
            .map_err(|e| ("backend result".to_string(), e))
    }
}
