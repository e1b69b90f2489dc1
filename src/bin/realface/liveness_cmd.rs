//! `realface eval liveness`: native-rate videos, leave-one-person-out
//! thresholds, held-out figures (see `realface::eval::liveness`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use indicatif::ProgressBar;
use rayon::prelude::*;
use realface::eval::attacks::{synthesize, AttackKind};
use realface::eval::liveness::{
    at_fps, evaluate, group_of, pass_rates, read_video_clips, signals, Material, Sequence,
    VideoClip,
};
use realface::eval::liveness_cv::ClipSignals;
use realface::liveness::pad::PadOptions;
use realface::session::result::AuthState;
use realface::source::video::{read_video, VideoLimits};
use realface::source::TimedFrame;
use realface::{EngineConfig, Error, FaceEngine, Result, RgbImage};
use serde_json::json;

/// Videos of the evaluation may be longer than a session allows.
const EVAL_VIDEO: VideoLimits = VideoLimits {
    max_frames: 20_000,
    max_duration_ms: 600_000,
};

fn write(path: &Path, text: String) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.into(),
        source: e,
    })
}

/// A measured attack sequence.
type Attack = (Sequence, ClipSignals);

/// Real attack sequences and extra genuine captures of the spoof folder:
/// NUAA prints (24 frames a subject at 10 fps) against the subject's first
/// live frame; NUAA live captures as genuine passive sessions; the replay
/// video `apfol/videos/fake2.webm` against the first frame of `real2.webm`.
fn spoof_material(engine: &FaceEngine, dir: &Path) -> Result<(Vec<Attack>, Vec<ClipSignals>)> {
    let labels = realface::eval::dataset::read_pad_labels(&dir.join("labels.csv"))?;
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in &labels {
        let subject = s.subject.clone().unwrap_or_default();
        if subject.starts_with("nuaa:") {
            groups
                .entry((subject, s.label.clone()))
                .or_default()
                .push(s.path.clone());
        }
    }
    let interval = PadOptions::default().interval_ms;
    let load = |paths: &[String]| -> Vec<RgbImage> {
        paths
            .iter()
            .filter_map(|p| engine.load(dir.join(p)).ok())
            .collect()
    };
    let jobs: Vec<(&(String, String), &Vec<String>)> = groups.iter().collect();
    let done: Vec<(Option<Attack>, Option<ClipSignals>)> = jobs
        .par_iter()
        .map(|((subject, label), paths)| {
            let frames = at_fps(&load(paths), 10.0);
            let sig = signals(engine, subject, subject, Vec::new(), &frames, interval);
            if label == "live" {
                return (None, Some(sig));
            }
            let reference = groups
                .get(&(subject.clone(), "live".to_string()))
                .and_then(|p| p.first())
                .and_then(|p| engine.load(dir.join(p)).ok());
            let seq = reference.map(|reference| Sequence {
                name: subject.clone(),
                kind: label.clone(),
                group: subject.clone(),
                reference,
                frames,
            });
            (seq.map(|q| (q, sig)), None)
        })
        .collect();
    let mut attacks = Vec::new();
    let mut genuine = Vec::new();
    for (a, g) in done {
        attacks.extend(a);
        genuine.extend(g);
    }
    let videos = dir.join("apfol").join("videos");
    let (real, fake) = (videos.join("real2.webm"), videos.join("fake2.webm"));
    if fake.is_file() && real.is_file() {
        let reference = read_video(&real, engine.config().limits, EVAL_VIDEO)?
            .into_iter()
            .next()
            .map(|f| f.image);
        if let Some(reference) = reference {
            let frames = read_video(&fake, engine.config().limits, EVAL_VIDEO)?;
            let sig = signals(engine, "fake2.webm", "apfol", Vec::new(), &frames, interval);
            attacks.push((
                Sequence {
                    name: "fake2.webm".into(),
                    kind: "replay".into(),
                    group: "apfol".into(),
                    reference,
                    frames,
                },
                sig,
            ));
        }
    }
    Ok((attacks, genuine))
}

pub fn eval_liveness(
    clips_dir: &Path,
    spoof: Option<&Path>,
    out: &Path,
    cfg: EngineConfig,
) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::Io {
        path: out.into(),
        source: e,
    })?;
    let engine = Arc::new(FaceEngine::new(
        cfg.with_sessions_per_model(2).with_intra_threads(1),
    )?);
    let limits = engine.config().limits;
    let clips = read_video_clips(clips_dir)?;
    if clips.is_empty() {
        return Err(Error::invalid(
            "clips",
            format!(
                "no clip folders with labels.json in {}",
                clips_dir.display()
            ),
        ));
    }
    let interval = PadOptions::default().interval_ms;
    let bar = ProgressBar::new(clips.len() as u64);
    bar.set_message("measuring clips");
    let measured: Vec<(VideoClip, RgbImage, ClipSignals)> = clips
        .into_par_iter()
        .map(|c| -> Result<_> {
            let frames = read_video(&c.video, limits, EVAL_VIDEO)?;
            let first = frames
                .first()
                .map(|f| f.image.clone())
                .ok_or_else(|| Error::invalid("clips", format!("{}: empty video", c.name)))?;
            let sig = signals(
                &engine,
                &c.name,
                &c.group,
                c.events.clone(),
                &frames,
                interval,
            );
            bar.inc(1);
            Ok((c, first, sig))
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    let (attacks, genuine_pad) = match spoof {
        Some(dir) => spoof_material(&engine, dir)?,
        None => (Vec::new(), Vec::new()),
    };
    // Synthetic attacks from the first frame of every clip (30 frames at
    // 10 fps each, as made by `eval::attacks`).
    let mut synthetic = Vec::new();
    for (c, first, _) in measured.iter() {
        for kind in AttackKind::ALL {
            synthetic.push(Sequence {
                name: c.name.clone(),
                kind: kind.name().to_string(),
                group: group_of(&c.name),
                reference: first.clone(),
                frames: at_fps(&synthesize(first, kind, 30, 42), 10.0),
            });
        }
    }
    let material = Material {
        clips: measured,
        genuine_pad,
        attacks,
    };
    let runs = material
        .clips
        .iter()
        .map(|(c, _, _)| {
            realface::liveness::actions::Action::ALL
                .iter()
                .filter(|a| {
                    c.events
                        .iter()
                        .any(|e| realface::eval::liveness_cv::event_matches(**a, e))
                })
                .count()
        })
        .sum::<usize>()
        + 5 * (material.attacks.len() + synthetic.len());
    let bar = ProgressBar::new(runs as u64);
    bar.set_message("sessions");
    let frames_of =
        |c: &VideoClip| -> Result<Vec<TimedFrame>> { read_video(&c.video, limits, EVAL_VIDEO) };
    let report = evaluate(&engine, &material, &synthetic, &frames_of, &|| bar.inc(1));
    bar.finish_and_clear();
    let genuine = pass_rates(&report.genuine);
    let attack = pass_rates(&report.attacks);
    let passed_attacks: Vec<_> = report
        .attacks
        .iter()
        .filter(|r| r.auth_state == AuthState::Success)
        .collect();
    let summary = json!({
        "detection_recall_held_out": report.detection,
        "genuine_pass_held_out": genuine,
        "attack_pass_held_out": attack,
        "attacks_that_passed": passed_attacks,
        "pad_sessions_held_out": report.pad_sessions,
        "full_fit": report.full_fit,
    });
    let full = json!({
        "summary": summary,
        "genuine_runs": report.genuine,
        "attack_runs": report.attacks,
        "folds": report.folds,
        "clips": material.clips.iter().map(|(c, _, s)| json!({
            "clip": c.name, "group": c.group, "frames_with_face": s.frames.len(),
            "pad_median": s.pad_median(), "pad_samples": s.pad.len(),
        })).collect::<Vec<_>>(),
        "spoof_sessions": material.attacks.iter().map(|(q, s)| json!({
            "name": q.name, "kind": q.kind, "pad_median": s.pad_median(),
        })).chain(material.genuine_pad.iter().map(|s| json!({
            "name": s.name, "kind": "live", "pad_median": s.pad_median(),
        }))).collect::<Vec<_>>(),
    });
    let text =
        serde_json::to_string_pretty(&full).map_err(|e| Error::invalid("report", e.to_string()))?;
    write(&out.join("report.json"), text + "\n")?;
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
    Ok(())
}
