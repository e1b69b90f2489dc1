//! The fleet's clients: a round-robin over the instances' addresses (no
//! balancer), the calls of backends and devices (certify, start, evidence
//! that answers its schedule or fails, results, records, webhook
//! registration), retried on another instance when one is down, and what
//! they were told (acknowledged ids, verdicts), for the checks after.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::infra::call;
use realface_server::store::NewApp;

/// The instances' addresses, taken in turn.
pub struct RoundRobin {
    urls: Vec<String>,
    next: AtomicUsize,
    /// Calls made (every try counts).
    pub calls: AtomicU64,
}

impl RoundRobin {
    pub fn new(urls: Vec<String>) -> Self {
        Self {
            urls,
            next: AtomicUsize::new(0),
            calls: AtomicU64::new(0),
        }
    }

    fn pick(&self) -> &str {
        &self.urls[self.next.fetch_add(1, Ordering::Relaxed) % self.urls.len()]
    }

    /// One try on the next instance.
    pub fn once(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> (String, Result<(u16, Value), String>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let base = self.pick().to_string();
        let ctype = body.map(|_| "application/json");
        let r = call(&base, method, path, headers, ctype, body.unwrap_or(b""), 60);
        (base, r)
    }

    /// Tries instance after instance while they are down or answer 55000,
    /// 60000 or 503 (at most 40 s): the first other answer.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Option<(u16, Value)> {
        let end = Instant::now() + Duration::from_secs(40);
        loop {
            match self.once(method, path, headers, body).1 {
                Ok((s, v)) if !unavailable(s, &v) => return Some((s, v)),
                _ if Instant::now() > end => return None,
                _ => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }
}

/// An answer that says "not now, try elsewhere": 55000 (the store is
/// away), 60000 or a 503.
pub fn unavailable(status: u16, v: &Value) -> bool {
    status == 503 || status >= 500 && matches!(v["errCode"].as_u64(), Some(55000 | 60000))
}

/// A valid ID number for identity `n` (distinct for each n < 28,000).
pub fn id_card(n: u64) -> String {
    let first17 = format!(
        "1101051980{:02}{:02}{:03}",
        1 + (n / 28_000) % 12,
        1 + (n / 1000) % 28,
        n % 1000
    );
    let check = realface_server::idcard::check_char(first17.as_bytes()).expect("17 digits");
    format!("{first17}{}", check as char)
}

/// The certify body for identity `n` with a reference embedding.
pub fn certify_body(embedding: &Value, n: u64) -> Vec<u8> {
    json!({"realName": "Fleet", "idCard": id_card(n), "reference": {"embedding": embedding}})
        .to_string()
        .into_bytes()
}

/// The verdict a device is told (its evidence answer carries the client
/// code, not the authState): clientCode 0 is SUCCESS, any other FAIL.
pub fn told(v: &Value) -> String {
    match v["clientCode"].as_u64() {
        Some(0) => "SUCCESS".into(),
        Some(_) => "FAIL".into(),
        None => format!("(no clientCode in {v})"),
    }
}

/// How an evidence upload ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Upload {
    /// 200: the verdict was acknowledged to the device (the authState its
    /// client code stands for).
    Acknowledged(String),
    /// Refused as repeated and found judged (by an upload whose answer was
    /// lost, or another instance): the stored state.
    JudgedElsewhere(String),
    /// Refused for another reason (late, ...): status and cause.
    Refused(u16, String),
    /// No answer for 60 s.
    GaveUp,
}

/// One of two simultaneous uploads: the status and what it said (the
/// verdict told, or the refusal's cause), or the transport error.
pub type TwinAnswer = Result<(u16, String), String>;

/// What the clients were told, for the checks after the run.
#[derive(Debug, Default)]
pub struct Observed {
    /// certifyIds acknowledged by certify (200), with their identity.
    pub ids: BTreeMap<String, u64>,
    /// Ids whose evidence was sent at least once.
    pub uploaded: BTreeSet<String>,
    /// How each upload ended.
    pub uploads: BTreeMap<String, Upload>,
    /// Uploads that lost an answer (instance killed, store away) and were
    /// sent again.
    pub interrupted: BTreeSet<String>,
    /// Uploads that found an earlier try's claim held (its instance killed
    /// while judging), waited for the lease and were judged by a later try.
    pub claims_taken_over: BTreeSet<String>,
    /// Ids whose second, simultaneous upload went to another instance:
    /// (id, answers of the two).
    pub twins: Vec<(String, [TwinAnswer; 2])>,
    /// certify calls refused as locked out (54030).
    pub locked_refusals: u64,
    /// Results read back that disagreed with the acknowledged verdict.
    pub disagreements: Vec<String>,
    /// Verdicts acknowledged, per phase label.
    pub verdicts: BTreeMap<&'static str, u64>,
}

/// The app's credentials as headers.
pub fn app_headers(app: &NewApp) -> [(&str, &str); 2] {
    [
        ("X-Realface-App", app.app_id.as_str()),
        ("X-Realface-Key", app.key.as_str()),
    ]
}

/// Everything a client thread needs.
pub struct Client<'a> {
    pub rr: &'a RoundRobin,
    pub app: &'a NewApp,
    pub seen: &'a Mutex<Observed>,
    pub identities: &'a AtomicU64,
    pub phase: &'static str,
}

impl Client<'_> {
    fn app_call(&self, method: &str, path: &str, body: Option<&[u8]>) -> Option<(u16, Value)> {
        self.rr.call(method, path, &app_headers(self.app), body)
    }

    /// certify for identity `n`: the id and device token, or the refusal.
    pub fn certify(&self, body: &[u8], n: u64) -> Result<(String, String), (u16, Value)> {
        match self.app_call("POST", "/v1/certify", Some(body)) {
            Some((200, v)) => {
                let id = v["certifyId"].as_str().expect("certifyId").to_string();
                let token = v["deviceToken"].as_str().expect("deviceToken").to_string();
                self.seen.lock().expect("lock").ids.insert(id.clone(), n);
                Ok((id, token))
            }
            Some((s, v)) => {
                if v["errCode"] == 54030 {
                    self.seen.lock().expect("lock").locked_refusals += 1;
                }
                Err((s, v))
            }
            None => Err((0, Value::Null)),
        }
    }

    /// The device's start: its answer (None if it was lost).
    pub fn start(&self, id: &str, token: &str) -> Option<Value> {
        let dev = [("X-Realface-Device-Token", token)];
        match self
            .rr
            .call("POST", &format!("/v1/certify/{id}/start"), &dev, None)
        {
            Some((200, v)) => Some(v),
            // a start whose answer was lost was applied: its schedule is gone
            Some((400, v)) if v["cause"]["code"] == "start.repeated" => None,
            Some((s, v)) => panic!("{id}: start answered {s} {v}"),
            None => None,
        }
    }

    /// The device's evidence upload, sent again on another instance while
    /// instances are down or the store is away, and after a lease when an
    /// earlier try's claim holds it.
    pub fn upload(&self, id: &str, token: &str, bundle: &[u8]) -> Upload {
        self.seen
            .lock()
            .expect("lock")
            .uploaded
            .insert(id.to_string());
        let dev = [("X-Realface-Device-Token", token)];
        let end = Instant::now() + Duration::from_secs(60);
        let mut interrupted = false;
        let mut held = false;
        let outcome = loop {
            if Instant::now() > end {
                break Upload::GaveUp;
            }
            let (_, r) = self.rr.once(
                "POST",
                &format!("/v1/certify/{id}/evidence"),
                &dev,
                Some(bundle),
            );
            match r {
                Ok((200, v)) => break Upload::Acknowledged(told(&v)),
                Ok((400, v)) if v["cause"]["code"] == "evidence.repeated" => {
                    match self.state_of(id) {
                        Some(s) if s != "PROCESSING" => break Upload::JudgedElsewhere(s),
                        // an earlier try's claim holds it until its lease ends
                        _ => {
                            held = true;
                            std::thread::sleep(Duration::from_millis(500))
                        }
                    }
                }
                Ok((s, v)) if !unavailable(s, &v) => {
                    break Upload::Refused(s, v["cause"]["code"].as_str().unwrap_or("").to_string())
                }
                _ => {
                    interrupted = true;
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
        };
        let mut seen = self.seen.lock().expect("lock");
        if interrupted {
            seen.interrupted.insert(id.to_string());
        }
        if held && matches!(outcome, Upload::Acknowledged(_)) {
            seen.claims_taken_over.insert(id.to_string());
        }
        if matches!(outcome, Upload::Acknowledged(_)) {
            *seen.verdicts.entry(self.phase).or_default() += 1;
        }
        seen.uploads.insert(id.to_string(), outcome.clone());
        outcome
    }

    /// The stored authState of `id` (the backend's result call).
    pub fn state_of(&self, id: &str) -> Option<String> {
        match self.app_call("GET", &format!("/v1/certify/{id}/result"), None) {
            Some((200, v)) => v["authState"].as_str().map(str::to_string),
            _ => None,
        }
    }

    /// Reads the verdict back from another instance: it must be the one the
    /// device was told.
    pub fn read_back(&self, id: &str, told: &Upload) {
        let Upload::Acknowledged(state) = told else {
            return;
        };
        if let Some(s) = self.state_of(id) {
            if &s != state {
                self.seen.lock().expect("lock").disagreements.push(format!(
                    "{id}: the device was told {state}, the result says {s}"
                ));
            }
        }
    }

    /// A fresh identity.
    pub fn identity(&self) -> u64 {
        self.identities.fetch_add(1, Ordering::Relaxed)
    }

    /// One backend-and-device round that fails (a 3-frame bundle): false
    /// when certify refused (locked out) or no instance answered.
    pub fn failing_round(&self, embedding: &Value, failing: &[u8], n: u64) -> bool {
        let Ok((id, token)) = self.certify(&certify_body(embedding, n), n) else {
            return false;
        };
        if self.start(&id, &token).is_some() {
            let told = self.upload(&id, &token, failing);
            self.read_back(&id, &told);
        }
        true
    }

    /// The same evidence sent to two instances at once: one judges, the
    /// other is refused (or both answers are kept for the check).
    pub fn twin_round(&self, embedding: &Value, failing: &[u8]) {
        let n = self.identity();
        let Ok((id, token)) = self.certify(&certify_body(embedding, n), n) else {
            return;
        };
        if self.start(&id, &token).is_none() {
            return;
        }
        self.seen.lock().expect("lock").uploaded.insert(id.clone());
        let path = format!("/v1/certify/{id}/evidence");
        let dev = [("X-Realface-Device-Token", token.as_str())];
        let answers: Vec<TwinAnswer> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        self.rr
                            .once("POST", &path, &dev, Some(failing))
                            .1
                            .map(|(st, v)| {
                                let what = if st == 200 {
                                    told(&v)
                                } else {
                                    v["cause"]["code"].as_str().unwrap_or("").to_string()
                                };
                                (st, what)
                            })
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("twin")).collect()
        });
        let pair = [answers[0].clone(), answers[1].clone()];
        let acknowledged = pair.iter().find_map(|a| match a {
            Ok((200, s)) => Some(s.clone()),
            _ => None,
        });
        let mut seen = self.seen.lock().expect("lock");
        seen.twins.push((id.clone(), pair));
        if let Some(s) = acknowledged {
            *seen.verdicts.entry(self.phase).or_default() += 1;
            seen.uploads.insert(id, Upload::Acknowledged(s));
        } else {
            drop(seen);
            // neither answered (an instance died, the store was away): send again
            let told = self.upload(&id, &token, failing);
            self.read_back(&id, &told);
        }
    }
}
