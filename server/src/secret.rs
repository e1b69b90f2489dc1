//! Secrets in one place: their stored form (SHA-256, hex) and the check of a
//! presented secret against it, in constant time. App keys, the admin key
//! and device tokens all go through here.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The stored form of a secret.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `given` is the secret stored as `stored_hash`. Both sides are
/// fixed-length hashes compared in constant time, so the time taken says
/// nothing about how much of the secret was right.
pub fn matches(given: &str, stored_hash: &str) -> bool {
    hash(given).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_hash_only() {
        let h = hash("k1");
        assert!(matches("k1", &h));
        assert!(!matches("k2", &h));
        assert!(!matches("k1", ""));
        assert!(!matches("", &h));
        assert_eq!(h.len(), 64);
    }
}
