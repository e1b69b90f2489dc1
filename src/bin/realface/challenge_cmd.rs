//! `realface eval challenge`: the prompted evaluation (see
//! `realface::eval::challenge` and `realface::eval::challenge_fit`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use indicatif::ProgressBar;
use rayon::prelude::*;
use realface::eval::challenge::{
    placements, run, Placement, Rate, Recorded, Run, Schedule, Tuning, DELIBERATE,
    HEADLINE_REACTION_MS, PRERECORDED, REACTION_TIMES_MS,
};
use realface::eval::challenge_fit::{
    counts_for_fit, fit, fit_pad, tables, ChallengeFit, Tables, WINDOWS_MS,
};
use realface::liveness::actions::Action;
use realface::liveness::pad_model::PadChoice;
use realface::session::challenge::ChallengeSpec;
use realface::session::SessionOptions;
use realface::{EngineConfig, Error, FaceEngine, Result};
use serde::Serialize;
use serde_json::json;

use crate::challenge_material::{load, Material, Sources};
use crate::plot::WindowPoint;
use crate::{challenge_material, config, Cli, CmdResult};
use std::path::PathBuf;

pub struct ChallengeArgs<'a> {
    pub sources: Sources<'a>,
    pub out: &'a Path,
    pub schedules: u32,
    pub multi_schedules: u32,
    /// How prompts are timed in every replay.
    pub prompt_mode: realface::session::prompt::PromptMode,
    /// Whether answers are held until a release cue (the default).
    pub release: bool,
    /// The sessions' analysis schedules (those with the same detector rate
    /// on the same observations).
    pub analysis: Vec<realface::session::schedule::AnalysisSchedule>,
}

fn write(path: &Path, text: String) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.into(),
        source: e,
    })
}

/// A fold: the fitted tuning that held `group` out.
#[derive(Serialize, Clone)]
struct Fold {
    challenge: ChallengeFit,
    pad_threshold: f32,
    minifasnet_threshold: f32,
    #[serde(skip)]
    tuning: Tuning,
}

/// A genuine session's medians: (group, fr_liveness, MiniFASNet).
type PadRow = (String, Option<f32>, Option<f32>);
/// Every genuine session's medians.
type PadGenuine = Vec<PadRow>;

/// Both gates fitted on the groups `keep` accepts.
fn gates(g: &PadGenuine, keep: &dyn Fn(&str) -> bool, base: &Tuning) -> (f32, f32) {
    let of = |pick: fn(&PadRow) -> Option<f32>| -> Vec<f32> {
        g.iter().filter(|x| keep(&x.0)).filter_map(pick).collect()
    };
    (
        fit_pad(&of(|x| x.1), base.pad_threshold),
        fit_pad(&of(|x| x.2), base.minifasnet_threshold),
    )
}

/// One held-out run, for the report.
#[derive(Serialize)]
struct HeldOut<'a> {
    sequence: &'a str,
    species: &'a str,
    group: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    placement: Option<&'a Placement>,
    schedule: Option<u64>,
    run: Run,
}

/// The passive gate per session, held out, reading one model or both.
#[derive(Serialize)]
struct PadSessions {
    /// Per held-out group: the gates (fr_liveness, MiniFASNet) its fold fitted.
    gates: BTreeMap<String, (f32, f32)>,
    /// The gates on everyone.
    shipped_gates: (f32, f32),
    /// BPCER over genuine sessions and APCER per species.
    rates: BTreeMap<String, Rate>,
}

fn pad_sessions(
    m: &Material,
    pad_genuine: &PadGenuine,
    groups: &[String],
    choice: PadChoice,
    base: &Tuning,
) -> PadSessions {
    let gates: BTreeMap<String, (f32, f32)> = groups
        .iter()
        .chain(m.live.iter().map(|r| &r.group))
        .map(|g| (g.clone(), self::gates(pad_genuine, &|x| x != g, base)))
        .collect();
    let shipped = self::gates(pad_genuine, &|_| true, base);
    let gate_of = |g: &str| gates.get(g).copied().unwrap_or(shipped);
    // a session passes the gate when every model read reaches its gate;
    // its median over the frames the schedule scores (its sparsest rate)
    let every = base.schedule.sparsest_pad_every() as usize;
    let passes = |r: &Recorded| {
        let (fr, mf) = gate_of(&r.group);
        let ok = |c: PadChoice, t: f32| r.pad_median_every(c, every).is_some_and(|v| v >= t);
        match choice {
            PadChoice::FrLiveness => ok(PadChoice::FrLiveness, fr),
            PadChoice::Minifasnet => ok(PadChoice::Minifasnet, mf),
            PadChoice::Both => ok(PadChoice::FrLiveness, fr) && ok(PadChoice::Minifasnet, mf),
        }
    };
    let genuine: Vec<&Recorded> = m.clips.iter().chain(m.live.iter()).collect();
    let rejected = genuine.iter().filter(|r| !passes(r)).count() as u64;
    let mut rates = BTreeMap::new();
    rates.insert(
        "BPCER genuine sessions".to_string(),
        Rate::new(rejected, genuine.len() as u64),
    );
    let mut species: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for q in m.attacks.iter() {
        let e = species.entry(format!("APCER {}", q.species)).or_default();
        e.1 += 1;
        if passes(q) {
            e.0 += 1;
        }
    }
    for (k, (a, n)) in species {
        rates.insert(k, Rate::new(a, n));
    }
    PadSessions {
        gates,
        shipped_gates: shipped,
        rates,
    }
}

fn fold_of<'a>(folds: &'a BTreeMap<String, Fold>, full: &'a Fold, group: &str) -> &'a Fold {
    folds.get(group).unwrap_or(full)
}

fn make_fold(
    t: &Tables,
    m: &Material,
    placed: &[Placement],
    pad_genuine: &PadGenuine,
    base: &Tuning,
    keep: &dyn Fn(&str) -> bool,
) -> Fold {
    let challenge = fit(t, &m.clips, placed, &m.prerecorded, keep, base);
    let (pad_threshold, minifasnet_threshold) = gates(pad_genuine, keep, base);
    let mut tuning = challenge.tuning(base);
    tuning.pad_threshold = pad_threshold;
    tuning.minifasnet_threshold = minifasnet_threshold;
    Fold {
        challenge,
        pad_threshold,
        minifasnet_threshold,
        tuning,
    }
}

/// Rates keyed by "species/action" (and "species" alone).
fn rates(runs: impl Iterator<Item = (String, String, bool)>) -> BTreeMap<String, Rate> {
    let mut m: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (species, action, passed) in runs {
        for k in [species.clone(), format!("{species}/{action}")] {
            let e = m.entry(k).or_default();
            e.1 += 1;
            e.0 += passed as u64;
        }
    }
    m.into_iter()
        .map(|(k, (p, n))| (k, Rate::new(p, n)))
        .collect()
}

pub fn eval_challenge(args: &ChallengeArgs, cfg: EngineConfig) -> Result<()> {
    std::fs::create_dir_all(args.out).map_err(|e| Error::Io {
        path: args.out.into(),
        source: e,
    })?;
    let engine = Arc::new(FaceEngine::new(
        cfg.with_sessions_per_model(2).with_intra_threads(1),
    )?);
    let clock = std::time::Instant::now();
    let stage = |what: &str| {
        eprintln!(
            "eval challenge: {what} after {:.0} s",
            clock.elapsed().as_secs_f64()
        )
    };
    // one recording per detector rate (`full`'s models at that rate); every
    // schedule with that rate on the same observations (a schedule's
    // analysed frames are a subset of them)
    let mut rates: Vec<usize> = args.analysis.iter().map(|a| a.detect_every).collect();
    rates.sort_unstable();
    rates.dedup();
    let mut rows = Vec::new();
    for rate in rates {
        let options = SessionOptions::default().with_detect_every(rate);
        let m = load(&engine, &options, &args.sources)?;
        stage(&format!("observed with the detector every {rate} frames"));
        for analysis in args.analysis.iter().filter(|a| a.detect_every == rate) {
            let out = if args.analysis.len() > 1 {
                args.out.join(&analysis.name)
            } else {
                args.out.to_path_buf()
            };
            std::fs::create_dir_all(&out).map_err(|e| Error::Io {
                path: out.clone(),
                source: e,
            })?;
            let summary = evaluate(&engine, &m, &options, args, analysis, &out, &stage)?;
            rows.push(json!({"schedule": analysis.name, "detect_every": rate, "summary": summary}));
        }
    }
    if args.analysis.len() > 1 {
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| Error::invalid("report", e.to_string()))?;
        write(&args.out.join("schedules.json"), text + "\n")?;
    }
    for r in &rows {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
    }
    Ok(())
}

/// The fit and the held-out figures of one analysis schedule, written to
/// `out`; returns the summary.
fn evaluate(
    engine: &Arc<FaceEngine>,
    m: &Material,
    options: &SessionOptions,
    args: &ChallengeArgs,
    analysis: &realface::session::schedule::AnalysisSchedule,
    out: &Path,
    stage: &dyn Fn(&str),
) -> Result<serde_json::Value> {
    let mut base = Tuning {
        schedule: analysis.clone(),
        ..Tuning::default()
    };
    base.prompt.mode = args.prompt_mode;
    if !args.release {
        base.prompt.release = None;
    }
    let (placed, excluded) = placements(
        &m.clips,
        &REACTION_TIMES_MS,
        base.prompt.rest_ms,
        options.total_timeout_ms,
    );

    // the passive gate from genuine sessions only
    let pad_genuine: PadGenuine = m
        .clips
        .iter()
        .chain(m.live.iter())
        .map(|r| {
            (
                r.group.clone(),
                r.pad_median(PadChoice::FrLiveness),
                r.pad_median(PadChoice::Minifasnet),
            )
        })
        .collect();

    // the grid, the prompts alone (passive gate off)
    let mut off = base.clone();
    off.pad_threshold = 0.0;
    off.minifasnet_threshold = 0.0;
    let cells = placed.len() + 5 * m.prerecorded.len();
    let bar = ProgressBar::new(cells as u64);
    bar.set_message("grid");
    let t = tables(
        engine,
        &m.clips,
        &placed,
        &m.prerecorded,
        args.schedules,
        &off,
        &|| bar.inc(1),
    );
    bar.finish_and_clear();
    stage("grid done");

    let mut groups: Vec<String> = m.clips.iter().map(|c| c.group.clone()).collect();
    groups.sort();
    groups.dedup();
    let folds: BTreeMap<String, Fold> = groups
        .par_iter()
        .map(|g| {
            (
                g.clone(),
                make_fold(&t, m, &placed, &pad_genuine, &base, &|x| x != g),
            )
        })
        .collect();
    let full = make_fold(&t, m, &placed, &pad_genuine, &base, &|_| true);

    // held out, end to end (passive gate on, each group's fold)
    let attack_seqs: Vec<&Recorded> = m.prerecorded.iter().chain(m.attacks.iter()).collect();
    let jobs = placed.len() + attack_seqs.len() * 7;
    let bar = ProgressBar::new(jobs as u64);
    bar.set_message("held-out sessions");
    let genuine: Vec<HeldOut> = placed
        .par_iter()
        .map(|p| {
            let c = &m.clips[p.clip];
            let f = fold_of(&folds, &full, &c.group);
            let r = run(
                engine,
                c,
                ChallengeSpec::Fixed(vec![p.action]),
                &p.schedule(c.first_ms, &f.tuning),
                &f.tuning,
            );
            bar.inc(1);
            HeldOut {
                sequence: &c.name,
                species: "genuine",
                group: &c.group,
                placement: Some(p),
                schedule: None,
                run: r,
            }
        })
        .collect();
    let single: Vec<HeldOut> = attack_seqs
        .par_iter()
        .flat_map_iter(|q| {
            let f = fold_of(&folds, &full, &q.group);
            let out: Vec<HeldOut> = Action::ALL
                .into_iter()
                .flat_map(|a| (0..args.schedules as u64).map(move |k| (a, k)))
                .map(|(a, k)| HeldOut {
                    sequence: &q.name,
                    species: &q.species,
                    group: &q.group,
                    placement: None,
                    schedule: Some(k),
                    run: run(
                        engine,
                        q,
                        ChallengeSpec::Fixed(vec![a]),
                        &Schedule::Nonce(k),
                        &f.tuning,
                    ),
                })
                .collect();
            bar.inc(5);
            out
        })
        .collect();
    let multi: BTreeMap<usize, Vec<HeldOut>> = [2usize, 3]
        .into_iter()
        .map(|n| {
            let runs: Vec<HeldOut> = attack_seqs
                .par_iter()
                .flat_map_iter(|q| {
                    let f = fold_of(&folds, &full, &q.group);
                    let out: Vec<HeldOut> = (0..args.multi_schedules as u64)
                        .map(|k| HeldOut {
                            sequence: &q.name,
                            species: &q.species,
                            group: &q.group,
                            placement: None,
                            schedule: Some(1_000_000 + k),
                            run: run(
                                engine,
                                q,
                                ChallengeSpec::Random(n),
                                &Schedule::Nonce(1_000_000 + k),
                                &f.tuning,
                            ),
                        })
                        .collect();
                    bar.inc(1);
                    out
                })
                .collect();
            (n, runs)
        })
        .collect();
    bar.finish_and_clear();
    let timed = best_timed(engine, m, &placed, &folds, &full, args.multi_schedules);
    stage("held-out sessions done");

    // summaries
    let action_of = |h: &HeldOut| {
        h.placement
            .map(|p| p.action)
            .or_else(|| h.run.actions.first().copied())
    };
    // headline: reactions up to HEADLINE_REACTION_MS; every event, and
    // the events performed on purpose apart; slower readers apart
    let genuine_rates = |species: &str, pick: &dyn Fn(&Placement) -> bool| {
        rates(
            genuine
                .iter()
                .filter(|h| {
                    h.placement
                        .is_some_and(|p| counts_for_fit(p.action, &p.label) && pick(p))
                })
                .map(|h| {
                    (
                        species.to_string(),
                        action_of(h).map_or("?".into(), |a| a.name().to_string()),
                        h.run.passed,
                    )
                }),
        )
    };
    let mut genuine_headline = genuine_rates("genuine", &|p| p.reaction_ms <= HEADLINE_REACTION_MS);
    genuine_headline.extend(genuine_rates("genuine-deliberate", &|p| {
        p.deliberate && p.reaction_ms <= HEADLINE_REACTION_MS
    }));
    genuine_headline.extend(genuine_rates("genuine-slow-reader", &|p| {
        p.reaction_ms > HEADLINE_REACTION_MS
    }));
    // the rest gate on genuine placements: NOT_AT_REST per action
    let not_at_rest = rates(genuine.iter().filter_map(|h| {
        let p = h.placement?;
        counts_for_fit(p.action, &p.label).then(|| {
            (
                "NOT_AT_REST".to_string(),
                p.action.name().to_string(),
                h.run.reason == Some(realface::session::result::ReasonCode::NotAtRest),
            )
        })
    }));
    let genuine_by_label = rates(genuine.iter().filter_map(|h| {
        let p = h.placement?;
        Some((
            format!("{}@{}ms", p.label, p.reaction_ms),
            p.action.name().to_string(),
            h.run.passed,
        ))
    }));
    let attack_single = rates(single.iter().map(|h| {
        (
            h.species.to_string(),
            action_of(h).map_or("?".into(), |a| a.name().to_string()),
            h.run.passed,
        )
    }));
    let attack_multi: BTreeMap<String, BTreeMap<String, Rate>> = multi
        .iter()
        .map(|(n, runs)| {
            (
                format!("{n}-action"),
                rates(
                    runs.iter()
                        .map(|h| (h.species.to_string(), "any".to_string(), h.run.passed)),
                ),
            )
        })
        .collect();
    let genuine_failures: Vec<&HeldOut> = genuine.iter().filter(|h| !h.run.passed).collect();
    let attack_passes: Vec<&HeldOut> = single
        .iter()
        .chain(multi.values().flatten())
        .filter(|h| h.run.passed)
        .collect();

    // the passive gate per session, held out, for every passive model
    let pad_sessions: BTreeMap<String, PadSessions> = [
        PadChoice::FrLiveness,
        PadChoice::Minifasnet,
        PadChoice::Both,
    ]
    .into_iter()
    .map(|c| {
        (
            format!("{c:?}"),
            pad_sessions(m, &pad_genuine, &groups, c, &base),
        )
    })
    .collect();

    // the window curve (all people, prompts alone): per action and window,
    // genuine pass (every event; deliberate events) and the pass of the
    // clips replayed as recorded and of the deliberate ones, shapes as the
    // full fit
    let mut curve: BTreeMap<String, Vec<WindowPoint>> = BTreeMap::new();
    for a in Action::ALL {
        let (_, s) = full.challenge.indices(a);
        let ai = realface::eval::challenge_fit::action_index(a);
        let share = |p: u64, n: u64| {
            if n == 0 {
                f64::NAN
            } else {
                p as f64 / n as f64
            }
        };
        let pts = (0..WINDOWS_MS.len())
            .map(|w| {
                let genuine_where = |pick: &dyn Fn(&Placement) -> bool| {
                    let (mut gp, mut gn) = (0u64, 0u64);
                    for (i, p) in placed.iter().enumerate() {
                        if p.action == a && counts_for_fit(a, &p.label) && pick(p) {
                            gn += 1;
                            gp += t.genuine[i][w][s] as u64;
                        }
                    }
                    share(gp, gn)
                };
                let attack_where = |species: &str| {
                    let (mut ap, mut an) = (0u64, 0u64);
                    for (row, q) in t.attack.iter().zip(&m.prerecorded) {
                        if q.species == species {
                            ap += row[ai][w][s] as u64;
                            an += t.schedules as u64;
                        }
                    }
                    share(ap, an)
                };
                WindowPoint {
                    window_ms: WINDOWS_MS[w],
                    genuine: genuine_where(&|_| true),
                    genuine_deliberate: genuine_where(&|p| p.deliberate),
                    prerecorded: attack_where(PRERECORDED),
                    deliberate_recording: attack_where(DELIBERATE),
                }
            })
            .collect();
        curve.insert(a.name().to_string(), pts);
    }
    crate::plot::window_curve(&curve, &out.join("window.png"))
        .and_then(|()| crate::plot::window_curve(&curve, &out.join("window.svg")))
        .map_err(|e| Error::invalid("plot", e))?;

    let sequences: Vec<_> = m
        .clips
        .iter()
        .chain(m.prerecorded.iter())
        .chain(m.attacks.iter())
        .chain(m.live.iter())
        .map(|r| json!({"name": r.name, "species": r.species, "group": r.group, "frames": r.log.len(), "face_frames": r.face_frames(), "duration_ms": r.end_ms - r.first_ms,
            "pad_median": {"fr_liveness": r.pad_median(PadChoice::FrLiveness), "minifasnet": r.pad_median(PadChoice::Minifasnet)}}))
        .collect();
    let summary = json!({
        "genuine_pass_held_out": genuine_headline,
        "genuine_not_at_rest_held_out": not_at_rest,
        "best_timed_deliberate_recording_held_out": timed.summary,
        "attack_pass_held_out": attack_single,
        "multi_action_attack_pass_held_out": attack_multi,
        "pad_sessions_held_out": pad_sessions,
        "shipped_fit": {"challenge": full.challenge, "pad_threshold": full.pad_threshold, "minifasnet_threshold": full.minifasnet_threshold, "pad_model": base.pad_model},
        "analysis_schedule": base.schedule,
        "schedules_per_action": args.schedules,
        "multi_schedules_per_sequence": args.multi_schedules,
    });
    let report = json!({
        "summary": summary,
        "genuine_by_label_and_reaction_time": genuine_by_label,
        "window_curve_all_people_prompts_alone": curve,
        "folds": folds,
        "placements": placed.len(),
        "excluded_events": excluded,
        "genuine_failures": genuine_failures,
        "best_timed_runs": timed.runs,
        "attack_passes": attack_passes,
        "genuine_runs": genuine,
        "sequences": sequences,
        "tuning_base": base,
    });
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::invalid("report", e.to_string()))?;
    write(&out.join("report.json"), text + "\n")?;
    Ok(summary)
}

/// The best-timed deliberate-recording attacker's runs and their summary.
struct Timed<'a> {
    summary: BTreeMap<String, Rate>,
    runs: Vec<HeldOut<'a>>,
}

/// The best-timed attacker with footage of the victim acting on purpose:
/// the video started so that a deliberate action answers the first prompt
/// (the first prompt placed as a genuine one is, before that action), a
/// second action drawn and prompted as a live session does (`n` nonces).
/// What counts is the pass of the second prompt given the first was
/// answered ("conditional/..."); each person judged by their held-out fold.
fn best_timed<'a>(
    engine: &Arc<FaceEngine>,
    m: &'a Material,
    placed: &'a [Placement],
    folds: &BTreeMap<String, Fold>,
    full: &Fold,
    n: u32,
) -> Timed<'a> {
    let turn = |x: Action| matches!(x, Action::TurnLeft | Action::TurnRight);
    let jobs: Vec<(&Placement, Action)> = placed
        .iter()
        .filter(|p| p.deliberate && p.reaction_ms <= HEADLINE_REACTION_MS)
        .flat_map(|p| {
            Action::ALL
                .into_iter()
                .filter(move |&b| b != p.action && !(turn(b) && turn(p.action)))
                .map(move |b| (p, b))
        })
        .collect();
    let runs: Vec<HeldOut> = jobs
        .par_iter()
        .flat_map_iter(|&(p, b)| {
            let c = &m.clips[p.clip];
            let f = fold_of(folds, full, &c.group);
            (0..n as u64).map(move |k| HeldOut {
                sequence: &c.name,
                species: "best-timed deliberate recording",
                group: &c.group,
                placement: Some(p),
                schedule: Some(2_000_000 + k),
                run: run(
                    engine,
                    c,
                    ChallengeSpec::Fixed(vec![p.action, b]),
                    &Schedule::Timed(p.delay_ms, 2_000_000 + k),
                    &f.tuning,
                ),
            })
        })
        .collect();
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut first: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for h in &runs {
        let second = h.run.actions.get(1).map_or("?", |a| a.name());
        for key in ["all".to_string(), second.to_string()] {
            let f = first.entry(key.clone()).or_default();
            f.1 += 1;
            f.0 += u64::from(h.run.answered >= 1);
            if h.run.answered >= 1 {
                let e = counts.entry(key).or_default();
                e.1 += 1;
                e.0 += u64::from(h.run.passed);
            }
        }
    }
    let mut summary = BTreeMap::new();
    for (k, (p, n)) in first {
        summary.insert(format!("first answered/{k}"), Rate::new(p, n));
    }
    for (k, (p, n)) in counts {
        summary.insert(format!("conditional/{k}"), Rate::new(p, n));
    }
    Timed { summary, runs }
}

/// The prompted challenge at native frame rate, fitted leave-one-person-out:
/// genuine pass per action with prompts placed before labelled events,
/// attack pass probability per action and species under random
/// schedules (each clip replayed as a pre-recorded video, screen
/// replays, prints, synthetic animations, photo attacks), 2- and
/// 3-action challenges, passive gate APCER/BPCER per session.
#[derive(clap::Args)]
pub struct EvalChallengeCmd {
    /// Folder of clip folders (labels.json + source.<ext> video).
    #[arg(long)]
    pub clips: PathBuf,
    /// Spoof folder (labels.csv, apfol/videos) for prints and the phone replay.
    #[arg(long)]
    pub spoof: Option<PathBuf>,
    /// Folder of synthetic animations (GIF).
    #[arg(long)]
    pub synthetic: Option<PathBuf>,
    /// Output folder (report.json, window.png, window.svg).
    #[arg(long)]
    pub out: PathBuf,
    /// Random schedules per action and attack sequence.
    #[arg(long, default_value_t = 50)]
    pub schedules: u32,
    /// Random 2- and 3-action schedules per attack sequence.
    #[arg(long, default_value_t = 200)]
    pub multi_schedules: u32,
    /// Only these clips (comma-separated names): a quick run.
    #[arg(long)]
    pub only: Option<String>,
    /// Replay each clip as a pre-recorded video from its start only
    /// (by default also from every 5 s into it).
    #[arg(long)]
    pub no_offsets: bool,
    /// Leave out the photo attacks made from the clips' first frames.
    #[arg(long)]
    pub no_photo_attacks: bool,
    /// How attack sessions' prompts are timed: `device` (after each
    /// answer, the device's capture) or `scheduled` (offsets from the
    /// first frame fixed by the nonce, the browser's capture).
    #[arg(long, default_value = "device")]
    pub prompt_mode: String,
    /// Answers complete by their own shape, none held until a release
    /// cue (the comparison with the shipped protocol).
    #[arg(long)]
    pub no_release: bool,
    /// The sessions' analysis schedules, comma-separated (`full`,
    /// `default`, `lean`, `sparse`, `tracked`): the observations are
    /// `full`'s at each schedule's detector rate, made once per rate, and
    /// each replay runs its schedule's subset of them. With several, each
    /// schedule's report goes to OUT/<its name>/ and the summaries side by
    /// side to OUT/schedules.json.
    #[arg(long, default_value = "default")]
    pub analysis_schedules: String,
    /// Every schedule with the detector at least every n-th frame,
    /// following the face with the mesh in between (by default each
    /// schedule's own rate: 1 for `full`).
    #[arg(long)]
    pub detect_every: Option<usize>,
}

impl EvalChallengeCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self {
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
            analysis_schedules,
            detect_every,
        } = self;
        let analysis = analysis_schedules
            .split(',')
            .map(|n| {
                let a = realface::session::schedule::AnalysisSchedule::named(n.trim())?;
                let a = match detect_every {
                    Some(d) => a.with_detect_every(*d),
                    None => a,
                };
                a.validate().map(|()| a)
            })
            .collect::<Result<Vec<_>>>()
            .map_err(|e| ("eval challenge".to_string(), e))?;

        let args = ChallengeArgs {
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
            analysis,
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
        eval_challenge(&args, config(cli)).map_err(|e| ("eval challenge".to_string(), e))
    }
}
