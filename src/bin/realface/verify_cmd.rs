//! `realface verify`.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use realface::liveness::actions::Action;
use realface::session::certify::{unix_now_ms as now_ms, CertifyRegistry};
use realface::session::challenge::ChallengeSpec;
use realface::session::photo::PhotoKind;
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::source::FrameEvent;
use realface::{EngineConfig, Error, ErrorCode, FaceEngine, Result};

use crate::{config, server_flow, Cli};
use crate::{with_path, CmdResult};
use std::path::PathBuf;

pub struct VerifyArgs<'a> {
    pub reference: &'a Path,
    pub frames: Option<&'a Path>,
    pub video: Option<&'a Path>,
    pub fps: f64,
    pub actions: Option<&'a str>,
    pub random: Option<usize>,
    pub prompt_delays_ms: Option<&'a str>,
    /// Fixed release cues (ms after the first frame), one per action.
    pub release_at_ms: Option<&'a str>,
    pub issued: Option<realface::IssuedId>,
    pub photo: &'a str,
    /// Where to write the result's photo (JPEG).
    pub photo_out: Option<&'a Path>,
    /// No progress lines.
    pub quiet: bool,
    pub json: bool,
}

/// The frames of `--video` or `--frames`.
pub fn open_source(
    video: Option<&Path>,
    frames: Option<&Path>,
    fps: f64,
    limits: realface::Limits,
) -> Result<Box<dyn realface::source::FrameSource>> {
    Ok(match (video, frames) {
        (Some(v), _) => Box::new(realface::source::video::VideoSource::open(
            v,
            limits,
            realface::source::video::VideoLimits::default(),
        )?),
        (None, Some(dir)) => Box::new(realface::source::DirSource::open(dir, fps, limits)?),
        (None, None) => {
            return Err(Error::invalid(
                "frames",
                "give --frames DIR or --video FILE",
            ))
        }
    })
}

/// Prints session progress and refused frames to stderr (unless `quiet`).
pub fn show(quiet: bool) -> impl FnMut(FrameEvent<'_>) -> ControlFlow<()> {
    move |ev| {
        match ev {
            FrameEvent::Progress(f, p) if !quiet => eprintln!(
                "{:>6} ms  {:?}  ring {:.2}  {}",
                f.t_ms, p.state, p.ring, p.prompt
            ),
            FrameEvent::Progress(..) => {}
            FrameEvent::Error(f, e) => match f {
                Some(f) => eprintln!("realface: frame at {} ms: {e}", f.t_ms),
                None => eprintln!("realface: frame skipped: {e}"),
            },
        }
        ControlFlow::Continue(())
    }
}

/// `D1,D2,...`: non-negative whole milliseconds (`what` names the option).
pub(crate) fn parse_delays(list: &str, what: &'static str) -> Result<Vec<u64>> {
    list.split(',')
        .map(|d| {
            d.trim().parse::<u64>().map_err(|_| {
                Error::invalid(
                    what,
                    format!("`{d}` is not a whole number of milliseconds >= 0"),
                )
            })
        })
        .collect()
}

/// `realface verify`: errors name their input (the reference photo, the
/// video or the frame folder, or `verify` for the options).
pub fn verify(args: &VerifyArgs, cfg: EngineConfig) -> CmdResult {
    let at = |e: Error| ("verify".to_string(), e);
    let (options, ticket) = setup(args).map_err(at)?;
    let engine = Arc::new(FaceEngine::new(cfg).map_err(|e| ("setup".to_string(), e))?);
    let reference = engine
        .load(args.reference)
        .map_err(|e| reference_error(args.reference, e))?;
    // the session embeds the reference photo: a photo without exactly one
    // face is the reference's error, not the session's
    let mut session =
        VerificationSession::new(engine.clone(), ticket, Reference::Photo(reference), options)
            .map_err(|e| match e.code() {
                ErrorCode::NoFace | ErrorCode::MultipleFaces => reference_error(args.reference, e),
                _ => at(e),
            })?;
    let input = args.video.or(args.frames).unwrap_or(Path::new("frames"));
    let mut source = open_source(args.video, args.frames, args.fps, engine.config().limits)
        .map_err(|e| with_path(input, e))?;
    if !args.json && !args.quiet {
        let names: Vec<&str> = session.actions().iter().map(|a| a.name()).collect();
        eprintln!(
            "certifyId {}; challenge: {}",
            session.certify_id(),
            names.join(", ")
        );
    }
    let result =
        realface::source::run(&mut session, source.as_mut(), show(args.json || args.quiet));
    if args.json {
        println!("{}", serde_json::to_string(&result).unwrap_or_default());
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        );
        // the last line says the verdict (the progress lines before it end
        // with whatever the last prompt was)
        let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let why = result
            .reasons
            .first()
            .map(|r| format!(" ({}: {})", name(serde_json::json!(r.code)), r.message))
            .unwrap_or_default();
        eprintln!(
            "realface: verify: {}{why}",
            name(serde_json::json!(result.auth_state))
        );
    }
    if let Some(out) = args.photo_out {
        write_photo(out, result.photo.as_deref())?;
    }
    Ok(())
}

/// The reference's error, named as the reference: `verify --reference
/// clip.mp4` says that the reference could not be decoded, and a reference
/// without a face says so.
fn reference_error(path: &Path, e: Error) -> (String, Error) {
    (format!("reference {}", path.display()), e)
}

/// Writes the result's photo (base64 JPEG) to `out`.
fn write_photo(out: &Path, photo: Option<&str>) -> CmdResult {
    use base64::Engine as _;
    let Some(b64) = photo else {
        return Err(with_path(
            out,
            Error::invalid(
                "photo_out",
                "the result has no photo (give --photo Y_O or Y_M; a session that kept no face has none)",
            ),
        ));
    };
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| with_path(out, Error::invalid("photo", e.to_string())))?;
    std::fs::write(out, jpeg).map_err(|source| {
        with_path(
            out,
            Error::Io {
                path: out.to_path_buf(),
                source,
            },
        )
    })
}

/// The session's options and ticket from the arguments.
fn setup(args: &VerifyArgs) -> Result<(SessionOptions, realface::session::certify::CertifyTicket)> {
    let challenge = match (args.actions, args.random) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "actions",
                "give --actions or --random, not both",
            ))
        }
        (Some(list), None) => ChallengeSpec::Fixed(
            list.split(',')
                .map(str::parse::<Action>)
                .collect::<Result<Vec<_>>>()?,
        ),
        (None, Some(n)) => ChallengeSpec::Random(n),
        (None, None) => ChallengeSpec::Random(2),
    };
    let photo = args.photo.parse::<PhotoKind>()?;
    if args.photo_out.is_some() && photo == PhotoKind::None {
        return Err(Error::invalid(
            "photo_out",
            "--photo-out needs --photo Y_O or Y_M (N keeps no photo)",
        ));
    }
    let delays = args
        .prompt_delays_ms
        .map(|d| parse_delays(d, "prompt_delays_ms"))
        .transpose()?;
    let releases = args
        .release_at_ms
        .map(|d| parse_delays(d, "release_at_ms"))
        .transpose()?;
    let registry = CertifyRegistry::new();
    let ticket = match &args.issued {
        // an id issued by a server: its nonce draws the challenge; expired
        // or malformed ids are refused
        Some(issued) => registry.claim_issued(issued, now_ms())?,
        None => registry.issue_claimed(now_ms())?,
    };
    let mut options = SessionOptions::default()
        .with_challenge(challenge)
        .with_photo(photo);
    if let Some(d) = delays {
        options = options.with_prompt_delays_ms(d);
    }
    if let Some(r) = releases {
        options = options.with_release_at_ms(r);
    }
    Ok((options, ticket))
}

/// Runs a liveness + face-match verification over a video file or a folder of frames.
#[derive(clap::Args)]
pub struct VerifyCmd {
    /// Reference photo (ID or enrolment photo) with one face (with
    /// --server the server holds the reference).
    #[arg(long, required_unless_present = "server")]
    pub reference: Option<PathBuf>,
    /// Folder of frames (sorted by name).
    #[arg(long, required_unless_present = "video", conflicts_with = "video")]
    pub frames: Option<PathBuf>,
    /// Video file (WebM, MP4, MPEG...), read at its own frame rate and timestamps.
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Frame rate of the folder.
    #[arg(long, default_value_t = 10.0)]
    pub fps: f64,
    /// Actions to ask for, in order (blink, mouth_open, turn_left, turn_right, nod).
    #[arg(long)]
    pub actions: Option<String>,
    /// Ask for N random actions drawn from the certifyId.
    #[arg(long)]
    pub random: Option<usize>,
    /// certifyId issued by a server (default: a fresh local one); needs
    /// the server's --nonce and --expires-ms, or --server and
    /// --device-token.
    #[arg(long)]
    pub certify_id: Option<String>,
    /// The server's challenge nonce for --certify-id (32+ hex digits).
    #[arg(long, requires = "certify_id")]
    pub nonce: Option<String>,
    /// The server's expiry for --certify-id (Unix ms).
    #[arg(long, requires = "certify_id")]
    pub expires_ms: Option<u64>,
    /// Offline evaluation of recorded material: fixed prompt delays in ms
    /// instead of the random ones, one per action (prompt 1 this long
    /// after the first frame, prompt k this long after action k-1 was
    /// detected). Not with --certify-id/--nonce: a real session's
    /// schedule comes from its nonce.
    #[arg(long, allow_hyphen_values = true)]
    pub prompt_delays_ms: Option<String>,
    /// With --prompt-delays-ms: held answers' release cues at these
    /// times (R1[,R2,...], ms after the first frame, one per action;
    /// a nod's is not read), placed a reaction time before the recorded
    /// person let go, as prompts are placed before onsets. Without it
    /// each cue is drawn as a live session draws it.
    #[arg(long, allow_hyphen_values = true, requires = "prompt_delays_ms")]
    pub release_at_ms: Option<String>,
    /// Photo in the result: Y_O original, Y_M background mosaicked, N none.
    #[arg(long, default_value = "N")]
    pub photo: String,
    /// Write the result's photo (JPEG) to this file; with --photo Y_O or
    /// Y_M. A result without a photo (no face was kept) is an error
    /// after the result is printed.
    #[arg(long)]
    pub photo_out: Option<PathBuf>,
    /// No progress lines on stderr (the result and the final verdict
    /// line only).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the result as one JSON line.
    #[arg(long)]
    pub json: bool,
    /// The device side of a realface-server's flow (http://HOST:PORT):
    /// start --certify-id with its --device-token, capture, upload. The
    /// backend made the id (`realface backend certify`) and reads the
    /// verdict (`realface backend result`); no app key here.
    #[arg(
        long,
        requires_all = ["certify_id", "device_token"],
        conflicts_with_all = ["actions", "random", "nonce", "expires_ms", "reference"]
    )]
    pub server: Option<String>,
    /// The certifyId's device token, from the backend (with --server).
    #[arg(
        long,
        env = "REALFACE_DEVICE_TOKEN",
        requires = "server",
        hide_env_values = true
    )]
    pub device_token: Option<String>,
}

impl VerifyCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self {
            reference,
            frames,
            video,
            fps,
            actions,
            random,
            certify_id,
            nonce,
            expires_ms,
            prompt_delays_ms,
            release_at_ms,
            photo,
            photo_out,
            quiet,
            json,
            server,
            device_token,
        } = self;

        if prompt_delays_ms.is_some() && (server.is_some() || certify_id.is_some()) {
            return Err((
                "verify".to_string(),
                Error::invalid(
                    "prompt_delays_ms",
                    "not with --certify-id/--nonce or --server: a real session's schedule comes from its nonce",
                ),
            ));
        }
        if let (Some(url), Some(id), Some(token)) = (server, certify_id, device_token) {
            let args = server_flow::DeviceArgs {
                server: url,
                certify_id: id,
                device_token: token,
                frames: frames.as_deref(),
                video: video.as_deref(),
                fps: *fps,
                json: *json,
            };
            return server_flow::run_device(&args, config(cli))
                .map_err(|e| ("verify".to_string(), e));
        }
        let Some(reference) = reference else {
            return Err((
                "verify".to_string(),
                Error::invalid("reference", "--reference is required without --server"),
            ));
        };
        if certify_id.is_some() && (nonce.is_none() || expires_ms.is_none()) {
            return Err((
                "verify".to_string(),
                Error::invalid(
                    "certify_id",
                    "--certify-id needs the server's --nonce and --expires-ms (or --server and --device-token)",
                ),
            ));
        }
        let args = VerifyArgs {
            reference,
            frames: frames.as_deref(),
            video: video.as_deref(),
            fps: *fps,
            actions: actions.as_deref(),
            random: *random,
            prompt_delays_ms: prompt_delays_ms.as_deref(),
            release_at_ms: release_at_ms.as_deref(),
            issued: certify_id.as_ref().map(|id| realface::IssuedId {
                certify_id: id.clone(),
                challenge_nonce: nonce.clone().unwrap_or_default(),
                expires_ms: expires_ms.unwrap_or(0),
            }),
            photo,
            photo_out: photo_out.as_deref(),
            quiet: *quiet,
            json: *json,
        };
        verify(&args, config(cli))
    }
}
