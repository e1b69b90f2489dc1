//! `realface verify` and `realface eval liveness`.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use indicatif::ProgressBar;
use realface::eval::liveness::{
    attack_runs, clip_features, detection_stats, genuine_runs, pass_rates, read_clips, ChallengeRun,
};
use realface::liveness::actions::{Action, ActionParams};
use realface::session::certify::CertifyRegistry;
use realface::session::challenge::ChallengeSpec;
use realface::session::photo::PhotoKind;
use realface::session::{Reference, SessionOptions, VerificationSession};
use realface::source::FrameEvent;
use realface::{EngineConfig, Error, FaceEngine, Result, RgbImage};
use serde_json::json;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub struct VerifyArgs<'a> {
    pub reference: &'a Path,
    pub frames: &'a Path,
    pub fps: f64,
    pub actions: Option<&'a str>,
    pub random: Option<usize>,
    pub certify_id: Option<&'a str>,
    pub photo: &'a str,
    pub json: bool,
}

pub fn verify(args: &VerifyArgs, cfg: EngineConfig) -> Result<()> {
    let challenge = match (args.actions, args.random) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "actions",
                "give --actions or --random, not both",
            ))
        }
        (Some(list), None) => ChallengeSpec::Fixed(
            list.split(',')
                .map(Action::from_name)
                .collect::<Result<Vec<_>>>()?,
        ),
        (None, Some(n)) => ChallengeSpec::Random(n),
        (None, None) => ChallengeSpec::Random(2),
    };
    let photo = PhotoKind::from_name(args.photo)?;
    let engine = Arc::new(FaceEngine::new(cfg)?);
    let registry = CertifyRegistry::new();
    let mut ticket = registry.issue(now_ms())?;
    if let Some(id) = args.certify_id {
        if id.trim().is_empty() {
            return Err(Error::CertifyIdEmpty);
        }
        // An id issued elsewhere (a server): the challenge is drawn from it.
        ticket.certify_id = id.to_string();
        ticket.challenge_nonce = String::new();
    } else {
        ticket = registry.claim(&ticket.certify_id, now_ms())?;
    }
    let reference = engine.load(args.reference)?;
    let options = SessionOptions {
        challenge,
        photo,
        ..SessionOptions::default()
    };
    let mut session =
        VerificationSession::new(engine.clone(), ticket, Reference::Photo(reference), options)?;
    let mut source =
        realface::source::DirSource::open(args.frames, args.fps, engine.config().limits)?;
    if !args.json {
        let names: Vec<&str> = session.actions().iter().map(|a| a.name()).collect();
        eprintln!(
            "certifyId {}; challenge: {}",
            session.certify_id(),
            names.join(", ")
        );
    }
    let quiet = args.json;
    let result = realface::source::run(&mut session, &mut source, |ev| {
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
    });
    if args.json {
        println!("{}", serde_json::to_string(&result).unwrap_or_default());
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&result).unwrap_or_default()
        );
    }
    Ok(())
}

fn load_all(engine: &FaceEngine, files: &[std::path::PathBuf]) -> Vec<RgbImage> {
    files.iter().filter_map(|f| engine.load(f).ok()).collect()
}

pub fn eval_liveness(
    clips_dir: &Path,
    spoof: Option<&Path>,
    out: &Path,
    cfg: EngineConfig,
) -> Result<()> {
    use rayon::prelude::*;
    std::fs::create_dir_all(out).map_err(|e| Error::Io {
        path: out.into(),
        source: e,
    })?;
    let engine = Arc::new(FaceEngine::new(
        cfg.with_sessions_per_model(2).with_intra_threads(1),
    )?);
    let clips = read_clips(clips_dir)?;
    if clips.is_empty() {
        return Err(Error::invalid(
            "clips",
            format!(
                "no clip folders with labels.json in {}",
                clips_dir.display()
            ),
        ));
    }
    let bar = ProgressBar::new(clips.len() as u64);
    bar.set_message("clips");
    let loaded: Vec<(realface::eval::liveness::Clip, Vec<RgbImage>)> = clips
        .into_par_iter()
        .map(|c| {
            let frames = load_all(&engine, &c.frames);
            bar.inc(1);
            (c, frames)
        })
        .collect();
    bar.finish_and_clear();
    let feats: Vec<_> = loaded
        .par_iter()
        .map(|(c, f)| (c.clone(), clip_features(&engine, f)))
        .collect();
    let detection = detection_stats(&feats, ActionParams::default(), 3);
    eprintln!("realface: genuine challenges...");
    let genuine = genuine_runs(&engine, &loaded);
    // attack material: first frame of every third clip + real print/replay captures
    let mut photos: Vec<(String, RgbImage)> = loaded
        .iter()
        .step_by(3)
        .filter_map(|(c, f)| f.first().map(|img| (c.name.clone(), img.clone())))
        .collect();
    let mut sequences = Vec::new();
    if let Some(dir) = spoof {
        let labels = realface::eval::dataset::read_pad_labels(&dir.join("labels.csv"))?;
        let mut groups: std::collections::BTreeMap<(String, String), Vec<String>> =
            Default::default();
        for s in &labels {
            let subject = s.subject.clone().unwrap_or_default();
            groups
                .entry((subject, s.label.clone()))
                .or_default()
                .push(s.path.clone());
        }
        for ((subject, label), paths) in &groups {
            if label == "live" {
                continue;
            }
            let live = groups.get(&(subject.clone(), "live".to_string()));
            let reference = live
                .and_then(|p| p.first())
                .and_then(|p| engine.load(&dir.join(p)).ok());
            let Some(reference) = reference else { continue };
            if photos
                .iter()
                .filter(|(n, _)| n.starts_with("spoof:"))
                .count()
                < 4
            {
                photos.push((format!("spoof:{subject}"), reference.clone()));
            }
            let frames: Vec<RgbImage> = paths
                .iter()
                .filter_map(|p| engine.load(&dir.join(p)).ok())
                .collect();
            sequences.push((subject.clone(), format!("real_{label}"), reference, frames));
        }
    }
    eprintln!(
        "realface: attacks ({} photos, {} real sequences)...",
        photos.len(),
        sequences.len()
    );
    let attacks = attack_runs(&engine, &photos, &sequences);
    let report = json!({
        "clips": loaded.len(),
        "frames": loaded.iter().map(|(_, f)| f.len()).sum::<usize>(),
        "detection_tolerance_frames": 3,
        "detection": detection,
        "genuine_pass": pass_rates(&genuine),
        "attack_pass": pass_rates(&attacks),
        "genuine_runs": genuine,
        "attack_failures_that_passed": attacks.iter().filter(|r| r.auth_state == realface::session::result::AuthState::Success).collect::<Vec<&ChallengeRun>>(),
        "attack_runs": attacks.len(),
    });
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::invalid("report", e.to_string()))?;
    let path = out.join("report.json");
    std::fs::write(&path, text + "\n").map_err(|e| Error::Io {
        path: path.clone(),
        source: e,
    })?;
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "detection": report["detection"], "genuine_pass": report["genuine_pass"], "attack_pass": report["attack_pass"]
        }))
        .unwrap_or_default()
    );
    Ok(())
}
