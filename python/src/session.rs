//! `realface.Session`: a verification session fed frame by frame.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use realface::session::certify::{random_hex, unix_now_ms};
use realface::{
    Action, CertifyRegistry, ChallengeSpec, IssuedId, Reference, SessionOptions,
    VerificationSession, CERTIFY_ID_TTL_MS,
};

use crate::engine::{embedding_of, Engine};
use crate::errors::{invalid, json, OrPy};
use crate::image::image;

/// A running session; not shared between threads (the engine is).
#[pyclass(module = "realface._realface")]
pub struct Session {
    inner: VerificationSession,
    engine: std::sync::Arc<realface::FaceEngine>,
    bgr: bool,
}

/// `patch` laid over `base`, objects merged key by key.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

fn options(json_text: Option<&str>) -> PyResult<SessionOptions> {
    let mut v = serde_json::to_value(SessionOptions::default())
        .map_err(|e| invalid("options", e.to_string()))?;
    if let Some(t) = json_text {
        let patch: serde_json::Value =
            serde_json::from_str(t).map_err(|e| invalid("options", e.to_string()))?;
        merge(&mut v, patch);
    }
    serde_json::from_value(v).map_err(|e| invalid("options", e.to_string()))
}

#[pymethods]
impl Session {
    /// Starts a session. `actions`: action names in order, or a number of
    /// random actions drawn from the nonce, or `None` (the options' challenge).
    /// `nonce`: the issuer's challenge nonce (32+ hex digits) with
    /// `certify_id`; `None` issues a local id with a random nonce.
    #[new]
    #[pyo3(signature = (engine, reference, actions=None, nonce=None, certify_id=None, expires_ms=None, options_json=None, bgr=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        engine: &Engine,
        reference: &Bound<'_, PyAny>,
        actions: Option<&Bound<'_, PyAny>>,
        nonce: Option<String>,
        certify_id: Option<String>,
        expires_ms: Option<u64>,
        options_json: Option<&str>,
        bgr: bool,
    ) -> PyResult<Self> {
        let mut opts = options(options_json)?;
        if let Some(a) = actions {
            opts.challenge = if let Ok(n) = a.extract::<usize>() {
                ChallengeSpec::Random(n)
            } else {
                let names: Vec<String> = a
                    .extract()
                    .map_err(|_| invalid("actions", "a list of action names or a count"))?;
                ChallengeSpec::Fixed(
                    names
                        .iter()
                        .map(|n| n.parse::<Action>())
                        .collect::<realface::Result<Vec<_>>>()
                        .or_py()?,
                )
            };
        }
        let reference = match embedding_of(reference)? {
            Some(e) => Reference::Embedding(e),
            None => Reference::Photo(image(&engine.inner, reference, bgr)?),
        };
        let registry = CertifyRegistry::new();
        let now = unix_now_ms();
        let ticket = match nonce {
            Some(n) => {
                let id = match certify_id {
                    Some(id) => id,
                    None => random_hex(16).or_py()?,
                };
                registry.claim_issued(
                    &IssuedId {
                        certify_id: id,
                        challenge_nonce: n,
                        expires_ms: expires_ms.unwrap_or(now + CERTIFY_ID_TTL_MS),
                    },
                    now,
                )
            }
            None => registry.issue_claimed(now),
        }
        .or_py()?;
        let e = engine.inner.clone();
        let inner = py
            .detach(move || VerificationSession::new(e, ticket, reference, opts))
            .or_py()?;
        Ok(Self {
            inner,
            engine: engine.inner.clone(),
            bgr,
        })
    }

    /// Takes one frame at `t_ms` (ms, increasing); returns the progress as JSON.
    fn push(&mut self, py: Python<'_>, frame: &Bound<'_, PyAny>, t_ms: u64) -> PyResult<String> {
        let img = image(&self.engine, frame, self.bgr)?;
        let s = &mut self.inner;
        let p = py.detach(|| s.push_frame(&img, t_ms)).or_py()?;
        json(&p)
    }

    /// Ends the session (no more frames): the final result as JSON.
    fn finish(&mut self) -> PyResult<String> {
        json(&self.inner.finish())
    }

    /// The user quits: the session fails as interrupted.
    fn cancel(&mut self) {
        self.inner.cancel();
    }

    /// The current result as JSON (PROCESSING while running).
    fn result(&self) -> PyResult<String> {
        json(&self.inner.result())
    }

    /// Whether the session has finished.
    #[getter]
    fn finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The challenge's actions, in order.
    #[getter]
    fn actions(&self) -> Vec<&'static str> {
        self.inner.actions().iter().map(|a| a.name()).collect()
    }

    /// The certifyId.
    #[getter]
    fn certify_id(&self) -> String {
        self.inner.certify_id().to_string()
    }

    /// The evidence bundle for realface-server (needs
    /// `options={"record_evidence": True}`).
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.inner.evidence().or_py()?;
        Ok(PyBytes::new(py, &b))
    }
}
