//! Call records (every call, refused ones too), read one day at a time, and
//! the daily statistics the database computes from them.

use sqlx::Row;

use super::Store;

/// One call.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// When (Unix ms).
    pub at_ms: i64,
    /// The app named by the call (as given, even when unknown).
    pub app_id: Option<String>,
    /// The caller's address.
    pub caller: String,
    /// The certifyId concerned.
    pub certify_id: Option<String>,
    /// certify, start, evidence, result, records, stats...
    pub step: String,
    /// The answer's errCode (0 for success).
    pub err_code: i64,
    /// The verdict given (evidence) or read (result).
    pub verdict: Option<String>,
    /// Billed by this call, fen.
    pub billed_fen: i64,
    /// The masked name.
    pub name_masked: Option<String>,
    /// The masked ID number.
    pub id_masked: Option<String>,
}

/// One day's figures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayStats {
    /// The day number.
    pub day: i64,
    /// Calls.
    pub requests: i64,
    /// Calls answered with errCode 0 (a FAIL verdict's upload is one: the
    /// call succeeded; see `verified` for verdicts).
    pub successful: i64,
    /// Verdicts SUCCESS given that day (one per judged certifyId).
    pub verified: i64,
    /// Verdicts FAIL given that day.
    pub not_verified: i64,
    /// Billed, fen.
    pub billed_fen: i64,
    /// certify calls refused because the identity was locked (54030).
    pub locked_out: i64,
}

/// One INSERT of `rows` (at most a few hundred: 12 parameters each). Ids
/// are a random 80-bit prefix per statement and the row's index.
pub(super) async fn insert_rows<'e, E>(exec: E, rows: &[Record]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let prefix = realface::session::certify::random_hex(10)
        .map_err(|e| sqlx::Error::Protocol(format!("no randomness: {e}")))?;
    let mut sql = String::from(
        "INSERT INTO records (id, day, at_ms, app_id, caller, certify_id, step, err_code, verdict, \
         billed_fen, name_masked, id_masked) VALUES ",
    );
    for i in 0..rows.len() {
        let params: Vec<String> = (1..=12).map(|k| format!("${}", i * 12 + k)).collect();
        sql.push_str(if i > 0 { ",(" } else { "(" });
        sql.push_str(&params.join(","));
        sql.push(')');
    }
    let mut q = sqlx::query(&sql);
    for (i, r) in rows.iter().enumerate() {
        q = q
            .bind(format!("{prefix}{i:04x}"))
            .bind(r.at_ms / 86_400_000)
            .bind(r.at_ms)
            .bind(r.app_id.clone())
            .bind(r.caller.clone())
            .bind(r.certify_id.clone())
            .bind(r.step.clone())
            .bind(r.err_code)
            .bind(r.verdict.clone())
            .bind(r.billed_fen)
            .bind(r.name_masked.clone())
            .bind(r.id_masked.clone());
    }
    q.execute(exec).await?;
    Ok(())
}

impl Store {
    /// Appends a call record (autocommit: one statement on the call's path).
    pub async fn insert_record(&self, r: &Record) -> Result<(), sqlx::Error> {
        insert_rows(&self.writer, std::slice::from_ref(r)).await
    }

    /// Appends many records in one transaction, 500 rows per statement
    /// (imports, benchmarks).
    pub async fn insert_records(&self, rs: &[Record]) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        for chunk in rs.chunks(500) {
            insert_rows(&mut *tx, chunk).await?;
        }
        tx.commit().await
    }

    /// One day's records, oldest first, `page_size` of them after the
    /// position `after` (the `(at_ms, id)` of the last record of the page
    /// before; None for the first page): (total that day, this page, the
    /// position to continue from if more may follow). Keyset paging: a
    /// late page costs what the first one does.
    pub async fn records_of_day(
        &self,
        day: i64,
        after: Option<(i64, String)>,
        page_size: i64,
    ) -> Result<(i64, Vec<Record>, Option<(i64, String)>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE day = $1")
            .bind(day)
            .fetch_one(&self.pool)
            .await?;
        let (at, id) = after.unwrap_or((i64::MIN, String::new()));
        // a row-value comparison: both stores read it as a range of the
        // (day, at_ms, id) index (PostgreSQL's generic plan filtered the
        // `at_ms > $2 OR (at_ms = $2 AND id > $3)` form row by row: a late
        // page of a 33k-record day took 138 ms, now the first page's time)
        let rows = sqlx::query(
            "SELECT id, at_ms, app_id, caller, certify_id, step, err_code, verdict, billed_fen, name_masked, id_masked \
             FROM records WHERE day = $1 AND (at_ms, id) > ($2, $3) \
             ORDER BY at_ms, id LIMIT $4",
        )
        .bind(day)
        .bind(at)
        .bind(id)
        .bind(page_size)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut last = None;
        for r in &rows {
            let at_ms: i64 = r.try_get("at_ms")?;
            last = Some((at_ms, r.try_get::<String, _>("id")?));
            out.push(Record {
                at_ms,
                app_id: r.try_get("app_id")?,
                caller: r.try_get("caller")?,
                certify_id: r.try_get("certify_id")?,
                step: r.try_get("step")?,
                err_code: r.try_get("err_code")?,
                verdict: r.try_get("verdict")?,
                billed_fen: r.try_get("billed_fen")?,
                name_masked: r.try_get("name_masked")?,
                id_masked: r.try_get("id_masked")?,
            });
        }
        let next = if (out.len() as i64) < page_size {
            None
        } else {
            last
        };
        Ok((total, out, next))
    }

    /// Figures per day from `from` to `to` (day numbers), days without calls
    /// included as zeros; grouped and summed by the database.
    pub async fn stats(&self, from: i64, to: i64) -> Result<Vec<DayStats>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT day, COUNT(*) AS n, CAST(SUM(CASE WHEN err_code = 0 THEN 1 ELSE 0 END) AS BIGINT) AS ok, \
             CAST(SUM(billed_fen) AS BIGINT) AS billed, \
             CAST(SUM(CASE WHEN step = 'evidence' AND verdict = 'SUCCESS' THEN 1 ELSE 0 END) AS BIGINT) AS verified, \
             CAST(SUM(CASE WHEN step = 'evidence' AND verdict = 'FAIL' THEN 1 ELSE 0 END) AS BIGINT) AS not_verified, \
             CAST(SUM(CASE WHEN err_code = 54030 THEN 1 ELSE 0 END) AS BIGINT) AS locked FROM records WHERE day >= $1 AND day <= $2 \
             GROUP BY day ORDER BY day",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<DayStats> = (from..=to)
            .map(|day| DayStats {
                day,
                requests: 0,
                successful: 0,
                verified: 0,
                not_verified: 0,
                billed_fen: 0,
                locked_out: 0,
            })
            .collect();
        for r in rows {
            let day: i64 = r.try_get("day")?;
            if let Some(s) = usize::try_from(day - from)
                .ok()
                .and_then(|i| out.get_mut(i))
            {
                s.requests = r.try_get("n")?;
                s.successful = r.try_get("ok")?;
                s.verified = r.try_get("verified")?;
                s.not_verified = r.try_get("not_verified")?;
                s.billed_fen = r.try_get("billed")?;
                s.locked_out = r.try_get("locked")?;
            }
        }
        Ok(out)
    }

    /// Deletes the records of days before `day`.
    pub async fn purge_records(&self, day: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM records WHERE day < $1")
            .bind(day)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    /// Sets the admin key (its hash is stored); the old one stops working.
    pub async fn set_admin_key(&self, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ('admin_key_hash', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(super::key_hash(key))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Whether `key` is the admin key.
    pub async fn is_admin_key(&self, key: &str) -> Result<bool, sqlx::Error> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE name = 'admin_key_hash'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.is_some_and(|h| crate::secret::matches(key, &h)))
    }
}

impl Store {
    /// Where the verdicts, the bills, the call records and the webhook
    /// outbox disagree (empty when they agree): a judged id must have
    /// exactly one settle row in the ledger, one evidence record carrying its
    /// verdict and, if its app had a webhook when it was judged, one outbox
    /// event; none of them may exist for an id not judged. They are written in one transaction, so
    /// this holds after a crash at any point.
    pub async fn audit(&self) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT c.certify_id, c.auth_state, \
             (SELECT COUNT(*) FROM ledger l WHERE l.certify_id = c.certify_id AND l.kind = 'settle') AS settles, \
             (SELECT COUNT(*) FROM records r WHERE r.certify_id = c.certify_id AND r.step = 'evidence' \
              AND r.verdict IS NOT NULL) AS verdicts, \
             (SELECT COUNT(*) FROM records r WHERE r.certify_id = c.certify_id AND r.step = 'evidence' \
              AND r.verdict = c.auth_state AND r.err_code = 0 AND r.billed_fen = c.billed_fen) AS agreeing, \
             (SELECT COUNT(*) FROM outbox o WHERE o.certify_id = c.certify_id) AS events, \
             (SELECT COUNT(*) FROM apps a WHERE a.app_id = c.app_id AND a.webhook_url IS NOT NULL \
              AND a.webhook_set_ms <= c.judged_ms) AS hooked \
             FROM certify c",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get("certify_id")?;
            let state: String = r.try_get("auth_state")?;
            let settles: i64 = r.try_get("settles")?;
            let verdicts: i64 = r.try_get("verdicts")?;
            let agreeing: i64 = r.try_get("agreeing")?;
            let events: i64 = r.try_get("events")?;
            let hooked: i64 = r.try_get("hooked")?;
            let judged = state != "PROCESSING";
            let want = i64::from(judged);
            // a judged id of an app that had a webhook then has its event
            let events_ok = if judged && hooked == 1 {
                events == 1
            } else {
                events <= want
            };
            if settles != want || verdicts != want || agreeing != want || !events_ok {
                out.push(format!(
                    "{id}: {state}, {settles} settle rows, {verdicts} verdict records ({agreeing} agreeing), {events} webhook events"
                ));
            }
        }
        Ok(out)
    }
}
