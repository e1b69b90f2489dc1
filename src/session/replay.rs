//! Observations and replays: what a session's models said of each frame,
//! recorded once, and the session's state machine run again over them.
//!
//! Everything a session computes from a frame's pixels (detection, mesh,
//! measurements, eye state, passive model, embeddings, the planarity test)
//! depends only on the frames before it, never on the challenge or its
//! prompt schedule. So an evaluation records the observations of a video
//! once ([`ObservationLog::record`]) and replays the full session
//! ([`ObservationLog::replay`]: prompts, answers, flat motion, passive
//! gate, same-face check, match, verdict) for as many schedules as it
//! likes, in microseconds per frame. A replay gives the verdict a live
//! session over the same frames gives (`tests/challenge.rs` checks it
//! against `realface verify --prompt-delays-ms`); it keeps no pixels, so
//! its result carries no photo.

use std::sync::Arc;

use super::certify::{CertifyRegistry, IssuedId, CERTIFY_ID_TTL_MS};
use super::result::AuthResult;
use super::{Reference, SessionOptions, VerificationSession};
use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::face::features::FrameFeatures;
use crate::face::quality::Quality;
use crate::imaging::geometry::{Affine, BBox};
use crate::liveness::flat::PixelStep;
use crate::liveness::pad::model::PadScores;
use crate::matching::embed::Embedding;
use crate::source::TimedFrame;

/// What the models said of one face frame.
#[derive(Debug, Clone)]
pub struct FaceObs {
    /// The face box.
    pub bbox: BBox,
    /// Aligned-crop -> image map.
    pub map: Affine,
    /// Mesh geometry, eye state, sharpness.
    pub features: FrameFeatures,
    /// Quality of the face.
    pub quality: Quality,
    /// P(real) of the passive models, when they were due.
    pub pad: Option<PadScores>,
    /// The embedding, when the same-face check was due.
    pub embedding: Option<Embedding>,
    /// What the pixels added to the flat-motion evidence.
    pub pixels: PixelStep,
    /// The embedding of a frame that became the session's best (recordings only).
    pub best_embedding: Option<Embedding>,
}

/// What one frame was.
#[derive(Debug, Clone)]
pub enum FrameObs {
    /// Refused with a per-frame error (it counted as a frame, nothing else).
    Refused,
    /// A failure no later frame cures (the session ends as INTERNAL).
    Fatal(String),
    /// No usable face.
    NoFace,
    /// Several faces.
    Multiple(usize),
    /// One face.
    Face(Box<FaceObs>),
}

/// The options that decide what is observed: a replay must use the same.
fn observed_with(o: &SessionOptions) -> (usize, usize, u64, u64, usize) {
    (
        o.schedule.detect_every,
        o.embed_every,
        o.pad.interval_ms,
        (o.max_fps * 1000.0) as u64,
        o.template_frames,
    )
}

/// The observations of a frame sequence.
#[derive(Debug, Clone)]
pub struct ObservationLog {
    options: SessionOptions,
    entries: Vec<(u64, FrameObs)>,
}

fn ticket(id: &str, nonce: &str) -> Result<super::certify::CertifyTicket> {
    CertifyRegistry::new().claim_issued(
        &IssuedId {
            certify_id: id.to_string(),
            challenge_nonce: nonce.to_string(),
            expires_ms: CERTIFY_ID_TTL_MS,
        },
        0,
    )
}

impl ObservationLog {
    /// Observes `frames` as a session with `options` would (the challenge
    /// and the session's limits play no part), with the
    /// [`super::schedule::AnalysisSchedule::full`] schedule at
    /// `options.schedule`'s detector rate
    /// ([`super::schedule::AnalysisSchedule::recording`]): a replay runs
    /// any schedule with that detector rate over it, since a schedule's
    /// analysed frames are a subset of `full`'s. Recording stops where every
    /// session over these frames would end whatever its schedule: several
    /// faces, a changed face, a model failure.
    pub fn record<'a>(
        engine: &Arc<FaceEngine>,
        options: &SessionOptions,
        frames: impl IntoIterator<Item = &'a TimedFrame>,
    ) -> Result<Self> {
        let mut s = VerificationSession::new(
            engine.clone(),
            ticket("observation-log", &"0".repeat(32))?,
            Reference::Server,
            options.clone().with_schedule(options.schedule.recording()),
        )?;
        s.recording = Some(Vec::new());
        for f in frames {
            // a frame refused before it counts (order, size) is not observed
            let _ = s.push_frame(&f.image, f.t_ms);
            if s.is_finished() {
                break;
            }
        }
        Ok(Self {
            options: options.clone(),
            entries: s.recording.take().unwrap_or_default(),
        })
    }

    /// Frames observed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The observations, with their timestamps.
    pub fn entries(&self) -> &[(u64, FrameObs)] {
        &self.entries
    }

    /// Runs a session over the observations: `certify_id` and `nonce` draw
    /// the challenge and its schedule as for a claimed certifyId (or
    /// `options.prompt.delays_ms` fixes it). The options must observe as the
    /// recording's did (detector and embedding cadence, passive interval,
    /// frame rate, template), else [`Error::InvalidArgument`].
    pub fn replay(
        &self,
        engine: &Arc<FaceEngine>,
        certify_id: &str,
        nonce: &str,
        reference: Reference,
        options: SessionOptions,
    ) -> Result<AuthResult> {
        if observed_with(&options) != observed_with(&self.options) {
            return Err(Error::invalid(
                "options",
                "a replay must observe with the recording's detect_every, embed_every, pad.interval_ms, max_fps and template_frames",
            ));
        }
        let mut s = VerificationSession::new(
            engine.clone(),
            ticket(certify_id, nonce)?,
            reference,
            options,
        )?;
        for (t, obs) in &self.entries {
            if s.is_finished() {
                break;
            }
            if s.check_time(*t).is_err() {
                continue;
            }
            if s.begin_frame(*t).is_some() {
                break;
            }
            let _ = s.apply(*t, obs, None);
        }
        Ok(s.finish())
    }
}
