//! Billing on both stores: random sequences of deposits, issues, verdicts,
//! expiries and restarts keep deposited = available + frozen + settled, the
//! ledger agrees with the accounts, and what is settled is the tier
//! arithmetic of each contract year; concurrent issues never overdraw.

mod common;

use common::{fresh_db, runtime, Db, BOTH};
use realface::rng::SplitMix;
use realface_server::billing::{contract_year_start, day_of, total_for, MAX_PRICE_FEN};
use realface_server::store::{Judged, NewCertify, Record};
use realface_server::Store;

const DAY: u64 = 86_400_000;
const TTL: u64 = realface::CERTIFY_ID_TTL_MS;

fn new_id(rng: &mut SplitMix, app: &str, now: u64) -> NewCertify {
    NewCertify {
        certify_id: format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
        app_id: app.into(),
        nonce: format!("{:032x}", rng.next_u64()),
        name_masked: "T*".into(),
        id_masked: "1101**********002X".into(),
        id_hash: "h".into(),
        reference: "[]".into(),
        device_token_hash: realface_server::secret::hash("t"),
        created_ms: now,
        expires_ms: now + TTL,
    }
}

async fn check(store: &Store, app: &str, expected_settled: i64, what: &str) {
    let a = store.account(app).await.expect("account").expect("exists");
    assert_eq!(
        a.deposited,
        a.available + a.frozen + a.settled,
        "{what}: {a:?}"
    );
    assert!(a.available >= 0 && a.frozen >= 0, "{what}: {a:?}");
    assert_eq!(
        a.frozen,
        store.frozen_by_ids(app).await.expect("frozen"),
        "{what}"
    );
    let (dep, freeze, settle, release) = store.ledger_sums(app).await.expect("ledger");
    assert_eq!(dep, a.deposited, "{what}: deposits");
    assert_eq!(settle, a.settled, "{what}: settlements");
    assert_eq!(freeze - settle - release, a.frozen, "{what}: freezes");
    assert_eq!(a.settled, expected_settled, "{what}: tier arithmetic");
}

async fn sequence(db: Db, url: String, seed: u64) {
    let mut store = Store::open(&url, 4).await.expect("store");
    let mut rng = SplitMix::new(seed);
    let start_ms = 1_780_000_000_000u64 + rng.next_u64() % (400 * DAY);
    let app = store
        .add_app("prop", start_ms, None)
        .await
        .expect("app")
        .app_id;
    let contract = day_of(start_ms);
    // start near a tier edge so that short sequences cross it
    let edges = [0i64, 99_995, 199_996, 499_997];
    let offset = edges[(rng.next_u64() % 4) as usize];
    let mut year = contract_year_start(contract, day_of(start_ms));
    assert!(store
        .set_year_calls(&app, year, offset)
        .await
        .expect("seed"));
    // model: settled per contract year = total_for(offset + n) - total_for(offset)
    let mut years: Vec<(i64, i64, i64)> = vec![(year, offset, 0)];
    let mut now = start_ms;
    let mut open: Vec<(String, bool)> = Vec::new(); // (id, started)
    for step in 0..70 {
        let what = format!("{db:?} seed {seed} step {step}");
        match rng.next_u64() % 10 {
            0 | 1 => {
                let fen = 1 + (rng.next_u64() % 400) as i64;
                assert!(store.deposit(&app, fen, now).await.expect("deposit"));
            }
            2..=4 => {
                let c = new_id(&mut rng, &app, now);
                let before = store.account(&app).await.expect("a").expect("a");
                let ok = store.insert_certify(&c).await.expect("issue");
                assert_eq!(ok, before.available >= MAX_PRICE_FEN, "{what}: issue");
                if ok {
                    open.push((c.certify_id, false));
                }
            }
            5 | 6 if !open.is_empty() => {
                let i = (rng.next_u64() % open.len() as u64) as usize;
                let id = open[i].0.clone();
                if !open[i].1 {
                    assert!(store
                        .start(&id, &app, now, now + 60_000, "[]", None)
                        .await
                        .expect("start"));
                    open[i].1 = true;
                }
                let state = if rng.next_u64().is_multiple_of(2) {
                    "SUCCESS"
                } else {
                    "FAIL"
                };
                let event = format!("evt_{id}");
                let j = Judged {
                    auth_state: state,
                    verdict: "{}",
                    photo_o: None,
                    photo_m: None,
                    advisory: None,
                    event: (&event, "{}"),
                };
                let billed = store
                    .judge(&id, &app, now, now, &j, &mut Record::default())
                    .await
                    .expect("judge");
                assert!(billed.is_some(), "{what}: judge");
                let y = contract_year_start(contract, day_of(now));
                if y != year {
                    year = y;
                    years.push((y, 0, 0));
                }
                if let Some(last) = years.last_mut() {
                    last.2 += 1;
                }
                open.remove(i);
                // a second verdict on the same id bills nothing
                assert!(store
                    .judge(&id, &app, now, now, &j, &mut Record::default())
                    .await
                    .expect("judge")
                    .is_none());
            }
            7 => {
                // time passes: sometimes past every open id's expiry, sometimes a year
                now += if rng.next_u64().is_multiple_of(3) {
                    366 * DAY
                } else {
                    TTL + 1
                };
                store.sweep(now, 30 * DAY).await.expect("sweep");
                open.clear();
            }
            8 => {
                store.close().await;
                store = Store::open(&url, 4).await.expect("reopen");
            }
            _ => now += 1_000,
        }
        let expected: i64 = years
            .iter()
            .map(|(_, off, n)| total_for((off + n) as u64) - total_for(*off as u64))
            .sum();
        check(&store, &app, expected, &what).await;
    }
}

#[test]
fn random_sequences_keep_the_books() {
    for db in BOTH {
        for seed in 0..6 {
            let (url, _dir) = fresh_db(db);
            runtime().block_on(sequence(db, url, 1000 + seed));
        }
    }
}

#[test]
fn concurrent_issues_never_overdraw() {
    for db in BOTH {
        let (url, _dir) = fresh_db(db);
        runtime().block_on(async {
            let store = Store::open(&url, 16).await.expect("store");
            let app = store.add_app("race", 0, None).await.expect("app").app_id;
            assert!(store
                .deposit(&app, 10 * MAX_PRICE_FEN + 40, 0)
                .await
                .expect("deposit"));
            let tasks: Vec<_> = (0..64u64)
                .map(|i| {
                    let (store, app) = (store.clone(), app.clone());
                    tokio::spawn(async move {
                        let mut rng = SplitMix::new(i);
                        store.insert_certify(&new_id(&mut rng, &app, 1_000)).await
                    })
                })
                .collect();
            let mut issued = 0;
            for t in tasks {
                if t.await.expect("task").expect("issue") {
                    issued += 1;
                }
            }
            assert_eq!(issued, 10, "{db:?}");
            let a = store.account(&app).await.expect("a").expect("a");
            assert_eq!((a.available, a.frozen), (40, 10 * MAX_PRICE_FEN), "{db:?}");
        });
    }
}

#[test]
fn the_price_command_prints_yuan() {
    for (calls, text) in [
        ("100000", "85000.00"),
        ("110000", "93000.00"),
        ("550000", "405000.00"),
        ("100001", "85000.80"),
        ("500001", "375000.60"),
        ("0", "0.00"),
    ] {
        let out = common::server_bin()
            .args(["price", calls])
            .output()
            .expect("price");
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), text, "{calls}");
    }
}
