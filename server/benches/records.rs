//! Records and statistics at scale: 1 million synthetic call records over
//! 30 days in each store (a SQLite file, and PostgreSQL at
//! $REALFACE_TEST_PG as scripts/pg.sh starts it), then the console's reads:
//! one day's first page, a late page of that day, and 30 days of stats.
//!
//! ```sh
//! d=$(mktemp -d) && bash scripts/pg.sh start $d && REALFACE_TEST_PG=$(cat $d/url) \
//!   cargo bench -p realface-server --bench records; bash scripts/pg.sh stop $d
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use realface::rng::SplitMix;
use realface_server::store::Record;
use realface_server::Store;

const RECORDS: usize = 1_000_000;
const DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

fn synthetic(today: i64) -> Vec<Record> {
    let mut rng = SplitMix::new(7);
    let steps = ["certify", "start", "evidence", "result"];
    (0..RECORDS)
        .map(|i| {
            let day = today - (i as i64 % DAYS);
            let step = steps[i % 4];
            let ok = !rng.next_u64().is_multiple_of(10);
            Record {
                at_ms: day * DAY_MS + (rng.next_u64() % DAY_MS as u64) as i64,
                app_id: Some(format!("app_{:016x}", rng.next_u64() % 20)),
                caller: format!("10.0.{}.{}", i % 200, i % 250),
                certify_id: Some(format!("{:032x}", rng.next_u64())),
                step: step.into(),
                err_code: if ok { 0 } else { 50002 },
                verdict: (step == "evidence" && ok).then(|| "SUCCESS".into()),
                billed_fen: if step == "evidence" && ok { 85 } else { 0 },
                name_masked: Some("T***".into()),
                id_masked: Some("1101**********002X".into()),
            }
        })
        .collect()
}

fn bench_store(c: &mut Criterion, name: &str, db: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt.block_on(Store::open(db, 4)).expect("store");
    let today = (realface::session::certify::unix_now_ms() / DAY_MS as u64) as i64;
    let records = synthetic(today);
    let t = std::time::Instant::now();
    for chunk in records.chunks(50_000) {
        rt.block_on(store.insert_records(chunk)).expect("insert");
    }
    rt.block_on(store.analyze()).expect("analyze");
    eprintln!(
        "{name}: {RECORDS} records inserted in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let per_day = RECORDS as i64 / DAYS;
    let late = per_day / 50; // the last full page of 50
                             // the cursor of the page before it, walked once
    let mut before_late = None;
    for _ in 1..late {
        before_late = rt
            .block_on(store.records_of_day(today - 3, before_late, 50))
            .expect("page")
            .2;
    }
    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    g.bench_function("records of a day, first page", |b| {
        b.iter(|| {
            rt.block_on(store.records_of_day(today - 3, None, 50))
                .expect("page")
        })
    });
    g.bench_function(format!("records of a day, page {late} of {late}"), |b| {
        b.iter(|| {
            rt.block_on(store.records_of_day(today - 3, before_late.clone(), 50))
                .expect("page")
        })
    });
    g.bench_function("stats of 30 days", |b| {
        b.iter(|| {
            rt.block_on(store.stats(today - DAYS + 1, today))
                .expect("stats")
        })
    });
    g.finish();
}

fn records(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite = dir.path().join("bench.db");
    bench_store(c, "sqlite", &sqlite.to_string_lossy());
    let pg = std::env::var("REALFACE_TEST_PG")
        .expect("REALFACE_TEST_PG: start PostgreSQL with scripts/pg.sh");
    let name = format!(
        "rf_bench_{}",
        realface::session::certify::random_hex(4).expect("random")
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&pg).await.expect("postgres");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create");
    });
    let base = pg.rsplit_once('/').map(|(b, _)| b).unwrap_or(&pg);
    bench_store(c, "postgres", &format!("{base}/{name}"));
}

criterion_group!(benches, records);
criterion_main!(benches);
