//! The `realface` command-line tool: one dispatch over the commands, each
//! in its own file (photo commands in `photo_cmd.rs`).

mod bench_cmd;
mod challenge_cmd;
mod challenge_material;
mod demo_cmd;
mod draw;
mod eval_cmd;
mod photo_cmd;
mod plot;
mod server_flow;
mod template_cmd;
mod verify_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use realface::{
    DetectorChoice, EngineConfig, Error, FaceEngine, FacePolicy, GraphOptimization, DEFAULT_FAR,
};
use serde_json::json;

#[derive(Parser)]
#[command(name = "realface", version, about = "On-device face verification")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Face detector: auto (short range, then full range if nothing found), short, full.
    #[arg(long, global = true, value_enum, default_value_t = Detector::Auto)]
    face_detector: Detector,
    /// Take the largest face instead of requiring exactly one.
    #[arg(long, global = true)]
    largest_face: bool,
    /// Fuse each embedding with that of the mirrored face.
    #[arg(long, global = true)]
    flip: bool,
    /// Face matcher: w600k_mbf (the default: InsightFace's WebFace600K
    /// MobileFaceNet, non-commercial research use only; extracted by
    /// scripts/setup.sh), permissive (SFace + MobileFaceNet + fr_feature at
    /// score level: no non-commercial weights; see models/NOTICE.md for
    /// the provenance caveats of two of them), fused
    /// (MobileFaceNet + fr_feature) or mobilefacenet.
    #[arg(long, global = true)]
    matcher: Option<realface::Matcher>,
    /// Face alignment for the embedder: mesh (the face mesh's points),
    /// scrfd (SCRFD's keypoints; InsightFace weights, non-commercial
    /// research use only) or yunet (YuNet's landmarks, MIT). Default: the matcher's own (scrfd for
    /// w600k_mbf, mesh for the others), the one its shipped
    /// thresholds were fitted with; another needs its own table
    /// (`calibrate`, then `eval match --calibration`).
    #[arg(long, global = true)]
    alignment: Option<realface::Alignment>,
    /// Folder with the model files (default: the crate's models/).
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    /// Path of libonnxruntime.so.1.31.1 (default: found by scripts/setup.sh).
    #[arg(long, global = true)]
    ort_lib: Option<PathBuf>,
    /// ONNX Runtime's CPU memory arena and memory patterns (off by default:
    /// a lower peak RSS for the same outputs).
    #[arg(long, global = true)]
    ort_arena: bool,
    /// ONNX Runtime's graph optimisation level: disable, basic, extended,
    /// layout or all.
    #[arg(long, global = true, default_value = "all")]
    ort_opt_level: GraphOptimization,
    /// ONNX Runtime inter-op threads per model (above 1: parallel execution
    /// of independent graph branches).
    #[arg(long, global = true, default_value_t = 1)]
    ort_inter_threads: usize,
    /// ONNX Runtime's deterministic compute.
    #[arg(long, global = true)]
    ort_deterministic: bool,
    /// Run a frame's model calls one after the other on one core (by
    /// default the passive models, and a session's embedding, run beside
    /// the rest on a second core; the same results either way).
    #[arg(long, global = true)]
    sequential_stages: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Detector {
    Auto,
    Short,
    Full,
}

// parsed once per run: the size of its largest variant does not matter
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Finds faces: boxes, scores and six keypoints in image pixels.
    Detect {
        /// Image file.
        image: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Write a copy of the image with the faces drawn on it (PNG).
        #[arg(long)]
        draw: Option<PathBuf>,
    },
    /// Scores the one face of a photo: overall 0-100 (`score`) and its
    /// parts (size, sharpness, exposure, pose, eyes), as for a reference
    /// photo.
    Quality {
        /// Image file.
        image: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Prints the identity embedding of the one face in an image.
    Embed {
        /// Image file.
        image: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decides whether two photos show the same person.
    Compare {
        /// First photo (e.g. the reference).
        a: PathBuf,
        /// Second photo.
        b: PathBuf,
        /// Target false-accept rate for the decision threshold.
        #[arg(long, default_value_t = DEFAULT_FAR)]
        far: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Runs a liveness + face-match verification over a video file or a folder of frames.
    Verify {
        /// Reference photo (ID or enrolment photo) with one face (with
        /// --server the server holds the reference).
        #[arg(long, required_unless_present = "server")]
        reference: Option<PathBuf>,
        /// Folder of frames (sorted by name).
        #[arg(long, required_unless_present = "video", conflicts_with = "video")]
        frames: Option<PathBuf>,
        /// Video file (WebM, MP4, MPEG...), read at its own frame rate and timestamps.
        #[arg(long)]
        video: Option<PathBuf>,
        /// Frame rate of the folder.
        #[arg(long, default_value_t = 10.0)]
        fps: f64,
        /// Actions to ask for, in order (blink, mouth_open, turn_left, turn_right, nod).
        #[arg(long)]
        actions: Option<String>,
        /// Ask for N random actions drawn from the certifyId.
        #[arg(long)]
        random: Option<usize>,
        /// certifyId issued by a server (default: a fresh local one); needs
        /// the server's --nonce and --expires-ms, or --server and
        /// --device-token.
        #[arg(long)]
        certify_id: Option<String>,
        /// The server's challenge nonce for --certify-id (32+ hex digits).
        #[arg(long, requires = "certify_id")]
        nonce: Option<String>,
        /// The server's expiry for --certify-id (Unix ms).
        #[arg(long, requires = "certify_id")]
        expires_ms: Option<u64>,
        /// Offline evaluation of recorded material: fixed prompt delays in ms
        /// instead of the random ones, one per action (prompt 1 this long
        /// after the first frame, prompt k this long after action k-1 was
        /// detected). Not with --certify-id/--nonce: a real session's
        /// schedule comes from its nonce.
        #[arg(long, allow_hyphen_values = true)]
        prompt_delays_ms: Option<String>,
        /// With --prompt-delays-ms: held answers' release cues at these
        /// times (R1[,R2,...], ms after the first frame, one per action;
        /// a nod's is not read), placed a reaction time before the recorded
        /// person let go, as prompts are placed before onsets. Without it
        /// each cue is drawn as a live session draws it.
        #[arg(long, allow_hyphen_values = true, requires = "prompt_delays_ms")]
        release_at_ms: Option<String>,
        /// Photo in the result: Y_O original, Y_M background mosaicked, N none.
        #[arg(long, default_value = "N")]
        photo: String,
        /// Write the result's photo (JPEG) to this file; with --photo Y_O or
        /// Y_M. A result without a photo (no face was kept) is an error
        /// after the result is printed.
        #[arg(long)]
        photo_out: Option<PathBuf>,
        /// No progress lines on stderr (the result and the final verdict
        /// line only).
        #[arg(long, short)]
        quiet: bool,
        /// Print the result as one JSON line.
        #[arg(long)]
        json: bool,
        /// The device side of a realface-server's flow (http://HOST:PORT):
        /// start --certify-id with its --device-token, capture, upload. The
        /// backend made the id (`realface backend certify`) and reads the
        /// verdict (`realface backend result`); no app key here.
        #[arg(
            long,
            requires_all = ["certify_id", "device_token"],
            conflicts_with_all = ["actions", "random", "nonce", "expires_ms", "reference"]
        )]
        server: Option<String>,
        /// The certifyId's device token, from the backend (with --server).
        #[arg(
            long,
            env = "REALFACE_DEVICE_TOKEN",
            requires = "server",
            hide_env_values = true
        )]
        device_token: Option<String>,
    },
    /// The business backend's calls to a realface-server (it holds the app
    /// key; devices never do).
    #[command(subcommand)]
    Backend(BackendCommand),
    /// Offline evaluation on labelled data sets.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Speed and memory: per-stage median ms, per-frame pipeline frames/s,
    /// share of time outside the models, peak RSS and RSS growth.
    Bench {
        /// Folder of frames (cycled through for the per-frame pipeline).
        #[arg(long, default_value = ".samples")]
        frames: PathBuf,
        /// ONNX Runtime intra-op threads per model.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Frames through the per-frame pipeline (RSS is read after 100 and after all).
        #[arg(long, default_value_t = 10_000)]
        iterations: usize,
        /// Run the detector every n-th frame and track in between (sessions use 1).
        #[arg(long, default_value_t = 1)]
        detect_every: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Computes the FAR -> threshold table from labelled faces (calibration split).
    Calibrate {
        #[command(flatten)]
        data: DataOpts,
        /// Output JSON file (ship it as models/calibration_<matcher>.json, e.g. calibration_w600k_mbf.json).
        #[arg(long)]
        out: PathBuf,
        /// Identities to use.
        #[arg(long, value_enum, default_value_t = SplitArg::Calibration)]
        split: SplitArg,
    },
    /// A test tool: a realface server's evidence upload made without a
    /// camera, by a person made of a shared clip's real frames answering
    /// the prompts of `start`'s answer (apfol_real2: turns; lp_d9: a
    /// blink). The bundle is marked demo: a server judges it only when
    /// started with --demo.
    DemoEvidence {
        /// A file with the start call's JSON answer (its certifyId, nonce,
        /// expiry and sessionOptions).
        #[arg(long)]
        start: PathBuf,
        /// The clip's folder (../shared/data/actions/apfol_real2 or lp_d9).
        #[arg(long)]
        clip: PathBuf,
        /// Write the bundle here (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The server a backend command calls, and the app's credential.
#[derive(clap::Args)]
struct BackendServer {
    /// The server (http://HOST:PORT).
    #[arg(long)]
    server: String,
    /// The app id (X-Realface-App).
    #[arg(long, env = "REALFACE_APP")]
    app: String,
    /// The app key (X-Realface-Key).
    #[arg(long, env = "REALFACE_KEY", hide_env_values = true)]
    key: String,
}

#[derive(Subcommand)]
enum BackendCommand {
    /// Issues a certifyId for a person: prints certifyId, deviceToken
    /// (hand both to the device) and expiresAt.
    Certify {
        #[command(flatten)]
        to: BackendServer,
        /// The 18-character resident ID number.
        #[arg(long)]
        id_card: String,
        /// The real name.
        #[arg(long, default_value = "realface")]
        name: String,
        /// The reference photo (ID or enrolment photo) with one face.
        #[arg(long)]
        reference: PathBuf,
        /// Print one JSON line.
        #[arg(long)]
        json: bool,
    },
    /// Reads the server's verdict on a certifyId.
    Result {
        #[command(flatten)]
        to: BackendServer,
        /// The certifyId.
        #[arg(long)]
        certify_id: String,
        /// Photo in the result: Y_O original, Y_M background mosaicked, N none.
        #[arg(long, default_value = "N")]
        photo: String,
        /// Print one JSON line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// The prompted challenge at native frame rate, fitted leave-one-person-out:
    /// genuine pass per action with prompts placed before labelled events,
    /// attack pass probability per action and species under random
    /// schedules (each clip replayed as a pre-recorded video, screen
    /// replays, prints, synthetic animations, photo attacks), 2- and
    /// 3-action challenges, passive gate APCER/BPCER per session.
    Challenge {
        /// Folder of clip folders (labels.json + source.<ext> video).
        #[arg(long)]
        clips: PathBuf,
        /// Spoof folder (labels.csv, apfol/videos) for prints and the phone replay.
        #[arg(long)]
        spoof: Option<PathBuf>,
        /// Folder of synthetic animations (GIF).
        #[arg(long)]
        synthetic: Option<PathBuf>,
        /// Output folder (report.json, window.png, window.svg).
        #[arg(long)]
        out: PathBuf,
        /// Random schedules per action and attack sequence.
        #[arg(long, default_value_t = 50)]
        schedules: u32,
        /// Random 2- and 3-action schedules per attack sequence.
        #[arg(long, default_value_t = 200)]
        multi_schedules: u32,
        /// Only these clips (comma-separated names): a quick run.
        #[arg(long)]
        only: Option<String>,
        /// Replay each clip as a pre-recorded video from its start only
        /// (by default also from every 5 s into it).
        #[arg(long)]
        no_offsets: bool,
        /// Leave out the photo attacks made from the clips' first frames.
        #[arg(long)]
        no_photo_attacks: bool,
        /// How attack sessions' prompts are timed: `device` (after each
        /// answer, the device's capture) or `scheduled` (offsets from the
        /// first frame fixed by the nonce, the browser's capture).
        #[arg(long, default_value = "device")]
        prompt_mode: String,
        /// Answers complete by their own shape, none held until a release
        /// cue (the comparison with the shipped protocol).
        #[arg(long)]
        no_release: bool,
    },
    /// Face-match evaluation: ROC, AUC, EER, TAR at FAR, FAR at the default threshold.
    Match {
        #[command(flatten)]
        data: DataOpts,
        /// Pairs file (a,b,same); without it, or with --all-vs-all, every pair is scored.
        #[arg(long)]
        pairs: Option<PathBuf>,
        /// Score every pair of images (within each source) instead of a pairs file.
        #[arg(long)]
        all_vs_all: bool,
        /// Make the reference side of every pair a small compressed ID photo
        /// (100 px between the eyes, JPEG quality 50).
        #[arg(long)]
        degrade_reference: bool,
        /// Output folder (report.json, roc.png, det.svg, scores.csv, failures.csv).
        #[arg(long)]
        out: PathBuf,
        /// Identities to use (the report split is disjoint from the calibration split).
        #[arg(long, value_enum, default_value_t = SplitArg::Report)]
        split: SplitArg,
        /// A FAR -> threshold table written by `calibrate` (default: the
        /// shipped one), for a matcher and alignment of its own.
        #[arg(long)]
        calibration: Option<PathBuf>,
    },
    /// Session templates on the shared clips: similarity to the clip's own
    /// reference and to other people's photos, best frame alone vs template.
    Template {
        /// Folder of clip folders (labels.json + source.<ext> video).
        #[arg(long)]
        clips: PathBuf,
        #[command(flatten)]
        data: DataOpts,
        /// Output folder (report.json).
        #[arg(long)]
        out: PathBuf,
        /// Length of a window (one live session's face frames), ms.
        #[arg(long, default_value_t = 2000)]
        window_ms: u64,
    },
    /// Presentation-attack detection metrics (ISO/IEC 30107-3) of a liveness cue.
    Pad {
        /// Labels file (path,label[,subject]); label `live` or an attack species.
        #[arg(long)]
        labels: PathBuf,
        /// Folder the paths are relative to (default: the labels file's folder).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Output folder (report.json, det.svg, scores.csv).
        #[arg(long)]
        out: PathBuf,
        /// The scorer: `model` (the passive model, fr_liveness.onnx) or a
        /// passive image cue (sharpness, saturation).
        #[arg(long)]
        detector: String,
        /// Worker threads (0 = one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
}

#[derive(clap::Args)]
struct DataOpts {
    /// Identities file (path,identity[,source]).
    #[arg(long)]
    identities: PathBuf,
    /// Folder the paths are relative to (default: the identities file's folder).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum SplitArg {
    All,
    Calibration,
    Report,
}

impl From<SplitArg> for realface::eval::dataset::Split {
    fn from(s: SplitArg) -> Self {
        match s {
            SplitArg::All => Self::All,
            SplitArg::Calibration => Self::Calibration,
            SplitArg::Report => Self::Report,
        }
    }
}

fn config(cli: &Cli) -> EngineConfig {
    let mut cfg = EngineConfig::default()
        .with_detector(match cli.face_detector {
            Detector::Auto => DetectorChoice::Auto,
            Detector::Short => DetectorChoice::Short,
            Detector::Full => DetectorChoice::Full,
        })
        .with_face_policy(if cli.largest_face {
            FacePolicy::Largest
        } else {
            FacePolicy::ExactlyOne
        })
        .with_flip_fusion(cli.flip);
    if let Some(m) = cli.matcher {
        cfg = cfg.with_matcher(m);
    }
    cfg = cfg.with_alignment(cli.alignment);
    if let Some(m) = &cli.models {
        cfg = cfg.with_model_dir(m);
    }
    if let Some(l) = &cli.ort_lib {
        cfg = cfg.with_runtime_library(l);
    }
    cfg.with_arena(cli.ort_arena)
        .with_graph_optimization(cli.ort_opt_level)
        .with_inter_threads(cli.ort_inter_threads)
        .with_deterministic(cli.ort_deterministic)
        .with_parallel_stages(!cli.sequential_stages)
}

fn data_args<'a>(cli: &Cli, d: &'a DataOpts, split: SplitArg) -> eval_cmd::DataArgs<'a> {
    eval_cmd::DataArgs {
        identities: &d.identities,
        root: d.root.as_deref(),
        split: split.into(),
        threads: d.threads,
        flip: cli.flip,
        base: config(cli),
        calibration: None,
    }
}

fn with_path(path: &Path, e: Error) -> (String, Error) {
    (path.display().to_string(), e)
}

type CmdResult = Result<(), (String, Error)>;

fn run(cli: &Cli) -> CmdResult {
    match &cli.command {
        Command::Eval(EvalCommand::Match {
            data,
            pairs,
            all_vs_all,
            degrade_reference,
            out,
            split,
            calibration,
        }) => {
            let mut args = data_args(cli, data, *split);
            args.calibration = calibration.as_deref();
            eval_cmd::eval_match(
                &args,
                pairs.as_deref(),
                *all_vs_all,
                *degrade_reference,
                out,
            )
            .map_err(|e| ("eval match".to_string(), e))
        }
        Command::Eval(EvalCommand::Pad {
            labels,
            root,
            out,
            detector,
            threads,
        }) => eval_cmd::eval_pad(
            labels,
            root.as_deref(),
            out,
            detector,
            *threads,
            config(cli),
        )
        .map_err(|e| ("eval pad".to_string(), e)),
        Command::Verify {
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
        } => {
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
            let args = verify_cmd::VerifyArgs {
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
            verify_cmd::verify(&args, config(cli))
        }
        Command::Backend(BackendCommand::Certify {
            to,
            id_card,
            name,
            reference,
            json,
        }) => server_flow::certify(&server_flow::CertifyArgs {
            server: &to.server,
            app: &to.app,
            key: &to.key,
            id_card,
            name,
            reference,
            json: *json,
        })
        .map_err(|e| ("backend certify".to_string(), e)),
        Command::Backend(BackendCommand::Result {
            to,
            certify_id,
            photo,
            json,
        }) => server_flow::result(&to.server, &to.app, &to.key, certify_id, photo, *json)
            .map_err(|e| ("backend result".to_string(), e)),
        Command::Bench {
            frames,
            threads,
            iterations,
            detect_every,
            json,
        } => {
            let args = bench_cmd::BenchArgs {
                frames,
                threads: *threads,
                iterations: *iterations,
                detect_every: *detect_every,
                json: *json,
            };
            bench_cmd::bench(&args, config(cli)).map_err(|e| ("bench".to_string(), e))
        }
        Command::Eval(EvalCommand::Template {
            clips,
            data,
            out,
            window_ms,
        }) => {
            let args = data_args(cli, data, SplitArg::Report);
            template_cmd::eval_template(&args, clips, out, *window_ms)
                .map_err(|e| ("eval template".to_string(), e))
        }
        Command::Eval(EvalCommand::Challenge {
            clips,
            spoof,
            synthetic,
            out,
            schedules,
            multi_schedules,
            only,
            no_offsets,
            no_photo_attacks,
            prompt_mode,
            no_release,
        }) => {
            let args = challenge_cmd::ChallengeArgs {
                sources: challenge_material::Sources {
                    clips,
                    spoof: spoof.as_deref(),
                    synthetic: synthetic.as_deref(),
                    only: only
                        .as_ref()
                        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect()),
                    offsets: !no_offsets,
                    photo_attacks: !no_photo_attacks,
                },
                out,
                schedules: *schedules,
                multi_schedules: *multi_schedules,
                release: !no_release,
                prompt_mode: match prompt_mode.as_str() {
                    "device" => realface::session::prompt::PromptMode::Device,
                    "scheduled" => realface::session::prompt::PromptMode::Scheduled,
                    other => {
                        return Err((
                            "eval challenge".to_string(),
                            realface::Error::invalid(
                                "--prompt-mode",
                                format!("`{other}`: device or scheduled"),
                            ),
                        ))
                    }
                },
            };
            challenge_cmd::eval_challenge(&args, config(cli))
                .map_err(|e| ("eval challenge".to_string(), e))
        }
        Command::Calibrate { data, out, split } => {
            let args = data_args(cli, data, *split);
            eval_cmd::calibrate(&args, out).map_err(|e| ("calibrate".to_string(), e))
        }
        Command::DemoEvidence { start, clip, out } => demo_cmd::demo_evidence(
            &demo_cmd::DemoArgs {
                start,
                clip,
                out: out.as_deref(),
            },
            config(cli),
        )
        .map_err(|e| ("demo-evidence".to_string(), e)),
        Command::Detect { image, json, draw } => {
            photo_cmd::detect(&engine(cli)?, image, *json, draw.as_ref())
        }
        Command::Embed { image, json } => photo_cmd::embed(&engine(cli)?, image, *json),
        Command::Quality { image, json } => photo_cmd::quality(&engine(cli)?, image, *json),
        Command::Compare { a, b, far, json } => {
            photo_cmd::compare(&engine(cli)?, a, b, *far, *json)
        }
    }
}

fn engine(cli: &Cli) -> Result<FaceEngine, (String, Error)> {
    FaceEngine::new(config(cli)).map_err(|e| ("setup".to_string(), e))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err((what, e)) => {
            let json_out = matches!(
                &cli.command,
                Command::Verify { json: true, .. }
                    | Command::Detect { json: true, .. }
                    | Command::Embed { json: true, .. }
                    | Command::Quality { json: true, .. }
                    | Command::Compare { json: true, .. }
            );
            if json_out {
                let v = json!({"error": {
                    "code": e.code().as_u32(), "name": e.code().name(),
                    "message": e.to_string(), "input": what}});
                println!("{v}");
            }
            eprintln!(
                "realface: {what}: {e} [{} {}]",
                e.code().name(),
                e.code().as_u32()
            );
            ExitCode::from(2)
        }
    }
}
