//! `realface bench`: per-stage median times, the per-frame pipeline's frame
//! rate and its share of time outside the models, peak RSS, and RSS after
//! 100 frames against after all frames (leak check).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::{config, Cli, CmdResult};
use indicatif::{ProgressBar, ProgressStyle};
use realface::align::aligned_image;
use realface::landmarks::Roi;
use realface::liveness::actions::{Action, ActionParams, History};
use realface::liveness::answer::{AnswerDetector, Baseline};
use realface::liveness::features::FrameFeatures;
use realface::liveness::flat::FlatMotion;
use realface::liveness::measure::measure_and_embed;
use realface::liveness::pad::{PadEvidence, PadOptions};
use realface::liveness::pad_model::PadScores;
use realface::quality::{assess, assess_aligned};
use realface::runtime::model_time;
use realface::segment::mosaic_background;
use realface::session::schedule::{AnalysisSchedule, Cadence, Phase};
use realface::session::SessionOptions;
use realface::track::{TrackOutcome, Tracker};
use realface::{EngineConfig, Error, FaceEngine, Result, RgbImage};
use serde::Serialize;

/// What `realface bench` was asked.
pub struct BenchArgs<'a> {
    pub frames: &'a Path,
    pub threads: usize,
    pub iterations: usize,
    pub detect_every: usize,
    /// The analysis schedule; the pipeline runs its `between` phase (a
    /// session's steady state).
    pub schedule: AnalysisSchedule,
    pub json: bool,
}

#[derive(Serialize)]
struct StageTime {
    stage: &'static str,
    median_ms: f64,
    samples: usize,
}

#[derive(Serialize)]
struct Report {
    frames_dir: PathBuf,
    distinct_frames: usize,
    frame_size: [u32; 2],
    ort_intra_threads: usize,
    detect_every: usize,
    /// The analysis schedule whose `between` rates the pipeline runs.
    schedule: String,
    /// Its passive models on every n-th tick of 100 ms.
    pad_every: u32,
    /// Its embedding on every n-th of the first face frame and every 5th.
    embed_every: u32,
    /// Whether a frame's independent model calls ran side by side
    /// (`--sequential-stages` off); then `model_ms_per_frame` adds up the
    /// time of both cores and `outside_models_share` understates.
    parallel_stages: bool,
    stages: Vec<StageTime>,
    pipeline_frames: usize,
    pipeline_fps: f64,
    pipeline_ms_per_frame: f64,
    model_ms_per_frame: f64,
    outside_models_share: f64,
    faces_found_share: f64,
    /// Peak RSS when the pipeline ends (the per-stage timings, which hold
    /// every frame decoded, run after it).
    peak_rss_mb: Option<f64>,
    /// The frames' file bytes the bench holds during the pipeline (part of
    /// the peak; each frame is decoded when its turn comes, as a session
    /// holds one frame at a time).
    frames_held_mb: f64,
    rss_after_100_mb: Option<f64>,
    rss_after_all_mb: Option<f64>,
    rss_growth_mb: Option<f64>,
    /// Per-frame time of the pipeline (ms): median, 95th and 99th
    /// percentile, maximum. A camera at 30 fps leaves 33 ms a frame.
    frame_latency_ms: Latency,
    /// What the pipeline measured on each distinct frame (its first pass):
    /// eye and mouth ratios, yaw, pitch, roll, P(eyes closed), sharpness,
    /// and the passive models' P(real) where they ran; `null` without a
    /// face. Compared across ONNX Runtime options by
    /// `benches/peer/ort_options.sh`.
    frame_outputs: Vec<Option<[Option<f32>; 9]>>,
}

#[derive(Serialize)]
struct Latency {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

impl Latency {
    fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            v.get(((v.len() as f64 - 1.0) * p).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        Self {
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
            max: q(1.0),
        }
    }
}

/// One frame's outputs (see [`Report::frame_outputs`]).
fn outputs(f: &FrameFeatures, pad: Option<PadScores>) -> [Option<f32>; 9] {
    [
        Some(f.ear),
        Some(f.mar),
        Some(f.yaw),
        Some(f.pitch),
        Some(f.roll),
        Some(f.eyes_closed),
        Some(f.sharpness),
        pad.map(|p| p.fr_liveness),
        pad.map(|p| p.minifasnet),
    ]
}

/// A `/proc/self/status` field in MB (Linux).
pub(crate) fn proc_mb(field: &str) -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `f` over the frames (cycled) until `min_samples` runs; median ms.
fn time_stage<T>(
    stage: &'static str,
    frames: usize,
    min_samples: usize,
    mut f: impl FnMut(usize) -> Result<T>,
) -> Result<StageTime> {
    let mut times = Vec::with_capacity(min_samples);
    for i in 0..min_samples.max(frames) {
        let t = Instant::now();
        std::hint::black_box(f(i % frames)?);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(StageTime {
        stage,
        median_ms: median(times),
        samples: min_samples.max(frames),
    })
}

/// Per-frame analysis state: tracker, history, flat cue, action detector.
struct Pipeline {
    tracker: Tracker,
    history: History,
    flat: FlatMotion,
    action: Option<AnswerDetector>,
    pad: PadEvidence,
    face_frames: usize,
    schedule: AnalysisSchedule,
    cadence: Cadence,
}

impl Pipeline {
    fn new(detect_every: usize, schedule: AnalysisSchedule) -> Self {
        Self {
            tracker: Tracker::new(detect_every),
            history: History::default(),
            flat: FlatMotion::default(),
            action: None,
            pad: PadEvidence::default(),
            face_frames: 0,
            schedule,
            cadence: Cadence::default(),
        }
    }

    /// Detect (or track) + mesh + features + eye state + sharpness +
    /// passive models every 100 ms + the embedding every 5th face frame +
    /// flat cue + action + quality: what a session does with every frame.
    /// Returns the frame's outputs, `None` without a face.
    fn frame(
        &mut self,
        engine: &FaceEngine,
        img: &RgbImage,
        t_ms: u64,
    ) -> Result<Option<[Option<f32>; 9]>> {
        let TrackOutcome::Face(t) = self.tracker.next(engine, img)? else {
            return Ok(None);
        };
        // a session embeds its first face frame and every embed_every-th;
        // the schedule's steady state thins them and the passive ticks as a
        // session's cadence does (every tick from the start: the peer has
        // no warm-up of the passive samples)
        self.face_frames += 1;
        let first = self.face_frames == 1;
        let embed_due = first
            || self
                .face_frames
                .is_multiple_of(SessionOptions::default().embed_every);
        let due = self.cadence.due(
            &self.schedule,
            Phase::Between,
            t_ms,
            PadOptions::default().interval_ms,
            false,
            embed_due,
            first,
        );
        self.cadence.advance(t_ms, due);
        let (m, e) = measure_and_embed(engine, img, &t.mesh, &t.map, &t.bbox, due.pad, due.embed)?;
        std::hint::black_box(e);
        if let Some(p) = m.pad {
            self.pad.push(p);
        }
        let f = m.features;
        self.history.push(t_ms, f);
        self.flat.update(&f, &self.history);
        step_answer(&mut self.action, &self.history, t_ms, &f);
        let base = self.history.stat(FrameFeatures::ear_norm, 0.75);
        std::hint::black_box(assess_aligned(&m.aligned, &f, base));
        Ok(Some(outputs(&f, m.pad)))
    }
}

/// One frame of a blink prompt's answer detector (a new prompt after each
/// answer, baseline from the history), as a session runs it.
fn step_answer(
    det: &mut Option<AnswerDetector>,
    history: &History,
    t_ms: u64,
    f: &FrameFeatures,
) -> bool {
    if det.is_none() {
        *det = Baseline::at(history, t_ms.saturating_sub(400))
            .map(|b| AnswerDetector::new(Action::Blink, ActionParams::default(), b));
    }
    let answered = det.as_mut().is_some_and(|d| d.update(t_ms, f).is_some());
    if answered {
        *det = None;
    }
    answered
}

/// What the per-frame pipeline run measured.
struct PipelineRun {
    found: usize,
    frame_outputs: Vec<Option<[Option<f32>; 9]>>,
    /// Per-frame times after the warm-up (ms).
    latencies: Vec<f64>,
    /// Time inside ONNX Runtime after the warm-up (s, all threads).
    model_s: f64,
    rss_100: Option<f64>,
    rss_all: Option<f64>,
    peak: Option<f64>,
}

/// Runs the per-frame pipeline over `bytes` (cycled; each frame decoded
/// outside its timing), after 100 warm-up frames.
fn run_pipeline(
    engine: &FaceEngine,
    bytes: &[Vec<u8>],
    args: &BenchArgs,
    quiet: bool,
) -> Result<PipelineRun> {
    let n = bytes.len();
    let mut pipe = Pipeline::new(args.detect_every, args.schedule.clone());
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.iterations as u64).with_style(
            ProgressStyle::with_template(
                "per-frame pipeline {bar:40} {pos}/{len} {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let warm = 100.min(args.iterations);
    let mut found = 0usize;
    let mut frame_outputs = Vec::with_capacity(n);
    let mut latencies = Vec::with_capacity(args.iterations - warm);
    let mut rss_100 = None;
    let mut model0 = model_time();
    for i in 0..args.iterations {
        if i == warm {
            rss_100 = proc_mb("VmRSS:");
            model0 = model_time();
        }
        let img = engine.decode(&bytes[i % n])?;
        let t0 = Instant::now();
        let out = pipe.frame(engine, &img, i as u64 * 33)?;
        if i >= warm {
            latencies.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        found += usize::from(out.is_some());
        if i < n {
            frame_outputs.push(out);
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(PipelineRun {
        found,
        frame_outputs,
        latencies,
        model_s: (model_time().nanos - model0.nanos) as f64 / 1e9,
        rss_100,
        rss_all: proc_mb("VmRSS:"),
        peak: proc_mb("VmHWM:"),
    })
}

pub fn bench(args: &BenchArgs, cfg: EngineConfig) -> Result<()> {
    if args.threads == 0 || args.iterations < 200 || args.detect_every == 0 {
        return Err(Error::invalid(
            "bench",
            "--threads and --detect-every must be at least 1, --iterations at least 200",
        ));
    }
    let parallel_stages = cfg.runtime.parallel_stages;
    let engine = FaceEngine::new(
        cfg.with_intra_threads(args.threads)
            .with_sessions_per_model(1),
    )?;
    let files = realface::source::frame_files(args.frames)?;
    let mut bytes = Vec::new();
    for f in &files {
        bytes.push(std::fs::read(f).map_err(|e| Error::Io {
            path: f.clone(),
            source: e,
        })?);
    }
    let Some(first) = bytes.first() else {
        return Err(Error::invalid(
            "frames",
            format!("no image files in {}", args.frames.display()),
        ));
    };
    let first = engine.decode(first)?;
    let frame_size = [first.width(), first.height()];
    drop(first);
    let n = bytes.len();
    let quiet = args.json;
    if !quiet {
        eprintln!("realface bench: {n} frames from {}", args.frames.display());
    }

    // The per-frame pipeline first, with the leak check: like a session it
    // holds one decoded frame at a time (each decoded from its file's bytes
    // before the frame's clock starts), and its peak RSS is read before the
    // per-stage timings below hold every frame decoded.
    let run = run_pipeline(&engine, &bytes, args, quiet)?;
    let mut frames = Vec::with_capacity(n);
    for b in &bytes {
        frames.push(engine.decode(b)?);
    }

    // Per-stage inputs: the first face of each frame that has one.
    let mut faces = Vec::new();
    for img in &frames {
        if let Some(face) = engine.detect(img)?.into_iter().next() {
            if let Ok(realface::FaceLandmarks { mesh, map, .. }) = engine.landmarks(img, &face) {
                faces.push((img, face, mesh, map));
            }
        }
    }
    if faces.is_empty() {
        return Err(Error::NoFace);
    }
    let m = faces.len();
    let samples = 60;
    let mut stages = vec![
        time_stage("decode", n, samples, |i| engine.decode(&bytes[i]))?,
        time_stage("detect", n, samples, |i| engine.detect(&frames[i]))?,
        time_stage("mesh", m, samples, |i| {
            engine.mesh().run(faces[i].0, Roi::from_face(&faces[i].1))
        })?,
        time_stage("eye_state", m, samples, |i| {
            engine.eye_state().run(faces[i].0, &faces[i].2)
        })?,
        time_stage("passive", m, samples, |i| {
            engine.pad().scores(faces[i].0, &faces[i].1.bbox)
        })?,
        time_stage("passive_fr_liveness", m, samples, |i| {
            engine.pad().real_probability(faces[i].0, &faces[i].1.bbox)
        })?,
        time_stage("align", m, samples, |i| {
            Ok(aligned_image(faces[i].0, &faces[i].3))
        })?,
        time_stage("embed", m, samples, |i| {
            engine.embed_face(faces[i].0, faces[i].3)
        })?,
        time_stage("quality", m, samples, |i| {
            let f = FrameFeatures::from_mesh(&faces[i].2);
            Ok(assess(faces[i].0, &faces[i].3, &f, None))
        })?,
    ];
    {
        let mut history = History::default();
        let mut det: Option<AnswerDetector> = None;
        let feats: Vec<FrameFeatures> = faces
            .iter()
            .map(|f| FrameFeatures::from_mesh(&f.2))
            .collect();
        let mut t = 0u64;
        stages.push(time_stage("features", m, samples, |i| {
            Ok(FrameFeatures::from_mesh(&faces[i].2))
        })?);
        stages.push(time_stage("action_update", m, 2_000, |i| {
            t += 33;
            history.push(t, feats[i]);
            Ok(step_answer(&mut det, &history, t, &feats[i]))
        })?);
    }
    stages.push(time_stage("segmentation", m, 20, |i| {
        engine.segmenter().run(faces[i].0)
    })?);
    let mask = engine.segmenter().run(faces[0].0)?;
    stages.push(time_stage("mosaic", 1, 20, |_| {
        Ok(mosaic_background(faces[0].0, &mask, &faces[0].1.bbox))
    })?);

    let wall: f64 = run.latencies.iter().sum::<f64>() / 1e3;
    let timed = run.latencies.len().max(1) as f64;
    let report = Report {
        frames_dir: args.frames.to_path_buf(),
        distinct_frames: n,
        frame_size,
        ort_intra_threads: args.threads,
        detect_every: args.detect_every,
        schedule: args.schedule.name.clone(),
        pad_every: args.schedule.rates(Phase::Between).pad_every,
        embed_every: args.schedule.rates(Phase::Between).embed_every,
        parallel_stages,
        stages,
        pipeline_frames: args.iterations,
        pipeline_fps: timed / wall,
        pipeline_ms_per_frame: wall * 1e3 / timed,
        model_ms_per_frame: run.model_s * 1e3 / timed,
        outside_models_share: (wall - run.model_s).max(0.0) / wall,
        faces_found_share: run.found as f64 / args.iterations as f64,
        peak_rss_mb: run.peak,
        frames_held_mb: bytes.iter().map(Vec::len).sum::<usize>() as f64 / (1024.0 * 1024.0),
        rss_after_100_mb: run.rss_100,
        rss_after_all_mb: run.rss_all,
        rss_growth_mb: run.rss_100.zip(run.rss_all).map(|(a, b)| b - a),
        frame_latency_ms: Latency::of(run.latencies),
        frame_outputs: run.frame_outputs,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    println!("stage                median ms   samples");
    for s in &report.stages {
        println!("{:<20} {:>9.3} {:>9}", s.stage, s.median_ms, s.samples);
    }
    let mb = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.1} MB"));
    println!(
        "per-frame pipeline (schedule {}: passive every {} tick(s), embedding every {} due frame(s); detect every {} frame(s), {} ORT thread(s), {}): {:.1} frames/s, {:.2} ms/frame, models {:.2} ms, outside the models {:.1}%",
        report.schedule,
        report.pad_every,
        report.embed_every,
        report.detect_every,
        report.ort_intra_threads,
        if report.parallel_stages {
            "stages side by side: model time of both cores, the share outside understates"
        } else {
            "stages one after the other"
        },
        report.pipeline_fps,
        report.pipeline_ms_per_frame,
        report.model_ms_per_frame,
        100.0 * report.outside_models_share
    );
    println!(
        "memory: peak RSS {} (of which {:.1} MB the frames the bench holds), RSS after 100 frames {}, after {} frames {} (growth {})",
        mb(report.peak_rss_mb),
        report.frames_held_mb,
        mb(report.rss_after_100_mb),
        report.pipeline_frames,
        mb(report.rss_after_all_mb),
        mb(report.rss_growth_mb)
    );
    let l = &report.frame_latency_ms;
    println!(
        "per-frame time: median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.p50, l.p95, l.p99, l.max
    );
    Ok(())
}

/// Speed and memory: per-stage median ms, per-frame pipeline frames/s,
/// share of time outside the models, peak RSS and RSS growth.
#[derive(clap::Args)]
pub struct BenchCmd {
    /// Folder of frames (cycled through for the per-frame pipeline).
    #[arg(long, default_value = ".samples")]
    pub frames: PathBuf,
    /// ONNX Runtime intra-op threads per model.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Frames through the per-frame pipeline (RSS is read after 100 and after all).
    #[arg(long, default_value_t = 10_000)]
    pub iterations: usize,
    /// Run the detector every n-th frame and track in between (by default
    /// the schedule's rate).
    #[arg(long)]
    pub detect_every: Option<usize>,
    /// The per-frame pipeline runs this analysis schedule's `between`
    /// rates (a session's steady state) and its detector rate: `full`,
    /// `default`, `lean`, `sparse`, `tracked`.
    #[arg(long, default_value = "default")]
    pub schedule: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Whole sessions instead: one per analysis schedule (`full`,
    /// `default`, `lean`, `sparse`, `tracked`) over --video, in alternating
    /// rounds.
    #[arg(long, requires_all = ["reference", "video", "actions"])]
    pub schedules: Option<String>,
    /// The sessions' reference photo.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// The sessions' video (read at its own rate).
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// The sessions' actions (`blink,turn_left`).
    #[arg(long)]
    pub actions: Option<String>,
    /// The prompts' fixed delays, as `verify --prompt-delays-ms`.
    #[arg(long)]
    pub prompt_delays_ms: Option<String>,
    /// The release cues, as `verify --release-at-ms`.
    #[arg(long)]
    pub release_at_ms: Option<String>,
    /// Sessions per schedule.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

impl BenchCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self {
            frames,
            threads,
            iterations,
            detect_every,
            schedule,
            json,
            schedules,
            reference,
            video,
            actions,
            prompt_delays_ms,
            release_at_ms,
            rounds,
        } = self;
        if let (Some(schedules), Some(reference), Some(video), Some(actions)) =
            (schedules, reference, video, actions)
        {
            let args = crate::bench_sessions::SessionBenchArgs {
                schedules,
                reference,
                video,
                actions,
                prompt_delays_ms: prompt_delays_ms.as_deref(),
                release_at_ms: release_at_ms.as_deref(),
                rounds: *rounds,
                threads: *threads,
                json: *json,
            };
            return crate::bench_sessions::bench_sessions(&args, config(cli))
                .map_err(|e| ("bench".to_string(), e));
        }

        let schedule = AnalysisSchedule::named(schedule).map_err(|e| ("bench".to_string(), e))?;
        let args = BenchArgs {
            frames,
            threads: *threads,
            iterations: *iterations,
            detect_every: detect_every.unwrap_or(schedule.detect_every),
            schedule,
            json: *json,
        };
        bench(&args, config(cli)).map_err(|e| ("bench".to_string(), e))
    }
}
