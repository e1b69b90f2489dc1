//! After the run, every instance stopped: the invariants, each failure a
//! line naming the invariant and the id.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sqlx::Row;

use super::infra::call;
use super::load::{Observed, Upload};
use crate::common::{receiver::Receiver, runtime, server_bin, sql_pool};
use realface_server::store::{NewApp, OutboxState};
use realface_server::Store;

/// `realface-server admin-key --db URL`: a new admin key.
pub fn admin_key(db: &str) -> String {
    let out = server_bin()
        .args(["admin-key", "--db", db])
        .output()
        .expect("realface-server admin-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The lockout listing (admin).
pub fn lockouts(base: &str, admin: &str) -> Value {
    let (s, v) = call(
        base,
        "GET",
        "/v1/admin/lockouts",
        &[("X-Realface-Admin", admin)],
        None,
        b"",
        30,
    )
    .expect("lockouts");
    assert_eq!(s, 200, "lockouts: {v}");
    v
}

/// Waits (at most `secs`) until no webhook event is pending.
pub fn drain(db: &str, secs: u64) -> bool {
    runtime().block_on(async {
        let store = Store::open(db, 1).await.expect("store");
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let done = loop {
            if store.outbox_backlog().await.unwrap_or(1) == 0 {
                break true;
            }
            if std::time::Instant::now() > end {
                break false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        store.close().await;
        done
    })
}

/// The counts and the failed invariants.
#[derive(Debug, Default)]
pub struct Report {
    pub judged: u64,
    pub settles: u64,
    pub delivered: u64,
    pub redelivered: u64,
    pub given_up: u64,
    pub takeovers: u64,
    pub twins_refused: u64,
    pub genuine_success: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub problems: Vec<String>,
}

impl Report {
    fn fail(&mut self, invariant: &str, what: String) {
        self.problems.push(format!("[{invariant}] {what}"));
    }
}

pub fn check(
    db: &str,
    app: &NewApp,
    seen: &Observed,
    hook: &Receiver,
    lockouts: &Value,
    genuine: &[String],
) -> Report {
    let mut r = Report::default();

    // the operator's audit: exit 0, nothing printed
    let out = server_bin()
        .args(["audit", "--db", db])
        .output()
        .expect("realface-server audit");
    if !out.status.success() || !out.stdout.is_empty() {
        r.fail(
            "audit",
            format!(
                "realface-server audit exited {:?}:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
            ),
        );
    }

    runtime().block_on(async {
        let store = Store::open(db, 2).await.expect("store");
        for p in store.audit().await.expect("audit") {
            r.fail("audit", p);
        }
        let rows = sqlx::query(
            "SELECT certify_id, auth_state, evidence_claim_ms, \
             (SELECT COUNT(*) FROM ledger l WHERE l.certify_id = c.certify_id AND l.kind = 'settle') AS settles \
             FROM certify c WHERE app_id = $1",
        )
        .bind(&app.app_id)
        .fetch_all(&sql_pool(db).await)
        .await
        .expect("certify rows");
        let mut state = BTreeMap::new();
        for row in &rows {
            let id: String = row.get("certify_id");
            let s: String = row.get("auth_state");
            let settles: i64 = row.get("settles");
            let claim: Option<i64> = row.get("evidence_claim_ms");
            if s != "PROCESSING" {
                r.judged += 1;
            }
            r.settles += settles as u64;
            if settles > 1 {
                r.duplicates += 1;
                r.fail("billed once", format!("{id}: {settles} settle rows"));
            }
            if s == "PROCESSING" && claim.is_some() && seen.uploaded.contains(&id) {
                r.fail("no stuck claim", format!("{id}: still claimed (at {claim:?}) and not judged"));
            }
            state.insert(id, s);
        }

        // every acknowledged id is there, with the verdict the device was told
        for id in seen.ids.keys() {
            if !state.contains_key(id) {
                r.lost += 1;
                r.fail("acknowledged id kept", format!("{id}: certify answered 200, the store has no row"));
            }
        }
        for (id, up) in &seen.uploads {
            let stored = state.get(id).map(String::as_str).unwrap_or("(missing)");
            match up {
                Upload::Acknowledged(s) | Upload::JudgedElsewhere(s) if s != stored => {
                    r.lost += 1;
                    r.fail("verdict kept", format!("{id}: the device was told {s}, the store has {stored}"));
                }
                Upload::Refused(st, cause) => r.fail("upload judged", format!("{id}: refused {st} {cause}")),
                Upload::GaveUp => r.fail("upload judged", format!("{id}: no instance judged it within 60 s")),
                _ => {}
            }
        }
        // an upload cut by a kill or the outage was judged later (its claim
        // taken over after the lease, or its verdict found)
        for id in &seen.uploaded {
            match state.get(id).map(String::as_str) {
                Some("PROCESSING") | None => {
                    r.lost += 1;
                    r.fail("upload judged", format!("{id}: evidence sent, never judged"));
                }
                _ if seen.interrupted.contains(id) => r.takeovers += 1,
                _ => {}
            }
        }
        if seen.claims_taken_over.is_empty() {
            r.fail(
                "evidence lease",
                "no upload found an earlier try's claim held and took it over after the lease: not exercised".into(),
            );
        }
        for d in &seen.disagreements {
            r.fail("read back", d.clone());
        }
        // the same evidence at two instances at once: one judged it
        for (id, pair) in &seen.twins {
            let ok = pair.iter().filter(|a| matches!(a, Ok((200, _)))).count();
            if ok > 1 {
                r.duplicates += 1;
                r.fail("one judge per upload", format!("{id}: both instances answered 200: {pair:?}"));
            }
            let refused = pair
                .iter()
                .any(|a| matches!(a, Ok((400, c)) if c == "evidence.repeated"));
            if ok == 1 && refused {
                r.twins_refused += 1;
            }
        }
        if r.twins_refused == 0 {
            r.fail("one judge per upload", "no twin upload was refused with evidence.repeated".into());
        }

        // billing: one settlement per verdict, priced by the tiers
        let account = store.account(&app.app_id).await.expect("account").expect("the app's account");
        let want = realface_server::billing::total_for(r.judged);
        if account.year_calls as u64 != r.judged || account.settled != want || r.settles != r.judged {
            r.fail(
                "billed once",
                format!(
                    "{} verdicts, {} settle rows, {} calls counted, settled {} fen (the tiers price {} calls at {want})",
                    r.judged, r.settles, account.year_calls, account.settled, r.judged
                ),
            );
        }
        if account.deposited != account.available + account.frozen + account.settled {
            r.fail("account balances", format!("{account:?}"));
        }

        // webhooks: every event delivered (or given up), once per eventId
        let delivered = store.outbox(OutboxState::Delivered, 1_000_000).await.expect("outbox");
        let failed = store.outbox(OutboxState::Failed, 1_000_000).await.expect("outbox");
        let pending = store.outbox(OutboxState::Pending, 1_000_000).await.expect("outbox");
        r.given_up = failed.len() as u64;
        for e in &pending {
            r.lost += 1;
            r.fail("webhook delivered", format!("{} ({}): still pending", e.event_id, e.certify_id));
        }
        let events: usize = delivered.len() + failed.len() + pending.len();
        if events as u64 != r.judged {
            r.fail("webhook per verdict", format!("{events} events for {} verdicts", r.judged));
        }
        let got = hook.deliveries();
        let mut acked: BTreeMap<String, Vec<&Vec<u8>>> = BTreeMap::new();
        for d in &got {
            if d.answered == 200 {
                acked.entry(d.event_id()).or_default().push(&d.body);
            }
        }
        let known: BTreeSet<&str> = delivered
            .iter()
            .chain(&failed)
            .chain(&pending)
            .map(|e| e.event_id.as_str())
            .collect();
        for e in &delivered {
            match acked.get(&e.event_id) {
                None => {
                    r.lost += 1;
                    r.fail("webhook delivered", format!("{} ({}): marked delivered, the receiver never acknowledged it", e.event_id, e.certify_id));
                }
                Some(bodies) => {
                    r.delivered += 1;
                    r.redelivered += bodies.len() as u64 - 1;
                    let want: Value = serde_json::from_str(&e.body).expect("event body");
                    if bodies.iter().any(|b| serde_json::from_slice::<Value>(b).ok().as_ref() != Some(&want)) {
                        r.duplicates += 1;
                        r.fail("webhook once per eventId", format!("{} ({}): two bodies under one eventId", e.event_id, e.certify_id));
                    }
                }
            }
        }
        for id in acked.keys() {
            if !known.contains(id.as_str()) {
                r.duplicates += 1;
                r.fail("webhook once per eventId", format!("{id}: received, not in the outbox"));
            }
        }

        // lockout: the repeated identity's count is the failures judged for it
        let rep_hash = realface_server::idcard::keyed_hash(
            store.secret(),
            &super::load::id_card(super::REPEATED),
        );
        let judged_fails = seen
            .ids
            .iter()
            .filter(|(id, n)| **n == super::REPEATED && state.get(*id).map(String::as_str) == Some("FAIL"))
            .count();
        let listed = lockouts["lockouts"].as_array().cloned().unwrap_or_default();
        let entry = listed.iter().find(|l| l["identity"] == rep_hash.as_str());
        match entry {
            Some(l) if l["failures"].as_u64() == Some(judged_fails as u64) && judged_fails >= 4 => {}
            _ => r.fail(
                "lockout counts",
                format!("identity {}: {judged_fails} failed verdicts judged, the lockout lists {entry:?}", super::REPEATED),
            ),
        }
        if seen.locked_refusals == 0 {
            r.fail("lockout counts", format!("identity {}: never refused 54030", super::REPEATED));
        }
        for l in &listed {
            if l["identity"] != rep_hash.as_str() {
                r.fail("lockout counts", format!("an identity with one failure is locked: {l}"));
            }
        }

        // the genuine person passed
        for id in genuine {
            match state.get(id).map(String::as_str) {
                Some("SUCCESS") => r.genuine_success += 1,
                s => r.fail("genuine verdict", format!("{id}: answered its prompt, judged {s:?}")),
            }
        }
        if r.genuine_success == 0 {
            r.fail("genuine verdict", "no genuine upload was judged".into());
        }
        store.close().await;
    });
    r
}
