//! A realface server's `start` answer, as a device runs its capture with it:
//! the certifyId, the challenge nonce, the expiry and the server's own
//! session options (its actions, prompt timing and thresholds), so the
//! device prompts exactly when the server will expect the answers.

use std::sync::Arc;

use super::certify::{unix_now_ms, CertifyRegistry, IssuedId};
use super::{Reference, SessionOptions, VerificationSession};
use crate::error::{Error, Result};
use crate::FaceEngine;

/// What a device needs from a realface server's `start` answer to run its
/// capture: the id, the challenge nonce, the expiry and the server's
/// session options (with its actions).
#[derive(Debug, Clone)]
pub struct StartAnswer {
    /// The certifyId.
    pub certify_id: String,
    /// `challengeNonce`.
    pub challenge_nonce: String,
    /// `expiresAt` (Unix ms).
    pub expires_ms: u64,
    /// `sessionOptions`.
    pub options: SessionOptions,
}

impl StartAnswer {
    /// Reads `start`'s JSON answer (`certifyId`, `challengeNonce`,
    /// `expiresAt`, `sessionOptions`); a missing or mistyped field is
    /// INVALID_ARGUMENT naming it.
    pub fn from_json(start: &serde_json::Value) -> Result<Self> {
        let text = |k: &'static str| {
            start[k]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::invalid(k, "missing from the start answer"))
        };
        let options = serde_json::from_value(start["sessionOptions"].clone())
            .map_err(|e| Error::invalid("sessionOptions", e.to_string()))?;
        Ok(Self {
            certify_id: text("certifyId")?,
            challenge_nonce: text("challengeNonce")?,
            expires_ms: start["expiresAt"]
                .as_u64()
                .ok_or_else(|| Error::invalid("expiresAt", "missing from the start answer"))?,
            options,
        })
    }

    /// The device's capture session for this answer: claimed with the
    /// server's id and nonce (an expired id is refused here), run with the
    /// server's options, its result for the server to decide
    /// ([`Reference::Server`]); `record_evidence` keeps the frames for a
    /// JSON upload.
    pub fn capture_session(
        &self,
        engine: Arc<FaceEngine>,
        record_evidence: bool,
    ) -> Result<VerificationSession> {
        let ticket = CertifyRegistry::new().claim_issued(
            &IssuedId {
                certify_id: self.certify_id.clone(),
                challenge_nonce: self.challenge_nonce.clone(),
                expires_ms: self.expires_ms,
            },
            unix_now_ms(),
        )?;
        VerificationSession::new(
            engine,
            ticket,
            Reference::Server,
            self.options.clone().with_record_evidence(record_evidence),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_answer_without_its_options_is_refused_by_name() {
        let v = serde_json::json!({"certifyId": "c", "challengeNonce": "n", "expiresAt": 1});
        let e = StartAnswer::from_json(&v).expect_err("no sessionOptions");
        assert!(e.to_string().contains("sessionOptions"), "{e}");
        let v = serde_json::json!({"certifyId": "c", "expiresAt": 1,
            "sessionOptions": SessionOptions::default()});
        let e = StartAnswer::from_json(&v).expect_err("no nonce");
        assert!(e.to_string().contains("challengeNonce"), "{e}");
    }
}
