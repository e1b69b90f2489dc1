//! Verdict webhook signatures, shared by `realface-server` (which signs its
//! deliveries) and a business backend in Rust or Python (which checks them).
//!
//! `Realface-Signature: t=<unix s>,v1=<hex>[,v1=<hex>]`: an HMAC-SHA256 of
//! `t + "." + body` under each of the app's valid webhook secrets (two
//! while a rotation overlaps), in Stripe's scheme. A receiver checks it
//! with [`verify`].

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header a delivery carries its signature in.
pub const HEADER: &str = "Realface-Signature";

/// How old a signature [`verify`] accepts by default, s (Stripe's).
pub const DEFAULT_TOLERANCE_S: u64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<unix>,v1=<hex>...`.
    #[error("the signature header is malformed: {0}")]
    Malformed(&'static str),
    /// Its timestamp is outside the tolerance (a replay, or a clock far off).
    #[error("the signature's timestamp is {age_s} s from now, over the {tolerance_s} s tolerance")]
    Stale {
        /// Distance between the timestamp and now, s.
        age_s: u64,
        /// The tolerance, s.
        tolerance_s: u64,
    },
    /// No `v1` matches any of the secrets: the body or the timestamp was
    /// changed, or the secret is not this webhook's.
    #[error("no signature matches the body under the given secrets")]
    Mismatch,
}

fn mac(secret: &str, t: u64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The header value for `body` sent at `t` (Unix s), one `v1` per secret.
pub fn sign(secrets: &[&str], t: u64, body: &[u8]) -> String {
    let mut out = format!("t={t}");
    for s in secrets {
        out.push_str(",v1=");
        out.push_str(&hex(&mac(s, t, body).finalize().into_bytes()));
    }
    out
}

/// Checks a delivery: `header` is the `Realface-Signature` value, `body` the
/// raw request body (before any JSON parsing), `secrets` the webhook's
/// secrets (pass the old and the new one while rotating), `now_s` the
/// receiver's Unix time and `tolerance_s` the largest accepted age
/// ([`DEFAULT_TOLERANCE_S`]). Comparisons are constant-time.
///
/// ```
/// use realface::webhook::{sign, verify, DEFAULT_TOLERANCE_S};
/// let body = br#"{"eventId":"e1","certifyId":"c1","authState":"SUCCESS"}"#;
/// let header = sign(&["whsec_test"], 1_700_000_000, body);
/// // in the backend's handler: the raw body, the header, the secret, now
/// assert!(verify(&header, body, &["whsec_test"], 1_700_000_010, DEFAULT_TOLERANCE_S).is_ok());
/// // a changed body, or a replay an hour later, is refused
/// assert!(verify(&header, b"{}", &["whsec_test"], 1_700_000_010, DEFAULT_TOLERANCE_S).is_err());
/// assert!(verify(&header, body, &["whsec_test"], 1_700_003_600, DEFAULT_TOLERANCE_S).is_err());
/// ```
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[&str],
    now_s: u64,
    tolerance_s: u64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed("each part is key=value"));
        };
        match k {
            "t" => {
                t = Some(
                    v.parse::<u64>()
                        .map_err(|_| SignatureError::Malformed("t is not a Unix time"))?,
                )
            }
            "v1" => sigs.push(unhex(v).ok_or(SignatureError::Malformed("v1 is not hex"))?),
            _ => {} // other schemes are ignored, as Stripe does
        }
    }
    let t = t.ok_or(SignatureError::Malformed("no t="))?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed("no v1="));
    }
    let age_s = now_s.abs_diff(t);
    if age_s > tolerance_s {
        return Err(SignatureError::Stale { age_s, tolerance_s });
    }
    let ok = secrets.iter().any(|s| {
        sigs.iter()
            .any(|sig| mac(s, t, body).verify_slice(sig).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_800_000_000;
    const BODY: &[u8] = br#"{"eventId":"evt_1","certifyId":"c1","authState":"FAIL"}"#;

    #[test]
    fn a_valid_signature_passes() {
        let h = sign(&["whsec_a"], T, BODY);
        assert_eq!(verify(&h, BODY, &["whsec_a"], T + 3, 300), Ok(()));
        // a receiver that knows the old and the new secret during a rotation
        assert_eq!(verify(&h, BODY, &["whsec_b", "whsec_a"], T, 300), Ok(()));
    }

    #[test]
    fn a_tampered_body_timestamp_or_secret_fails() {
        let h = sign(&["whsec_a"], T, BODY);
        let changed = br#"{"eventId":"evt_1","certifyId":"c1","authState":"SUCCESS"}"#;
        assert_eq!(
            verify(&h, changed, &["whsec_a"], T, 300),
            Err(SignatureError::Mismatch)
        );
        let moved = h.replacen(&format!("t={T}"), &format!("t={}", T + 1), 1);
        assert_eq!(
            verify(&moved, BODY, &["whsec_a"], T, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&h, BODY, &["whsec_other"], T, 300),
            Err(SignatureError::Mismatch)
        );
        let mut flipped = h.clone();
        let last = flipped.pop().map(|c| if c == '0' { '1' } else { '0' });
        flipped.extend(last);
        assert_eq!(
            verify(&flipped, BODY, &["whsec_a"], T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_stale_or_future_signature_fails() {
        let h = sign(&["whsec_a"], T, BODY);
        assert_eq!(
            verify(&h, BODY, &["whsec_a"], T + 301, 300),
            Err(SignatureError::Stale {
                age_s: 301,
                tolerance_s: 300
            })
        );
        assert!(verify(&h, BODY, &["whsec_a"], T - 301, 300).is_err());
    }

    #[test]
    fn both_secrets_sign_during_a_rotation() {
        let h = sign(&["whsec_new", "whsec_old"], T, BODY);
        assert_eq!(h.matches("v1=").count(), 2);
        assert_eq!(verify(&h, BODY, &["whsec_old"], T, 300), Ok(()));
        assert_eq!(verify(&h, BODY, &["whsec_new"], T, 300), Ok(()));
    }

    #[test]
    fn malformed_headers_are_named() {
        for h in ["", "t=abc,v1=00", "v1=00", "t=1", "t=1,v1=zz", "garbage"] {
            assert!(
                matches!(
                    verify(h, BODY, &["s"], 1, 300),
                    Err(SignatureError::Malformed(_))
                ),
                "{h}"
            );
        }
    }
}
