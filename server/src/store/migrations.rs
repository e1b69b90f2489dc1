//! Versioned migrations: each version is a list of statements applied in
//! one transaction with its row in `schema_migrations`; an instance that
//! finds a newer schema than it knows refuses to start.

use sqlx::{AnyPool, Executor};

use super::Backend;

/// The schema, version by version (same SQL on SQLite and PostgreSQL).
const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE apps (
        app_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        revoked_ms BIGINT
    )",
        "CREATE TABLE app_callers (
        app_id TEXT NOT NULL REFERENCES apps (app_id),
        caller TEXT NOT NULL,
        PRIMARY KEY (app_id, caller)
    )",
        "CREATE TABLE certify (
        certify_id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps (app_id),
        nonce TEXT NOT NULL,
        name_masked TEXT NOT NULL,
        id_masked TEXT NOT NULL,
        id_hash TEXT NOT NULL,
        reference TEXT,
        created_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL,
        actions TEXT,
        started_ms BIGINT,
        deadline_ms BIGINT,
        auth_state TEXT NOT NULL,
        verdict TEXT,
        photo_o TEXT,
        photo_m TEXT,
        advisory TEXT,
        judged_ms BIGINT,
        swept_ms BIGINT
    )",
        "CREATE INDEX certify_expires ON certify (expires_ms)",
    ],
    &[
        // billing: a prepaid account per app, every movement a ledger row
        "ALTER TABLE apps ADD COLUMN contract_start_day BIGINT",
        "CREATE TABLE accounts (
        app_id TEXT PRIMARY KEY REFERENCES apps (app_id),
        deposited BIGINT NOT NULL DEFAULT 0,
        available BIGINT NOT NULL DEFAULT 0,
        frozen BIGINT NOT NULL DEFAULT 0,
        settled BIGINT NOT NULL DEFAULT 0,
        year_start_day BIGINT NOT NULL DEFAULT 0,
        year_calls BIGINT NOT NULL DEFAULT 0
    )",
        "INSERT INTO accounts (app_id) SELECT app_id FROM apps",
        "CREATE TABLE ledger (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps (app_id),
        certify_id TEXT,
        kind TEXT NOT NULL,
        amount BIGINT NOT NULL,
        call_index BIGINT,
        at_ms BIGINT NOT NULL
    )",
        "CREATE INDEX ledger_app ON ledger (app_id, at_ms)",
        "ALTER TABLE certify ADD COLUMN frozen_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE certify ADD COLUMN billed_fen BIGINT",
        "CREATE INDEX certify_frozen ON certify (frozen_fen, expires_ms)",
        // call records, one day at a time
        "CREATE TABLE records (
        id TEXT PRIMARY KEY,
        day BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        app_id TEXT,
        caller TEXT NOT NULL,
        certify_id TEXT,
        step TEXT NOT NULL,
        err_code BIGINT NOT NULL,
        verdict TEXT,
        billed_fen BIGINT NOT NULL DEFAULT 0,
        name_masked TEXT,
        id_masked TEXT
    )",
        "CREATE INDEX records_day ON records (day, at_ms, id)",
        // daily statistics read this index only
        "CREATE INDEX records_stats ON records (day, err_code, billed_fen)",
    ],
    &[
        // device tokens: one per certifyId, stored hashed; the evidence
        // upload claims the id (a lease, so a crash mid-judging frees it)
        "ALTER TABLE certify ADD COLUMN device_token_hash TEXT",
        "ALTER TABLE certify ADD COLUMN evidence_claim_ms BIGINT",
        // lockout: failed verdicts by identity (the ID number's keyed hash)
        "CREATE INDEX certify_identity ON certify (id_hash, judged_ms)",
        "CREATE TABLE lockout_lifts (
        id_hash TEXT NOT NULL,
        scope TEXT NOT NULL,
        lifted_ms BIGINT NOT NULL,
        PRIMARY KEY (id_hash, scope)
    )",
    ],
    &[
        // verdict webhooks: an app's callback URL and signing secrets (the
        // previous one stays valid until `webhook_old_until_ms` after a
        // rotation); an outbox row per verdict, written with it
        "ALTER TABLE apps ADD COLUMN webhook_url TEXT",
        "ALTER TABLE apps ADD COLUMN webhook_secret TEXT",
        "ALTER TABLE apps ADD COLUMN webhook_old_secret TEXT",
        "ALTER TABLE apps ADD COLUMN webhook_old_until_ms BIGINT",
        "ALTER TABLE apps ADD COLUMN webhook_set_ms BIGINT",
        "CREATE TABLE outbox (
        event_id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps (app_id),
        certify_id TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_ms BIGINT NOT NULL,
        delivered_ms BIGINT,
        failed_ms BIGINT,
        last_error TEXT
    )",
        "CREATE INDEX outbox_due ON outbox (next_ms) WHERE delivered_ms IS NULL AND failed_ms IS NULL",
        "CREATE INDEX outbox_certify ON outbox (certify_id)",
    ],
    &[
        // web capture: how a certifyId's evidence is captured (NULL: a
        // device session; `web`: a recording on the nonce's fixed
        // schedule), chosen at start; an app's browser origins (CORS) and
        // the pages that may frame its hosted capture page (CSP
        // frame-ancestors), space-separated
        "ALTER TABLE certify ADD COLUMN capture TEXT",
        "ALTER TABLE apps ADD COLUMN web_origins TEXT",
        "ALTER TABLE apps ADD COLUMN frame_ancestors TEXT",
    ],
];

/// The latest schema version this build knows.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The applied version (0 for an empty database).
pub async fn current(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(pool)
        .await?;
    Ok(v.unwrap_or(0))
}

/// A transaction holding the migrations' lock (on PostgreSQL an advisory
/// lock until it ends; SQLite serialises writers itself).
async fn locked(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if backend == Backend::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(7215001)").await?;
    }
    Ok(tx)
}

/// Brings the schema to [`LATEST`]. Safe when several instances start at
/// once: PostgreSQL serialises them on an advisory lock, SQLite on its
/// write lock; a loser finds the work done.
pub async fn apply(pool: &AnyPool, backend: Backend) -> Result<(), sqlx::Error> {
    // under the lock too: PostgreSQL's CREATE TABLE IF NOT EXISTS is not
    // safe against itself (two instances starting on an empty database:
    // one fails with a duplicate key in pg_type; found by tests/fleet)
    let mut tx = locked(pool, backend).await?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
    )
    .await?;
    tx.commit().await?;
    loop {
        let have = current(pool).await?;
        if have > LATEST {
            return Err(sqlx::Error::Protocol(format!(
                "the database has schema version {have}; this build knows up to {LATEST}"
            )));
        }
        if have == LATEST {
            return Ok(());
        }
        let mut tx = locked(pool, backend).await?;
        let again: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *tx)
            .await?;
        if again.unwrap_or(0) != have {
            continue; // another instance moved on; look again
        }
        let index = usize::try_from(have).unwrap_or(0);
        for statement in MIGRATIONS[index] {
            tx.execute(*statement).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)")
            .bind(have + 1)
            .bind(realface::session::certify::unix_now_ms() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
}
