//! Verdict webhooks in the store: each app's callback URL and signing
//! secrets, and the outbox: one row per verdict, written in the verdict's
//! own transaction ([`enqueue`]), then delivered at least once by whichever
//! instance leases it first.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::Store;

/// An app's webhook as its backend reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Where verdicts are POSTed (None: no webhook).
    pub url: Option<String>,
    /// The secret deliveries are signed with.
    pub secret: Option<String>,
    /// Until when (Unix ms) the previous secret still signs too, after a
    /// rotation.
    pub previous_valid_until_ms: Option<i64>,
}

/// One outbox row.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEvent {
    /// The event's id (the receiver's idempotency key).
    pub event_id: String,
    /// The app it goes to.
    pub app_id: String,
    /// The certifyId judged.
    pub certify_id: String,
    /// The URL it goes to (the app's when the verdict was stored).
    #[serde(skip)]
    pub url: String,
    /// The JSON body, fixed at the verdict.
    #[serde(skip)]
    pub body: String,
    /// Written at (Unix ms).
    pub created_ms: i64,
    /// Deliveries tried.
    pub attempts: i64,
    /// When the next try is due (or the current try's lease ends).
    pub next_ms: i64,
    /// Acknowledged by the receiver at.
    pub delivered_ms: Option<i64>,
    /// Given up at, after the last retry.
    pub failed_ms: Option<i64>,
    /// The last try's failure.
    pub last_error: Option<String>,
}

/// Which outbox rows to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for a (first or next) try.
    Pending,
    /// Acknowledged.
    Delivered,
    /// Given up.
    Failed,
}

impl OutboxState {
    fn condition(self) -> &'static str {
        match self {
            Self::Pending => "delivered_ms IS NULL AND failed_ms IS NULL",
            Self::Delivered => "delivered_ms IS NOT NULL",
            Self::Failed => "failed_ms IS NOT NULL",
        }
    }
}

const COLUMNS: &str = "event_id, app_id, certify_id, url, body, created_ms, attempts, next_ms, \
    delivered_ms, failed_ms, last_error";

fn event(r: &AnyRow) -> Result<OutboxEvent, sqlx::Error> {
    Ok(OutboxEvent {
        event_id: r.try_get("event_id")?,
        app_id: r.try_get("app_id")?,
        certify_id: r.try_get("certify_id")?,
        url: r.try_get("url")?,
        body: r.try_get("body")?,
        created_ms: r.try_get("created_ms")?,
        attempts: r.try_get("attempts")?,
        next_ms: r.try_get("next_ms")?,
        delivered_ms: r.try_get("delivered_ms")?,
        failed_ms: r.try_get("failed_ms")?,
        last_error: r.try_get("last_error")?,
    })
}

/// Writes the verdict's event inside the verdict's transaction, if the app
/// has a webhook; returns whether it did.
pub(super) async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    app_id: &str,
    certify_id: &str,
    event_id: &str,
    body: &str,
    now_ms: u64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO outbox (event_id, app_id, certify_id, url, body, created_ms, next_ms) \
         SELECT $1, app_id, $2, webhook_url, $3, $4, $4 FROM apps \
         WHERE app_id = $5 AND webhook_url IS NOT NULL",
    )
    .bind(event_id)
    .bind(certify_id)
    .bind(body)
    .bind(now_ms as i64)
    .bind(app_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

fn new_secret() -> Result<String, sqlx::Error> {
    realface::session::certify::random_hex(32)
        .map(|h| format!("whsec_{h}"))
        .map_err(|e| sqlx::Error::Protocol(format!("no randomness: {e}")))
}

impl Store {
    /// Sets (or, with None, removes) an app's webhook URL; the first URL
    /// also makes its signing secret. None if the app does not exist.
    pub async fn set_webhook(
        &self,
        app_id: &str,
        url: Option<&str>,
        now_ms: u64,
    ) -> Result<Option<Webhook>, sqlx::Error> {
        let secret = new_secret()?;
        let n = sqlx::query(
            "UPDATE apps SET webhook_url = $2, webhook_set_ms = $3, \
             webhook_secret = COALESCE(webhook_secret, $4) WHERE app_id = $1",
        )
        .bind(app_id)
        .bind(url)
        .bind(now_ms as i64)
        .bind(&secret)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(None);
        }
        self.webhook(app_id).await
    }

    /// A new signing secret; the current one keeps signing too until
    /// `now_ms + overlap_ms`. None if the app does not exist.
    pub async fn rotate_webhook_secret(
        &self,
        app_id: &str,
        now_ms: u64,
        overlap_ms: u64,
    ) -> Result<Option<Webhook>, sqlx::Error> {
        let secret = new_secret()?;
        let n = sqlx::query(
            "UPDATE apps SET webhook_old_secret = webhook_secret, webhook_old_until_ms = $3, \
             webhook_secret = $2 WHERE app_id = $1",
        )
        .bind(app_id)
        .bind(&secret)
        .bind(now_ms.saturating_add(overlap_ms) as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(None);
        }
        self.webhook(app_id).await
    }

    /// An app's webhook (None if the app does not exist).
    pub async fn webhook(&self, app_id: &str) -> Result<Option<Webhook>, sqlx::Error> {
        let Some(r) = sqlx::query(
            "SELECT webhook_url, webhook_secret, webhook_old_until_ms FROM apps WHERE app_id = $1",
        )
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(Webhook {
            url: r.try_get("webhook_url")?,
            secret: r.try_get("webhook_secret")?,
            previous_valid_until_ms: r.try_get("webhook_old_until_ms")?,
        }))
    }

    /// The secrets a delivery to `app_id` is signed with at `now_ms`: the
    /// current one, and the previous one while its overlap lasts.
    pub async fn webhook_secrets(
        &self,
        app_id: &str,
        now_ms: u64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let Some(r) = sqlx::query(
            "SELECT webhook_secret, webhook_old_secret, webhook_old_until_ms FROM apps WHERE app_id = $1",
        )
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(2);
        if let Some(s) = r.try_get::<Option<String>, _>("webhook_secret")? {
            out.push(s);
        }
        let old: Option<String> = r.try_get("webhook_old_secret")?;
        let until: Option<i64> = r.try_get("webhook_old_until_ms")?;
        if let (Some(s), Some(until)) = (old, until) {
            if until > now_ms as i64 {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Events due at `now_ms` (oldest first), at most `limit`.
    pub async fn due_events(
        &self,
        now_ms: u64,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE delivered_ms IS NULL AND failed_ms IS NULL \
             AND next_ms <= $1 ORDER BY next_ms, event_id LIMIT $2"
        ))
        .bind(now_ms as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event).collect()
    }

    /// Takes a due event for one delivery try until `lease_until_ms` (a
    /// server killed mid-try leaves it to be tried again then). False when
    /// another instance took it first.
    pub async fn lease_event(
        &self,
        e: &OutboxEvent,
        lease_until_ms: u64,
    ) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(
            "UPDATE outbox SET next_ms = $3 WHERE event_id = $1 AND next_ms = $2 \
             AND delivered_ms IS NULL AND failed_ms IS NULL",
        )
        .bind(&e.event_id)
        .bind(e.next_ms)
        .bind(lease_until_ms as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// The receiver acknowledged the event.
    pub async fn event_delivered(&self, event_id: &str, now_ms: u64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE outbox SET delivered_ms = $2, attempts = attempts + 1, last_error = NULL \
             WHERE event_id = $1 AND delivered_ms IS NULL",
        )
        .bind(event_id)
        .bind(now_ms as i64)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A try failed: the next one is due at `next_ms`, or, with None, the
    /// event is given up at `now_ms`.
    pub async fn event_failed(
        &self,
        event_id: &str,
        now_ms: u64,
        next_ms: Option<u64>,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        let q = match next_ms {
            Some(next) => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, next_ms = $2, last_error = $3 \
                 WHERE event_id = $1 AND delivered_ms IS NULL",
            )
            .bind(event_id)
            .bind(next as i64),
            None => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, failed_ms = $2, last_error = $3 \
                 WHERE event_id = $1 AND delivered_ms IS NULL",
            )
            .bind(event_id)
            .bind(now_ms as i64),
        };
        q.bind(error).execute(&self.writer).await?;
        Ok(())
    }

    /// Puts a given-up event back in the queue, due now (admin). False if
    /// there is no such given-up event.
    pub async fn redeliver_event(&self, event_id: &str, now_ms: u64) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(
            "UPDATE outbox SET failed_ms = NULL, next_ms = $2, attempts = 0 \
             WHERE event_id = $1 AND failed_ms IS NOT NULL",
        )
        .bind(event_id)
        .bind(now_ms as i64)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Outbox rows in `state`, newest first, at most `limit`.
    pub async fn outbox(
        &self,
        state: OutboxState,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE {} ORDER BY created_ms DESC, event_id LIMIT $1",
            state.condition()
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event).collect()
    }

    /// Events not delivered and not given up (the metrics' backlog).
    pub async fn outbox_backlog(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM outbox WHERE {}",
            OutboxState::Pending.condition()
        ))
        .fetch_one(&self.pool)
        .await
    }
}
