//! Versioned migrations: each version is a list of statements applied in
//! one transaction with its row in `schema_migrations`; an instance that
//! finds a newer schema than it knows refuses to start.

use sqlx::{AnyPool, Executor};

use super::Backend;

/// The schema, version by version (same SQL on SQLite and PostgreSQL).
const MIGRATIONS: &[&[&str]] = &[&[
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
]];

/// The latest schema version this build knows.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The applied version (0 for an empty database).
pub async fn current(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(pool)
        .await?;
    Ok(v.unwrap_or(0))
}

/// Brings the schema to [`LATEST`]. Safe when several instances start at
/// once: PostgreSQL serialises them on an advisory lock, SQLite on its
/// write lock; a loser finds the work done.
pub async fn apply(pool: &AnyPool, backend: Backend) -> Result<(), sqlx::Error> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
    )
    .await?;
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
        let mut tx = pool.begin().await?;
        if backend == Backend::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock(7215001)").await?;
        }
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
