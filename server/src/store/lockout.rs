//! What the lockout reads and writes: failed verdicts by identity, and the
//! admin's lifts (failures judged before a lift no longer count).

use sqlx::Row;

use super::Store;
use crate::lockout::ALL_APPS;

/// An identity's recent failure, as the lockout listing reads it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The identity key (the ID number's keyed hash).
    pub id_hash: String,
    /// The app whose verdict failed.
    pub app_id: String,
    /// The masked ID number.
    pub id_masked: String,
    /// When it was judged (Unix ms).
    pub judged_ms: i64,
}

impl Store {
    /// When failures of `id_hash` in `scope` (an app, or every app) were
    /// last lifted; 0 if never.
    async fn lifted_ms(&self, id_hash: &str, scope: &str) -> Result<i64, sqlx::Error> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(lifted_ms) FROM lockout_lifts WHERE id_hash = $1 AND (scope = $2 OR scope = $3)",
        )
        .bind(id_hash)
        .bind(scope)
        .bind(ALL_APPS)
        .fetch_one(&self.pool)
        .await?;
        Ok(v.unwrap_or(0))
    }

    /// The judge times of `id_hash`'s failed verdicts after `since` and
    /// after its last lift, in `scope` (an app id, or [`ALL_APPS`]).
    pub async fn failures(
        &self,
        id_hash: &str,
        scope: &str,
        since: i64,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let since = since.max(self.lifted_ms(id_hash, scope).await?);
        let rows = sqlx::query(
            "SELECT judged_ms FROM certify WHERE id_hash = $1 AND judged_ms > $2 \
             AND auth_state = 'FAIL' AND (app_id = $3 OR $3 = $4)",
        )
        .bind(id_hash)
        .bind(since)
        .bind(scope)
        .bind(ALL_APPS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| r.try_get("judged_ms")).collect()
    }

    /// Every failed verdict after `since` (the lockout listing groups them;
    /// lifts are applied by [`Store::failures`]).
    pub async fn recent_failures(&self, since: i64) -> Result<Vec<Failure>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id_hash, app_id, id_masked, judged_ms FROM certify \
             WHERE judged_ms > $1 AND auth_state = 'FAIL' ORDER BY judged_ms DESC LIMIT 100000",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Failure {
                    id_hash: r.try_get("id_hash")?,
                    app_id: r.try_get("app_id")?,
                    id_masked: r.try_get("id_masked")?,
                    judged_ms: r.try_get("judged_ms")?,
                })
            })
            .collect()
    }

    /// Lifts the lock of `id_hash` in `scope` at `now_ms`: failures judged
    /// until then no longer count.
    pub async fn lift_lockout(
        &self,
        id_hash: &str,
        scope: &str,
        now_ms: u64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO lockout_lifts (id_hash, scope, lifted_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (id_hash, scope) DO UPDATE SET lifted_ms = excluded.lifted_ms",
        )
        .bind(id_hash)
        .bind(scope)
        .bind(now_ms as i64)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
