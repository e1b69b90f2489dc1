//! Liveness evaluation on labelled action clips and on attacks:
//! per-action detection precision/recall against the clips' labels, the
//! challenge pass rate of genuine clips, and the pass rate of attack
//! sequences (real print/replay captures and synthetic ones), which must be 0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;
use rayon::prelude::*;
use serde::Serialize;

use super::attacks::{synthesize, AttackKind};
use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::liveness::actions::{Action, ActionDetector, ActionParams, History};
use crate::liveness::features::FrameFeatures;
use crate::session::certify::CertifyTicket;
use crate::session::challenge::ChallengeSpec;
use crate::session::result::{AuthResult, AuthState};
use crate::session::{Reference, SessionOptions, VerificationSession};

/// A labelled event of a clip (10 fps frame numbers, 1-based, inclusive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelEvent {
    /// Label vocabulary action (`blink`, `head_turn`, ...).
    pub action: String,
    /// First frame.
    pub start: usize,
    /// Last frame.
    pub end: usize,
    /// `image_left` / `image_right` for head turns.
    pub direction: Option<String>,
}

/// A clip: its frames (sorted) and labels.
#[derive(Debug, Clone)]
pub struct Clip {
    /// Clip name.
    pub name: String,
    /// Frame files.
    pub frames: Vec<PathBuf>,
    /// Labelled events.
    pub events: Vec<LabelEvent>,
}

pub use crate::source::frame_files;

/// Reads every clip folder (with a labels.json) under `dir`.
pub fn read_clips(dir: &Path) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io {
            path: dir.into(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("labels.json").is_file())
        .collect();
    entries.sort();
    for p in entries {
        let labels = p.join("labels.json");
        let text = std::fs::read_to_string(&labels).map_err(|e| Error::Io {
            path: labels.clone(),
            source: e,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::invalid("labels", format!("{}: {e}", labels.display())))?;
        let events = v["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        Some(LabelEvent {
                            action: e["action"].as_str()?.to_string(),
                            start: e["start"].as_u64()? as usize,
                            end: e["end"].as_u64()? as usize,
                            direction: e["direction"].as_str().map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        clips.push(Clip {
            name,
            frames: frame_files(&p)?,
            events,
        });
    }
    Ok(clips)
}

/// Whether a label event shows an action (the clips' vocabulary; turn
/// directions are image sides: nose toward the image's right = the user's left).
pub fn label_matches(action: Action, e: &LabelEvent) -> bool {
    match action {
        Action::Blink => matches!(e.action.as_str(), "blink" | "eyes_closed"),
        Action::MouthOpen => e.action == "mouth_open",
        Action::TurnLeft => {
            e.action == "head_turn" && e.direction.as_deref() == Some("image_right")
        }
        Action::TurnRight => {
            e.action == "head_turn" && e.direction.as_deref() == Some("image_left")
        }
        Action::Nod => e.action == "head_pitch_down",
    }
}

/// Per-frame features of a clip (None where no single usable face).
pub fn clip_features(engine: &FaceEngine, frames: &[RgbImage]) -> Vec<Option<FrameFeatures>> {
    frames
        .iter()
        .map(|img| {
            let faces = engine.detect(img).ok()?;
            if faces.len() != 1 {
                return None;
            }
            let (mesh, _, _) = engine.landmarks(img, &faces[0]).ok()?;
            Some(FrameFeatures::from_mesh(&mesh))
        })
        .collect()
}

/// Detection counts of one action over the clips.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectionStats {
    /// Labelled events.
    pub labelled: usize,
    /// Labelled events with a detection within the tolerance.
    pub found: usize,
    /// Detections.
    pub detections: usize,
    /// Detections matching a labelled event.
    pub matched: usize,
    /// found / labelled.
    pub recall: f64,
    /// matched / detections (a lower bound: the labels are not exhaustive).
    pub precision: f64,
}

/// Runs every detector continuously over each clip; matches detections
/// (completion frame) to labelled events within `tolerance` frames.
pub fn detection_stats(
    clips: &[(Clip, Vec<Option<FrameFeatures>>)],
    params: ActionParams,
    tolerance: usize,
) -> BTreeMap<String, DetectionStats> {
    let mut out = BTreeMap::new();
    for action in Action::ALL {
        let mut st = DetectionStats::default();
        for (clip, feats) in clips {
            let mut h = History::default();
            let mut d = ActionDetector::new(action, params);
            let mut hits: Vec<usize> = Vec::new();
            let mut last_hit: Option<usize> = None;
            for (i, f) in feats.iter().enumerate() {
                let Some(f) = f else { continue };
                let t = i as u64 * 100;
                h.push(t, *f);
                if d.update(t, f, &h).is_some() {
                    // one detection per event: instantaneous detectors fire on
                    // consecutive frames; count a new one after a gap
                    if last_hit.is_none_or(|l| i > l + 3) {
                        hits.push(i + 1);
                    }
                    last_hit = Some(i);
                }
            }
            let events: Vec<&LabelEvent> = clip
                .events
                .iter()
                .filter(|e| label_matches(action, e))
                .collect();
            let near =
                |e: &LabelEvent, k: usize| k + tolerance >= e.start && k <= e.end + tolerance;
            st.labelled += events.len();
            st.found += events
                .iter()
                .filter(|e| hits.iter().any(|&k| near(e, k)))
                .count();
            st.detections += hits.len();
            st.matched += hits
                .iter()
                .filter(|&&k| events.iter().any(|e| near(e, k)))
                .count();
        }
        st.recall = st.found as f64 / st.labelled.max(1) as f64;
        st.precision = st.matched as f64 / st.detections.max(1) as f64;
        out.insert(action.name().to_string(), st);
    }
    out
}

/// One challenge run.
#[derive(Debug, Clone, Serialize)]
pub struct ChallengeRun {
    /// What was shown (clip name or attack description).
    pub source: String,
    /// Attack kind or `genuine`.
    pub kind: String,
    /// The action asked for.
    pub action: Action,
    /// SUCCESS or FAIL.
    pub auth_state: AuthState,
    /// First failure reason, if any.
    pub reason: Option<String>,
    /// Similarity to the reference.
    pub similarity: Option<f32>,
}

/// Runs one single-action session over frames at 10 fps.
pub fn run_challenge(
    engine: &Arc<FaceEngine>,
    reference: Reference,
    frames: &[RgbImage],
    action: Action,
    id: &str,
) -> Result<AuthResult> {
    let ticket = CertifyTicket {
        certify_id: id.to_string(),
        issued_ms: 0,
        expires_ms: u64::MAX,
        challenge_nonce: String::new(),
    };
    let options = SessionOptions {
        challenge: ChallengeSpec::Fixed(vec![action]),
        action_timeout_ms: 60_000,
        total_timeout_ms: 60_000,
        ..SessionOptions::default()
    };
    let mut s = VerificationSession::new(engine.clone(), ticket, reference, options)?;
    for (i, f) in frames.iter().enumerate() {
        // A per-frame error (bad frame) leaves the session running; a model
        // failure ends it as FAIL. Either way the result below says so.
        let _ = s.push_frame(f, i as u64 * 100);
        if s.is_finished() {
            break;
        }
    }
    Ok(s.finish())
}

fn run(source: &str, kind: &str, action: Action, r: Result<AuthResult>) -> ChallengeRun {
    match r {
        Ok(r) => ChallengeRun {
            source: source.to_string(),
            kind: kind.to_string(),
            action,
            auth_state: r.auth_state,
            reason: r
                .reasons
                .first()
                .map(|x| format!("{:?}: {}", x.code, x.message)),
            similarity: r.similarity,
        },
        Err(e) => ChallengeRun {
            source: source.to_string(),
            kind: kind.to_string(),
            action,
            auth_state: AuthState::Fail,
            reason: Some(format!("error: {e}")),
            similarity: None,
        },
    }
}

/// Genuine challenge runs: each clip, each action its labels contain; the
/// reference is the clip's first frame.
pub fn genuine_runs(
    engine: &Arc<FaceEngine>,
    clips: &[(Clip, Vec<RgbImage>)],
) -> Vec<ChallengeRun> {
    let jobs: Vec<(usize, Action)> = clips
        .iter()
        .enumerate()
        .flat_map(|(i, (c, _))| {
            Action::ALL
                .into_iter()
                .filter(|a| c.events.iter().any(|e| label_matches(*a, e)))
                .map(move |a| (i, a))
        })
        .collect();
    jobs.par_iter()
        .map(|&(i, action)| {
            let (clip, frames) = &clips[i];
            let reference = frames.first().cloned().map(Reference::Photo);
            let r = match reference {
                Some(rf) => run_challenge(
                    engine,
                    rf,
                    frames,
                    action,
                    &format!("genuine-{}-{}", clip.name, action.name()),
                ),
                None => Err(Error::NoFace),
            };
            run(&clip.name, "genuine", action, r)
        })
        .collect()
}

/// Attack runs: every photo x every synthetic kind x every action (30
/// frames = 3 s each), plus every real attack sequence x every action.
pub fn attack_runs(
    engine: &Arc<FaceEngine>,
    photos: &[(String, RgbImage)],
    sequences: &[(String, String, RgbImage, Vec<RgbImage>)],
) -> Vec<ChallengeRun> {
    let mut jobs: Vec<(String, String, RgbImage, Vec<RgbImage>, Action)> = Vec::new();
    for (name, photo) in photos {
        for kind in AttackKind::ALL {
            let frames = synthesize(photo, kind, 30, 42);
            for action in Action::ALL {
                jobs.push((
                    name.clone(),
                    kind.name().to_string(),
                    photo.clone(),
                    frames.clone(),
                    action,
                ));
            }
        }
    }
    for (name, kind, reference, frames) in sequences {
        for action in Action::ALL {
            jobs.push((
                name.clone(),
                kind.clone(),
                reference.clone(),
                frames.clone(),
                action,
            ));
        }
    }
    jobs.par_iter()
        .map(|(name, kind, reference, frames, action)| {
            let r = run_challenge(
                engine,
                Reference::Photo(reference.clone()),
                frames,
                *action,
                &format!("attack-{name}-{kind}"),
            );
            run(name, kind, *action, r)
        })
        .collect()
}

/// Pass counts per kind and action.
pub fn pass_rates(runs: &[ChallengeRun]) -> BTreeMap<String, (usize, usize, f64)> {
    let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in runs {
        for key in [r.kind.clone(), format!("{}/{}", r.kind, r.action.name())] {
            let e = m.entry(key).or_default();
            e.1 += 1;
            if r.auth_state == AuthState::Success {
                e.0 += 1;
            }
        }
    }
    m.into_iter()
        .map(|(k, (p, n))| (k, (p, n, p as f64 / n.max(1) as f64)))
        .collect()
}
