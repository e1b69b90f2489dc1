//! `realface bench --schedules A,B --video FILE ...`: whole sessions over one
//! video, one per analysis schedule in alternating rounds, on one core (the
//! model calls one after the other). Per schedule: model milliseconds per
//! second of session video (by model and by phase), frames per second, the
//! share of time outside the models, the verdict; and the process's peak RSS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use realface::liveness::actions::Action;
use realface::runtime::{model_time, model_times};
use realface::session::certify::{unix_now_ms, CertifyRegistry};
use realface::session::challenge::ChallengeSpec;
use realface::session::schedule::{AnalysisSchedule, Phase};
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::source::video::{VideoLimits, VideoSource};
use realface::source::FrameSource;
use realface::{EngineConfig, Error, FaceEngine, Result};
use serde::Serialize;

use crate::verify_cmd::parse_delays;

/// What a session bench was asked.
pub struct SessionBenchArgs<'a> {
    pub schedules: &'a str,
    pub reference: &'a Path,
    pub video: &'a Path,
    pub actions: &'a str,
    pub prompt_delays_ms: Option<&'a str>,
    pub release_at_ms: Option<&'a str>,
    pub rounds: usize,
    pub threads: usize,
    pub json: bool,
}

/// One schedule's figures, summed over its rounds.
#[derive(Serialize, Default)]
struct ScheduleReport {
    name: String,
    sessions: usize,
    /// The verdicts of its sessions (`SUCCESS`, or `FAIL CODE`).
    verdicts: Vec<String>,
    frames: usize,
    /// Seconds of session video (first frame to the frame that ended it).
    session_s: f64,
    /// Time inside `push_frame` (s).
    wall_s: f64,
    /// Time inside ONNX Runtime (s).
    model_s: f64,
    model_ms_per_session_s: f64,
    /// The same, relative to the first schedule of the run.
    model_ratio: f64,
    frames_per_s: f64,
    outside_models_share: f64,
    /// Model ms per second of session video, by model.
    by_model: BTreeMap<&'static str, f64>,
    /// Model runs per session, by model.
    runs_by_model: BTreeMap<&'static str, f64>,
    /// Model ms per second of session video spent in each phase, and the
    /// seconds of video each phase took.
    by_phase: BTreeMap<&'static str, PhaseTime>,
}

#[derive(Serialize, Default, Clone, Copy)]
struct PhaseTime {
    model_ms_per_session_s: f64,
    session_s: f64,
}

#[derive(Serialize)]
struct Report {
    video: PathBuf,
    actions: String,
    ort_intra_threads: usize,
    rounds: usize,
    schedules: Vec<ScheduleReport>,
    peak_rss_mb: Option<f64>,
}

/// One session over the video: its figures are added to `r`.
fn one_session(
    engine: &Arc<FaceEngine>,
    reference: &realface::RgbImage,
    options: SessionOptions,
    video: &Path,
    r: &mut ScheduleReport,
    phase_model_ns: &mut BTreeMap<&'static str, (u64, u64)>,
) -> Result<()> {
    let ticket = CertifyRegistry::new().issue_claimed(unix_now_ms())?;
    let mut session = VerificationSession::new(
        engine.clone(),
        ticket,
        Reference::Photo(reference.clone()),
        options,
    )?;
    let mut source = VideoSource::open(video, engine.config().limits, VideoLimits::default())?;
    let before = model_times();
    let (mut first, mut last, mut gap) = (None, 0u64, 33u64);
    while let Some(f) = source.next_frame()? {
        if session.is_finished() {
            break;
        }
        let phase = session.phase(f.t_ms).name();
        let m0 = model_time().nanos;
        let t0 = Instant::now();
        // a refused frame is part of the session, as in `verify`
        let _ = session.push_frame(&f.image, f.t_ms);
        r.wall_s += t0.elapsed().as_secs_f64();
        let model_ns = model_time().nanos - m0;
        let dt = if first.is_some() {
            f.t_ms.saturating_sub(last)
        } else {
            0
        };
        if dt > 0 {
            gap = dt;
        }
        let p = phase_model_ns.entry(phase).or_default();
        p.0 += model_ns;
        p.1 += dt;
        first.get_or_insert(f.t_ms);
        last = f.t_ms;
        r.frames += 1;
    }
    let result = session.finish();
    r.session_s += (last - first.unwrap_or(last) + gap) as f64 / 1e3;
    r.sessions += 1;
    let state = serde_json::to_value(result.auth_state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let code = result
        .reasons
        .first()
        .and_then(|x| serde_json::to_value(x.code).ok())
        .and_then(|v| v.as_str().map(|s| format!(" {s}")))
        .unwrap_or_default();
    r.verdicts.push(format!("{state}{code}"));
    for (name, t) in model_times() {
        let was = before
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, b)| b.nanos);
        *r.by_model.entry(name).or_default() += (t.nanos - was) as f64 / 1e6;
        let runs_was = before
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, b)| b.runs);
        *r.runs_by_model.entry(name).or_default() += (t.runs - runs_was) as f64;
    }
    Ok(())
}

/// Runs the session bench and prints its report.
pub fn bench_sessions(args: &SessionBenchArgs, cfg: EngineConfig) -> Result<()> {
    if args.rounds == 0 || args.threads == 0 {
        return Err(Error::invalid(
            "bench",
            "--rounds and --threads must be at least 1",
        ));
    }
    let names: Vec<&str> = args.schedules.split(',').map(str::trim).collect();
    let schedules = names
        .iter()
        .map(|n| AnalysisSchedule::named(n))
        .collect::<Result<Vec<_>>>()?;
    let actions = args
        .actions
        .split(',')
        .map(str::parse::<Action>)
        .collect::<Result<Vec<_>>>()?;
    let mut base = SessionOptions::default().with_challenge(ChallengeSpec::Fixed(actions));
    if let Some(d) = args.prompt_delays_ms {
        base = base.with_prompt_delays_ms(parse_delays(d, "prompt_delays_ms")?);
    }
    if let Some(d) = args.release_at_ms {
        base = base.with_release_at_ms(parse_delays(d, "release_at_ms")?);
    }
    // one core: the model calls one after the other, one ORT thread
    let engine = Arc::new(FaceEngine::new(
        cfg.with_intra_threads(args.threads)
            .with_sessions_per_model(1)
            .with_parallel_stages(false),
    )?);
    let reference = engine.load(args.reference)?;
    let mut reports: Vec<ScheduleReport> = names
        .iter()
        .map(|n| ScheduleReport {
            name: n.to_string(),
            ..ScheduleReport::default()
        })
        .collect();
    let mut phases: Vec<BTreeMap<&'static str, (u64, u64)>> = vec![BTreeMap::new(); names.len()];
    // a warm-up session (first model runs allocate), not counted
    let mut scratch = ScheduleReport::default();
    one_session(
        &engine,
        &reference,
        base.clone(),
        args.video,
        &mut scratch,
        &mut BTreeMap::new(),
    )?;
    for round in 0..args.rounds {
        // alternating order: neither schedule always runs first
        let mut order: Vec<usize> = (0..schedules.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            if !args.json {
                eprintln!("round {}/{}: {}", round + 1, args.rounds, names[i]);
            }
            let options = base.clone().with_schedule(schedules[i].clone());
            one_session(
                &engine,
                &reference,
                options,
                args.video,
                &mut reports[i],
                &mut phases[i],
            )?;
        }
    }
    let first_rate = |r: &ScheduleReport| r.model_s_total() * 1e3 / r.session_s;
    let reference_rate = reports.first().map(first_rate).unwrap_or(f64::NAN);
    for (r, ph) in reports.iter_mut().zip(&phases) {
        r.model_s = r.model_s_total();
        r.model_ms_per_session_s = r.model_s * 1e3 / r.session_s;
        r.model_ratio = r.model_ms_per_session_s / reference_rate;
        r.frames_per_s = r.frames as f64 / r.wall_s;
        r.outside_models_share = ((r.wall_s - r.model_s) / r.wall_s).max(0.0);
        let s = r.session_s;
        for v in r.by_model.values_mut() {
            *v /= s;
        }
        let n = r.sessions.max(1) as f64;
        for v in r.runs_by_model.values_mut() {
            *v /= n;
        }
        for phase in Phase::ALL {
            if let Some(&(ns, ms)) = ph.get(phase.name()) {
                r.by_phase.insert(
                    phase.name(),
                    PhaseTime {
                        model_ms_per_session_s: ns as f64 / 1e6 / s,
                        session_s: ms as f64 / 1e3 / r.sessions.max(1) as f64,
                    },
                );
            }
        }
    }
    let report = Report {
        video: args.video.to_path_buf(),
        actions: args.actions.to_string(),
        ort_intra_threads: args.threads,
        rounds: args.rounds,
        schedules: reports,
        peak_rss_mb: crate::bench_cmd::proc_mb("VmHWM:"),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    println!("schedule    model ms/s video  x first  frames/s  outside models  verdicts");
    for r in &report.schedules {
        println!(
            "{:<11} {:>16.1} {:>8.2} {:>9.1} {:>14.1}%  {}",
            r.name,
            r.model_ms_per_session_s,
            r.model_ratio,
            r.frames_per_s,
            100.0 * r.outside_models_share,
            r.verdicts.join(", ")
        );
        let by: Vec<String> = r
            .by_model
            .iter()
            .map(|(m, v)| format!("{m} {v:.1}"))
            .collect();
        println!("    by model (ms/s video): {}", by.join(", "));
        let by: Vec<String> = r
            .by_phase
            .iter()
            .map(|(p, v)| format!("{p} {:.1} ({:.2} s)", v.model_ms_per_session_s, v.session_s))
            .collect();
        println!(
            "    by phase (ms/s video, s of video a session): {}",
            by.join(", ")
        );
    }
    let mb = report
        .peak_rss_mb
        .map_or("n/a".to_string(), |v| format!("{v:.1} MB"));
    println!("peak RSS {mb}");
    Ok(())
}

impl ScheduleReport {
    /// Model seconds of the schedule's sessions (from the per-model sums).
    fn model_s_total(&self) -> f64 {
        self.by_model.values().sum::<f64>() / 1e3
    }
}
