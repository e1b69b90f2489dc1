//! The fault schedule (seeded): `kill -9` of a random instance, started
//! again on its port after a pause, and one PostgreSQL outage in the middle
//! of the run, probed while it lasts. Also the rounds of the genuine device
//! and of the backend's other calls.

use std::time::{Duration, Instant};

use realface::rng::SplitMix;
use serde_json::{json, Value};

use super::infra::{call, wait_for, Instance, Pg};
use super::load::{app_headers, certify_body, Client, Upload};
use realface_server::store::NewApp;

/// What the schedule did.
#[derive(Debug, Default)]
pub struct Record {
    pub kills: u32,
    pub restarts: u32,
    pub db_restarts: u32,
    /// Longest time an instance took to answer `/readyz` and a certify
    /// while the database was away, ms.
    pub outage_ready_ms: u128,
    pub outage_certify_ms: u128,
    /// Longest time until an instance was ready again after the database
    /// came back, ms.
    pub ready_again_ms: u128,
}

/// Runs the schedule for `secs`: a kill every `secs / (kills + 1)` s, the
/// outage half way. Panics (with the instance and what failed) when an
/// instance does not come back or misbehaves during the outage.
pub fn run(
    fleet: &mut [Instance],
    pg: &Pg,
    app: &NewApp,
    certify: &[u8],
    secs: u64,
    seed: u64,
) -> Record {
    let mut rng = SplitMix::new(seed);
    let kills = (secs / 10).max(6) as u32;
    let gap = Duration::from_secs_f64(secs as f64 / (kills + 2) as f64);
    let t0 = Instant::now();
    let mut record = Record::default();
    let mut step = 0u32;
    let mut outage_done = false;
    while record.kills < kills {
        step += 1;
        let due = t0 + gap * step;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if !outage_done && record.kills == kills / 2 {
            outage(fleet, pg, app, certify, &mut record);
            outage_done = true;
            continue;
        }
        let victim = (rng.next_u64() % fleet.len() as u64) as usize;
        let i = &mut fleet[victim];
        i.kill();
        record.kills += 1;
        std::thread::sleep(Duration::from_millis(1500));
        i.spawn(&pg.url, &super::ARGS, &super::instance_env());
        assert!(
            i.wait_healthy(180),
            "restart after kill -9: {} did not come back (log: {})",
            i.url,
            i.log_path().display()
        );
        record.restarts += 1;
    }
    let end = t0 + Duration::from_secs(secs);
    if let Some(wait) = end.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    record
}

/// The database goes away for 3 s: every instance keeps answering
/// `/healthz`, says not ready on `/readyz`, answers a certify with 55000
/// or 503 within the pool's wait (never hangs); once the database is back
/// each is ready again without a restart of its own.
fn outage(fleet: &mut [Instance], pg: &Pg, app: &NewApp, certify: &[u8], record: &mut Record) {
    let pids: Vec<Option<u32>> = fleet.iter_mut().map(|i| i.pid()).collect();
    pg.down();
    for i in fleet.iter() {
        let health = call(&i.url, "GET", "/healthz", &[], None, b"", 10);
        assert!(
            matches!(health, Ok((200, _))),
            "database outage: {} /healthz answered {health:?} (the process is up)",
            i.url
        );
        let t = Instant::now();
        let ready = call(&i.url, "GET", "/readyz", &[], None, b"", 10);
        record.outage_ready_ms = record.outage_ready_ms.max(t.elapsed().as_millis());
        assert!(
            matches!(&ready, Ok((503, v)) if v["failing"].to_string().contains("database")),
            "database outage: {} /readyz answered {ready:?}, not 503 naming the database",
            i.url
        );
        let t1 = Instant::now();
        let r = call(
            &i.url,
            "POST",
            "/v1/certify",
            &app_headers(app),
            Some("application/json"),
            certify,
            20,
        );
        let took = t1.elapsed().as_millis();
        assert!(
            matches!(&r, Ok((s, v)) if (*s == 500 && v["errCode"] == 55000) || *s == 503),
            "database outage: {} answered certify with {r:?} after {took} ms (want 55000 or 503)",
            i.url
        );
        record.outage_certify_ms = record.outage_certify_ms.max(took);
    }
    std::thread::sleep(Duration::from_secs(1));
    pg.up();
    record.db_restarts += 1;
    let back = Instant::now();
    for (i, pid) in fleet.iter_mut().zip(pids) {
        let url = i.url.clone();
        assert!(
            wait_for(30, || matches!(
                call(&url, "GET", "/readyz", &[], None, b"", 5),
                Ok((200, _))
            )),
            "after the database outage: {url} not ready within 30 s"
        );
        assert_eq!(
            i.pid(),
            pid,
            "after the database outage: {url} was restarted, it should have reconnected"
        );
        record.ready_again_ms = record.ready_again_ms.max(back.elapsed().as_millis());
    }
}

/// A person who answers the prompt (lp_d9 blinks): certify, start, the
/// device's capture of the server's schedule, upload. The id when the
/// upload was answered.
pub fn genuine_round(c: &Client, reference: &Value) -> Option<String> {
    let n = c.identity();
    let (id, token) = c.certify(&certify_body(reference, n), n).ok()?;
    let start = c.start(&id, &token)?;
    let bundle = crate::common::answered_bundle(&id, &start, "lp_d9");
    let told = c.upload(&id, &token, &bundle);
    c.read_back(&id, &told);
    matches!(told, Upload::Acknowledged(_) | Upload::JudgedElsewhere(_)).then_some(id)
}

/// The backend's other calls: its webhook registration read and set again
/// (the same URL), the day's call records (admin key).
pub fn backend_round(c: &Client, hook_url: &str, admin: &str) {
    let hs = app_headers(c.app);
    let _ = c.rr.call("GET", "/v1/webhook", &hs, None);
    let body = json!({ "url": hook_url }).to_string();
    if let Some((s, v)) = c.rr.call("PUT", "/v1/webhook", &hs, Some(body.as_bytes())) {
        assert_eq!(s, 200, "webhook registration answered {s} {v}");
    }
    let day = realface_server::billing::day_string(realface_server::billing::day_of(
        realface::session::certify::unix_now_ms(),
    ));
    let admin_hs = [("X-Realface-Admin", admin)];
    if let Some((s, v)) = c.rr.call(
        "GET",
        &format!("/v1/records?day={day}&pageSize=50"),
        &admin_hs,
        None,
    ) {
        assert_eq!(s, 200, "records answered {s} {v}");
    }
}
