//! The `realface` command-line tool: one dispatch over the commands, each
//! in its own file (photo commands in `photo_cmd.rs`).

mod bench_cmd;
mod bench_sessions;
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
use realface::{DetectorChoice, EngineConfig, Error, FaceEngine, FacePolicy, GraphOptimization};
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

// parsed once per run: the size of its largest variant does not matter
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Finds faces: boxes, scores and six keypoints in image pixels.
    Detect(photo_cmd::DetectCmd),
    /// Scores the one face of a photo: overall 0-100 (`score`) and its
    /// parts (size, sharpness, exposure, pose, eyes), as for a reference
    /// photo.
    Quality(photo_cmd::QualityCmd),
    /// Prints the identity embedding of the one face in an image.
    Embed(photo_cmd::EmbedCmd),
    /// Decides whether two photos show the same person.
    Compare(photo_cmd::CompareCmd),
    /// Runs a liveness + face-match verification over a video file or a folder of frames.
    Verify(verify_cmd::VerifyCmd),
    /// The business backend's calls to a realface-server (it holds the app
    /// key; devices never do).
    #[command(subcommand)]
    Backend(server_flow::BackendCommand),
    /// Offline evaluation on labelled data sets.
    #[command(subcommand)]
    Eval(eval_cmd::EvalCommand),
    /// Speed and memory: per-stage median ms, per-frame pipeline frames/s,
    /// share of time outside the models, peak RSS and RSS growth.
    Bench(bench_cmd::BenchCmd),
    /// Computes the FAR -> threshold table from labelled faces (calibration split).
    Calibrate(eval_cmd::CalibrateCmd),
    /// A test tool: a realface server's evidence upload made without a
    /// camera, by a person made of a shared clip's real frames answering
    /// the prompts of `start`'s answer (apfol_real2: turns; lp_d9: a
    /// blink). The bundle is marked demo: a server judges it only when
    /// started with --demo.
    DemoEvidence(demo_cmd::DemoEvidenceCmd),
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

fn with_path(path: &Path, e: Error) -> (String, Error) {
    (path.display().to_string(), e)
}

type CmdResult = Result<(), (String, Error)>;

fn run(cli: &Cli) -> CmdResult {
    match &cli.command {
        Command::Detect(c) => c.run(cli),
        Command::Quality(c) => c.run(cli),
        Command::Embed(c) => c.run(cli),
        Command::Compare(c) => c.run(cli),
        Command::Verify(c) => c.run(cli),
        Command::Backend(c) => c.run(cli),
        Command::Eval(c) => c.run(cli),
        Command::Bench(c) => c.run(cli),
        Command::Calibrate(c) => c.run(cli),
        Command::DemoEvidence(c) => c.run(cli),
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
                Command::Verify(verify_cmd::VerifyCmd { json: true, .. })
                    | Command::Detect(photo_cmd::DetectCmd { json: true, .. })
                    | Command::Embed(photo_cmd::EmbedCmd { json: true, .. })
                    | Command::Quality(photo_cmd::QualityCmd { json: true, .. })
                    | Command::Compare(photo_cmd::CompareCmd { json: true, .. })
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
