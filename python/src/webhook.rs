//! Verdict webhook signatures for a Python backend ([`realface::webhook`]).

use pyo3::prelude::*;

use crate::errors::invalid;

/// Checks a delivery's `Realface-Signature` header against the raw body and
/// the webhook's secrets; raises `InvalidArgumentError` naming why it fails.
#[pyfunction]
#[pyo3(signature = (secrets, header, body, now_s, tolerance_s=realface::webhook::DEFAULT_TOLERANCE_S))]
pub fn verify_webhook(
    secrets: Vec<String>,
    header: &str,
    body: &[u8],
    now_s: u64,
    tolerance_s: u64,
) -> PyResult<()> {
    let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
    realface::webhook::verify(header, body, &s, now_s, tolerance_s)
        .map_err(|e| invalid("signature", e.to_string()))
}

/// The header value for `body` sent at `t_s` (for tests of a receiver).
#[pyfunction]
pub fn sign_webhook(secrets: Vec<String>, t_s: u64, body: &[u8]) -> String {
    let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
    realface::webhook::sign(&s, t_s, body)
}
