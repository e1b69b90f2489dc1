//! Session templates measured on the shared clips (`realface eval template`).
//!
//! Each clip's video runs at its own frame rate through the session's
//! per-frame path (detect every frame, mesh, measure, quality), embedding
//! every `embed_every`-th face frame as a session does. The first third of the
//! clip stands in for the person's reference photo (its best-quality embedded
//! frame); the rest is cut into windows the length of a short session, and
//! each window gives two live probes: its best embedded frame alone, and the
//! template of its best `template_frames` embedded frames
//! ([`crate::session::template::TemplateBuilder`]). Genuine similarity: probe
//! against the clip's own reference. Impostor similarity: probe against every
//! photo of the faces report split (people who are not in the clips).

use std::path::Path;

use serde::Serialize;

use crate::engine::FaceEngine;
use crate::error::Result;
use crate::face::quality::assess_aligned;
use crate::liveness::measure::measure_face;
use crate::matching::embed::Embedding;
use crate::session::template::TemplateBuilder;
use crate::session::track::{TrackOutcome, Tracker};
use crate::source::video::{VideoLimits, VideoSource};
use crate::source::FrameSource;

/// One embedded face frame of a clip.
#[derive(Debug, Clone)]
pub struct EmbeddedFrame {
    /// Time in the video (ms).
    pub t_ms: u64,
    /// Quality 0-100.
    pub quality: f32,
    /// The matcher's embedding.
    pub embedding: Embedding,
}

/// Runs a video through the per-frame path; returns the embedded frames and
/// the video's duration (ms).
pub fn embed_clip(
    engine: &FaceEngine,
    video: &Path,
    embed_every: usize,
) -> Result<(Vec<EmbeddedFrame>, u64)> {
    let mut source = VideoSource::open(video, engine.config().limits, VideoLimits::default())?;
    let mut tracker = Tracker::new(1);
    let mut out = Vec::new();
    let (mut face_frames, mut last_ms) = (0usize, 0u64);
    while let Some(frame) = source.next_frame()? {
        last_ms = frame.t_ms;
        let TrackOutcome::Face(t) = tracker.next(engine, &frame.image)? else {
            continue;
        };
        face_frames += 1;
        if !(face_frames - 1).is_multiple_of(embed_every.max(1)) {
            continue;
        }
        let m = measure_face(engine, &frame.image, &t.mesh, &t.map, &t.bbox, false)?;
        let quality = assess_aligned(&m.aligned, &m.features, None).score;
        out.push(EmbeddedFrame {
            t_ms: frame.t_ms,
            quality,
            embedding: engine.embed_face(&frame.image, t.map)?,
        });
    }
    Ok((out, last_ms))
}

/// The two live probes of one window.
#[derive(Debug, Clone)]
pub struct Probes {
    /// The window's best embedded frame.
    pub single: Embedding,
    /// The template of its best frames.
    pub template: Embedding,
}

/// A clip's reference and its windows' probes.
#[derive(Debug, Clone)]
pub struct ClipProbes {
    /// Clip name.
    pub clip: String,
    /// Best embedded frame of the first third.
    pub reference: Embedding,
    /// One entry per window.
    pub windows: Vec<Probes>,
}

/// Splits a clip's embedded frames into the reference and window probes
/// (`None` when the clip is too short or has no face in a part).
pub fn clip_probes(
    clip: &str,
    frames: &[EmbeddedFrame],
    duration_ms: u64,
    window_ms: u64,
    template_frames: usize,
) -> Result<Option<ClipProbes>> {
    let cut = duration_ms / 3;
    let best = |fs: &[&EmbeddedFrame]| -> Option<EmbeddedFrame> {
        fs.iter()
            .max_by(|a, b| a.quality.total_cmp(&b.quality))
            .map(|f| (*f).clone())
    };
    let head: Vec<&EmbeddedFrame> = frames.iter().filter(|f| f.t_ms < cut).collect();
    let Some(reference) = best(&head) else {
        return Ok(None);
    };
    let mut windows = Vec::new();
    let mut start = cut;
    while start < duration_ms {
        let w: Vec<&EmbeddedFrame> = frames
            .iter()
            .filter(|f| f.t_ms >= start && f.t_ms < start + window_ms)
            .collect();
        if let Some(b) = best(&w) {
            let mut t = TemplateBuilder::new(template_frames);
            for f in &w {
                t.push(f.quality, f.embedding.clone());
            }
            windows.push(Probes {
                template: t.build(b.quality, &b.embedding)?,
                single: b.embedding,
            });
        }
        start += window_ms;
    }
    Ok((!windows.is_empty()).then(|| ClipProbes {
        clip: clip.to_string(),
        reference: reference.embedding,
        windows,
    }))
}

/// Summary of a similarity distribution.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    /// Values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Values at or above the threshold.
    pub at_or_above_threshold: usize,
}

impl Distribution {
    /// Summarises `values` against `threshold`.
    pub fn of(values: &[f32], threshold: f32) -> Self {
        let (mean, sd) = crate::matching::fusion::mean_sd(values).unwrap_or((f64::NAN, f64::NAN));
        Self {
            n: values.len(),
            mean,
            sd,
            min: values.iter().copied().fold(f32::INFINITY, f32::min).into(),
            max: values
                .iter()
                .copied()
                .fold(f32::NEG_INFINITY, f32::max)
                .into(),
            at_or_above_threshold: values
                .iter()
                .filter(|&&v| crate::matching::compare::passes(v, threshold))
                .count(),
        }
    }
}

/// Genuine and impostor similarities of one probe kind.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeFigures {
    /// Probe against the clip's own reference.
    pub genuine: Distribution,
    /// Probe against other people's photos.
    pub impostor: Distribution,
}

/// Similarities of every window's probes (`pick` chooses single or
/// template) against the own reference and the impostor photos.
pub fn probe_figures(
    clips: &[ClipProbes],
    impostors: &[Embedding],
    threshold: f32,
    pick: impl Fn(&Probes) -> &Embedding,
) -> Result<ProbeFigures> {
    let (mut g, mut i) = (Vec::new(), Vec::new());
    for c in clips {
        for w in &c.windows {
            let p = pick(w);
            g.push(c.reference.similarity(p)?);
            for r in impostors {
                i.push(r.similarity(p)?);
            }
        }
    }
    Ok(ProbeFigures {
        genuine: Distribution::of(&g, threshold),
        impostor: Distribution::of(&i, threshold),
    })
}
