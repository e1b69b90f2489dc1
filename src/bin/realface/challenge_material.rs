//! What `realface eval challenge` observes: the labelled clips (and each
//! replayed as a pre-recorded video from several start points), the spoof
//! folder's print captures, live captures and phone replay, the synthetic
//! animations, and photo attacks made from the clips' first frames.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use image::imageops::{crop_imm, resize, FilterType};
use indicatif::ProgressBar;
use rayon::prelude::*;
use realface::eval::attacks::{synthesize, AttackKind};
use realface::eval::challenge::{Recorded, DELIBERATE, PRERECORDED};
use realface::eval::clips::{at_fps, group_of, read_video_clips};
use realface::session::SessionOptions;
use realface::source::video::{read_video, VideoLimits};
use realface::source::TimedFrame;
use realface::{Embedding, Error, FaceEngine, Result, RgbImage};

/// Videos of the evaluation may be longer than a session allows.
pub const EVAL_VIDEO: VideoLimits = VideoLimits {
    max_frames: 20_000,
    max_duration_ms: 600_000,
};

/// A pre-recorded replay starts every this many ms into its clip.
const OFFSET_STEP_MS: u64 = 5_000;
/// ... while at least this much of the clip is left.
const MIN_LEFT_MS: u64 = 5_000;
/// Attack sequences shorter than this are looped (a GIF loops; a print is
/// moved back and forth) to this length.
const ATTACK_MS: u64 = 8_000;

/// Everything observed.
pub struct Material {
    /// Labelled genuine clips (offset 0).
    pub clips: Vec<Recorded>,
    /// The clips replayed as pre-recorded videos (every start offset).
    pub prerecorded: Vec<Recorded>,
    /// Other attack sequences (replay, print, synthetic, photo).
    pub attacks: Vec<Recorded>,
    /// Extra live captures (passive gate only).
    pub live: Vec<Recorded>,
}

/// Which material to load.
pub struct Sources<'a> {
    pub clips: &'a Path,
    pub spoof: Option<&'a Path>,
    pub synthetic: Option<&'a Path>,
    pub only: Option<Vec<String>>,
    pub offsets: bool,
    pub photo_attacks: bool,
}

fn reference_of(engine: &FaceEngine, frames: &[TimedFrame], what: &str) -> Result<Embedding> {
    frames
        .iter()
        .take(30)
        .find_map(|f| engine.embed_image(&f.image).ok())
        .ok_or_else(|| {
            Error::invalid(
                "material",
                format!("{what}: no single face in its first frames"),
            )
        })
}

/// `frames` looped (with continuing timestamps) to at least [`ATTACK_MS`].
fn looped(frames: Vec<TimedFrame>, ping_pong: bool) -> Vec<TimedFrame> {
    let Some(last) = frames.last().map(|f| f.t_ms) else {
        return frames;
    };
    let step = if frames.len() > 1 {
        last / (frames.len() as u64 - 1)
    } else {
        100
    }
    .max(1);
    let mut out = frames.clone();
    let mut forward = false;
    while out.last().map_or(0, |f| f.t_ms) < ATTACK_MS {
        let t0 = out.last().map_or(0, |f| f.t_ms) + step;
        let pass: Vec<&TimedFrame> = if ping_pong && !forward {
            frames.iter().rev().skip(1).collect()
        } else {
            frames.iter().skip(usize::from(ping_pong)).collect()
        };
        forward = !forward;
        if pass.is_empty() {
            break;
        }
        let base = pass[0].t_ms;
        for (k, f) in pass.iter().enumerate() {
            let t = if ping_pong {
                t0 + k as u64 * step
            } else {
                t0 + f.t_ms.abs_diff(base)
            };
            out.push(TimedFrame {
                image: f.image.clone(),
                t_ms: t,
            });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn record(
    engine: &Arc<FaceEngine>,
    options: &SessionOptions,
    name: &str,
    species: &str,
    group: &str,
    frames: &[TimedFrame],
    reference: Embedding,
    events: Vec<realface::eval::clips::TimedEvent>,
) -> Result<Recorded> {
    Recorded::new(
        engine, options, name, species, group, reference, frames, events,
    )
}

/// The labelled clips and their pre-recorded replays.
fn clip_material(
    engine: &Arc<FaceEngine>,
    options: &SessionOptions,
    src: &Sources,
    bar: &ProgressBar,
) -> Result<(Vec<Recorded>, Vec<Recorded>, Vec<Recorded>)> {
    let mut clips = read_video_clips(src.clips)?;
    if let Some(only) = &src.only {
        clips.retain(|c| only.contains(&c.name));
    }
    if clips.is_empty() {
        return Err(Error::invalid(
            "clips",
            format!(
                "no clip folders with labels.json in {}",
                src.clips.display()
            ),
        ));
    }
    let limits = engine.config().limits;
    let done: Vec<(Recorded, Vec<Recorded>, Vec<Recorded>)> = clips
        .par_iter()
        .map(|c| -> Result<_> {
            let frames = read_video(&c.video, limits, EVAL_VIDEO)?;
            let reference = reference_of(engine, &frames, &c.name)?;
            let genuine = record(
                engine,
                options,
                &c.name,
                "genuine",
                &c.group,
                &frames,
                reference.clone(),
                c.events.clone(),
            )?;
            // footage of the person as recorded, or of them performing
            // actions on purpose (what a challenge asks)
            let species = if c.is_deliberate() {
                DELIBERATE
            } else {
                PRERECORDED
            };
            let mut pre = vec![Recorded {
                name: format!("{}@0s", c.name),
                species: species.into(),
                events: Vec::new(),
                ..genuine.clone()
            }];
            let end = frames.last().map_or(0, |f| f.t_ms);
            let mut offset = OFFSET_STEP_MS;
            while src.offsets && offset + MIN_LEFT_MS <= end {
                let tail: Vec<TimedFrame> = frames
                    .iter()
                    .filter(|f| f.t_ms >= offset)
                    .cloned()
                    .collect();
                pre.push(record(
                    engine,
                    options,
                    &format!("{}@{}s", c.name, offset / 1000),
                    species,
                    &c.group,
                    &tail,
                    reference.clone(),
                    Vec::new(),
                )?);
                offset += OFFSET_STEP_MS;
            }
            // photo attacks from every third clip's first frame
            let mut photos = Vec::new();
            let index = clips.iter().position(|x| x.name == c.name).unwrap_or(0);
            if src.photo_attacks && index % 3 == 0 {
                if let Some(first) = frames.first() {
                    for kind in AttackKind::ALL {
                        let f = at_fps(&synthesize(&first.image, kind, 120, 42), 15.0);
                        photos.push(record(
                            engine,
                            options,
                            &format!("{}:{}", c.name, kind.name()),
                            &format!("photo-{}", kind.name()),
                            &c.group,
                            &f,
                            reference.clone(),
                            Vec::new(),
                        )?);
                    }
                }
            }
            bar.inc(1);
            Ok((genuine, pre, photos))
        })
        .collect::<Result<_>>()?;
    let mut g = Vec::new();
    let mut p = Vec::new();
    let mut photos = Vec::new();
    for (a, b, c) in done {
        g.push(a);
        p.extend(b);
        photos.extend(c);
    }
    Ok((g, p, photos))
}

/// NUAA prints (moved back and forth at 10 fps) against the subject's first
/// live capture, NUAA live captures, and the phone replay `fake2.webm`
/// against the first frame of `real2.webm`.
fn spoof_material(
    engine: &Arc<FaceEngine>,
    options: &SessionOptions,
    dir: &Path,
) -> Result<(Vec<Recorded>, Vec<Recorded>)> {
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
    let load = |paths: &[String]| -> Vec<RgbImage> {
        paths
            .iter()
            .filter_map(|p| engine.load(dir.join(p)).ok())
            .collect()
    };
    let jobs: Vec<(&(String, String), &Vec<String>)> = groups.iter().collect();
    let done: Vec<Option<(bool, Recorded)>> = jobs
        .par_iter()
        .map(|((subject, label), paths)| -> Result<_> {
            let live = groups
                .get(&(subject.clone(), "live".to_string()))
                .map(|p| at_fps(&load(p), 10.0))
                .unwrap_or_default();
            let Ok(reference) = reference_of(engine, &live, subject) else {
                return Ok(None);
            };
            let frames = looped(at_fps(&load(paths), 10.0), true);
            let is_live = label == "live";
            let species = if is_live {
                "live-capture"
            } else {
                label.as_str()
            };
            let r = record(
                engine,
                options,
                subject,
                species,
                subject,
                &frames,
                reference,
                Vec::new(),
            )?;
            Ok(Some((is_live, r)))
        })
        .collect::<Result<_>>()?;
    let mut attacks = Vec::new();
    let mut live = Vec::new();
    for (is_live, r) in done.into_iter().flatten() {
        if is_live {
            live.push(r);
        } else {
            attacks.push(r);
        }
    }
    let videos = dir.join("apfol").join("videos");
    let (real, fake) = (videos.join("real2.webm"), videos.join("fake2.webm"));
    if fake.is_file() && real.is_file() {
        let limits = engine.config().limits;
        let reference = reference_of(
            engine,
            &read_video(&real, limits, EVAL_VIDEO)?,
            "real2.webm",
        )?;
        let frames = read_video(&fake, limits, EVAL_VIDEO)?;
        attacks.push(record(
            engine,
            options,
            "fake2.webm",
            "replay",
            &group_of("apfol"),
            &frames,
            reference,
            Vec::new(),
        )?);
    }
    Ok((attacks, live))
}

/// Panels of a synthetic file: (name, x, width) of each generated panel.
fn panels(file: &str, width: u32) -> Vec<(String, u32, u32)> {
    match file {
        // three animated paintings side by side
        "liveportrait_paintings" => vec![
            ("left".into(), 0, 171),
            ("middle".into(), 171, 180),
            ("right".into(), 351, width.saturating_sub(351)),
        ],
        // driving person | still source | generated: only the last is synthetic
        "liveportrait_inference" => vec![("generated".into(), 256, 128)],
        _ => vec![("full".into(), 0, width)],
    }
}

/// The synthetic animations (every generated panel, scaled up to at least
/// 256 pixels wide as an attacker would, looped like a GIF).
fn synthetic_material(
    engine: &Arc<FaceEngine>,
    options: &SessionOptions,
    dir: &Path,
) -> Result<Vec<Recorded>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io {
            path: dir.into(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "gif"))
        .collect();
    files.sort();
    let limits = engine.config().limits;
    let mut jobs = Vec::new();
    for f in &files {
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let frames = read_video(f, limits, EVAL_VIDEO)?;
        let Some(w) = frames.first().map(|x| x.image.width()) else {
            continue;
        };
        let generator = stem.split('_').next().unwrap_or("synthetic").to_string();
        for (panel, x, pw) in panels(&stem, w) {
            let cut: Vec<TimedFrame> = frames
                .iter()
                .map(|fr| {
                    let h = fr.image.height();
                    let img = crop_imm(&fr.image, x, 0, pw.min(w - x), h).to_image();
                    let img = if img.width() < 256 {
                        let s = 256.0 / img.width() as f32;
                        resize(
                            &img,
                            256,
                            (img.height() as f32 * s).round() as u32,
                            FilterType::Lanczos3,
                        )
                    } else {
                        img
                    };
                    TimedFrame {
                        image: img,
                        t_ms: fr.t_ms,
                    }
                })
                .collect();
            jobs.push((
                format!("{stem}:{panel}"),
                generator.clone(),
                looped(cut, false),
            ));
        }
    }
    jobs.par_iter()
        .filter_map(|(name, generator, frames)| {
            let reference = reference_of(engine, frames, name).ok()?;
            Some(record(
                engine,
                options,
                name,
                "synthetic",
                generator,
                frames,
                reference,
                Vec::new(),
            ))
        })
        .collect()
}

/// Observes everything.
pub fn load(engine: &Arc<FaceEngine>, options: &SessionOptions, src: &Sources) -> Result<Material> {
    let n = read_video_clips(src.clips).map(|c| c.len()).unwrap_or(0);
    let bar = ProgressBar::new(n as u64);
    bar.set_message("observing clips");
    let (clips, prerecorded, mut attacks) = clip_material(engine, options, src, &bar)?;
    bar.finish_and_clear();
    let mut live = Vec::new();
    if let Some(dir) = src.spoof {
        let (a, l) = spoof_material(engine, options, dir)?;
        attacks.extend(a);
        live = l;
    }
    if let Some(dir) = src.synthetic {
        attacks.extend(synthetic_material(engine, options, dir)?);
    }
    Ok(Material {
        clips,
        prerecorded,
        attacks,
        live,
    })
}
