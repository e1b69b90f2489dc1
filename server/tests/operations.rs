//! Operating the service over HTTP, on both stores: every call leaves a
//! record, records are served one day at a time within the last 30 days,
//! statistics per day come from the database, and a check that ran is
//! billed at its tier price.

mod common;

use common::{clip_file, request, Db, TestServer, BOTH};
use realface::liveness::actions::Action;
use realface_server::billing::{day_of, day_string};
use realface_server::store::Record;
use realface_server::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "0123456789abcdef0123456789abcdef";

fn admin_get(s: &TestServer, path: &str) -> (u16, Value) {
    s.admin_get(ADMIN, path)
}

fn run(db: Db) {
    let s = TestServer::start(
        db,
        Settings {
            actions: vec![Action::Blink],
            challenge_count: 1,
            ..Settings::default()
        },
    );
    s.block_on(s.state.store.set_admin_key(ADMIN))
        .expect("admin key");
    let before = s
        .block_on(s.state.store.account(&s.app.app_id))
        .expect("a")
        .expect("a");
    // a genuine check, a refused certify, a result for an unknown id
    let (id, (status, v)) = s.answered("lp_d9");
    assert_eq!(status, 200, "{v}");
    let (status, _) = s.get(&format!("/v1/certify/{id}/result"));
    assert_eq!(status, 200);
    let (status, _) = s.post_json("/v1/certify", &json!({"idCard": common::ID_CARD}));
    assert_eq!(status, 400);
    let (status, _) = s.get("/v1/certify/unknown/result");
    assert_eq!(status, 404);

    // billed once, at the first tier's price
    let after = s
        .block_on(s.state.store.account(&s.app.app_id))
        .expect("a")
        .expect("a");
    assert_eq!(after.settled - before.settled, 85, "{after:?}");
    assert_eq!(after.available, before.available - 85);
    assert_eq!(after.frozen, 0);
    let (status, v) = admin_get(&s, "/v1/admin/accounts");
    assert_eq!(status, 200, "{v}");
    let acc = v["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["appId"] == s.app.app_id.as_str())
        .expect("app");
    assert_eq!(acc["settled"], "0.85");
    assert_eq!(acc["callsThisYear"], 1);
    assert_eq!(
        (acc["tier"].as_u64(), acc["tierPrice"].as_str()),
        (Some(1), Some("0.85"))
    );

    // the records of today, every call in order
    let today = day_string(day_of(s.state.clock.now_ms()));
    let (status, v) = admin_get(&s, &format!("/v1/records?day={today}&pageSize=500"));
    assert_eq!(status, 200, "{v}");
    let recs = v["records"].as_array().expect("records");
    // in time order; calls answered within the same millisecond (the
    // failed certify right after the result) are ordered by record id,
    // which says nothing of their order, so they are compared as a set
    let at: Vec<u64> = recs
        .iter()
        .map(|r| r["atMs"].as_u64().unwrap_or(0))
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{v}");
    let mut steps: Vec<(u64, &str, u64)> = recs
        .iter()
        .map(|r| {
            (
                r["atMs"].as_u64().unwrap_or(0),
                r["step"].as_str().unwrap_or(""),
                r["errCode"].as_u64().unwrap_or(1),
            )
        })
        .collect();
    let mut first: Vec<(&str, u64)> = steps[..3].iter().map(|s| (s.1, s.2)).collect();
    first.sort_unstable();
    assert_eq!(
        first,
        [("certify", 0), ("evidence", 0), ("start", 0)],
        "{v}"
    );
    assert_eq!(recs[2]["step"], "evidence", "{v}");
    steps.sort_by_key(|s| (s.1, s.2));
    let all: Vec<(&str, u64)> = steps.iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(
        all,
        [
            ("certify", 0),
            ("certify", 50001),
            ("evidence", 0),
            ("result", 0),
            ("result", 54020),
            ("start", 0)
        ],
        "{v}"
    );
    let evidence = &recs[2];
    assert_eq!(evidence["certifyId"], id.as_str());
    assert_eq!(evidence["verdict"], "SUCCESS");
    assert_eq!(evidence["billed"], "0.85");
    assert_eq!(evidence["idMasked"], "1101**********002X");
    assert_eq!(evidence["nameMasked"], "T***");
    assert_eq!(evidence["caller"], "127.0.0.1");
    assert_eq!(recs[0]["appId"], s.app.app_id.as_str());
    // paging: cursors through the day, two at a time, the same records
    let mut cursor = String::new();
    let mut walked = Vec::new();
    for page in 1..=4 {
        let (_, p) = admin_get(&s, &format!("/v1/records?day={today}&pageSize=2{cursor}"));
        assert_eq!(
            (p["total"].as_u64(), p["pages"].as_u64()),
            (Some(6), Some(3)),
            "{p}"
        );
        walked.extend(p["records"].as_array().expect("records").iter().cloned());
        match p["nextCursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => {
                assert_eq!(
                    page, 4,
                    "the third page is full, so a fourth (empty) one ends: {p}"
                );
                break;
            }
        }
    }
    assert_eq!(&walked, recs, "cursor pages = the whole day");

    // statistics of the last 30 days
    let first = day_string(day_of(s.state.clock.now_ms()) - 29);
    let (status, st) = admin_get(&s, &format!("/v1/stats?from={first}&to={today}"));
    assert_eq!(status, 200, "{st}");
    let days = st["days"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    let last = &days[29];
    assert_eq!(last["day"], today.as_str());
    // the records and stats calls above are not call records
    assert_eq!(
        (last["requests"].as_u64(), last["successful"].as_u64()),
        (Some(6), Some(4)),
        "{last}"
    );
    // verdicts are counted once, from the judged upload (not from the
    // calls answered with errCode 0, nor from every result read)
    assert_eq!(
        (last["verified"].as_u64(), last["notVerified"].as_u64()),
        (Some(1), Some(0)),
        "{last}"
    );
    assert_eq!(last["billed"], "0.85");
    assert_eq!(days[0]["requests"], 0);

    // refused: no admin key, a wrong one, outside the window, bad paging
    let old = day_string(day_of(s.state.clock.now_ms()) - 30);
    let tomorrow = day_string(day_of(s.state.clock.now_ms()) + 1);
    for (path, admin, code) in [
        (format!("/v1/records?day={today}"), None, 54021),
        (format!("/v1/records?day={today}"), Some("nope"), 54021),
        ("/v1/records".to_string(), Some(ADMIN), 50001),
        ("/v1/records?day=2026-02-30".to_string(), Some(ADMIN), 50002),
        (format!("/v1/records?day={old}"), Some(ADMIN), 50002),
        (format!("/v1/records?day={tomorrow}"), Some(ADMIN), 50002),
        (
            format!("/v1/records?day={today}&pageSize=0"),
            Some(ADMIN),
            50002,
        ),
        (
            format!("/v1/records?day={today}&pageSize=501"),
            Some(ADMIN),
            50002,
        ),
        (
            format!("/v1/records?day={today}&page=2"),
            Some(ADMIN),
            50002,
        ),
        (
            format!("/v1/records?day={today}&cursor=xyz"),
            Some(ADMIN),
            50002,
        ),
        (
            format!("/v1/stats?from={today}&to={first}"),
            Some(ADMIN),
            50002,
        ),
        (
            format!("/v1/stats?from={old}&to={today}"),
            Some(ADMIN),
            50002,
        ),
        (format!("/v1/stats?to={today}"), Some(ADMIN), 50001),
        ("/v1/admin/accounts".to_string(), None, 54021),
    ] {
        let hs: Vec<(&str, &str)> = admin
            .map(|a| vec![("X-Realface-Admin", a)])
            .unwrap_or_default();
        let (_, v) = request(&s.url, "GET", &path, &hs, None, b"");
        assert_eq!(v["errCode"], code, "{path}: {v}");
    }

    // an id that expires unchecked gives its freeze back
    let unused = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    let held = s
        .block_on(s.state.store.account(&s.app.app_id))
        .expect("a")
        .expect("a");
    assert_eq!(held.frozen, 85, "{unused} froze one call");
    s.state.clock.advance(realface::CERTIFY_ID_TTL_MS);
    s.block_on(s.state.store.sweep(s.state.clock.now_ms(), 30 * 86_400_000))
        .expect("sweep");
    let freed = s
        .block_on(s.state.store.account(&s.app.app_id))
        .expect("a")
        .expect("a");
    assert_eq!((freed.frozen, freed.available), (0, held.available + 85));

    // records older than 30 days are purged
    let now = s.state.clock.now_ms() as i64;
    let rec = |days_ago: i64| Record {
        at_ms: now - days_ago * 86_400_000,
        caller: "10.0.0.9".into(),
        step: "result".into(),
        ..Record::default()
    };
    s.block_on(s.state.store.insert_records(&[rec(31), rec(29)]))
        .expect("insert");
    let purged = s
        .block_on(
            s.state
                .store
                .purge_records(day_of(now as u64) - realface_server::RECORD_DAYS + 1),
        )
        .expect("purge");
    assert_eq!(purged, 1, "{db:?}");
}

#[test]
fn records_stats_and_billing_on_both_stores() {
    for db in BOTH {
        run(db);
    }
}

/// Keyset paging over 10,000 records of one day (many sharing a
/// millisecond): every record once, in order, on both stores.
#[test]
fn cursor_paging_walks_ten_thousand_records() {
    for db in BOTH {
        let s = TestServer::start(db, Settings::default());
        s.block_on(s.state.store.set_admin_key(ADMIN))
            .expect("admin key");
        let now = s.state.clock.now_ms() as i64;
        let day_start = now - now % 86_400_000;
        let records: Vec<Record> = (0..10_000)
            .map(|i| Record {
                at_ms: day_start + (i / 7) as i64,
                caller: "127.0.0.1".into(),
                step: "result".into(),
                err_code: i64::from(i % 3 == 0) * 54020,
                ..Record::default()
            })
            .collect();
        s.block_on(s.state.store.insert_records(&records))
            .expect("insert");
        let today = day_string(day_of(now as u64));
        let mut cursor = String::new();
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let (status, p) =
                admin_get(&s, &format!("/v1/records?day={today}&pageSize=500{cursor}"));
            assert_eq!(status, 200, "{p}");
            assert_eq!(p["total"], 10_000);
            pages += 1;
            for r in p["records"].as_array().expect("records") {
                seen.push(r["atMs"].as_i64().expect("atMs"));
            }
            match p["nextCursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
            assert!(pages <= 21, "paging does not end");
        }
        assert_eq!(seen.len(), 10_000, "{db:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{db:?}: in order");
        let expected: Vec<i64> = records.iter().map(|r| r.at_ms).collect();
        assert_eq!(seen, expected, "{db:?}: each record once");
        eprintln!("{db:?}: 10,000 records in {pages} cursor pages");
    }
}
