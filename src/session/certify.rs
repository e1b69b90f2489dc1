//! certifyId lifecycle: issue (with a random challenge nonce), claim once,
//! expire after 23 hours. The same registry serves a device that verifies on
//! its own and a server that issues ids to clients; times are Unix
//! milliseconds passed in by the caller, so the clock is explicit and testable.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::error::{CertifyIdState, Error, Result};

/// Validity of a certifyId: 23 hours.
pub const CERTIFY_ID_TTL_MS: u64 = 23 * 3600 * 1000;

/// An issued certifyId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertifyTicket {
    /// The opaque id (32 hex digits, 128 random bits).
    pub certify_id: String,
    /// Issue time (Unix ms).
    pub issued_ms: u64,
    /// Expiry time (Unix ms).
    pub expires_ms: u64,
    /// Random nonce the challenge is drawn from (hex), known to the issuer.
    pub challenge_nonce: String,
}

#[derive(Debug)]
struct Record {
    ticket: CertifyTicket,
    used: bool,
}

/// The set of issued certifyIds.
#[derive(Debug, Default)]
pub struct CertifyRegistry {
    records: Mutex<HashMap<String, Record>>,
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Inference {
        stage: "random",
        message: e.to_string(),
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl CertifyRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a new certifyId at `now_ms`. Expired records are dropped.
    pub fn issue(&self, now_ms: u64) -> Result<CertifyTicket> {
        let ticket = CertifyTicket {
            certify_id: random_hex(16)?,
            issued_ms: now_ms,
            expires_ms: now_ms.saturating_add(CERTIFY_ID_TTL_MS),
            challenge_nonce: random_hex(16)?,
        };
        let mut map = self.records.lock().unwrap_or_else(|p| p.into_inner());
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

    /// Looks an id up without claiming it.
    pub fn get(&self, certify_id: &str, now_ms: u64) -> Result<CertifyTicket> {
        let map = self.records.lock().unwrap_or_else(|p| p.into_inner());
        Self::check(&map, certify_id, now_ms).map(|r| r.ticket.clone())
    }

    fn check<'a>(map: &'a HashMap<String, Record>, id: &str, now_ms: u64) -> Result<&'a Record> {
        if id.trim().is_empty() {
            return Err(Error::CertifyIdEmpty);
        }
        let err = |state| Error::CertifyId {
            id: id.to_string(),
            state,
        };
        let r = map.get(id).ok_or_else(|| err(CertifyIdState::Unknown))?;
        if now_ms >= r.ticket.expires_ms {
            return Err(err(CertifyIdState::Expired));
        }
        if r.used {
            return Err(err(CertifyIdState::Reused));
        }
        Ok(r)
    }

    /// Claims an id for one verification session: it must exist, not be
    /// expired and not be used before. It cannot be claimed again.
    pub fn claim(&self, certify_id: &str, now_ms: u64) -> Result<CertifyTicket> {
        let mut map = self.records.lock().unwrap_or_else(|p| p.into_inner());
        Self::check(&map, certify_id, now_ms)?;
        let r = map.get_mut(certify_id).ok_or(Error::CertifyId {
            id: certify_id.to_string(),
            state: CertifyIdState::Unknown,
        })?;
        r.used = true;
        Ok(r.ticket.clone())
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
        assert_eq!(t.certify_id.len(), 32);
        assert_ne!(t.certify_id, reg.issue(1_000).expect("issued").certify_id);
        assert_eq!(reg.claim(&t.certify_id, 2_000).expect("first claim"), t);
        assert_eq!(
            reg.claim(&t.certify_id, 3_000).unwrap_err().code(),
            ErrorCode::CertifyIdReused
        );
        let t2 = reg.issue(0).expect("issued");
        let late = CERTIFY_ID_TTL_MS;
        assert_eq!(
            reg.claim(&t2.certify_id, late).unwrap_err().code(),
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

    #[test]
    fn just_before_expiry_is_still_valid() {
        let reg = CertifyRegistry::new();
        let t = reg.issue(0).expect("issued");
        assert!(reg.claim(&t.certify_id, CERTIFY_ID_TTL_MS - 1).is_ok());
    }
}
