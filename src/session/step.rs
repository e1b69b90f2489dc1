//! The per-frame state machine: check the frame, observe it (every fallible
//! model call, before any state changes: [`FrameObs`]), then apply the
//! observation in named steps: same face throughout, best frame, the prompt
//! schedule and its answers, verdict. A replay ([`super::replay`]) applies
//! recorded observations through the same steps.
//!
//! Per-frame errors: a frame whose face cannot be measured (a degenerate
//! landmark region, a model output that is not finite, a malformed or
//! oversized frame, a timestamp out of order) is refused with its error and
//! leaves the session as it was; the next frame goes on. Errors that no later
//! frame can cure (ONNX Runtime or model failures, encoding the photo) end the
//! session as FAIL with reason INTERNAL. A refused frame never counts towards
//! an action.

use image::RgbImage;

use super::prompt::PromptStep;
use super::replay::{FaceObs, FrameObs};
use super::result::{ActionOutcome, ReasonCode};
use super::{Best, Progress, VerificationSession};
use crate::error::{Error, ErrorCode, Result};
use crate::face::features::FrameFeatures;
use crate::face::quality::assess_aligned;
use crate::imaging::geometry::BBox;
use crate::liveness::measure::{measure_and_embed, FaceMeasure};
use crate::liveness::pad::model::PadScores;
use crate::matching::compare::passes;
use crate::matching::embed::Embedding;
use crate::session::schedule::Due;
use crate::session::track::{TrackOutcome, Tracked};

/// Whether an error concerns one frame only (the session goes on).
pub(crate) fn is_per_frame(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::NoFace
            | ErrorCode::NonFiniteOutput
            | ErrorCode::InvalidArgument
            | ErrorCode::EmptyImage
            | ErrorCode::LimitExceeded
            | ErrorCode::FrameOrder
            | ErrorCode::Unsupported
    )
}

impl VerificationSession {
    /// Feeds one frame taken at `t_ms` (any monotonic clock, milliseconds).
    /// A frame that cannot be used is refused with its error and the session
    /// goes on (see the module docs of `step.rs` for which errors end it).
    /// After the session finished, every push is [`Error::SessionFinished`].
    pub fn push_frame(&mut self, frame: &RgbImage, t_ms: u64) -> Result<Progress> {
        if self.result.is_some() {
            return Err(Error::SessionFinished);
        }
        self.check_frame(frame, t_ms)?;
        let decoded;
        let frame = match &mut self.evidence {
            Some(rec) => match rec.push(frame, t_ms) {
                // the device judges the very pixels the server will decode
                Ok(d) => {
                    decoded = d;
                    &decoded
                }
                Err(e) => {
                    // the server must see what the device saw: no upload past the limit
                    self.fail(ReasonCode::FrameLimit, format!("evidence: {e}"));
                    return Err(e);
                }
            },
            None => frame,
        };
        if let Some(p) = self.begin_frame(t_ms) {
            return Ok(p);
        }
        let obs = match self.observe_frame(frame, t_ms) {
            Ok(obs) => obs,
            Err(e) => {
                let per_frame = is_per_frame(&e);
                self.log(
                    t_ms,
                    if per_frame {
                        FrameObs::Refused
                    } else {
                        FrameObs::Fatal(e.to_string())
                    },
                );
                if !per_frame {
                    // nothing may pass by accident: the session ends
                    self.fail(ReasonCode::Internal, e.to_string());
                }
                return Err(e);
            }
        };
        if self.recording.is_some() {
            self.log(t_ms, obs.clone());
        }
        self.apply(t_ms, &obs, Some(frame))
    }

    fn log(&mut self, t_ms: u64, obs: FrameObs) {
        if let Some(log) = &mut self.recording {
            log.push((t_ms, obs));
        }
    }

    /// Counts a frame (checked already) and holds it against the session's
    /// limits: `Some` when a limit ended the session.
    pub(super) fn begin_frame(&mut self, t_ms: u64) -> Option<Progress> {
        let first = match self.first_ms {
            Some(f) => f,
            None => {
                self.first_ms = Some(t_ms);
                self.prompter.start(t_ms);
                t_ms
            }
        };
        self.last_ms = Some(t_ms);
        self.frames += 1;
        if self.recording.is_some() {
            return None;
        }
        self.check_limits(first, t_ms)
    }

    /// The frame's size and timestamp.
    pub(super) fn check_frame(&self, frame: &RgbImage, t_ms: u64) -> Result<()> {
        crate::imaging::image_io::check_dimensions(
            frame.width(),
            frame.height(),
            &self.engine.config().limits,
        )?;
        self.check_time(t_ms)
    }

    /// A timestamp after the previous one and not closer than `max_fps` allows.
    pub(super) fn check_time(&self, t_ms: u64) -> Result<()> {
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
        Ok(())
    }

    /// Frame count and time limits: ends the session when one is passed.
    fn check_limits(&mut self, first: u64, t_ms: u64) -> Option<Progress> {
        let action_since = self.prompter.due_since();
        let (code, message) = if self.frames > self.options.max_frames {
            (
                ReasonCode::FrameLimit,
                format!("more than {} frames", self.options.max_frames),
            )
        } else if t_ms - first > self.options.total_timeout_ms {
            (
                ReasonCode::Timeout,
                format!("the session took over {} ms", self.options.total_timeout_ms),
            )
        } else if let Some(a) = self.prompter.current().filter(|_| {
            action_since.is_some_and(|s| t_ms.saturating_sub(s) > self.options.action_timeout_ms)
        }) {
            (
                ReasonCode::ActionTimeout,
                format!(
                    "`{}` not answered within {} ms of its first due prompt",
                    a.name(),
                    self.options.action_timeout_ms
                ),
            )
        } else {
            return None;
        };
        self.fail(code, message);
        Some(self.progress(0, None))
    }

    /// Every model call of a frame; no session state changes here.
    fn observe_frame(&mut self, frame: &RgbImage, t_ms: u64) -> Result<FrameObs> {
        Ok(match self.tracker.next(&self.engine, frame)? {
            TrackOutcome::Multiple(n) => FrameObs::Multiple(n),
            TrackOutcome::NoFace => FrameObs::NoFace,
            TrackOutcome::Face(t) => FrameObs::Face(Box::new(self.observe(frame, t_ms, *t)?)),
        })
    }

    /// Every model call of a face frame; no session state changes here.
    fn observe(&self, frame: &RgbImage, t_ms: u64, tracked: Tracked) -> Result<FaceObs> {
        let due = self.due(t_ms, &tracked.bbox);
        let (measure, embedding) = measure_and_embed(
            &self.engine,
            frame,
            &tracked.mesh,
            &tracked.map,
            &tracked.bbox,
            due.pad,
            due.embed,
        )?;
        self.face_obs(frame, tracked, measure, embedding)
    }

    /// What the analysis schedule runs on a face frame at `t_ms` with this
    /// box (a recording's schedule is `full`: [`super::replay`]).
    fn due(&self, t_ms: u64, bbox: &BBox) -> Due {
        let jumped = self
            .last_center
            .is_some_and(|c| c.dist(bbox.center()) > bbox.w.max(1.0));
        let forced = self.anchor.is_none() || jumped;
        let embed_due = forced || (self.face_frames + 1).is_multiple_of(self.options.embed_every);
        self.cadence.due(
            &self.options.schedule,
            self.prompter.phase(t_ms),
            t_ms,
            self.options.pad.interval_ms,
            self.pad.samples < self.options.pad.min_samples,
            embed_due,
            forced,
        )
    }

    /// The model-free rest of a face frame's observation: quality, what the
    /// pixels add to the flat-motion evidence, and a recording's embedding
    /// of a new best frame.
    pub(super) fn face_obs(
        &self,
        frame: &RgbImage,
        tracked: Tracked,
        measure: FaceMeasure,
        embedding: Option<Embedding>,
    ) -> Result<FaceObs> {
        let ear_base = self.history.stat(FrameFeatures::ear_norm, 0.75);
        let quality = assess_aligned(&measure.aligned, &measure.features, ear_base);
        let pixels = self
            .flat
            .pixel_step(frame, &tracked.mesh, &measure.features);
        // a recording keeps the embedding of every frame that becomes the
        // best, so that replays need no pixels
        let best_embedding = if self.recording.is_some() && self.would_be_best(quality.score) {
            match &embedding {
                Some(e) => Some(e.clone()),
                None => Some(self.engine.embed_face(frame, tracked.map)?),
            }
        } else {
            None
        };
        Ok(FaceObs {
            bbox: tracked.bbox,
            map: tracked.map,
            features: measure.features,
            quality,
            pad: measure.pad,
            embedding,
            pixels,
            best_embedding,
        })
    }

    fn would_be_best(&self, score: f32) -> bool {
        self.best.as_ref().is_none_or(|b| score > b.quality.score)
    }

    /// Applies one observation (`frame` is the pixels in a live session,
    /// `None` in a replay).
    pub(super) fn apply(
        &mut self,
        t_ms: u64,
        obs: &FrameObs,
        frame: Option<&RgbImage>,
    ) -> Result<Progress> {
        let o = match obs {
            &FrameObs::Multiple(n) => {
                self.fail(ReasonCode::MultipleFaces, format!("{n} faces in the frame"));
                return Ok(self.progress(n, None));
            }
            FrameObs::NoFace => {
                self.conditions.no_face(frame);
                if self.recording.is_none() {
                    let step = self.prompter.no_face(t_ms);
                    self.prompt_step(t_ms, step);
                    self.maybe_conclude()?;
                }
                return Ok(self.progress(0, None));
            }
            FrameObs::Refused => {
                return Err(Error::invalid("frame", "refused when it was recorded"))
            }
            FrameObs::Fatal(reason) => {
                self.fail(ReasonCode::Internal, reason.clone());
                return Err(Error::Internal {
                    reason: reason.clone(),
                });
            }
            FrameObs::Face(o) => o,
        };
        let quality = o.quality.score;
        // what the schedule ran: a replay of a `full` recording drops the rest
        let due = self.due(t_ms, &o.bbox);
        self.cadence.advance(t_ms, due);
        let embedding = o.embedding.as_ref().filter(|_| due.embed);
        self.conditions.face(frame, &o.bbox);
        self.record(t_ms, o, o.pad.filter(|_| due.pad));
        if !self.same_face(embedding)? {
            return Ok(self.progress(1, Some(quality)));
        }
        self.keep_best(frame, o);
        if let Some(e) = embedding {
            self.template.push(quality, e.clone());
        }
        if self.recording.is_none() {
            let step = self.prompter.face(t_ms, &o.features, &self.history);
            self.prompt_step(t_ms, step);
            self.maybe_conclude()?;
        }
        Ok(self.progress(1, Some(quality)))
    }

    /// Every action answered and enough passive evidence: the verdict.
    fn maybe_conclude(&mut self) -> Result<()> {
        if self.result.is_none()
            && self.prompter.is_done()
            && self.pad.samples >= self.options.pad.min_samples
        {
            if let Err(e) = self.conclude() {
                // the verdict could not be built: it is a FAIL, never a retry
                self.fail(ReasonCode::Internal, e.to_string());
                return Err(e);
            }
        }
        Ok(())
    }

    /// Counts the face frame and feeds the histories (features, flat motion,
    /// passive evidence).
    fn record(&mut self, t_ms: u64, o: &FaceObs, pad: Option<PadScores>) {
        self.face_frames += 1;
        self.last_center = Some(o.bbox.center());
        if let Some(p) = pad {
            self.pad.push(p);
        }
        self.history.push(t_ms, o.features);
        self.flat.update(&o.features, &self.history);
        self.flat.apply_pixels(&o.pixels);
    }

    /// Same face throughout: the first embedding is the anchor; a later one
    /// below the continuity threshold ends the session (FACE_CHANGED).
    fn same_face(&mut self, embedding: Option<&Embedding>) -> Result<bool> {
        let Some(e) = embedding else {
            return Ok(true);
        };
        let Some(anchor) = &self.anchor else {
            self.anchor = Some(e.clone());
            return Ok(true);
        };
        let s = anchor.similarity(e)?;
        if passes(s, self.continuity_threshold) {
            return Ok(true);
        }
        self.fail(
            ReasonCode::FaceChanged,
            format!(
                "similarity {s:.3} to the session's first face is below {:.3}",
                self.continuity_threshold
            ),
        );
        Ok(false)
    }

    /// Keeps the frame of best quality for the verdict and the photo.
    fn keep_best(&mut self, frame: Option<&RgbImage>, o: &FaceObs) {
        if self.would_be_best(o.quality.score) {
            self.best = Some(Best {
                frame: frame.cloned(),
                bbox: o.bbox,
                map: o.map,
                quality: o.quality,
                embedding: o.best_embedding.clone(),
            });
        }
    }

    /// What the prompt schedule did with a frame.
    fn prompt_step(&mut self, t_ms: u64, step: PromptStep) {
        let first = self.first_ms.unwrap_or(t_ms);
        match step {
            PromptStep::Nothing => {}
            PromptStep::Shown => {
                // the prompt's time (a scheduled one's is its due time)
                let at = self.prompter.prompted().map_or(t_ms, |(_, at)| at);
                if let Some(o) = self.outcomes.iter_mut().find(|o| !o.passed) {
                    o.prompt_ms = Some(at.saturating_sub(first));
                }
            }
            PromptStep::Failed(code, message) => self.fail(code, message),
            PromptStep::Answered(a) => {
                if let Some(o) = self.outcomes.iter_mut().find(|o| !o.passed) {
                    *o = ActionOutcome {
                        action: a.event.action,
                        passed: true,
                        prompt_ms: Some(a.prompt_ms.saturating_sub(first)),
                        onset_ms: Some(a.event.onset_ms.saturating_sub(first)),
                        at_ms: Some(a.event.end_ms.saturating_sub(first)),
                        strength: Some(a.event.strength),
                        release_ms: a.cue_ms.map(|c| c.saturating_sub(first)),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_problems_are_per_frame_and_broken_installations_end_the_session() {
        let per_frame = [
            Error::NoFace,
            Error::NonFiniteOutput { stage: "embed" },
            Error::invalid("region", "degenerate"),
            Error::EmptyImage { what: "0x0".into() },
            Error::FrameOrder {
                previous: 2,
                got: 1,
            },
            Error::LimitExceeded {
                what: "width",
                value: 9,
                limit: 8,
            },
        ];
        for e in &per_frame {
            assert!(is_per_frame(e), "{e}");
        }
        let fatal = [
            Error::Inference {
                stage: "face_mesh",
                message: "run".into(),
                source: None,
            },
            Error::ModelShape {
                name: "x",
                detail: "y".into(),
            },
            Error::Internal {
                reason: "panic".into(),
            },
            Error::Random {
                reason: "no entropy".into(),
            },
        ];
        for e in &fatal {
            assert!(!is_per_frame(e), "{e}");
        }
    }
}
