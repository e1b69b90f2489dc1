//! The verification session: a certifyId, a reference face and a challenge;
//! frames are pushed in with timestamps, each push returns the progress (the
//! prompt, the ring progress, the state), and the session ends with an
//! [`AuthResult`].
//!
//! Per frame: detect (more than one face ends the session as an
//! interruption), mesh, measure ([`FrameFeatures`]), score quality, feed the
//! flat-motion cue and the current action's detector, and every few frames
//! embed the face and compare it with the session's first face, so the face
//! cannot be swapped half-way. When every action has been seen, the best
//! frame is embedded and compared with the reference at the calibrated
//! threshold. SUCCESS needs all of: every action seen, no flat-motion cue, the
//! same face throughout, and a match. Every other path is FAIL with a reason.
//!
//! Liveness score: 0 without a completed challenge (at most 50 for the share
//! of actions seen); with one, 60 + 40 x how far the weakest action went past
//! its threshold (capped), so 60 means "just passed", 100 "clearly passed".

pub mod certify;
pub mod challenge;
pub mod photo;
pub mod result;
pub mod ui;

use std::sync::Arc;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::embed::Embedding;
use crate::engine::FaceEngine;
use crate::error::{Error, Result};
use crate::geometry::{Affine, BBox, Point};
use crate::liveness::actions::{Action, ActionDetector, ActionParams, History};
use crate::liveness::features::FrameFeatures;
use crate::liveness::flat::FlatMotion;
use crate::liveness::measure::measure_face;
use crate::liveness::pad::{PadEvidence, PadOptions};
use crate::quality::{assess_aligned, Quality};
use crate::track::{TrackOutcome, Tracked, Tracker};
use certify::CertifyTicket;
use challenge::ChallengeSpec;
use photo::PhotoKind;
use result::{ActionOutcome, AuthResult, AuthState, Reason, ReasonCode};

/// Options of a session (validated by [`SessionOptions::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionOptions {
    /// Which actions.
    pub challenge: ChallengeSpec,
    /// Time allowed for each action, from its prompt (ms).
    pub action_timeout_ms: u64,
    /// Time allowed for the whole session, from the first frame (ms).
    pub total_timeout_ms: u64,
    /// Face frames to watch before the first prompt, for the baselines (ms).
    pub warmup_ms: u64,
    /// Which photo the result carries (`needAlivePhoto`).
    pub photo: PhotoKind,
    /// Target false-accept rate of the face match.
    pub far: f64,
    /// FAR of the same-face-throughout check (looser: it compares a person with themselves).
    pub continuity_far: f64,
    /// Embed every n-th face frame for the same-face check.
    pub embed_every: usize,
    /// Most frames a session takes.
    pub max_frames: usize,
    /// Highest frame rate accepted: a frame closer than 1000 / max_fps ms to
    /// the previous accepted one is refused (LIMIT_EXCEEDED) and not processed.
    pub max_fps: f64,
    /// Action detector thresholds.
    pub params: ActionParams,
    /// Run the face detector at least every n-th frame; in between, follow
    /// the face with the previous frame's mesh region (1 = detect every
    /// frame, the default; see [`DEFAULT_DETECT_EVERY`] for why). A second
    /// face is seen within n frames.
    #[serde(default = "default_detect_every")]
    pub detect_every: usize,
    /// The passive presentation-attack gate (session-level median of the
    /// passive model, see [`crate::liveness::pad`]).
    #[serde(default)]
    pub pad: PadOptions,
}

fn default_detect_every() -> usize {
    DEFAULT_DETECT_EVERY
}

/// Default of [`SessionOptions::detect_every`]: detect every frame. Tracking
/// (n > 1) was measured to let synthetic photo attacks through (the mesh
/// region drifting on a moving print produces spurious blinks and turns:
/// affine 5/50, blur 6/50, real prints 3/50 passed at n = 5 against 0/50 at
/// n = 1), so it stays an opt-in for non-security uses.
pub const DEFAULT_DETECT_EVERY: usize = 1;

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            challenge: ChallengeSpec::Random(2),
            action_timeout_ms: 8_000,
            total_timeout_ms: 30_000,
            warmup_ms: 500,
            photo: PhotoKind::None,
            far: crate::DEFAULT_FAR,
            continuity_far: 1e-2,
            embed_every: 5,
            max_frames: 3_000,
            max_fps: 60.0,
            params: ActionParams::default(),
            detect_every: DEFAULT_DETECT_EVERY,
            pad: PadOptions::default(),
        }
    }
}

impl SessionOptions {
    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        if self.action_timeout_ms == 0 || self.total_timeout_ms == 0 {
            return Err(Error::invalid("timeout", "timeouts must be positive"));
        }
        let unit = |v: f64| v > 0.0 && v < 1.0;
        if !unit(self.far) || !unit(self.continuity_far) {
            return Err(Error::invalid("far", "must be in (0, 1)"));
        }
        if self.embed_every == 0 || self.max_frames == 0 || self.detect_every == 0 {
            return Err(Error::invalid(
                "embed_every",
                "embed_every, max_frames and detect_every must be at least 1",
            ));
        }
        self.pad.validate()?;
        if !(1.0..=1000.0).contains(&self.max_fps) {
            return Err(Error::invalid(
                "max_fps",
                format!("{} is outside 1..=1000", self.max_fps),
            ));
        }
        Ok(())
    }
}

/// The reference identity.
#[derive(Debug, Clone)]
pub enum Reference {
    /// A photo with exactly one face (an ID or enrolment photo).
    Photo(RgbImage),
    /// A stored embedding (from [`FaceEngine::embed_image`]).
    Embedding(Embedding),
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// No face in view yet (or lost).
    WaitingForFace,
    /// Watching the face before the first prompt.
    Warmup,
    /// Waiting for the current action.
    Action,
    /// Finished; read the result.
    Finished,
}

/// What a client shows after a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// The session's state.
    pub state: SessionState,
    /// The text to show.
    pub prompt: String,
    /// Ring progress 0..1.
    pub ring: f32,
    /// The current action, if one is prompted.
    pub action: Option<Action>,
    /// Actions completed.
    pub actions_done: usize,
    /// Actions in the challenge.
    pub actions_total: usize,
    /// Faces in this frame.
    pub faces: usize,
    /// Quality of this frame's face.
    pub quality: Option<f32>,
}

struct Best {
    frame: RgbImage,
    bbox: BBox,
    map: Affine,
    quality: Quality,
}

/// A running verification. Not shared between threads; the engine is.
pub struct VerificationSession {
    engine: Arc<FaceEngine>,
    ticket: CertifyTicket,
    options: SessionOptions,
    actions: Vec<Action>,
    outcomes: Vec<ActionOutcome>,
    reference: Embedding,
    threshold: f32,
    far_target: f64,
    continuity_threshold: f32,
    detector: Option<ActionDetector>,
    action_since_ms: u64,
    warmup_since_ms: Option<u64>,
    history: History,
    flat: FlatMotion,
    pad: PadEvidence,
    /// Every action was seen; the verdict waits for enough passive evidence.
    awaiting_verdict: bool,
    tracker: Tracker,
    first_ms: Option<u64>,
    last_ms: Option<u64>,
    frames: usize,
    face_frames: usize,
    anchor: Option<Embedding>,
    best: Option<Best>,
    last_center: Option<Point>,
    result: Option<AuthResult>,
}

impl std::fmt::Debug for VerificationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationSession")
            .field("certify_id", &self.ticket.certify_id)
            .field("actions", &self.actions)
            .field("frames", &self.frames)
            .field("finished", &self.result.is_some())
            .finish()
    }
}

impl VerificationSession {
    /// Starts a session for a claimed certifyId (see
    /// [`certify::CertifyRegistry::claim`]). The reference photo must hold
    /// exactly one face; a reference embedding must have the embedder's length.
    pub fn new(
        engine: Arc<FaceEngine>,
        ticket: CertifyTicket,
        reference: Reference,
        options: SessionOptions,
    ) -> Result<Self> {
        if ticket.certify_id.trim().is_empty() {
            return Err(Error::CertifyIdEmpty);
        }
        options.validate()?;
        let reference = match reference {
            Reference::Photo(img) => engine.embed_image(&img)?,
            Reference::Embedding(e) => {
                if e.dim() != crate::embed::EMBEDDING_DIM {
                    return Err(Error::invalid(
                        "reference",
                        format!(
                            "embedding has {} values, expected {}",
                            e.dim(),
                            crate::embed::EMBEDDING_DIM
                        ),
                    ));
                }
                e
            }
        };
        let point = engine.calibration().threshold_for(options.far)?;
        let continuity = engine.calibration().threshold_for(options.continuity_far)?;
        let seed = challenge::seed(&ticket.certify_id, &ticket.challenge_nonce);
        let actions = challenge::actions(&options.challenge, seed)?;
        let outcomes = actions
            .iter()
            .map(|&a| ActionOutcome {
                action: a,
                passed: false,
                at_ms: None,
                strength: None,
            })
            .collect();
        Ok(Self {
            engine,
            ticket,
            actions,
            outcomes,
            reference,
            threshold: point.threshold,
            far_target: point.far,
            continuity_threshold: continuity.threshold,
            detector: None,
            action_since_ms: 0,
            warmup_since_ms: None,
            history: History::default(),
            flat: FlatMotion::default(),
            pad: PadEvidence::new(options.pad.threshold),
            awaiting_verdict: false,
            tracker: Tracker::new(options.detect_every),
            first_ms: None,
            last_ms: None,
            frames: 0,
            face_frames: 0,
            anchor: None,
            best: None,
            last_center: None,
            result: None,
            options,
        })
    }

    /// The challenge's actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The certifyId.
    pub fn certify_id(&self) -> &str {
        &self.ticket.certify_id
    }

    fn done(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed).count()
    }

    fn progress(&self, faces: usize, quality: Option<f32>) -> Progress {
        let total = self.actions.len();
        let done = self.done();
        let (state, prompt, action) = if self.result.is_some() {
            (SessionState::Finished, "Done".to_string(), None)
        } else if self.awaiting_verdict {
            (SessionState::Action, "Hold still".to_string(), None)
        } else if let Some(d) = &self.detector {
            (
                SessionState::Action,
                d.action().prompt().to_string(),
                Some(d.action()),
            )
        } else if faces == 1 {
            (SessionState::Warmup, "Hold still".to_string(), None)
        } else {
            (
                SessionState::WaitingForFace,
                "Put your face inside the circle".to_string(),
                None,
            )
        };
        let ring = if self.result.is_some() {
            1.0
        } else {
            done as f32 / total.max(1) as f32
        };
        Progress {
            state,
            prompt,
            ring,
            action,
            actions_done: done,
            actions_total: total,
            faces,
            quality,
        }
    }

    /// Feeds one frame taken at `t_ms` (any monotonic clock, milliseconds).
    /// A malformed frame or timestamp is an error for that frame only; the
    /// session goes on. After the session finished, every push is
    /// [`Error::SessionFinished`].
    pub fn push_frame(&mut self, frame: &RgbImage, t_ms: u64) -> Result<Progress> {
        if self.result.is_some() {
            return Err(Error::SessionFinished);
        }
        crate::image_io::check_dimensions(
            frame.width(),
            frame.height(),
            &self.engine.config().limits,
        )?;
        if let Some(prev) = self.last_ms {
            if t_ms <= prev {
                return Err(Error::FrameOrder {
                    previous: prev,
                    got: t_ms,
                });
            }
            let min_gap = (1000.0 / self.options.max_fps).floor() as u64;
            if t_ms - prev < min_gap {
                return Err(Error::LimitExceeded {
                    what: "frame interval below 1000/max_fps (ms)",
                    value: t_ms - prev,
                    limit: min_gap,
                });
            }
        }
        let first = *self.first_ms.get_or_insert(t_ms);
        self.last_ms = Some(t_ms);
        self.frames += 1;
        if self.frames > self.options.max_frames {
            self.fail(
                ReasonCode::FrameLimit,
                format!("more than {} frames", self.options.max_frames),
            );
            return Ok(self.progress(0, None));
        }
        if t_ms - first > self.options.total_timeout_ms {
            self.fail(
                ReasonCode::Timeout,
                format!("the session took over {} ms", self.options.total_timeout_ms),
            );
            return Ok(self.progress(0, None));
        }
        if self.detector.is_some() && t_ms - self.action_since_ms > self.options.action_timeout_ms {
            let a = self.actions[self.done()];
            self.fail(
                ReasonCode::ActionTimeout,
                format!(
                    "`{}` not seen within {} ms",
                    a.name(),
                    self.options.action_timeout_ms
                ),
            );
            return Ok(self.progress(0, None));
        }
        match self.process(frame, t_ms) {
            Ok(p) => Ok(p),
            Err(e) => {
                // A model failure mid-session ends it: nothing may pass by accident.
                self.fail(ReasonCode::Internal, e.to_string());
                Err(e)
            }
        }
    }

    fn process(&mut self, frame: &RgbImage, t_ms: u64) -> Result<Progress> {
        let tracked = match self.tracker.next(&self.engine, frame)? {
            TrackOutcome::Multiple(n) => {
                self.fail(ReasonCode::MultipleFaces, format!("{n} faces in the frame"));
                return Ok(self.progress(n, None));
            }
            TrackOutcome::NoFace => {
                self.warmup_since_ms = None;
                return Ok(self.progress(0, None));
            }
            TrackOutcome::Face(t) => *t,
        };
        let Tracked {
            bbox, mesh, map, ..
        } = tracked;
        self.face_frames += 1;
        let pad_due = self.pad.due(t_ms, self.options.pad.interval_ms);
        let m = measure_face(&self.engine, frame, &mesh, &map, &bbox, pad_due)?;
        if let Some(p) = m.pad_real {
            self.pad.push(t_ms, p);
        }
        let f = m.features;
        self.history.push(t_ms, f);
        self.flat.update(&mesh, &f, &self.history);
        let ear_base = self.history.stat(FrameFeatures::ear_norm, 0.75);
        let quality = assess_aligned(&m.aligned, &f, ear_base);

        // Same face throughout: embed periodically and on sudden jumps.
        let center = bbox.center();
        let jumped = self
            .last_center
            .is_some_and(|c| c.dist(center) > bbox.w.max(1.0));
        self.last_center = Some(center);
        if self.anchor.is_none()
            || jumped
            || self.face_frames.is_multiple_of(self.options.embed_every)
        {
            let e = self.engine.embed_face(frame, map)?;
            match &self.anchor {
                None => self.anchor = Some(e),
                Some(a) => {
                    let s = a.similarity(&e)?;
                    if s.is_nan() || s < self.continuity_threshold {
                        self.fail(
                            ReasonCode::FaceChanged,
                            format!(
                                "similarity {s:.3} to the session's first face is below {:.3}",
                                self.continuity_threshold
                            ),
                        );
                        return Ok(self.progress(1, Some(quality.score)));
                    }
                }
            }
        }
        if self
            .best
            .as_ref()
            .is_none_or(|b| quality.score > b.quality.score)
        {
            self.best = Some(Best {
                frame: frame.clone(),
                bbox,
                map,
                quality,
            });
        }

        // Warm-up, then one action after the other.
        match &mut self.detector {
            None => {
                let since = *self.warmup_since_ms.get_or_insert(t_ms);
                if t_ms - since >= self.options.warmup_ms {
                    self.detector = Some(ActionDetector::new(self.actions[0], self.options.params));
                    self.action_since_ms = t_ms;
                }
            }
            Some(d) => {
                if let Some(ev) = d.update(t_ms, &f, &self.history) {
                    let i = self.done();
                    self.outcomes[i] = ActionOutcome {
                        action: ev.action,
                        passed: true,
                        at_ms: Some(t_ms - self.first_ms.unwrap_or(t_ms)),
                        strength: Some(ev.strength),
                    };
                    if i + 1 < self.actions.len() {
                        self.detector = Some(ActionDetector::new(
                            self.actions[i + 1],
                            self.options.params,
                        ));
                        self.action_since_ms = t_ms;
                    } else {
                        self.detector = None;
                        self.awaiting_verdict = true;
                    }
                }
            }
        }
        if self.awaiting_verdict && self.pad.samples >= self.options.pad.min_samples {
            self.awaiting_verdict = false;
            self.conclude()?;
        }
        Ok(self.progress(1, Some(quality.score)))
    }

    /// The active challenge's score, capped by the passive evidence's when
    /// the gate is on.
    fn liveness_score(&self) -> f32 {
        let active = self.active_score();
        if self.options.pad.enabled {
            active.min(self.pad.score())
        } else {
            active
        }
    }

    fn active_score(&self) -> f32 {
        let total = self.actions.len().max(1) as f32;
        let done = self.done();
        if done < self.actions.len() {
            return 50.0 * done as f32 / total;
        }
        let weakest = self
            .outcomes
            .iter()
            .filter_map(|o| o.strength)
            .fold(f32::INFINITY, f32::min);
        let excess = if weakest.is_finite() {
            (weakest - 1.0).clamp(0.0, 1.0)
        } else {
            0.0
        };
        60.0 + 40.0 * excess
    }

    /// All actions seen: decide.
    fn conclude(&mut self) -> Result<()> {
        let mut reasons = Vec::new();
        if self.flat.flat_suspected() {
            reasons.push(Reason {
                code: ReasonCode::FlatMotion,
                message: format!(
                    "flat motion: foreshortening excess {:.3} (max {}), yaw change {:.0} deg with nose shift {:.2}",
                    self.flat.max_foreshortening_excess,
                    FlatMotion::MAX_EXCESS,
                    self.flat.max_yaw_change,
                    self.flat.nose_change_at_turn
                ),
            });
        }
        if self.options.pad.enabled && self.pad.is_attack() {
            reasons.push(Reason {
                code: ReasonCode::PresentationAttack,
                message: format!(
                    "passive model: median P(real) {} over {} frames is below {}",
                    self.pad
                        .median_real
                        .map(|m| format!("{m:.3}"))
                        .unwrap_or_else(|| "none".into()),
                    self.pad.samples,
                    self.pad.threshold
                ),
            });
        }
        let Some(best) = self.best.take() else {
            self.fail(ReasonCode::NoFaceCaptured, "no usable face frame".into());
            return Ok(());
        };
        let e = self.engine.embed_face(&best.frame, best.map)?;
        if let Some(a) = &self.anchor {
            let s = a.similarity(&e)?;
            if s.is_nan() || s < self.continuity_threshold {
                reasons.push(Reason {
                    code: ReasonCode::FaceChanged,
                    message: format!("best frame similarity {s:.3} to the session's first face"),
                });
            }
        }
        let similarity = self.reference.similarity(&e)?;
        if similarity.is_nan() || similarity < self.threshold {
            reasons.push(Reason {
                code: ReasonCode::NoMatch,
                message: format!(
                    "similarity {similarity:.3} is below the threshold {:.3} (FAR {:e})",
                    self.threshold, self.far_target
                ),
            });
        }
        let success = reasons.is_empty() && self.done() == self.actions.len();
        let photo = if success {
            match self.options.photo {
                PhotoKind::None => None,
                PhotoKind::Original => Some(photo::jpeg_base64(&best.frame)?),
                PhotoKind::Mosaic => {
                    let mask = self.engine.segmenter().run(&best.frame)?;
                    Some(photo::jpeg_base64(&crate::segment::mosaic_background(
                        &best.frame,
                        &mask,
                        &best.bbox,
                    ))?)
                }
            }
        } else {
            None
        };
        let client_code = reasons.first().map(|r| r.code.client_code()).unwrap_or(0);
        self.result = Some(AuthResult {
            auth_state: if success {
                AuthState::Success
            } else {
                AuthState::Fail
            },
            client_code,
            score: Some(self.liveness_score()),
            quality: Some(best.quality.score),
            similarity: Some(similarity),
            photo,
            reasons,
            ..self.snapshot()
        });
        self.best = Some(best);
        Ok(())
    }

    fn duration(&self) -> u64 {
        match (self.first_ms, self.last_ms) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    /// The result as it stands: PROCESSING, no verdict figures, no reasons.
    fn snapshot(&self) -> AuthResult {
        AuthResult {
            certify_id: self.ticket.certify_id.clone(),
            auth_state: AuthState::Processing,
            client_code: 0,
            score: None,
            quality: None,
            similarity: None,
            threshold: self.threshold,
            far_target: self.far_target,
            photo_kind: self.options.photo,
            photo: None,
            actions: self.outcomes.clone(),
            flat_motion: self.flat.clone(),
            pad: self.pad.clone(),
            reasons: Vec::new(),
            frames: self.frames,
            face_frames: self.face_frames,
            duration_ms: self.duration(),
        }
    }

    fn fail(&mut self, code: ReasonCode, message: String) {
        if self.result.is_some() {
            return;
        }
        self.result = Some(AuthResult {
            auth_state: AuthState::Fail,
            client_code: code.client_code(),
            score: Some(self.liveness_score()),
            quality: self.best.as_ref().map(|b| b.quality.score),
            reasons: vec![Reason { code, message }],
            ..self.snapshot()
        });
    }

    /// The user or the app quits: the session fails as interrupted (10011).
    pub fn cancel(&mut self) {
        self.fail(ReasonCode::UserQuit, "the user quit".into());
    }

    /// Ends the session (no more frames are coming): an unfinished challenge
    /// is a FAIL (interrupted, 10011). Returns the result.
    pub fn finish(&mut self) -> AuthResult {
        if self.result.is_none() {
            let missing: Vec<&str> = self
                .outcomes
                .iter()
                .filter(|o| !o.passed)
                .map(|o| o.action.name())
                .collect();
            let (code, msg) = if self.face_frames == 0 {
                (ReasonCode::NoFaceCaptured, "no face was seen".to_string())
            } else {
                (
                    ReasonCode::Timeout,
                    format!(
                        "the frames ended before the challenge was done (missing: {})",
                        missing.join(", ")
                    ),
                )
            };
            self.fail(code, msg);
        }
        self.result()
    }

    /// The current result: PROCESSING while running.
    pub fn result(&self) -> AuthResult {
        self.result.clone().unwrap_or_else(|| self.snapshot())
    }

    /// Whether the session has finished.
    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }
}
