//! What an operator sets: the challenge pool and length, the matcher, the
//! evidence limits, the judging pool, the windows, the retention, the
//! lockout and the webhook retries. The settings file ([`crate::config`])
//! is this struct in TOML.

use realface::liveness::actions::Action;
use realface::session::SessionOptions;
use realface::Matcher;
use serde::{Deserialize, Serialize};

use crate::lockout::LockoutSettings;
use crate::webhook::WebhookSettings;

/// Limits on one evidence upload; over any of them the upload is refused
/// with 50002 and nothing is stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvidenceLimits {
    /// Largest evidence body (video or frame bundle), bytes.
    pub max_bytes: usize,
    /// Largest `POST /v1/certify` body (it carries a reference photo), bytes.
    pub max_certify_bytes: usize,
    /// Longest video or bundle, ms from its first frame.
    pub max_duration_ms: u64,
    /// Most frames decoded from one upload.
    pub max_frames: usize,
}

impl Default for EvidenceLimits {
    fn default() -> Self {
        Self {
            max_bytes: 32 << 20,
            max_certify_bytes: 8 << 20,
            max_duration_ms: 60_000,
            max_frames: 1_800,
        }
    }
}

/// The connection pool to the store (per instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// Connections this instance keeps open at most. On PostgreSQL the
    /// instances together must stay under the server's `max_connections`
    /// (instances x pool + the operator's own sessions).
    pub pool: u32,
    /// How long a call waits for a connection before it is answered 55000,
    /// ms: while the database is away calls fail after this, never hang.
    pub acquire_timeout_ms: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            pool: 16,
            acquire_timeout_ms: crate::store::DEFAULT_ACQUIRE_TIMEOUT_MS,
        }
    }
}

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The actions a challenge is drawn from.
    pub actions: Vec<Action>,
    /// How many actions a challenge asks for.
    pub challenge_count: usize,
    /// The face matcher references and evidence are compared with.
    pub matcher: Matcher,
    /// Evidence judged at once (inference threads).
    pub workers: usize,
    /// Evidence waiting for a worker; beyond it calls get 60000 at once.
    pub queue: usize,
    /// Evidence limits.
    pub limits: EvidenceLimits,
    /// The session run over the evidence (timeouts, gates); its challenge is
    /// replaced by the drawn one.
    pub session: SessionOptions,
    /// Time for the upload after the session's total time limit, ms.
    pub grace_ms: u64,
    /// How long an evidence upload holds its certifyId while it is judged,
    /// ms: a claim older than this (its instance was killed while judging)
    /// is taken over by the next upload of the same evidence, on any
    /// instance. Keep it above the longest judging time under load.
    pub evidence_lease_ms: u64,
    /// The connection pool to the store.
    pub store: StoreSettings,
    /// How long rows stay after expiry (records), ms.
    pub retain_ms: u64,
    /// How often the sweeper runs, ms.
    pub sweep_every_ms: u64,
    /// Lockout after repeated failed verdicts.
    pub lockout: LockoutSettings,
    /// Webhook delivery and retries.
    pub webhook: WebhookSettings,
    /// Tests only: certifyIds and nonces come from a generator seeded with
    /// this, so a test knows its challenges and prompt schedules in advance
    /// (device tokens stay random). Never read from the settings file, the
    /// environment or a flag.
    #[serde(skip)]
    pub test_seed: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            actions: Action::ALL.to_vec(),
            challenge_count: 2,
            matcher: Matcher::default(),
            workers,
            queue: 4 * workers,
            limits: EvidenceLimits::default(),
            session: SessionOptions::default(),
            grace_ms: 30_000,
            evidence_lease_ms: 10 * 60_000,
            store: StoreSettings::default(),
            retain_ms: 30 * 86_400_000,
            sweep_every_ms: 60_000,
            lockout: LockoutSettings::default(),
            webhook: WebhookSettings::default(),
            test_seed: None,
        }
    }
}

impl Settings {
    /// The window between start and the last accepted evidence, ms.
    pub fn window_ms(&self) -> u64 {
        self.session.total_timeout_ms + self.grace_ms
    }
}
