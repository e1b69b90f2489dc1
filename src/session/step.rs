//! The per-frame state machine: check the frame, observe it (every fallible
//! model call, before any state changes), then apply the observation in named
//! steps: same face throughout, best frame, warm-up and actions, verdict.
//!
//! Per-frame errors: a frame whose face cannot be measured (a degenerate
//! landmark region, a model output that is not finite, a malformed or
//! oversized frame, a timestamp out of order) is refused with its error and
//! leaves the session as it was; the next frame goes on. Errors that no later
//! frame can cure (ONNX Runtime or model failures, encoding the photo) end the
//! session as FAIL with reason INTERNAL. A refused frame never counts towards
//! an action.

use image::RgbImage;

use super::result::{ActionOutcome, ReasonCode};
use super::{Best, Progress, VerificationSession};
use crate::compare::passes;
use crate::embed::Embedding;
use crate::error::{Error, ErrorCode, Result};
use crate::liveness::actions::ActionDetector;
use crate::liveness::features::FrameFeatures;
use crate::liveness::measure::{measure_face, FaceMeasure};
use crate::quality::{assess_aligned, Quality};
use crate::track::{TrackOutcome, Tracked};

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

/// Everything one face frame yields, computed before any state changes.
struct Observation {
    tracked: Tracked,
    measure: FaceMeasure,
    quality: Quality,
    /// The face's embedding when the same-face check is due.
    embedding: Option<Embedding>,
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
        if let Some(rec) = &mut self.evidence {
            if let Err(e) = rec.push(frame, t_ms) {
                // the server must see what the device saw: no upload past the limit
                self.fail(ReasonCode::FrameLimit, format!("evidence: {e}"));
                return Err(e);
            }
        }
        let first = *self.first_ms.get_or_insert(t_ms);
        self.last_ms = Some(t_ms);
        self.frames += 1;
        if let Some(p) = self.check_limits(first, t_ms) {
            return Ok(p);
        }
        match self.process(frame, t_ms) {
            Ok(p) => Ok(p),
            Err(e) if is_per_frame(&e) => Err(e),
            Err(e) => {
                // nothing may pass by accident: the session ends
                self.fail(ReasonCode::Internal, e.to_string());
                Err(e)
            }
        }
    }

    /// The frame's size and timestamp.
    fn check_frame(&self, frame: &RgbImage, t_ms: u64) -> Result<()> {
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
        Ok(())
    }

    /// Frame count and time limits: ends the session when one is passed.
    fn check_limits(&mut self, first: u64, t_ms: u64) -> Option<Progress> {
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
        } else if self.detector.is_some()
            && t_ms - self.action_since_ms > self.options.action_timeout_ms
        {
            let a = self.actions[self.done()];
            (
                ReasonCode::ActionTimeout,
                format!(
                    "`{}` not seen within {} ms",
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
        let obs = self.observe(frame, t_ms, tracked)?;
        let quality = obs.quality.score;
        self.record(frame, t_ms, &obs);
        if !self.same_face(obs.embedding.as_ref())? {
            return Ok(self.progress(1, Some(quality)));
        }
        self.keep_best(frame, &obs);
        if let Some(e) = &obs.embedding {
            self.template.push(quality, e.clone());
        }
        self.advance_challenge(t_ms, &obs.measure.features);
        if self.awaiting_verdict && self.pad.samples >= self.options.pad.min_samples {
            self.awaiting_verdict = false;
            if let Err(e) = self.conclude() {
                // the verdict could not be built: it is a FAIL, never a retry
                self.fail(ReasonCode::Internal, e.to_string());
                return Err(e);
            }
        }
        Ok(self.progress(1, Some(quality)))
    }

    /// Every model call of a face frame; no session state changes here.
    fn observe(&self, frame: &RgbImage, t_ms: u64, tracked: Tracked) -> Result<Observation> {
        let pad_due = self.pad.due(t_ms, self.options.pad.interval_ms);
        let measure = measure_face(
            &self.engine,
            frame,
            &tracked.mesh,
            &tracked.map,
            &tracked.bbox,
            pad_due,
        )?;
        let ear_base = self.history.stat(FrameFeatures::ear_norm, 0.75);
        let quality = assess_aligned(&measure.aligned, &measure.features, ear_base);
        let center = tracked.bbox.center();
        let jumped = self
            .last_center
            .is_some_and(|c| c.dist(center) > tracked.bbox.w.max(1.0));
        let embed_due = self.anchor.is_none()
            || jumped
            || (self.face_frames + 1).is_multiple_of(self.options.embed_every);
        let embedding = if embed_due {
            Some(self.engine.embed_face(frame, tracked.map)?)
        } else {
            None
        };
        Ok(Observation {
            tracked,
            measure,
            quality,
            embedding,
        })
    }

    /// Counts the face frame and feeds the histories (features, flat motion,
    /// passive evidence).
    fn record(&mut self, frame: &RgbImage, t_ms: u64, obs: &Observation) {
        self.face_frames += 1;
        self.last_center = Some(obs.tracked.bbox.center());
        if let Some(p) = obs.measure.pad_real {
            self.pad.push(t_ms, p);
        }
        self.history.push(t_ms, obs.measure.features);
        self.flat.update(&obs.measure.features, &self.history);
        self.flat
            .update_pixels(frame, &obs.tracked.mesh, &obs.measure.features);
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
    fn keep_best(&mut self, frame: &RgbImage, obs: &Observation) {
        if self
            .best
            .as_ref()
            .is_none_or(|b| obs.quality.score > b.quality.score)
        {
            self.best = Some(Best {
                frame: frame.clone(),
                bbox: obs.tracked.bbox,
                map: obs.tracked.map,
                quality: obs.quality,
            });
        }
    }

    /// Warm-up, then one action after the other.
    fn advance_challenge(&mut self, t_ms: u64, f: &FrameFeatures) {
        let params = self.options.params;
        let Some(d) = &mut self.detector else {
            // warm-up: only before the first action (once every action
            // was seen, the detector stays off while the verdict waits)
            let since = *self.warmup_since_ms.get_or_insert(t_ms);
            let warmed_up = t_ms - since >= self.options.warmup_ms;
            if let Some(&first) = self
                .actions
                .first()
                .filter(|_| warmed_up && self.done() == 0)
            {
                self.detector = Some(ActionDetector::new(first, params));
                self.action_since_ms = t_ms;
            }
            return;
        };
        let Some(ev) = d.update(t_ms, f, &self.history) else {
            return;
        };
        let i = self.done();
        self.outcomes[i] = ActionOutcome {
            action: ev.action,
            passed: true,
            at_ms: Some(t_ms - self.first_ms.unwrap_or(t_ms)),
            strength: Some(ev.strength),
        };
        match self.actions.get(i + 1) {
            Some(&next) => {
                self.detector = Some(ActionDetector::new(next, params));
                self.action_since_ms = t_ms;
            }
            None => {
                self.detector = None;
                self.awaiting_verdict = true;
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
