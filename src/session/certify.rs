//! certifyId lifecycle: issue (with a random challenge nonce), claim once,
//! expire after 23 hours. The same registry serves a device that verifies on
//! its own and a server that issues ids to clients; times are Unix
//! milliseconds passed in by the caller, so the clock is explicit and testable.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{CertifyIdState, Error, Result};

/// Validity of a certifyId: 23 hours.
pub const CERTIFY_ID_TTL_MS: u64 = 23 * 3600 * 1000;

/// An issued certifyId, claimed for one session. Only this module makes
/// tickets ([`CertifyRegistry::issue`] then [`CertifyRegistry::claim`], or
/// [`CertifyRegistry::claim_issued`] for an id issued by a server), so a
/// session's challenge always comes from an issuer's random nonce and an id
/// is never used twice through one registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertifyTicket {
    certify_id: String,
    issued_ms: u64,
    expires_ms: u64,
    challenge_nonce: String,
}

impl CertifyTicket {
    /// The opaque id (32 hex digits, 128 random bits, when issued here).
    pub fn certify_id(&self) -> &str {
        &self.certify_id
    }

    /// Issue time (Unix ms); 0 for an id issued elsewhere.
    pub fn issued_ms(&self) -> u64 {
        self.issued_ms
    }

    /// Expiry time (Unix ms).
    pub fn expires_ms(&self) -> u64 {
        self.expires_ms
    }

    /// The issuer's random nonce (hex) the challenge is drawn from.
    pub fn challenge_nonce(&self) -> &str {
        &self.challenge_nonce
    }
}

/// A certifyId issued by another party (the realface server): what a device
/// receives with it and hands to [`CertifyRegistry::claim_issued`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedId {
    /// The id.
    pub certify_id: String,
    /// The issuer's challenge nonce: at least [`MIN_NONCE_HEX`] hex digits.
    pub challenge_nonce: String,
    /// Expiry (Unix ms).
    pub expires_ms: u64,
}

/// Shortest challenge nonce accepted from an issuer: 32 hex digits (128 bits),
/// so the challenge cannot be predicted from the certifyId.
pub const MIN_NONCE_HEX: usize = 32;

#[derive(Debug)]
struct Record {
    ticket: CertifyTicket,
    used: bool,
}

/// The set of certifyIds issued or claimed here.
#[derive(Debug, Default)]
pub struct CertifyRegistry {
    records: Mutex<HashMap<String, Record>>,
}

/// The system clock in Unix milliseconds (0 if it is before 1970): the `now`
/// of callers that do not keep their own clock.
pub fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `bytes` random bytes as lowercase hex, from the operating system.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Random {
        reason: e.to_string(),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl CertifyRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a new certifyId at `now_ms`. Expired records are dropped.
    pub fn issue(&self, now_ms: u64) -> Result<CertifyTicket> {
        let ticket = CertifyTicket {
            certify_id: random_hex(16)?,
            issued_ms: now_ms,
            expires_ms: now_ms.saturating_add(CERTIFY_ID_TTL_MS),
            challenge_nonce: random_hex(16)?,
        };
        let mut map = self.lock();
        map.retain(|_, r| r.ticket.expires_ms > now_ms);
        map.insert(
            ticket.certify_id.clone(),
            Record {
                ticket: ticket.clone(),
                used: false,
            },
        );
        Ok(ticket)
    }

    /// Issues a new certifyId at `now_ms` and claims it at once: the ticket
    /// of an on-device session that no server issued (`realface verify`,
    /// the Python and mobile local sessions).
    pub fn issue_claimed(&self, now_ms: u64) -> Result<CertifyTicket> {
        let t = self.issue(now_ms)?;
        self.claim(t.certify_id(), now_ms)
    }

    /// Looks an id up without claiming it.
    pub fn get(&self, certify_id: &str, now_ms: u64) -> Result<CertifyTicket> {
        let map = self.lock();
        Self::check(&map, certify_id, now_ms).map(|r| r.ticket.clone())
    }

    fn check<'a>(map: &'a HashMap<String, Record>, id: &str, now_ms: u64) -> Result<&'a Record> {
        if id.trim().is_empty() {
            return Err(Error::CertifyIdEmpty);
        }
        let r = map
            .get(id)
            .ok_or_else(|| Error::certify_id(id, CertifyIdState::Unknown))?;
        if now_ms >= r.ticket.expires_ms {
            return Err(Error::certify_id(id, CertifyIdState::Expired));
        }
        if r.used {
            return Err(Error::certify_id(id, CertifyIdState::Reused));
        }
        Ok(r)
    }

    /// Claims an id issued here for one verification session: it must exist,
    /// not be expired and not be used before. It cannot be claimed again.
    pub fn claim(&self, certify_id: &str, now_ms: u64) -> Result<CertifyTicket> {
        let mut map = self.lock();
        Self::check(&map, certify_id, now_ms)?;
        let r = map
            .get_mut(certify_id)
            .ok_or_else(|| Error::certify_id(certify_id, CertifyIdState::Unknown))?;
        r.used = true;
        Ok(r.ticket.clone())
    }

    /// Claims an id issued by another party (a server) with its nonce and
    /// expiry: refused when empty (CERTIFY_ID_EMPTY), expired or valid for
    /// longer than [`CERTIFY_ID_TTL_MS`] (CERTIFY_ID_EXPIRED / INVALID_ARGUMENT),
    /// with a nonce shorter than [`MIN_NONCE_HEX`] hex digits
    /// (INVALID_ARGUMENT), or already claimed through this registry
    /// (CERTIFY_ID_REUSED).
    pub fn claim_issued(&self, issued: &IssuedId, now_ms: u64) -> Result<CertifyTicket> {
        let id = issued.certify_id.as_str();
        if id.trim().is_empty() {
            return Err(Error::CertifyIdEmpty);
        }
        let nonce = &issued.challenge_nonce;
        if nonce.len() < MIN_NONCE_HEX || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "challenge_nonce",
                format!("the issuer's nonce must be at least {MIN_NONCE_HEX} hex digits"),
            ));
        }
        if now_ms >= issued.expires_ms {
            return Err(Error::certify_id(id, CertifyIdState::Expired));
        }
        if issued.expires_ms - now_ms > CERTIFY_ID_TTL_MS {
            return Err(Error::invalid(
                "expires_ms",
                format!("more than {CERTIFY_ID_TTL_MS} ms away"),
            ));
        }
        let mut map = self.lock();
        map.retain(|_, r| r.ticket.expires_ms > now_ms);
        if let Some(r) = map.get(id) {
            if r.used || r.ticket.challenge_nonce != *nonce {
                return Err(Error::certify_id(id, CertifyIdState::Reused));
            }
        }
        let ticket = CertifyTicket {
            certify_id: id.to_string(),
            issued_ms: 0,
            expires_ms: issued.expires_ms,
            challenge_nonce: nonce.clone(),
        };
        map.insert(
            id.to_string(),
            Record {
                ticket: ticket.clone(),
                used: true,
            },
        );
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn lifecycle_issue_claim_reuse_expire() {
        let reg = CertifyRegistry::new();
        let t = reg.issue(1_000).expect("issued");
        assert_eq!(t.certify_id().len(), 32);
        assert_ne!(
            t.certify_id(),
            reg.issue(1_000).expect("issued").certify_id()
        );
        assert_eq!(reg.claim(t.certify_id(), 2_000).expect("first claim"), t);
        assert_eq!(
            reg.claim(t.certify_id(), 3_000).unwrap_err().code(),
            ErrorCode::CertifyIdReused
        );
        let t2 = reg.issue(0).expect("issued");
        let late = CERTIFY_ID_TTL_MS;
        assert_eq!(
            reg.claim(t2.certify_id(), late).unwrap_err().code(),
            ErrorCode::CertifyIdExpired
        );
        assert_eq!(
            reg.claim("nope", 0).unwrap_err().code(),
            ErrorCode::CertifyIdUnknown
        );
        let empty = reg.claim("", 0).unwrap_err();
        assert_eq!(empty.code(), ErrorCode::CertifyIdEmpty);
        assert_eq!(empty.client_code(), 10001);
        assert_eq!(reg.claim("nope", 0).unwrap_err().server_code(), 54020);
    }

    fn issued(id: &str, nonce: &str, expires_ms: u64) -> IssuedId {
        IssuedId {
            certify_id: id.into(),
            challenge_nonce: nonce.into(),
            expires_ms,
        }
    }

    #[test]
    fn ids_issued_elsewhere_are_claimed_once_with_their_nonce() {
        let reg = CertifyRegistry::new();
        let nonce = "0123456789abcdef0123456789abcdef";
        let t = reg
            .claim_issued(&issued("srv1", nonce, 10_000), 0)
            .expect("claimed");
        assert_eq!(t.challenge_nonce(), nonce);
        assert_eq!(t.expires_ms(), 10_000);
        let code = |r: Result<CertifyTicket>| r.unwrap_err().code();
        assert_eq!(
            code(reg.claim_issued(&issued("srv1", nonce, 10_000), 1)),
            ErrorCode::CertifyIdReused
        );
        assert_eq!(
            code(reg.claim_issued(&issued("srv2", nonce, 10_000), 10_000)),
            ErrorCode::CertifyIdExpired
        );
        assert_eq!(
            code(reg.claim_issued(&issued("srv3", "", 10_000), 0)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(reg.claim_issued(&issued("srv3", "abc", 10_000), 0)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(reg.claim_issued(&issued(" ", nonce, 10_000), 0)),
            ErrorCode::CertifyIdEmpty
        );
        assert_eq!(
            code(reg.claim_issued(&issued("srv4", nonce, CERTIFY_ID_TTL_MS + 1), 0)),
            ErrorCode::InvalidArgument
        );
        // a locally issued id cannot be re-claimed under another nonce
        let local = reg.issue(0).expect("issued");
        assert_eq!(
            code(reg.claim_issued(&issued(local.certify_id(), nonce, 10_000), 0)),
            ErrorCode::CertifyIdReused
        );
    }

    #[test]
    fn an_id_issued_claimed_cannot_be_claimed_again() {
        let reg = CertifyRegistry::new();
        let t = reg.issue_claimed(0).expect("issued and claimed");
        assert_eq!(
            reg.claim(t.certify_id(), 1)
                .map(|_| ())
                .map_err(|e| e.code()),
            Err(ErrorCode::CertifyIdReused)
        );
    }

    #[test]
    fn just_before_expiry_is_still_valid() {
        let reg = CertifyRegistry::new();
        let t = reg.issue(0).expect("issued");
        assert!(reg.claim(t.certify_id(), CERTIFY_ID_TTL_MS - 1).is_ok());
    }
}
