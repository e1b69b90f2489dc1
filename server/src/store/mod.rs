//! The store: one schema on SQLite (one file, zero set-up) or PostgreSQL
//! (several server instances sharing one state), through sqlx's `Any`
//! driver with the same SQL text on both. Every state change is one
//! conditional statement, so concurrent instances and crashes never leave
//! a half-made change.

mod accounts;
mod apps;
mod certify;
mod lockout;
mod migrations;
mod outbox;
mod records;
mod web;

pub use accounts::Account;
pub use apps::{key_hash, App, AppAuth, NewApp};
pub use certify::{CertifyRow, Judged, NewCertify};
pub use lockout::Failure;
pub use migrations::LATEST as SCHEMA_VERSION;
pub use outbox::{OutboxEvent, OutboxState, Webhook};
pub use records::{DayStats, Record};
pub use web::{is_origin, WebSettings};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The server's store.
#[derive(Debug, Clone)]
pub struct Store {
    /// Reads (and, on PostgreSQL, writes).
    pool: AnyPool,
    /// Writes: on SQLite a pool of one connection, so writers queue in
    /// order in the process instead of polling SQLite's lock (its busy
    /// handler sleeps up to 100 ms a round, which made the p99 of writes
    /// under 32 concurrent callers 0.6-1 s); on PostgreSQL `pool` itself.
    writer: AnyPool,
    backend: Backend,
    secret: Vec<u8>,
}

/// How long a call waits for a store connection by default, ms.
pub const DEFAULT_ACQUIRE_TIMEOUT_MS: u64 = 5_000;

/// How long a SQLite writer waits for its turn at least.
const SQLITE_WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The sqlx URL of `--db`: a `postgres://` URL as is, anything else a SQLite
/// file (created if missing).
pub fn url_of(db: &str) -> (String, Backend) {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        (db.to_string(), Backend::Postgres)
    } else if db.starts_with("sqlite:") {
        (db.to_string(), Backend::Sqlite)
    } else {
        (format!("sqlite://{db}?mode=rwc"), Backend::Sqlite)
    }
}

impl Store {
    /// Connects, applies the migrations this build knows and loads the
    /// server's secret (made on first use). A call waits at most
    /// [`DEFAULT_ACQUIRE_TIMEOUT_MS`] for a connection.
    pub async fn open(db: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        Self::open_with(
            db,
            max_connections,
            std::time::Duration::from_millis(DEFAULT_ACQUIRE_TIMEOUT_MS),
        )
        .await
    }

    /// [`Store::open`] with how long a call waits for a connection before
    /// it fails (the database is away: the call is answered, never hangs).
    /// The pool tests a connection before lending it, so after the
    /// database restarts the instance reconnects by itself.
    pub async fn open_with(
        db: &str,
        max_connections: u32,
        acquire_timeout: std::time::Duration,
    ) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let (url, backend) = url_of(db);
        let options = AnyConnectOptions::from_str(&url)?;
        let connect = |n: u32, acquire_timeout: std::time::Duration| {
            AnyPoolOptions::new()
                .max_connections(n.max(1))
                .acquire_timeout(acquire_timeout)
                .test_before_acquire(true)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // other processes' writers wait instead of
                            // failing; WAL keeps readers off the writer's lock
                            conn.execute("PRAGMA busy_timeout = 30000").await?;
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let pool = connect(max_connections, acquire_timeout).await?;
        let writer = match backend {
            // SQLite's writers queue in this process by design: they wait
            // their turn (at least as long as SQLite's own busy timeout)
            Backend::Sqlite => connect(1, acquire_timeout.max(SQLITE_WRITER_WAIT)).await?,
            Backend::Postgres => pool.clone(),
        };
        migrations::apply(&writer, backend).await?;
        let secret = Self::load_secret(&writer).await?;
        Ok(Self {
            pool,
            writer,
            backend,
            secret,
        })
    }

    async fn load_secret(pool: &AnyPool) -> Result<Vec<u8>, sqlx::Error> {
        let fresh = realface::session::certify::random_hex(32)
            .map_err(|e| sqlx::Error::Protocol(format!("no randomness for the secret: {e}")))?;
        sqlx::query("INSERT INTO settings (name, value) VALUES ('id_secret', $1) ON CONFLICT (name) DO NOTHING")
            .bind(fresh)
            .execute(pool)
            .await?;
        let v: String = sqlx::query_scalar("SELECT value FROM settings WHERE name = 'id_secret'")
            .fetch_one(pool)
            .await?;
        Ok(v.into_bytes())
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The key of the ID numbers' keyed hash.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Whether the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The schema version applied.
    pub async fn schema_version(&self) -> Result<i64, sqlx::Error> {
        migrations::current(&self.pool).await
    }

    /// Refreshes the planner's statistics (and, on PostgreSQL, the
    /// visibility map that lets the daily statistics read the index only)
    /// after a bulk import.
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        let sql = match self.backend {
            Backend::Postgres => "VACUUM ANALYZE records",
            Backend::Sqlite => "ANALYZE",
        };
        self.writer.execute(sql).await?;
        Ok(())
    }

    /// Closes the pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}
