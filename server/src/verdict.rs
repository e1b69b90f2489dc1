//! The verdict as stored and served: what a business reads from
//! getAuthResult (camelCase, the product's field names).

use realface::AuthResult;
use serde::{Deserialize, Serialize};

/// One reason of a FAIL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictReason {
    /// The library's stable reason (`NO_MATCH`, `ACTION_TIMEOUT`...).
    pub code: String,
    /// What happened.
    pub message: String,
}

/// One action of the challenge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictAction {
    /// Its name (`blink`...).
    pub action: String,
    /// Whether it was seen, as the answer to its prompt.
    pub passed: bool,
    /// When its prompt was due and shown, in the evidence's time (ms).
    #[serde(default)]
    pub prompt_ms: Option<u64>,
    /// When the answer started (ms).
    #[serde(default)]
    pub onset_ms: Option<u64>,
    /// When it completed (ms).
    pub at_ms: Option<u64>,
}

/// The server's verdict on one certifyId.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// SUCCESS or FAIL.
    pub auth_state: String,
    /// The product's client code of the first reason (0 on SUCCESS).
    pub client_code: u32,
    /// Liveness score, 0-100.
    pub score: Option<f32>,
    /// Face quality, 0-100.
    pub quality: Option<f32>,
    /// Face-match similarity to the reference.
    pub similarity: Option<f32>,
    /// The similarity threshold applied.
    pub threshold: f32,
    /// The false-accept rate that threshold was calibrated for.
    pub far_target: f64,
    /// The challenge.
    pub actions: Vec<VerdictAction>,
    /// Frames judged (with a face).
    pub frames: usize,
    /// Frames with a face.
    pub face_frames: usize,
    /// Span of the evidence judged, ms.
    pub duration_ms: u64,
    /// Passive presentation-attack evidence: median P(real) and its samples.
    pub pad_median_real: Option<f32>,
    /// Median P(real) of the MiniFASNets (the second passive model).
    #[serde(default)]
    pub pad_median_minifasnet: Option<f32>,
    /// Frames the passive models scored.
    pub pad_samples: usize,
    /// Why it failed (empty on SUCCESS).
    pub reasons: Vec<VerdictReason>,
}

fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("UNKNOWN"),
    }
}

impl From<&AuthResult> for Verdict {
    fn from(r: &AuthResult) -> Self {
        Self {
            auth_state: name_of(&r.auth_state),
            client_code: r.client_code,
            score: r.score,
            quality: r.quality,
            similarity: r.similarity,
            threshold: r.threshold,
            far_target: r.far_target,
            actions: r
                .actions
                .iter()
                .map(|a| VerdictAction {
                    action: a.action.name().to_string(),
                    passed: a.passed,
                    prompt_ms: a.prompt_ms,
                    onset_ms: a.onset_ms,
                    at_ms: a.at_ms,
                })
                .collect(),
            frames: r.frames,
            face_frames: r.face_frames,
            duration_ms: r.duration_ms,
            pad_median_real: r.pad.median_real,
            pad_median_minifasnet: r.pad.median_minifasnet,
            pad_samples: r.pad.samples,
            reasons: r
                .reasons
                .iter()
                .map(|x| VerdictReason {
                    code: name_of(&x.code),
                    message: x.message.clone(),
                })
                .collect(),
        }
    }
}
