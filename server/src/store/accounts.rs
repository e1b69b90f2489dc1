//! The prepaid account of each app. Every movement is a ledger row written
//! in the same transaction as the change it records, so at every moment
//! (and after any crash) deposited = available + frozen + settled.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::Store;
use crate::billing::{contract_year_start, day_of, price_of, MAX_PRICE_FEN};

/// An app's account, in fen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The app.
    pub app_id: String,
    /// Every deposit.
    pub deposited: i64,
    /// What new certifyIds can freeze.
    pub available: i64,
    /// Frozen by issued, unjudged ids.
    pub frozen: i64,
    /// Billed for checks that ran.
    pub settled: i64,
    /// The contract's first day (day number).
    pub contract_start_day: i64,
    /// The first day of the contract year the last settlement fell in.
    pub year_start_day: i64,
    /// Checks billed in that contract year.
    pub year_calls: i64,
}

fn account(r: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        app_id: r.try_get("app_id")?,
        deposited: r.try_get("deposited")?,
        available: r.try_get("available")?,
        frozen: r.try_get("frozen")?,
        settled: r.try_get("settled")?,
        contract_start_day: r.try_get("start_day")?,
        year_start_day: r.try_get("year_start_day")?,
        year_calls: r.try_get("year_calls")?,
    })
}

const ACCOUNT_SQL: &str = "SELECT c.app_id, c.deposited, c.available, c.frozen, c.settled, \
     c.year_start_day, c.year_calls, COALESCE(a.contract_start_day, a.created_ms / 86400000) AS start_day \
     FROM accounts c JOIN apps a ON a.app_id = c.app_id";

/// A ledger row.
pub(super) async fn ledger(
    tx: &mut Transaction<'_, Any>,
    app_id: &str,
    certify_id: Option<&str>,
    kind: &str,
    amount: i64,
    call_index: Option<i64>,
    at_ms: u64,
) -> Result<(), sqlx::Error> {
    let id = realface::session::certify::random_hex(12)
        .map_err(|e| sqlx::Error::Protocol(format!("no randomness: {e}")))?;
    sqlx::query(
        "INSERT INTO ledger (id, app_id, certify_id, kind, amount, call_index, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(app_id)
    .bind(certify_id)
    .bind(kind)
    .bind(amount)
    .bind(call_index)
    .bind(at_ms as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Freezes the most one call can cost for a new id; false when the
/// available balance is short (nothing changed).
pub(super) async fn freeze(
    tx: &mut Transaction<'_, Any>,
    app_id: &str,
    certify_id: &str,
    at_ms: u64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE accounts SET available = available - $2, frozen = frozen + $2 \
         WHERE app_id = $1 AND available >= $2",
    )
    .bind(app_id)
    .bind(MAX_PRICE_FEN)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    ledger(
        tx,
        app_id,
        Some(certify_id),
        "freeze",
        MAX_PRICE_FEN,
        None,
        at_ms,
    )
    .await?;
    Ok(true)
}

/// Gives an unchecked id's freeze back to the available balance.
pub(super) async fn release(
    tx: &mut Transaction<'_, Any>,
    app_id: &str,
    certify_id: &str,
    amount: i64,
    at_ms: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET available = available + $2, frozen = frozen - $2 WHERE app_id = $1",
    )
    .bind(app_id)
    .bind(amount)
    .execute(&mut **tx)
    .await?;
    ledger(tx, app_id, Some(certify_id), "release", amount, None, at_ms).await
}

/// Settles a judged id's freeze at its call's tier price and releases the
/// rest; returns the price.
pub(super) async fn settle(
    tx: &mut Transaction<'_, Any>,
    app_id: &str,
    certify_id: &str,
    frozen: i64,
    at_ms: u64,
) -> Result<i64, sqlx::Error> {
    let start: i64 = sqlx::query_scalar(
        "SELECT COALESCE(contract_start_day, created_ms / 86400000) FROM apps WHERE app_id = $1",
    )
    .bind(app_id)
    .fetch_one(&mut **tx)
    .await?;
    let year = contract_year_start(start, day_of(at_ms));
    // the call's number in its contract year (restarts on the anniversary)
    let index: i64 = sqlx::query_scalar(
        "UPDATE accounts SET year_calls = CASE WHEN year_start_day = $2 THEN year_calls + 1 ELSE 1 END, \
         year_start_day = $2 WHERE app_id = $1 RETURNING year_calls",
    )
    .bind(app_id)
    .bind(year)
    .fetch_one(&mut **tx)
    .await?;
    let price = price_of(u64::try_from(index).unwrap_or(1)).min(frozen);
    sqlx::query(
        "UPDATE accounts SET frozen = frozen - $2, settled = settled + $3, available = available + $2 - $3 \
         WHERE app_id = $1",
    )
    .bind(app_id)
    .bind(frozen)
    .bind(price)
    .execute(&mut **tx)
    .await?;
    ledger(
        tx,
        app_id,
        Some(certify_id),
        "settle",
        price,
        Some(index),
        at_ms,
    )
    .await?;
    if frozen > price {
        ledger(
            tx,
            app_id,
            Some(certify_id),
            "release",
            frozen - price,
            None,
            at_ms,
        )
        .await?;
    }
    Ok(price)
}

impl Store {
    /// Adds `fen` to an app's balance; false if the app does not exist.
    pub async fn deposit(&self, app_id: &str, fen: i64, at_ms: u64) -> Result<bool, sqlx::Error> {
        if fen <= 0 {
            return Ok(false);
        }
        let mut tx = self.writer.begin().await?;
        let n = sqlx::query(
            "UPDATE accounts SET deposited = deposited + $2, available = available + $2 WHERE app_id = $1",
        )
        .bind(app_id)
        .bind(fen)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        ledger(&mut tx, app_id, None, "deposit", fen, None, at_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sets the checks already billed in the contract year that starts on
    /// `year_start_day` (an app moving from another billing system keeps its
    /// tier). Moves no money.
    pub async fn set_year_calls(
        &self,
        app_id: &str,
        year_start_day: i64,
        calls: i64,
    ) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(
            "UPDATE accounts SET year_start_day = $2, year_calls = $3 WHERE app_id = $1",
        )
        .bind(app_id)
        .bind(year_start_day)
        .bind(calls.max(0))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// One app's account.
    pub async fn account(&self, app_id: &str) -> Result<Option<Account>, sqlx::Error> {
        let r = sqlx::query(&format!("{ACCOUNT_SQL} WHERE c.app_id = $1"))
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(account).transpose()
    }

    /// Every app's account.
    pub async fn accounts(&self) -> Result<Vec<Account>, sqlx::Error> {
        let rows = sqlx::query(&format!("{ACCOUNT_SQL} ORDER BY c.app_id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account).collect()
    }

    /// The ledger's sums for an app: (deposits, freezes, settlements, releases).
    pub async fn ledger_sums(&self, app_id: &str) -> Result<(i64, i64, i64, i64), sqlx::Error> {
        let mut out = [0i64; 4];
        for (i, kind) in ["deposit", "freeze", "settle", "release"]
            .iter()
            .enumerate()
        {
            let v: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger WHERE app_id = $1 AND kind = $2",
            )
            .bind(app_id)
            .bind(*kind)
            .fetch_one(&self.pool)
            .await?;
            out[i] = v.unwrap_or(0);
        }
        Ok((out[0], out[1], out[2], out[3]))
    }

    /// The frozen amounts held by an app's ids.
    pub async fn frozen_by_ids(&self, app_id: &str) -> Result<i64, sqlx::Error> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(frozen_fen) AS BIGINT) FROM certify WHERE app_id = $1",
        )
        .bind(app_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(v.unwrap_or(0))
    }
}
