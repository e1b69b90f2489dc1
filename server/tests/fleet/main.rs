//! Several `realface-server` instances on one PostgreSQL, with the faults
//! only a fleet has (issue #43): three instances of the real binary (started
//! together on an empty database, so their migrations race), a round-robin
//! client of backends and devices, and on a seeded schedule: `kill -9` of a
//! random instance (started again on its port), the same evidence sent to
//! two instances at once, a PostgreSQL outage (`pg_ctl stop -m fast`, then
//! start) that the instances ride out without a restart, and a webhook
//! receiver that fails, drops the connection or answers slowly at random.
//! After the run, with every instance stopped, the store must be
//! consistent (`realface-server audit`), nothing acknowledged lost, nothing
//! judged, billed or delivered twice.
//!
//! CI runs 60 s (`REALFACE_FLEET_SECS`, default 60; `REALFACE_FLEET_SEED`,
//! default 1). The longer run:
//! `REALFACE_FLEET_SECS=600 cargo test --release -p realface-server --test fleet -- --nocapture`
//! (needs PostgreSQL's binaries: bash scripts/system-deps.sh).

mod checks;
#[path = "../common/mod.rs"]
mod common;
mod faults;
mod infra;
mod load;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::receiver::{Receiver, CHAOS, OK};
use infra::{Instance, Pg};
use load::{Client, Observed, RoundRobin};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The settings every instance runs with: short leases and webhook retries
/// so a run of a minute sees takeovers, a small pool, calls that wait at
/// most 3 s for a connection.
pub fn instance_env() -> Vec<(&'static str, String)> {
    [
        ("REALFACE_EVIDENCE_LEASE_MS", "3000"),
        ("REALFACE_STORE__POOL", "6"),
        ("REALFACE_STORE__ACQUIRE_TIMEOUT_MS", "3000"),
        ("REALFACE_WEBHOOK__TIMEOUT_MS", "2000"),
        ("REALFACE_WEBHOOK__BACKOFF_BASE_MS", "200"),
        ("REALFACE_WEBHOOK__BACKOFF_CAP_MS", "2000"),
        ("REALFACE_WEBHOOK__POLL_MS", "250"),
        ("REALFACE_WEBHOOK__MAX_ATTEMPTS", "60"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// One challenge of one blink (the genuine client's clip blinks); four
/// failed verdicts lock an identity.
pub const ARGS: [&str; 8] = [
    "--actions",
    "blink",
    "--challenge-count",
    "1",
    "--workers",
    "1",
    "--lockout-failures",
    "4",
];

/// The identity the lockout client fails again and again.
pub const REPEATED: u64 = 27_999;

/// Verdicts per second of `threads` failing clients over `urls` for `secs`.
fn throughput(urls: Vec<String>, secs: u64, cx: &Ctx, phase: &'static str) -> f64 {
    let rr = RoundRobin::new(urls);
    let end = Instant::now() + Duration::from_secs(secs);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let c = cx.client(&rr, phase);
                while Instant::now() < end {
                    c.failing_round(&cx.failing_ref, &cx.failing, c.identity());
                }
            });
        }
    });
    let n = cx
        .seen
        .lock()
        .expect("lock")
        .verdicts
        .get(phase)
        .copied()
        .unwrap_or(0);
    n as f64 / t0.elapsed().as_secs_f64()
}

/// What the clients share.
pub struct Ctx {
    pub app: realface_server::store::NewApp,
    pub seen: Mutex<Observed>,
    pub identities: AtomicU64,
    /// The reference of the failing clients (blinkdet_video) and of the
    /// genuine one (lp_d9).
    pub failing_ref: serde_json::Value,
    pub genuine_ref: serde_json::Value,
    /// A 3-frame bundle that answers nothing: judged FAIL quickly.
    pub failing: Vec<u8>,
}

impl Ctx {
    fn client<'a>(&'a self, rr: &'a RoundRobin, phase: &'static str) -> Client<'a> {
        Client {
            rr,
            app: &self.app,
            seen: &self.seen,
            identities: &self.identities,
            phase,
        }
    }
}

#[test]
fn three_instances_on_one_postgresql_lose_and_double_nothing_under_faults() {
    let secs = env_u64("REALFACE_FLEET_SECS", 60).max(30);
    let seed = env_u64("REALFACE_FLEET_SEED", 1);
    let pg = Pg::start();
    let logs = common::root().join("target/fleet-logs");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).expect("log dir");
    let env = instance_env();

    // three instances start at once on an empty database: their migrations race
    let mut fleet: Vec<Instance> = (0..3).map(|n| Instance::new(n, &logs)).collect();
    for i in &mut fleet {
        i.spawn(&pg.url, &ARGS, &env);
    }
    for i in &fleet {
        assert!(
            i.wait_healthy(180),
            "migrations racing: {} did not come up (log: {})",
            i.url,
            i.log_path().display()
        );
    }
    for i in &fleet {
        let ready = infra::call(&i.url, "GET", "/readyz", &[], None, b"", 10);
        assert!(
            matches!(&ready, Ok((200, v)) if v["status"] == "ready" && v["judgingFree"].as_u64() > Some(0)),
            "{}: /readyz answered {ready:?}",
            i.url
        );
    }
    let app = common::app_add(&pg.url, "fleet");
    let hook = Receiver::start(CHAOS);
    common::webhook_add(&pg.url, &app.app_id, &hook.url);
    let admin = checks::admin_key(&pg.url);
    let cx = Ctx {
        app,
        seen: Mutex::new(Observed::default()),
        identities: AtomicU64::new(0),
        failing_ref: common::embedding_json(&common::clip_file("blinkdet_video", "frame_0001.jpg")),
        genuine_ref: common::embedding_json(&common::clip_file("lp_d9", "frame_0001.jpg")),
        failing: common::failing_bundle(),
    };
    let urls: Vec<String> = fleet.iter().map(|i| i.url.clone()).collect();

    // throughput without faults, in this run: one instance, then three
    let tp = (secs / 6).clamp(8, 30);
    let one = throughput(urls[..1].to_vec(), tp, &cx, "one instance");
    let three = throughput(urls.clone(), tp, &cx, "three instances");

    // the run with faults
    let rr = RoundRobin::new(urls.clone());
    let stop = AtomicBool::new(false);
    let genuine_ids = Mutex::new(Vec::new());
    let record = std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let c = cx.client(&rr, "faults");
                while !stop.load(Ordering::SeqCst) {
                    c.failing_round(&cx.failing_ref, &cx.failing, c.identity());
                }
            });
        }
        s.spawn(|| {
            let c = cx.client(&rr, "faults");
            while !stop.load(Ordering::SeqCst) {
                c.twin_round(&cx.failing_ref, &cx.failing);
            }
        });
        s.spawn(|| {
            let c = cx.client(&rr, "faults");
            while !stop.load(Ordering::SeqCst) {
                if !c.failing_round(&cx.failing_ref, &cx.failing, REPEATED) {
                    // locked out (or the fleet is away): try again shortly
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        });
        s.spawn(|| {
            let c = cx.client(&rr, "faults");
            while !stop.load(Ordering::SeqCst) {
                if let Some(id) = faults::genuine_round(&c, &cx.genuine_ref) {
                    genuine_ids.lock().expect("lock").push(id);
                }
            }
        });
        s.spawn(|| {
            let c = cx.client(&rr, "faults");
            while !stop.load(Ordering::SeqCst) {
                faults::backend_round(&c, &hook.url, &admin);
                std::thread::sleep(Duration::from_millis(700));
            }
        });
        let outage_body = load::certify_body(&cx.failing_ref, 27_998);
        let record = faults::run(&mut fleet, &pg, &cx.app, &outage_body, secs, seed);
        stop.store(true, Ordering::SeqCst);
        record
    });

    // every instance up again, then the webhook backlog drains
    for i in &mut fleet {
        if i.pid().is_none() {
            i.spawn(&pg.url, &ARGS, &env);
            assert!(i.wait_healthy(180), "{} did not restart", i.url);
        }
    }
    hook.set(OK);
    let lockouts = checks::lockouts(&fleet[0].url, &admin);
    let drained = checks::drain(&pg.url, 180);
    for i in &mut fleet {
        i.kill();
    }
    let genuine_ids = genuine_ids.into_inner().expect("lock");
    let seen = cx.seen.into_inner().expect("lock");
    let report = checks::check(&pg.url, &cx.app, &seen, &hook, &lockouts, &genuine_ids);
    let calls = rr.calls.load(Ordering::Relaxed);
    println!(
        "fleet: {secs} s, seed {seed}: calls {calls}, acknowledged ids {}, kills {}, restarts {}, database restarts {}, \
         verdicts {}, bills {}, webhooks delivered {} (redelivered {}, given up {}), uploads cut and judged later {} \
         (a killed instance's claim taken over after its lease {}), \
         twin uploads {} (one refused {}), genuine SUCCESS {}, lockout refusals {}, duplicates {}, lost {}",
        seen.ids.len(),
        record.kills,
        record.restarts,
        record.db_restarts,
        report.judged,
        report.settles,
        report.delivered,
        report.redelivered,
        report.given_up,
        report.takeovers,
        seen.claims_taken_over.len(),
        seen.twins.len(),
        report.twins_refused,
        report.genuine_success,
        seen.locked_refusals,
        report.duplicates,
        report.lost,
    );
    println!(
        "throughput without faults ({tp} s each, 4 clients, same run): one instance {one:.1} verdicts/s, \
         three instances {three:.1} verdicts/s (x{:.2})",
        three / one.max(1e-9)
    );
    println!(
        "database outage: every instance answered /readyz 503 within {} ms and certify 55000 within {} ms; \
         ready again {} ms after the database came back, without a restart",
        record.outage_ready_ms, record.outage_certify_ms, record.ready_again_ms
    );
    assert!(
        drained,
        "webhook backlog: events still pending 180 s after the run"
    );
    assert!(
        report.problems.is_empty(),
        "{} invariants failed (logs in {}):\n{}",
        report.problems.len(),
        logs.display(),
        report.problems.join("\n")
    );
    let _ = std::fs::remove_dir_all(&logs);
}
