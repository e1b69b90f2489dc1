//! Building the verdict: the liveness score, the decision once every action
//! was seen (flat motion, passive evidence, same face, match with the
//! reference), and the FAIL results of every other ending.

use super::photo::{self, PhotoKind};
use super::result::{AuthResult, AuthState, Reason, ReasonCode};
use super::{Best, VerificationSession};
use crate::error::Result;
use crate::liveness::actions::Action;
use crate::liveness::flat::FlatMotion;
use crate::matching::compare::passes;

impl VerificationSession {
    /// The active challenge's score, capped by the passive evidence's when
    /// the gate is on.
    pub(super) fn liveness_score(&self) -> f32 {
        let active = self.active_score();
        if self.options.pad.enabled {
            active.min(self.pad.score())
        } else {
            active
        }
    }

    pub(super) fn active_score(&self) -> f32 {
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

    /// A turn or nod was answered, yet no turned or tilted frame showed a
    /// head (a face lost at "profile" or a turn just below the planarity
    /// test's angle must still be corroborated by the pixels).
    fn turned_without_a_head(&self) -> bool {
        let turned = self.outcomes.iter().any(|o| {
            o.passed && matches!(o.action, Action::TurnLeft | Action::TurnRight | Action::Nod)
        });
        turned && !self.flat.head_seen()
    }

    /// All actions seen: decide.
    pub(super) fn conclude(&mut self) -> Result<()> {
        let mut reasons = Vec::new();
        if self.flat.flat_suspected() {
            reasons.push(Reason {
                code: ReasonCode::FlatMotion,
                message: format!(
                    "flat motion: foreshortening excess {:.3} (max {}), yaw change {:.0} deg with nose shift {:.2}, planar residual {:.3} over {} turned frames (min {})",
                    self.flat.max_foreshortening_excess,
                    FlatMotion::MAX_EXCESS,
                    self.flat.max_yaw_change,
                    self.flat.nose_change_at_turn,
                    self.flat.max_planar_residual,
                    self.flat.planar_frames,
                    FlatMotion::PLANAR_MIN
                ),
            });
        } else if self.turned_without_a_head() {
            // every turn or nod must be corroborated by the pixels: some
            // turned or tilted frame that one homography does not explain
            reasons.push(Reason {
                code: ReasonCode::FlatMotion,
                message: format!(
                    "no turned or tilted frame showed a head (planar residual {:.3} over {} frames, a head needs {})",
                    self.flat.max_planar_residual,
                    self.flat.planar_frames,
                    FlatMotion::PLANAR_MIN
                ),
            });
        }
        if self.options.pad.enabled && self.pad.is_attack() {
            reasons.push(Reason {
                code: ReasonCode::PresentationAttack,
                message: format!(
                    "passive models over {} frames: median P(real) fr_liveness {} (gate {}), MiniFASNet {} (gate {}), read: {:?}",
                    self.pad.samples,
                    self.pad
                        .median_real
                        .map(|m| format!("{m:.4}"))
                        .unwrap_or_else(|| "none".into()),
                    self.pad.threshold,
                    self.pad
                        .median_minifasnet
                        .map(|m| format!("{m:.4}"))
                        .unwrap_or_else(|| "none".into()),
                    self.pad.minifasnet_threshold,
                    self.pad.model
                ),
            });
        }
        let Some(best) = self.best.take() else {
            self.fail(ReasonCode::NoFaceCaptured, "no usable face frame".into());
            return Ok(());
        };
        let e = match (&best.embedding, &best.frame) {
            (Some(e), _) => e.clone(),
            (None, Some(frame)) => self.engine.embed_face(frame, best.map)?,
            (None, None) => {
                self.fail(ReasonCode::Internal, "the best frame was not kept".into());
                return Ok(());
            }
        };
        if let Some(a) = &self.anchor {
            let s = a.similarity(&e)?;
            if !passes(s, self.continuity_threshold) {
                reasons.push(Reason {
                    code: ReasonCode::FaceChanged,
                    message: format!("best frame similarity {s:.3} to the session's first face"),
                });
            }
        }
        let similarity = match &self.reference {
            Some(r) => Some(r.similarity(&self.template.build(best.quality.score, &e)?)?),
            None => None,
        };
        if let Some(similarity) = similarity {
            if !passes(similarity, self.threshold) {
                reasons.push(Reason {
                    code: ReasonCode::NoMatch,
                    message: format!(
                        "similarity {similarity:.3} is below the threshold {:.3} (FAR {:e})",
                        self.threshold, self.far_target
                    ),
                });
            }
        }
        let complete = reasons.is_empty() && self.done() == self.actions.len();
        // a capture-only session never says SUCCESS: the server decides
        let success = complete && similarity.is_some();
        let photo = if success {
            self.render_photo(&best, self.options.photo)?
        } else {
            None
        };
        let client_code = reasons.first().map(|r| r.code.client_code()).unwrap_or(0);
        self.result = Some(AuthResult {
            auth_state: if success {
                AuthState::Success
            } else if complete {
                AuthState::Processing
            } else {
                AuthState::Fail
            },
            client_code,
            score: Some(self.liveness_score()),
            quality: Some(best.quality.score),
            similarity,
            photo,
            reasons,
            ..self.snapshot()
        });
        self.best = Some(best);
        Ok(())
    }

    fn render_photo(&self, best: &Best, kind: PhotoKind) -> Result<Option<String>> {
        // a replayed session keeps no pixels: it has no photo to give
        let Some(frame) = &best.frame else {
            return Ok(None);
        };
        Ok(match kind {
            PhotoKind::None => None,
            PhotoKind::Original => Some(photo::jpeg_base64(frame)?),
            PhotoKind::Mosaic => {
                let mask = self.engine.segmenter().run(frame)?;
                Some(photo::jpeg_base64(
                    &crate::face::segment::mosaic_background(frame, &mask, &best.bbox),
                )?)
            }
        })
    }

    /// The verification photo of a finished, successful session as `kind`
    /// (base64 JPEG), whatever [`super::SessionOptions::photo`] asked for: a
    /// server renders Y_O and Y_M once and serves either later. `None` for
    /// [`PhotoKind::None`] and for any session that did not succeed.
    pub fn photo(&self, kind: PhotoKind) -> Result<Option<String>> {
        match (&self.result, &self.best) {
            (Some(r), Some(best)) if r.auth_state == AuthState::Success => {
                // the result's own photo is of this kind: rendered once already
                if r.photo_kind == kind {
                    Ok(r.photo.clone())
                } else {
                    self.render_photo(best, kind)
                }
            }
            _ => Ok(None),
        }
    }

    pub(super) fn duration(&self) -> u64 {
        match (self.first_ms, self.last_ms) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    /// The result as it stands: PROCESSING, no verdict figures, no reasons.
    pub(super) fn snapshot(&self) -> AuthResult {
        AuthResult {
            certify_id: self.ticket.certify_id().to_string(),
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
            conditions: self.conditions,
            schedule: if self.options.prompt.delays_ms.is_some() {
                "fixed"
            } else {
                "nonce"
            },
        }
    }

    pub(super) fn fail(&mut self, code: ReasonCode, message: String) {
        if self.result.is_some() {
            return;
        }
        // a session that never saw a face ends NO_FACE_CAPTURED, whatever
        // time limit ended it: a prompt's window or the session's time
        // passing over an empty camera says nothing about an answer (the
        // frame limit stays what it is: too many frames were pushed)
        let (code, message) = match code {
            ReasonCode::Timeout | ReasonCode::ActionTimeout | ReasonCode::NotAtRest
                if self.face_frames == 0 =>
            {
                (
                    ReasonCode::NoFaceCaptured,
                    format!("no face was seen in {} frames ({message})", self.frames),
                )
            }
            _ => (code, message),
        };
        self.result = Some(AuthResult {
            auth_state: AuthState::Fail,
            client_code: code.client_code(),
            score: Some(self.liveness_score()),
            quality: self.best.as_ref().map(|b| b.quality.score),
            reasons: vec![Reason { code, message }],
            ..self.snapshot()
        });
    }

    /// Ends the session as FAIL with reason INTERNAL (a bug caught by the
    /// caller, e.g. a panic at the C boundary): every later call answers
    /// with this verdict.
    pub fn abort(&mut self, reason: &str) {
        self.fail(ReasonCode::Internal, reason.to_string());
    }
}
