//! `realface eval match` and `realface calibrate`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::{config, Cli, CmdResult};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use realface::eval::dataset::{read_identities, read_pairs, LabelledImage, Split};
use realface::eval::{self, ImageOutcome, ScoredPair};
use realface::{EngineConfig, Error, FaceEngine, FacePolicy, Result};
use serde_json::json;

/// Shared options of the dataset commands.
pub struct DataArgs<'a> {
    pub identities: &'a Path,
    pub root: Option<&'a Path>,
    pub split: Split,
    pub threads: usize,
    pub flip: bool,
    pub base: EngineConfig,
    /// A calibration table to evaluate with instead of the shipped one.
    pub calibration: Option<&'a Path>,
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Loaded data set with every image embedded.
pub struct Embedded {
    pub images: Vec<LabelledImage>,
    pub outcomes: Vec<ImageOutcome>,
    pub engine: FaceEngine,
    pub embed_seconds: f64,
    pub threads: usize,
    /// The reference side as small compressed ID photos (`--degrade-reference`).
    pub refs: Option<Vec<ImageOutcome>>,
}

impl Embedded {
    /// The outcomes of the reference side of each pair.
    fn reference_side(&self) -> &[ImageOutcome] {
        self.refs.as_deref().unwrap_or(&self.outcomes)
    }
}

/// What the embedded dataset is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Scoring with the shipped table.
    Evaluate,
    /// Computing a new table (the shipped one may not fit the models).
    Calibrate,
}

pub fn embed_dataset(args: &DataArgs, degrade: bool, purpose: Purpose) -> Result<Embedded> {
    let root = args
        .root
        .map(Path::to_path_buf)
        .or_else(|| args.identities.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let images: Vec<LabelledImage> = read_identities(args.identities)?
        .into_iter()
        .filter(|m| args.split.contains(&m.identity))
        .collect();
    if images.is_empty() {
        return Err(Error::invalid(
            "identities",
            "no images in the chosen split",
        ));
    }
    let threads = if args.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        args.threads
    };
    // Photo collections have bystanders: take the largest face (the labelled one).
    let cfg = args
        .base
        .clone()
        .with_face_policy(FacePolicy::Largest)
        .with_flip_fusion(args.flip)
        .with_sessions_per_model(threads)
        .with_intra_threads(1);
    let engine = match (purpose, args.calibration) {
        (Purpose::Evaluate, None) => FaceEngine::new(cfg)?,
        (Purpose::Evaluate, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|x| io_err(path, x))?;
            let mut engine = FaceEngine::for_calibration(cfg)?;
            engine.set_calibration(realface::Calibration::from_json(&text)?)?;
            engine
        }
        (Purpose::Calibrate, _) => FaceEngine::for_calibration(cfg)?,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid("threads", e.to_string()))?;
    let bar = ProgressBar::new(images.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("embedding ({threads} threads)"));
    let start = Instant::now();
    let outcomes = pool.install(|| eval::embed_all(&engine, &root, &images, false, &|| bar.inc(1)));
    let refs = if degrade {
        bar.set_message("embedding degraded references");
        bar.set_position(0);
        Some(pool.install(|| eval::embed_all(&engine, &root, &images, true, &|| bar.inc(1))))
    } else {
        None
    };
    bar.finish_and_clear();
    let embed_seconds = start.elapsed().as_secs_f64();
    Ok(Embedded {
        images,
        outcomes,
        engine,
        embed_seconds,
        threads,
        refs,
    })
}

fn write_failures(out: &Path, e: &Embedded) -> Result<()> {
    let path = out.join("failures.csv");
    let mut f = std::fs::File::create(&path).map_err(|x| io_err(&path, x))?;
    writeln!(f, "path,faces,error,message").map_err(|x| io_err(&path, x))?;
    for o in e.outcomes.iter().filter(|o| o.embedding.is_none()) {
        writeln!(
            f,
            "{},{},{},\"{}\"",
            o.path,
            o.faces.map(|n| n.to_string()).unwrap_or_default(),
            o.error.as_deref().unwrap_or(""),
            o.message.as_deref().unwrap_or("").replace('"', "'")
        )
        .map_err(|x| io_err(&path, x))?;
    }
    Ok(())
}

/// scores.csv: every genuine pair and the 10,000 highest-scoring impostor
/// pairs (the ones that decide every FAR >= 1e-4 here); the full impostor
/// distribution is summarised in report.json.
fn write_scores(out: &Path, e: &Embedded, pairs: &[ScoredPair]) -> Result<()> {
    let path = out.join("scores.csv");
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(&path).map_err(|x| io_err(&path, x))?);
    let mut imp: Vec<&ScoredPair> = pairs.iter().filter(|p| !p.same).collect();
    imp.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    imp.truncate(10_000);
    writeln!(f, "a,b,same,similarity").map_err(|x| io_err(&path, x))?;
    for p in pairs.iter().filter(|p| p.same).chain(imp) {
        writeln!(
            f,
            "{},{},{},{:.6}",
            e.images[p.a].path,
            e.images[p.b].path,
            u8::from(p.same),
            p.similarity
        )
        .map_err(|x| io_err(&path, x))?;
    }
    Ok(())
}

pub fn eval_match(
    args: &DataArgs,
    pairs_csv: Option<&Path>,
    all_vs_all: bool,
    degrade_reference: bool,
    out: &Path,
) -> Result<()> {
    let total = Instant::now();
    std::fs::create_dir_all(out).map_err(|x| io_err(out, x))?;
    let e = embed_dataset(args, degrade_reference, Purpose::Evaluate)?;
    let score_start = Instant::now();
    let refs = e.reference_side();
    let pairs = match (pairs_csv, all_vs_all) {
        (Some(p), false) => eval::score_pairs(&e.images, refs, &e.outcomes, &read_pairs(p)?),
        _ => eval::score_all_vs_all(&e.images, refs, &e.outcomes),
    };
    let scores = eval::to_scores(&pairs);
    let candidates = candidates(&e, pairs_csv.filter(|_| !all_vs_all), &scores)?;
    let score_seconds = score_start.elapsed().as_secs_f64();
    let report = eval::match_report(
        args.split,
        &e.outcomes,
        &scores,
        e.engine.calibration(),
        realface::DEFAULT_FAR,
        args.flip,
    )?;
    write_failures(out, &e)?;
    write_scores(out, &e, &pairs)?;
    if let Err(msg) = crate::plot::write_plots(out, &format!("{:?} split", args.split), &scores) {
        eprintln!("realface: plots not written: {msg}");
    }
    let mut v =
        serde_json::to_value(&report).map_err(|x| Error::invalid("report", x.to_string()))?;
    v["mode"] = json!(if pairs_csv.is_some() && !all_vs_all {
        "pairs"
    } else {
        "all_vs_all"
    });
    v["reference"] = match &e.refs {
        Some(r) => json!({
            "degraded": true,
            "eye_distance_px": eval::degrade::REFERENCE_EYE_DISTANCE,
            "jpeg_quality": eval::degrade::REFERENCE_JPEG_QUALITY,
            "failed": r.iter().filter(|o| o.embedding.is_none()).count(),
            "failed_by_reason": eval::failed_by_reason(r),
        }),
        None => json!({"degraded": false}),
    };
    v["matcher"] = json!(e.engine.config().matcher.name());
    v["candidates"] = json!(candidates);
    v["timing"] = json!({
        "threads": e.threads,
        "embed_seconds": e.embed_seconds,
        "score_seconds": score_seconds,
        "total_seconds": total.elapsed().as_secs_f64(),
        "images_per_second": e.images.len() as f64 / e.embed_seconds.max(1e-9),
    });
    let path = out.join("report.json");
    let text =
        serde_json::to_string_pretty(&v).map_err(|x| Error::invalid("report", x.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|x| io_err(&path, x))?;
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}

/// Each network alone and the matcher, on the same pairs (a fused matcher
/// has two networks to compare with their fusion).
fn candidates(
    e: &Embedded,
    pairs_csv: Option<&Path>,
    matcher_scores: &realface::eval::metrics::Scores,
) -> Result<Vec<eval::Candidate>> {
    let refs = e.reference_side();
    let file_pairs = match pairs_csv {
        Some(p) => Some(read_pairs(p)?),
        None => None,
    };
    let names: Vec<&str> = e
        .engine
        .config()
        .matcher
        .models()
        .iter()
        .map(|m| m.name)
        .collect();
    let n_parts = e.outcomes.iter().map(|o| o.parts.len()).max().unwrap_or(0);
    let mut out = Vec::new();
    if n_parts > 1 {
        for (i, name) in names.iter().enumerate().take(n_parts) {
            let side = eval::Side::Part(i);
            let pairs = match &file_pairs {
                Some(fp) => eval::score_pairs_by(&e.images, refs, &e.outcomes, fp, side),
                None => eval::score_all_vs_all_by(&e.images, refs, &e.outcomes, side),
            };
            out.push(eval::Candidate::of(name, &eval::to_scores(&pairs)));
        }
    }
    out.push(eval::Candidate::of(
        e.engine.config().matcher.name(),
        matcher_scores,
    ));
    Ok(out)
}

pub fn calibrate(args: &DataArgs, out_file: &Path) -> Result<()> {
    let mut e = embed_dataset(args, false, Purpose::Calibrate)?;
    let fusion = if args.base.matcher.is_fusion() {
        let f = eval::fit_fusion(args.base.matcher, &e.images, &e.outcomes)?;
        eval::refuse(&mut e.outcomes, &f)?;
        Some(f)
    } else {
        None
    };
    let pairs = eval::score_all_vs_all(&e.images, &e.outcomes, &e.outcomes);
    let scores = eval::to_scores(&pairs);
    let failed = e.outcomes.iter().filter(|o| o.embedding.is_none()).count();
    let source = format!(
        "realface calibrate, split {:?} of {} ({} images, {} failed, {} genuine / {} impostor \
         all-vs-all pairs within each source); threshold per FAR = lowest threshold whose \
         Clopper-Pearson 95% upper FAR bound is <= the FAR",
        args.split,
        args.identities.display(),
        e.images.len(),
        failed,
        scores.genuine.len(),
        scores.impostor.len()
    );
    let cal = eval::calibrate(
        &scores,
        args.base.matcher,
        args.flip,
        args.base.effective_alignment(),
        source,
        fusion,
    )?;
    let text = serde_json::to_string_pretty(&cal)
        .map_err(|x| Error::invalid("calibration", x.to_string()))?;
    std::fs::write(out_file, text.clone() + "\n").map_err(|x| io_err(out_file, x))?;
    println!("{text}");
    Ok(())
}

pub fn eval_pad(
    labels: &Path,
    root: Option<&Path>,
    out: &Path,
    detector: &str,
    threads: usize,
    base: EngineConfig,
) -> Result<()> {
    use rayon::prelude::*;
    use realface::eval::dataset::read_pad_labels;
    use realface::eval::pad::{det_curve, pad_report, PadScore};
    use realface::eval::pad_scorer::PadScorer;

    let scorer = detector.parse::<PadScorer>()?;
    let name = scorer.name(detector);
    std::fs::create_dir_all(out).map_err(|x| io_err(out, x))?;
    let root = root
        .map(Path::to_path_buf)
        .or_else(|| labels.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let samples = read_pad_labels(labels)?;
    let threads = if threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        threads
    };
    let engine = FaceEngine::new(
        base.with_face_policy(FacePolicy::Largest)
            .with_sessions_per_model(threads)
            .with_intra_threads(1),
    )?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid("threads", e.to_string()))?;
    let bar = ProgressBar::new(samples.len() as u64);
    bar.set_message(format!("scoring {name}"));
    let scores: Vec<PadScore> = pool.install(|| {
        samples
            .par_iter()
            .map(|s| {
                let score = scorer.score_file(&engine, &root.join(&s.path));
                bar.inc(1);
                PadScore {
                    label: s.label.clone(),
                    bona_fide: s.is_bona_fide(),
                    score,
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    let report = pad_report(&name, &scores);
    let path = out.join("scores.csv");
    let mut f = std::fs::File::create(&path).map_err(|x| io_err(&path, x))?;
    writeln!(f, "path,label,score").map_err(|x| io_err(&path, x))?;
    for (s, sc) in samples.iter().zip(&scores) {
        writeln!(
            f,
            "{},{},{}",
            s.path,
            s.label,
            sc.score.map(|v| v.to_string()).unwrap_or_default()
        )
        .map_err(|x| io_err(&path, x))?;
    }
    if let Err(msg) = crate::plot::write_pad_det(
        &out.join("det.svg"),
        &format!("PAD DET: {name}"),
        &det_curve(&scores),
    ) {
        eprintln!("realface: plot not written: {msg}");
    }
    let text = serde_json::to_string_pretty(&report)
        .map_err(|x| Error::invalid("report", x.to_string()))?;
    let path = out.join("report.json");
    std::fs::write(&path, text.clone() + "\n").map_err(|x| io_err(&path, x))?;
    println!("{text}");
    Ok(())
}

#[derive(clap::Args)]
pub struct DataOpts {
    /// Identities file (path,identity[,source]).
    #[arg(long)]
    pub identities: PathBuf,
    /// Folder the paths are relative to (default: the identities file's folder).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SplitArg {
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

pub fn data_args<'a>(cli: &Cli, d: &'a DataOpts, split: SplitArg) -> DataArgs<'a> {
    DataArgs {
        identities: &d.identities,
        root: d.root.as_deref(),
        split: split.into(),
        threads: d.threads,
        flip: cli.flip,
        base: config(cli),
        calibration: None,
    }
}

/// Offline evaluation on labelled data sets.
#[derive(clap::Subcommand)]
pub enum EvalCommand {
    /// The prompted challenge at native frame rate, fitted leave-one-person-out.
    Challenge(crate::challenge_cmd::EvalChallengeCmd),
    /// Face-match evaluation: ROC, AUC, EER, TAR at FAR, FAR at the default threshold.
    Match(EvalMatchCmd),
    /// Session templates on the shared clips.
    Template(crate::template_cmd::EvalTemplateCmd),
    /// Presentation-attack detection metrics (ISO/IEC 30107-3) of a liveness cue.
    Pad(EvalPadCmd),
}

impl EvalCommand {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        match self {
            Self::Challenge(c) => c.run(cli),
            Self::Match(c) => c.run(cli),
            Self::Template(c) => c.run(cli),
            Self::Pad(c) => c.run(cli),
        }
    }
}
/// Computes the FAR -> threshold table from labelled faces (calibration split).
#[derive(clap::Args)]
pub struct CalibrateCmd {
    #[command(flatten)]
    pub data: DataOpts,
    /// Output JSON file (ship it as models/calibration_<matcher>.json, e.g. calibration_w600k_mbf.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Identities to use.
    #[arg(long, value_enum, default_value_t = SplitArg::Calibration)]
    pub split: SplitArg,
}

impl CalibrateCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self { data, out, split } = self;

        let args = data_args(cli, data, *split);
        calibrate(&args, out).map_err(|e| ("calibrate".to_string(), e))
    }
}

/// Face-match evaluation: ROC, AUC, EER, TAR at FAR, FAR at the default threshold.
#[derive(clap::Args)]
pub struct EvalMatchCmd {
    #[command(flatten)]
    pub data: DataOpts,
    /// Pairs file (a,b,same); without it, or with --all-vs-all, every pair is scored.
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Score every pair of images (within each source) instead of a pairs file.
    #[arg(long)]
    pub all_vs_all: bool,
    /// Make the reference side of every pair a small compressed ID photo
    /// (100 px between the eyes, JPEG quality 50).
    #[arg(long)]
    pub degrade_reference: bool,
    /// Output folder (report.json, roc.png, det.svg, scores.csv, failures.csv).
    #[arg(long)]
    pub out: PathBuf,
    /// Identities to use (the report split is disjoint from the calibration split).
    #[arg(long, value_enum, default_value_t = SplitArg::Report)]
    pub split: SplitArg,
    /// A FAR -> threshold table written by `calibrate` (default: the
    /// shipped one), for a matcher and alignment of its own.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
}

impl EvalMatchCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self {
            data,
            pairs,
            all_vs_all,
            degrade_reference,
            out,
            split,
            calibration,
        } = self;

        let mut args = data_args(cli, data, *split);
        args.calibration = calibration.as_deref();
        eval_match(
            &args,
            pairs.as_deref(),
            *all_vs_all,
            *degrade_reference,
            out,
        )
        .map_err(|e| ("eval match".to_string(), e))
    }
}

/// Presentation-attack detection metrics (ISO/IEC 30107-3) of a liveness cue.
#[derive(clap::Args)]
pub struct EvalPadCmd {
    /// Labels file (path,label[,subject]); label `live` or an attack species.
    #[arg(long)]
    pub labels: PathBuf,
    /// Folder the paths are relative to (default: the labels file's folder).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Output folder (report.json, det.svg, scores.csv).
    #[arg(long)]
    pub out: PathBuf,
    /// The scorer: `model` (the passive model, fr_liveness.onnx) or a
    /// passive image cue (sharpness, saturation).
    #[arg(long)]
    pub detector: String,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl EvalPadCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self {
            labels,
            root,
            out,
            detector,
            threads,
        } = self;

        eval_pad(
            labels,
            root.as_deref(),
            out,
            detector,
            *threads,
            config(cli),
        )
        .map_err(|e| ("eval pad".to_string(), e))
    }
}
