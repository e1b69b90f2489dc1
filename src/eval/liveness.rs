//! Liveness evaluation at the camera's frame rate: the shared clips' original
//! videos (25-30 fps, real timestamps), the real attack captures (NUAA prints,
//! the phone-screen replay `fake2.webm`) and synthetic attacks made from live
//! frames. Thresholds come from leave-one-group-out folds
//! ([`super::liveness_cv`]); every figure is measured on what its fold held
//! out: action detection recall, the single-action challenge pass rate of
//! genuine clips, the pass rate of attacks (must be 0), and the passive
//! gate's ISO/IEC 30107-3 figures per session (APCER per attack species,
//! BPCER).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;
use rayon::prelude::*;
use serde::Serialize;

use super::liveness_cv::{
    event_matches, fit_actions, fit_pad, recall, ClipSignals, Fit, Recall, TimedEvent,
};
use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::liveness::actions::{Action, ActionParams};
use crate::liveness::measure::measure_face;
use crate::liveness::pad::{PadOptions, DEFAULT_PAD_THRESHOLD};
use crate::session::certify::{random_hex, CertifyRegistry, IssuedId, CERTIFY_ID_TTL_MS};
use crate::session::challenge::ChallengeSpec;
use crate::session::result::{AuthResult, AuthState, ReasonCode};
use crate::session::{Reference, SessionOptions, VerificationSession};
use crate::source::TimedFrame;

pub use crate::source::frame_files;

/// Frames at a fixed rate (folders of stills, synthetic attacks).
pub fn at_fps(frames: &[RgbImage], fps: f64) -> Vec<TimedFrame> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| TimedFrame {
            image: f.clone(),
            t_ms: (i as f64 * 1000.0 / fps).round() as u64,
        })
        .collect()
}

/// A labelled clip of `actions/<clip>/`: its original video and events.
#[derive(Debug, Clone)]
pub struct VideoClip {
    /// Clip name.
    pub name: String,
    /// Cross-validation group (the person).
    pub group: String,
    /// The original video (`source.<ext>`).
    pub video: PathBuf,
    /// Labelled events on the video's clock.
    pub events: Vec<TimedEvent>,
}

/// The person a clip or sample belongs to (see [`super::liveness_cv`]).
pub fn group_of(name: &str) -> String {
    if name.starts_with("apfol") {
        "apfol".into()
    } else {
        name.to_string()
    }
}

/// Every clip folder under `dir` with a labels.json and a `source.*` video.
pub fn read_video_clips(dir: &Path) -> Result<Vec<VideoClip>> {
    let io = |e: std::io::Error| Error::Io {
        path: dir.into(),
        source: e,
    };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("labels.json").is_file())
        .collect();
    folders.sort();
    let mut clips = Vec::new();
    for p in folders {
        let labels = p.join("labels.json");
        let text = std::fs::read_to_string(&labels).map_err(|e| Error::Io {
            path: labels.clone(),
            source: e,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::invalid("labels", format!("{}: {e}", labels.display())))?;
        let ms = |x: &serde_json::Value| x.as_f64().map(|s| (s * 1000.0).round().max(0.0) as u64);
        let events = v["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        Some(TimedEvent {
                            action: e["action"].as_str()?.to_string(),
                            start_ms: ms(&e["start_s"])?,
                            end_ms: ms(&e["end_s"])?,
                            direction: e["direction"].as_str().map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let video = std::fs::read_dir(&p)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|f| f.file_stem().is_some_and(|s| s == "source"));
        let Some(video) = video else {
            return Err(Error::invalid(
                "clips",
                format!("{} has no source.<ext> video", p.display()),
            ));
        };
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        clips.push(VideoClip {
            group: group_of(&name),
            name,
            video,
            events,
        });
    }
    Ok(clips)
}

/// Per-frame signals of a frame sequence (the models run once here; the
/// folds then only re-run the cheap detectors).
pub fn signals(
    engine: &FaceEngine,
    name: &str,
    group: &str,
    events: Vec<TimedEvent>,
    frames: &[TimedFrame],
    pad_interval_ms: u64,
) -> ClipSignals {
    let mut out = ClipSignals {
        name: name.into(),
        group: group.into(),
        events,
        ..ClipSignals::default()
    };
    let mut last_pad: Option<u64> = None;
    for fr in frames {
        let img = &fr.image;
        let Ok(faces) = engine.detect(img) else {
            continue;
        };
        let [face] = faces.as_slice() else { continue };
        let Ok(crate::engine::FaceLandmarks { mesh, map, .. }) = engine.landmarks(img, face) else {
            continue;
        };
        let due = last_pad.is_none_or(|l| fr.t_ms.saturating_sub(l) >= pad_interval_ms);
        let Ok(m) = measure_face(engine, img, &mesh, &map, &face.bbox, due) else {
            continue;
        };
        out.frames.push((fr.t_ms, m.features));
        if let Some(p) = m.pad_real {
            out.pad.push(p);
            last_pad = Some(fr.t_ms);
        }
    }
    out
}

/// Runs one single-action session over timed frames with the given
/// thresholds and passive gate; the session's own limits apply except the
/// timeouts, which are long enough for a whole clip.
pub fn run_challenge(
    engine: &Arc<FaceEngine>,
    reference: Reference,
    frames: &[TimedFrame],
    action: Action,
    params: ActionParams,
    pad_threshold: f32,
    id: &str,
) -> Result<AuthResult> {
    let ticket = CertifyRegistry::new().claim_issued(
        &IssuedId {
            certify_id: id.to_string(),
            challenge_nonce: random_hex(16)?,
            expires_ms: CERTIFY_ID_TTL_MS,
        },
        0,
    )?;
    let options = SessionOptions::default()
        .with_challenge(ChallengeSpec::Fixed(vec![action]))
        .with_action_timeout_ms(60_000)
        .with_total_timeout_ms(60_000)
        .with_params(params)
        .with_pad(PadOptions {
            threshold: pad_threshold,
            ..PadOptions::default()
        });
    let mut s = VerificationSession::new(engine.clone(), ticket, reference, options)?;
    for f in frames {
        // A per-frame error leaves the session running; a model failure ends
        // it as FAIL. Either way the result says so.
        let _ = s.push_frame(&f.image, f.t_ms);
        if s.is_finished() {
            break;
        }
    }
    Ok(s.finish())
}

/// One challenge run.
#[derive(Debug, Clone, Serialize)]
pub struct ChallengeRun {
    /// What was shown (clip name or attack description).
    pub source: String,
    /// Attack species or `genuine`.
    pub kind: String,
    /// The action asked for.
    pub action: Action,
    /// SUCCESS or FAIL.
    pub auth_state: AuthState,
    /// First failure reason, if any.
    pub reason: Option<String>,
    /// Whether the passive gate fired.
    pub pad_fired: bool,
    /// The session's median P(real).
    pub pad_median: Option<f32>,
    /// Similarity to the reference.
    pub similarity: Option<f32>,
}

fn summarize(source: &str, kind: &str, action: Action, r: Result<AuthResult>) -> ChallengeRun {
    match r {
        Ok(r) => ChallengeRun {
            source: source.into(),
            kind: kind.into(),
            action,
            auth_state: r.auth_state,
            reason: r
                .reasons
                .first()
                .map(|x| format!("{:?}: {}", x.code, x.message)),
            pad_fired: r
                .reasons
                .iter()
                .any(|x| x.code == ReasonCode::PresentationAttack),
            pad_median: r.pad.median_real,
            similarity: r.similarity,
        },
        Err(e) => ChallengeRun {
            source: source.into(),
            kind: kind.into(),
            action,
            auth_state: AuthState::Fail,
            reason: Some(format!("error: {e}")),
            pad_fired: false,
            pad_median: None,
            similarity: None,
        },
    }
}

/// An attack (or extra genuine) sequence with its reference and group.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// Name.
    pub name: String,
    /// Species (`print`, `replay`, a synthetic kind) or `genuine`.
    pub kind: String,
    /// Cross-validation group.
    pub group: String,
    /// The reference photo the attacker claims.
    pub reference: RgbImage,
    /// The frames.
    pub frames: Vec<TimedFrame>,
}

/// Everything one evaluation needs, measured once.
#[derive(Debug)]
pub struct Material {
    /// Genuine action clips: description, first frame, signals.
    pub clips: Vec<(VideoClip, RgbImage, ClipSignals)>,
    /// Extra genuine sequences for the passive gate (e.g. NUAA live captures).
    pub genuine_pad: Vec<ClipSignals>,
    /// Real attack sequences and their signals.
    pub attacks: Vec<(Sequence, ClipSignals)>,
}

/// The fit that holds `group` out (all groups for `None`).
pub fn fit_without(material: &Material, group: Option<&str>) -> Fit {
    let keep = |g: &str| group != Some(g);
    let train: Vec<&ClipSignals> = material
        .clips
        .iter()
        .map(|(_, _, s)| s)
        .filter(|s| keep(&s.group))
        .collect();
    let (params, notes) = fit_actions(ActionParams::default(), &train);
    let genuine: Vec<f32> = material
        .clips
        .iter()
        .map(|(_, _, s)| s)
        .chain(material.genuine_pad.iter())
        .filter(|s| keep(&s.group))
        .filter_map(ClipSignals::pad_median)
        .collect();
    let attacks: Vec<f32> = material
        .attacks
        .iter()
        .filter(|(q, _)| keep(&q.group))
        .filter_map(|(_, s)| s.pad_median())
        .collect();
    Fit {
        params,
        pad_threshold: fit_pad(&genuine, &attacks, DEFAULT_PAD_THRESHOLD),
        notes,
    }
}

/// Held-out figures of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct LivenessReport {
    /// Per action: detection recall on held-out clips.
    pub detection: BTreeMap<String, Recall>,
    /// Genuine single-action challenges.
    pub genuine: Vec<ChallengeRun>,
    /// Attack challenges.
    pub attacks: Vec<ChallengeRun>,
    /// Per held-out group: the fitted thresholds.
    pub folds: BTreeMap<String, Fit>,
    /// The fit on every group (what ships as the defaults).
    pub full_fit: Fit,
    /// Passive gate per session, held out: BPCER over genuine sessions and
    /// APCER per attack species, with the counts.
    pub pad_sessions: BTreeMap<String, (usize, usize, f64)>,
}

/// Pass counts per kind and per kind/action: (passed, runs, rate).
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

fn rate(k: usize, n: usize) -> (usize, usize, f64) {
    (k, n, k as f64 / n.max(1) as f64)
}

/// Runs the whole evaluation: folds, held-out detection, genuine and attack
/// challenges, passive gate figures. `frames_of` decodes a clip's video
/// (called once per session, so nothing large is held in memory);
/// `synthetic` are synthetic attack sequences.
pub fn evaluate(
    engine: &Arc<FaceEngine>,
    material: &Material,
    synthetic: &[Sequence],
    frames_of: &(dyn Fn(&VideoClip) -> Result<Vec<TimedFrame>> + Sync),
    progress: &(dyn Fn() + Sync),
) -> LivenessReport {
    let mut groups: Vec<String> = material
        .clips
        .iter()
        .map(|(c, _, _)| c.group.clone())
        .chain(material.attacks.iter().map(|(q, _)| q.group.clone()))
        .chain(material.genuine_pad.iter().map(|s| s.group.clone()))
        .chain(synthetic.iter().map(|q| q.group.clone()))
        .collect();
    groups.sort();
    groups.dedup();
    let folds: BTreeMap<String, Fit> = groups
        .par_iter()
        .map(|g| (g.clone(), fit_without(material, Some(g))))
        .collect();
    let fold = |g: &str| {
        folds
            .get(g)
            .cloned()
            .unwrap_or_else(|| fit_without(material, Some(g)))
    };

    let mut detection: BTreeMap<String, Recall> = BTreeMap::new();
    for action in Action::ALL {
        let mut total = Recall::default();
        for (_, _, s) in &material.clips {
            total.add(recall(action, fold(&s.group).params, s));
        }
        detection.insert(action.name().into(), total);
    }

    let genuine_jobs: Vec<(usize, Action)> = material
        .clips
        .iter()
        .enumerate()
        .flat_map(|(i, (c, _, _))| {
            Action::ALL
                .into_iter()
                .filter(|a| c.events.iter().any(|e| event_matches(*a, e)))
                .map(move |a| (i, a))
        })
        .collect();
    let genuine: Vec<ChallengeRun> = genuine_jobs
        .par_iter()
        .map(|&(i, action)| {
            let (clip, first, _) = &material.clips[i];
            let fit = fold(&clip.group);
            let r = frames_of(clip).and_then(|frames| {
                run_challenge(
                    engine,
                    Reference::Photo(first.clone()),
                    &frames,
                    action,
                    fit.params,
                    fit.pad_threshold,
                    &format!("genuine-{}-{}", clip.name, action.name()),
                )
            });
            progress();
            summarize(&clip.name, "genuine", action, r)
        })
        .collect();

    let attack_jobs: Vec<(&Sequence, Action)> = material
        .attacks
        .iter()
        .map(|(q, _)| q)
        .chain(synthetic.iter())
        .flat_map(|q| Action::ALL.into_iter().map(move |a| (q, a)))
        .collect();
    let attacks: Vec<ChallengeRun> = attack_jobs
        .par_iter()
        .map(|&(q, action)| {
            let fit = fold(&q.group);
            let r = run_challenge(
                engine,
                Reference::Photo(q.reference.clone()),
                &q.frames,
                action,
                fit.params,
                fit.pad_threshold,
                &format!("attack-{}-{}", q.name, q.kind),
            );
            progress();
            summarize(&q.name, &q.kind, action, r)
        })
        .collect();

    // The passive gate per session, each with its fold's threshold: every
    // genuine clip and extra genuine capture, every real attack sequence.
    let mut pad_sessions = BTreeMap::new();
    let genuine_sessions: Vec<&ClipSignals> = material
        .clips
        .iter()
        .map(|(_, _, s)| s)
        .chain(material.genuine_pad.iter())
        .collect();
    let rejected = genuine_sessions
        .iter()
        .filter(|s| {
            !s.pad_median()
                .is_some_and(|m| m >= fold(&s.group).pad_threshold)
        })
        .count();
    pad_sessions.insert(
        "BPCER genuine sessions".to_string(),
        rate(rejected, genuine_sessions.len()),
    );
    let mut species: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (q, s) in &material.attacks {
        let e = species.entry(format!("APCER {}", q.kind)).or_default();
        e.1 += 1;
        if s.pad_median()
            .is_some_and(|m| m >= fold(&q.group).pad_threshold)
        {
            e.0 += 1;
        }
    }
    for (k, (a, n)) in species {
        pad_sessions.insert(k, rate(a, n));
    }

    LivenessReport {
        detection,
        genuine,
        attacks,
        full_fit: fit_without(material, None),
        folds,
        pad_sessions,
    }
}
