//! certifyIds: issued with a stored reference, started once (the challenge
//! drawn and a deadline set), judged once from evidence, swept after expiry.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{accounts, outbox, records, Record, Store};

/// A certifyId as issued.
#[derive(Debug, Clone)]
pub struct NewCertify {
    /// 128 random bits, hex.
    pub certify_id: String,
    /// The app it belongs to.
    pub app_id: String,
    /// The challenge nonce (secret until start).
    pub nonce: String,
    /// The masked name.
    pub name_masked: String,
    /// The masked ID number.
    pub id_masked: String,
    /// The ID number's keyed hash.
    pub id_hash: String,
    /// The reference embedding, JSON.
    pub reference: String,
    /// The device token's hash ([`crate::secret::hash`]).
    pub device_token_hash: String,
    /// Issued at (Unix ms).
    pub created_ms: u64,
    /// Expires at (Unix ms).
    pub expires_ms: u64,
}

/// A certifyId as stored.
#[derive(Debug, Clone)]
pub struct CertifyRow {
    /// Its id.
    pub certify_id: String,
    /// The app it belongs to.
    pub app_id: String,
    /// The device token's hash (None for ids issued before device tokens).
    pub device_token_hash: Option<String>,
    /// The challenge nonce.
    pub nonce: String,
    /// The reference embedding (JSON); gone once swept.
    pub reference: Option<String>,
    /// Expires at (Unix ms).
    pub expires_ms: i64,
    /// The challenge (JSON list of action names), once started.
    pub actions: Option<String>,
    /// Started at.
    pub started_ms: Option<i64>,
    /// How the evidence is captured (`web`: a recording on the nonce's
    /// fixed schedule; None: a device session), set at start.
    pub capture: Option<String>,
    /// Evidence must arrive by then.
    pub deadline_ms: Option<i64>,
    /// PROCESSING, SUCCESS or FAIL.
    pub auth_state: String,
    /// The server's verdict (JSON), once judged.
    pub verdict: Option<String>,
    /// The Y_O photo (base64 JPEG), after a SUCCESS.
    pub photo_o: Option<String>,
    /// The Y_M photo.
    pub photo_m: Option<String>,
    /// The masked name.
    pub name_masked: String,
    /// The masked ID number.
    pub id_masked: String,
    /// Billed for its check, fen.
    pub billed_fen: Option<i64>,
}

const SELECT: &str = "SELECT certify_id, app_id, device_token_hash, nonce, reference, expires_ms, actions, \
    started_ms, capture, deadline_ms, auth_state, verdict, photo_o, photo_m, name_masked, id_masked, billed_fen FROM certify";

fn row(r: &AnyRow) -> Result<CertifyRow, sqlx::Error> {
    Ok(CertifyRow {
        certify_id: r.try_get("certify_id")?,
        app_id: r.try_get("app_id")?,
        device_token_hash: r.try_get("device_token_hash")?,
        nonce: r.try_get("nonce")?,
        reference: r.try_get("reference")?,
        expires_ms: r.try_get("expires_ms")?,
        actions: r.try_get("actions")?,
        started_ms: r.try_get("started_ms")?,
        capture: r.try_get("capture")?,
        deadline_ms: r.try_get("deadline_ms")?,
        auth_state: r.try_get("auth_state")?,
        verdict: r.try_get("verdict")?,
        photo_o: r.try_get("photo_o")?,
        photo_m: r.try_get("photo_m")?,
        name_masked: r.try_get("name_masked")?,
        id_masked: r.try_get("id_masked")?,
        billed_fen: r.try_get("billed_fen")?,
    })
}

/// A judged certifyId's verdict to store.
#[derive(Debug, Clone)]
pub struct Judged<'a> {
    /// SUCCESS or FAIL.
    pub auth_state: &'a str,
    /// The verdict, JSON.
    pub verdict: &'a str,
    /// Y_O photo.
    pub photo_o: Option<&'a str>,
    /// Y_M photo.
    pub photo_m: Option<&'a str>,
    /// The device's own result, kept as advisory.
    pub advisory: Option<&'a str>,
    /// The verdict's webhook event: its id and JSON body, queued in the
    /// outbox if the app has a webhook.
    pub event: (&'a str, &'a str),
}

impl Store {
    /// Stores a new certifyId and freezes the price of one call from its
    /// app's balance, in one transaction. False (nothing stored) when the
    /// balance is short.
    pub async fn insert_certify(&self, c: &NewCertify) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        if !accounts::freeze(&mut tx, &c.app_id, &c.certify_id, c.created_ms).await? {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO certify (certify_id, app_id, nonce, name_masked, id_masked, id_hash, reference, \
             created_ms, expires_ms, auth_state, frozen_fen, device_token_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'PROCESSING', $10, $11)",
        )
        .bind(&c.certify_id)
        .bind(&c.app_id)
        .bind(&c.nonce)
        .bind(&c.name_masked)
        .bind(&c.id_masked)
        .bind(&c.id_hash)
        .bind(&c.reference)
        .bind(c.created_ms as i64)
        .bind(c.expires_ms as i64)
        .bind(crate::billing::MAX_PRICE_FEN)
        .bind(&c.device_token_hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An app's certifyId, expired or not.
    pub async fn certify(
        &self,
        certify_id: &str,
        app_id: &str,
    ) -> Result<Option<CertifyRow>, sqlx::Error> {
        let r = sqlx::query(&format!("{SELECT} WHERE certify_id = $1 AND app_id = $2"))
            .bind(certify_id)
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// A certifyId of any app (the device routes find it by id and check
    /// its device token).
    pub async fn certify_by_id(&self, certify_id: &str) -> Result<Option<CertifyRow>, sqlx::Error> {
        let r = sqlx::query(&format!("{SELECT} WHERE certify_id = $1"))
            .bind(certify_id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// Claims the id's one evidence upload at `now_ms`: true if no upload
    /// holds it (none yet, or one whose claim is older than `lease_ms`: an
    /// instance killed while judging frees it), and it is not judged yet.
    pub async fn claim_evidence(
        &self,
        certify_id: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(
            "UPDATE certify SET evidence_claim_ms = $2 WHERE certify_id = $1 AND auth_state = 'PROCESSING' \
             AND (evidence_claim_ms IS NULL OR evidence_claim_ms < $3)",
        )
        .bind(certify_id)
        .bind(now_ms as i64)
        .bind(now_ms.saturating_sub(lease_ms) as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Gives back the claim made at `claim_ms` (the upload was refused and
    /// nothing was judged: the device may send it again).
    pub async fn release_evidence(
        &self,
        certify_id: &str,
        claim_ms: u64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE certify SET evidence_claim_ms = NULL WHERE certify_id = $1 AND evidence_claim_ms = $2 \
             AND auth_state = 'PROCESSING'",
        )
        .bind(certify_id)
        .bind(claim_ms as i64)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Starts a certifyId: true if it was issued, unexpired and not started.
    pub async fn start(
        &self,
        certify_id: &str,
        app_id: &str,
        now_ms: u64,
        deadline_ms: u64,
        actions: &str,
        capture: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(
            "UPDATE certify SET started_ms = $3, deadline_ms = $4, actions = $5, capture = $6 \
             WHERE certify_id = $1 AND app_id = $2 AND started_ms IS NULL AND expires_ms > $3",
        )
        .bind(certify_id)
        .bind(app_id)
        .bind(now_ms as i64)
        .bind(deadline_ms as i64)
        .bind(actions)
        .bind(capture)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Stores a verdict for evidence that arrived at `arrived_ms`, bills the
    /// check (its freeze settled at its call's tier price), writes the
    /// call's record with the verdict and the price and queues the
    /// verdict's webhook event (if the app has a webhook), all in one
    /// transaction: `Some(price)` if the id was started, not judged yet,
    /// still frozen, and the evidence arrived before its deadline and
    /// expiry; otherwise nothing is written.
    pub async fn judge(
        &self,
        certify_id: &str,
        app_id: &str,
        arrived_ms: u64,
        now_ms: u64,
        j: &Judged<'_>,
        record: &mut Record,
    ) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let frozen: Option<i64> = sqlx::query_scalar(
            "UPDATE certify SET auth_state = $4, verdict = $5, photo_o = $6, photo_m = $7, advisory = $8, \
             judged_ms = $9 WHERE certify_id = $1 AND app_id = $2 AND auth_state = 'PROCESSING' \
             AND started_ms IS NOT NULL AND deadline_ms >= $3 AND expires_ms > $3 AND frozen_fen > 0 \
             RETURNING frozen_fen",
        )
        .bind(certify_id)
        .bind(app_id)
        .bind(arrived_ms as i64)
        .bind(j.auth_state)
        .bind(j.verdict)
        .bind(j.photo_o)
        .bind(j.photo_m)
        .bind(j.advisory)
        .bind(now_ms as i64)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(frozen) = frozen else {
            return Ok(None);
        };
        let price = accounts::settle(&mut tx, app_id, certify_id, frozen, now_ms).await?;
        sqlx::query("UPDATE certify SET frozen_fen = 0, billed_fen = $2 WHERE certify_id = $1")
            .bind(certify_id)
            .bind(price)
            .execute(&mut *tx)
            .await?;
        record.verdict = Some(j.auth_state.to_string());
        record.billed_fen = price;
        record.at_ms = now_ms as i64;
        record.err_code = 0;
        records::insert_rows(&mut *tx, std::slice::from_ref(record)).await?;
        outbox::enqueue(&mut tx, app_id, certify_id, j.event.0, j.event.1, now_ms).await?;
        tx.commit().await?;
        Ok(Some(price))
    }

    /// Releases the freeze of ids that expired unjudged (each in its own
    /// transaction, safe on every instance at once); returns how many.
    pub async fn release_expired(&self, now_ms: u64) -> Result<u64, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT certify_id, app_id, frozen_fen FROM certify WHERE frozen_fen > 0 AND expires_ms <= $1 LIMIT 1000",
        )
        .bind(now_ms as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut released = 0;
        for r in rows {
            let id: String = r.try_get("certify_id")?;
            let app: String = r.try_get("app_id")?;
            let amount: i64 = r.try_get("frozen_fen")?;
            let mut tx = self.writer.begin().await?;
            // exactly once: another instance (or a verdict) may have got there first
            let n = sqlx::query(
                "UPDATE certify SET frozen_fen = 0 WHERE certify_id = $1 AND frozen_fen = $2 AND expires_ms <= $3",
            )
            .bind(&id)
            .bind(amount)
            .bind(now_ms as i64)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                continue;
            }
            accounts::release(&mut tx, &app, &id, amount, now_ms).await?;
            tx.commit().await?;
            released += 1;
        }
        Ok(released)
    }

    /// Deletes the reference, photos and device result of every id expired
    /// at `now_ms`, and every row expired more than `retain_ms` ago (with
    /// its delivered or given-up webhook event). Safe on
    /// every instance at once. Returns (ids swept, rows deleted).
    pub async fn sweep(&self, now_ms: u64, retain_ms: u64) -> Result<(u64, u64), sqlx::Error> {
        self.release_expired(now_ms).await?;
        let swept = sqlx::query(
            "UPDATE certify SET reference = NULL, photo_o = NULL, photo_m = NULL, advisory = NULL, \
             swept_ms = $1 WHERE expires_ms <= $1 AND swept_ms IS NULL",
        )
        .bind(now_ms as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let deleted = sqlx::query("DELETE FROM certify WHERE expires_ms <= $1")
            .bind(now_ms.saturating_sub(retain_ms) as i64)
            .execute(&self.writer)
            .await?
            .rows_affected();
        // webhook events go with their id's row, once they are settled
        sqlx::query(
            "DELETE FROM outbox WHERE created_ms <= $1              AND (delivered_ms IS NOT NULL OR failed_ms IS NOT NULL)              AND NOT EXISTS (SELECT 1 FROM certify c WHERE c.certify_id = outbox.certify_id)",
        )
        .bind(now_ms.saturating_sub(retain_ms) as i64)
        .execute(&self.writer)
        .await?;
        Ok((swept, deleted))
    }

    /// A digest of every stored row's state (tests: "nothing was written").
    pub async fn fingerprint(&self) -> Result<String, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT certify_id, COALESCE(started_ms, -1) AS s, auth_state, COALESCE(judged_ms, -1) AS j \
             FROM certify ORDER BY certify_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = String::new();
        for r in rows {
            let id: String = r.try_get("certify_id")?;
            let s: i64 = r.try_get("s")?;
            let state: String = r.try_get("auth_state")?;
            let j: i64 = r.try_get("j")?;
            out.push_str(&format!("{id}:{s}:{state}:{j};"));
        }
        let apps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps")
            .fetch_one(&self.pool)
            .await?;
        let callers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_callers")
            .fetch_one(&self.pool)
            .await?;
        out.push_str(&format!("apps={apps};callers={callers};"));
        let money = sqlx::query(
            "SELECT app_id, deposited, available, frozen, settled, year_calls FROM accounts ORDER BY app_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in money {
            let app: String = r.try_get("app_id")?;
            let v: [i64; 5] = [
                r.try_get("deposited")?,
                r.try_get("available")?,
                r.try_get("frozen")?,
                r.try_get("settled")?,
                r.try_get("year_calls")?,
            ];
            out.push_str(&format!("{app}={v:?};"));
        }
        let ledger: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger")
            .fetch_one(&self.pool)
            .await?;
        out.push_str(&format!("ledger={ledger};"));
        let hooks: Vec<Option<String>> =
            sqlx::query_scalar("SELECT webhook_url FROM apps ORDER BY app_id")
                .fetch_all(&self.pool)
                .await?;
        let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        out.push_str(&format!("hooks={hooks:?};outbox={outbox}"));
        Ok(out)
    }
}
