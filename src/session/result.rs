//! The verdict of a verification session, shaped like the product's
//! `getAuthResult` (authState, score, quality, base64Photo) plus what a user
//! needs to see why: similarity and threshold, every action's outcome, the
//! flat-motion evidence, and the reasons of a failure.

use serde::Serialize;

use super::conditions::Conditions;
use super::photo::PhotoKind;
use crate::liveness::actions::Action;
use crate::liveness::flat::FlatMotion;
use crate::liveness::pad::PadEvidence;

/// `authState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthState {
    /// Created, not finished.
    Processing,
    /// Live and the same person as the reference.
    Success,
    /// The check failed (see the reasons).
    Fail,
}

/// Why a session failed (stable names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    /// The whole session took too long.
    Timeout,
    /// One action was not performed in time.
    ActionTimeout,
    /// More than one face in the frame.
    MultipleFaces,
    /// The user or the app stopped the session.
    UserQuit,
    /// The face changed identity during the session.
    FaceChanged,
    /// The motion looked like a flat picture turned in depth.
    FlatMotion,
    /// The face does not match the reference.
    NoMatch,
    /// No usable face frame was captured. A session that never saw a face
    /// ends with this reason whatever time limit ended it (a prompt's
    /// window, the session's time, a prompt that could not wait); the frame
    /// limit stays [`ReasonCode::FrameLimit`].
    NoFaceCaptured,
    /// Too many frames for one session.
    FrameLimit,
    /// A model or runtime failure during the session.
    Internal,
    /// The passive model says the face is presented on a screen or a print.
    PresentationAttack,
    /// The face was not at rest when a prompt was due (the head moving, the
    /// mouth open, the face out of view), too often to postpone it again.
    NotAtRest,
}

impl ReasonCode {
    /// The product's client code for this reason: interruptions and timeouts
    /// are 10011, failed verification 10013, capture errors 10010.
    pub fn client_code(self) -> u32 {
        match self {
            Self::Timeout
            | Self::ActionTimeout
            | Self::MultipleFaces
            | Self::UserQuit
            | Self::FrameLimit
            | Self::NotAtRest => 10011,
            Self::FaceChanged | Self::FlatMotion | Self::NoMatch | Self::PresentationAttack => {
                10013
            }
            Self::NoFaceCaptured | Self::Internal => 10010,
        }
    }
}

impl ReasonCode {
    /// What the person in front of the camera may be told about this
    /// failure: the key of a [`crate::prompts::PROMPTS`] entry (`hint.*`).
    /// A safe category only (no face, no answer in time, not still, more
    /// than one face, or simply "try again"): a verdict about the face
    /// itself (no match, an attack, a changed face, flat motion) is never
    /// named to whoever holds the camera; the business backend reads the
    /// reasons. `None` for the user's own quit.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            Self::UserQuit => return None,
            Self::NoFaceCaptured => "hint.no_face",
            Self::Timeout | Self::ActionTimeout => "hint.no_answer",
            Self::NotAtRest => "hint.hold_still",
            Self::MultipleFaces => "hint.one_face",
            Self::FaceChanged
            | Self::FlatMotion
            | Self::NoMatch
            | Self::PresentationAttack
            | Self::FrameLimit
            | Self::Internal => "hint.try_again",
        })
    }
}

/// A failure reason with its detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable name.
    pub code: ReasonCode,
    /// Human-readable detail.
    pub message: String,
}

/// One requested action and whether it was seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionOutcome {
    /// The action.
    pub action: Action,
    /// Whether it was performed, as the answer to its prompt.
    pub passed: bool,
    /// When its prompt was shown (ms since the first frame).
    pub prompt_ms: Option<u64>,
    /// When the answer started (ms since the first frame).
    pub onset_ms: Option<u64>,
    /// When it completed (ms since the first frame).
    pub at_ms: Option<u64>,
    /// How far past the detector's threshold it went (1 = at it).
    pub strength: Option<f32>,
    /// A held answer's release cue (ms since the first frame); `at_ms` is
    /// when the person let go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_ms: Option<u64>,
}

/// The result of a verification session.
#[derive(Debug, Clone, Serialize)]
pub struct AuthResult {
    /// The certifyId.
    pub certify_id: String,
    /// PROCESSING, SUCCESS or FAIL.
    pub auth_state: AuthState,
    /// Client code: 0 (capture completed), 10010, 10011 or 10013.
    pub client_code: u32,
    /// Liveness score 0-100 (see `VerificationSession`).
    pub score: Option<f32>,
    /// Quality 0-100 of the chosen frame.
    pub quality: Option<f32>,
    /// Cosine similarity of the chosen frame to the reference.
    pub similarity: Option<f32>,
    /// The decision threshold on the similarity.
    pub threshold: f32,
    /// The FAR the threshold was calibrated for.
    pub far_target: f64,
    /// Which photo was asked for.
    pub photo_kind: PhotoKind,
    /// The photo, base64 JPEG (on SUCCESS, when asked for).
    pub photo: Option<String>,
    /// Every requested action.
    pub actions: Vec<ActionOutcome>,
    /// Flat-motion evidence.
    pub flat_motion: FlatMotion,
    /// Passive presentation-attack evidence (median P(real) of the scored frames).
    pub pad: PadEvidence,
    /// Why it failed (empty on SUCCESS).
    pub reasons: Vec<Reason>,
    /// Frames pushed.
    pub frames: usize,
    /// Frames with exactly one usable face.
    pub face_frames: usize,
    /// Session length (ms, first to last frame).
    pub duration_ms: u64,
    /// How often the face was out of view and the light too low: what
    /// chooses the failure's safe hint ([`AuthResult::hint`]).
    pub conditions: Conditions,
    /// Where the prompt times came from: `nonce` (drawn from the
    /// certifyId's nonce: a real session) or `fixed` (given delays: an
    /// offline evaluation of recorded material, never a server's verdict).
    pub schedule: &'static str,
}

impl AuthResult {
    /// What the person in front of the camera may be told about this
    /// failure (`None` on success or the user's own quit): the first
    /// reason's [`AuthResult::hint_of`].
    pub fn hint(&self) -> Option<&'static str> {
        if self.auth_state == AuthState::Success {
            return None;
        }
        self.hint_of(self.reasons.first()?.code)
    }

    /// The safe hint of `code` in this session's conditions: where the
    /// reason is only that time ran out, or that the face was not at rest
    /// or never seen, the conditions may say why: "too dark" when most
    /// frames were dark ([`Conditions::mostly_dark`]), "the face left the
    /// oval" when it was often out of view after it was first found
    /// ([`Conditions::often_out_of_view`]). Any other reason keeps
    /// [`ReasonCode::hint`]: a verdict about the face itself stays "try
    /// again" whatever the light, so the conditions never tell an attacker
    /// what a verdict needed.
    pub fn hint_of(&self, code: ReasonCode) -> Option<&'static str> {
        hint_in(&self.conditions, code)
    }
}

/// [`AuthResult::hint_of`] for `code` in conditions `c`.
fn hint_in(c: &Conditions, code: ReasonCode) -> Option<&'static str> {
    use ReasonCode as R;
    let base = code.hint()?;
    Some(match code {
        R::NoFaceCaptured | R::Timeout | R::ActionTimeout | R::NotAtRest if c.mostly_dark() => {
            "hint.too_dark"
        }
        R::Timeout | R::ActionTimeout | R::NotAtRest if c.often_out_of_view() => "hint.left_oval",
        _ => base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_hint_is_in_the_table_and_names_no_attack() {
        use ReasonCode as R;
        let all = [
            R::Timeout,
            R::ActionTimeout,
            R::MultipleFaces,
            R::UserQuit,
            R::FaceChanged,
            R::FlatMotion,
            R::NoMatch,
            R::NoFaceCaptured,
            R::FrameLimit,
            R::Internal,
            R::PresentationAttack,
            R::NotAtRest,
        ];
        for r in all {
            let Some(key) = r.hint() else {
                assert_eq!(r, R::UserQuit);
                continue;
            };
            let e = crate::prompts::entry_of(key).expect("a hint in the table");
            assert!(key.starts_with("hint."));
            let en = e.en.to_lowercase();
            for word in ["spoof", "attack", "match", "score", "fake", "photo"] {
                assert!(!en.contains(word), "{key}: {en}");
            }
        }
        assert_eq!(R::PresentationAttack.hint(), R::NoMatch.hint());
        assert_eq!(R::NoFaceCaptured.hint(), Some("hint.no_face"));
    }

    #[test]
    fn the_conditions_refine_only_the_hints_about_time_rest_and_no_face() {
        use ReasonCode as R;
        let dark = Conditions {
            measured: 20,
            dark: 12,
            since_face: 20,
            out_of_view: 10,
        };
        let out = Conditions { dark: 0, ..dark };
        let fine = Conditions::default();
        for code in [R::Timeout, R::ActionTimeout, R::NotAtRest] {
            assert_eq!(hint_in(&dark, code), Some("hint.too_dark"));
            assert_eq!(hint_in(&out, code), Some("hint.left_oval"));
            assert_eq!(hint_in(&fine, code), code.hint());
        }
        assert_eq!(hint_in(&dark, R::NoFaceCaptured), Some("hint.too_dark"));
        assert_eq!(hint_in(&out, R::NoFaceCaptured), Some("hint.no_face"));
        // a verdict about the face says "try again" in any light
        for code in [
            R::PresentationAttack,
            R::NoMatch,
            R::FaceChanged,
            R::FlatMotion,
        ] {
            assert_eq!(hint_in(&dark, code), Some("hint.try_again"));
            assert_eq!(hint_in(&out, code), Some("hint.try_again"));
        }
        assert_eq!(hint_in(&dark, R::UserQuit), None);
        for key in ["hint.too_dark", "hint.left_oval"] {
            let e = crate::prompts::entry_of(key).expect("in the prompt table");
            assert!(!e.en.is_empty() && !e.zh_hans.is_empty());
        }
    }
}
