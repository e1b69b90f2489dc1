//! Signed verdict webhooks. An app registers a callback URL
//! (`PUT /v1/webhook`); every verdict then writes an event to the outbox in
//! the verdict's own transaction, and [`deliver`] POSTs it, signed with
//! [`signature`], until the receiver answers 2xx: at least once, with
//! exponential back-off and jitter, given up after
//! [`WebhookSettings::max_attempts`] (visible in the console). Receivers
//! deduplicate by `eventId`.

pub mod deliver;

/// The signature scheme lives in the library, so that a backend can check
/// deliveries without the server crate.
pub use realface::webhook as signature;
pub use realface::webhook::{sign, verify, SignatureError, DEFAULT_TOLERANCE_S, HEADER};

use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// How deliveries are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// How long one try waits for the receiver's answer, ms.
    pub timeout_ms: u64,
    /// Tries before an event is given up.
    pub max_attempts: u32,
    /// The first retry's delay, ms; each later one doubles it.
    pub backoff_base_ms: u64,
    /// The longest delay between tries, ms.
    pub backoff_cap_ms: u64,
    /// How often the outbox is looked at when no verdict wakes it, ms.
    pub poll_ms: u64,
    /// Events tried at once.
    pub concurrency: usize,
    /// How long the previous secret keeps signing after a rotation, ms.
    pub rotation_overlap_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            max_attempts: 16,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 3_600_000,
            poll_ms: 1_000,
            concurrency: 8,
            rotation_overlap_ms: 24 * 3_600_000,
        }
    }
}

impl WebhookSettings {
    /// The delay before try `attempt + 1` after `attempt` failed tries (1,
    /// 2, ...): `base * 2^(attempt-1)`, capped, then "equal jitter" (a
    /// uniform draw from its upper half, `unit` in [0, 1)) so receivers that
    /// came back are not hit by every sender at once.
    pub fn backoff_ms(&self, attempt: u32, unit: f64) -> u64 {
        let exp = attempt.saturating_sub(1).min(40);
        let full = self
            .backoff_base_ms
            .saturating_mul(1u64 << exp)
            .min(self.backoff_cap_ms)
            .max(1);
        let half = full / 2;
        half + (unit.clamp(0.0, 1.0) * (full - half) as f64) as u64
    }
}

/// The JSON a verdict's delivery carries (`eventId` is its idempotency key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictEvent {
    /// Unique per event; a retry carries the same.
    pub event_id: String,
    /// Always `verdict`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The certifyId judged.
    pub certify_id: String,
    /// SUCCESS or FAIL.
    pub auth_state: String,
    /// The product's client code (0 on SUCCESS).
    pub client_code: u32,
    /// The reasons' stable codes (empty on SUCCESS).
    pub codes: Vec<String>,
    /// Liveness score, 0-100.
    pub score: Option<f32>,
    /// Face quality, 0-100.
    pub quality: Option<f32>,
    /// Similarity to the reference.
    pub similarity: Option<f32>,
    /// When the verdict was stored (Unix ms).
    pub decided_at: u64,
}

impl VerdictEvent {
    /// The event of `verdict` on `certify_id`, decided at `decided_at`.
    pub fn new(event_id: String, certify_id: &str, verdict: &Verdict, decided_at: u64) -> Self {
        Self {
            event_id,
            kind: "verdict".into(),
            certify_id: certify_id.into(),
            auth_state: verdict.auth_state.clone(),
            client_code: verdict.client_code,
            codes: verdict.reasons.iter().map(|r| r.code.clone()).collect(),
            score: verdict.score,
            quality: verdict.quality,
            similarity: verdict.similarity,
            decided_at,
        }
    }
}

/// A fresh event id (`evt_` and 128 random bits).
pub fn new_event_id() -> Result<String, realface::Error> {
    realface::session::certify::random_hex(16).map(|h| format!("evt_{h}"))
}

/// Whether `url` is a webhook URL this server can deliver to: `http://`
/// with a host (TLS is left to an egress proxy: see docs/operating.md).
pub fn check_url(url: &str) -> Result<(), String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(
                "https:// is not delivered by this build; point it at an http:// address (an egress proxy that adds TLS)"
                    .into(),
            )
        }
        _ => return Err(format!("`{url}`: the URL must start with http://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("`{url}` has no host"));
    }
    if url.len() > 2048 {
        return Err("the URL is longer than 2048 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() {
        let s = WebhookSettings::default();
        assert_eq!(s.backoff_ms(1, 0.0), 500);
        assert_eq!(s.backoff_ms(1, 1.0), 1_000);
        assert_eq!(s.backoff_ms(3, 1.0), 4_000);
        assert_eq!(s.backoff_ms(30, 1.0), 3_600_000);
        assert_eq!(s.backoff_ms(30, 0.0), 1_800_000);
        let d = s.backoff_ms(4, 0.3);
        assert!((4_000..=8_000).contains(&d), "{d}");
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_taken() {
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("https://example.test/hook").is_err());
        assert!(check_url("ftp://x/y").is_err());
        assert!(check_url("not a url").is_err());
        assert!(check_url("/relative").is_err());
    }
}
