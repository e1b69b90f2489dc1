//! The outbox's courier: leases due events, POSTs each signed with the
//! app's current secrets, and records the answer (delivered, retry later,
//! or given up). Every instance runs one; the lease makes each try one
//! instance's, and a killed instance's leases lapse after
//! `timeout_ms + LEASE_MARGIN_MS`, so its events are tried again.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::signature::{sign, HEADER};
use crate::api::AppState;
use crate::store::OutboxEvent;

/// Time a try's lease lasts beyond its timeout, ms.
pub const LEASE_MARGIN_MS: u64 = 5_000;

/// Events looked at per round.
const BATCH: i64 = 64;

/// The HTTP client deliveries go through.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client for deliveries (plain HTTP/1.1).
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Runs forever: a round whenever a verdict wakes it, else every
/// `poll_ms`.
pub async fn run(state: AppState) {
    let client = client();
    let poll = Duration::from_millis(state.settings.webhook.poll_ms.max(10));
    loop {
        // a failed round (the store is away) is retried next round
        let _ = round(&state, &client).await;
        tokio::select! {
            _ = state.webhooks.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// One round: every due event is tried once (at most `concurrency` at a
/// time). Returns how many were tried.
pub async fn round(state: &AppState, client: &HttpClient) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let due = state.store.due_events(now, BATCH).await?;
    let settings = state.settings.webhook;
    let lease_until = now + settings.timeout_ms + LEASE_MARGIN_MS;
    let mut tried = 0;
    let mut running = tokio::task::JoinSet::new();
    for e in due {
        if !state.store.lease_event(&e, lease_until).await? {
            continue; // another instance took it
        }
        tried += 1;
        while running.len() >= settings.concurrency.max(1) {
            let _ = running.join_next().await;
        }
        let (state, client) = (state.clone(), client.clone());
        running.spawn(async move { try_once(&state, &client, e).await });
    }
    while running.join_next().await.is_some() {}
    Ok(tried)
}

/// A uniform draw in [0, 1) for the jitter.
fn unit() -> f64 {
    realface::session::certify::random_hex(7)
        .ok()
        .and_then(|h| u64::from_str_radix(&h, 16).ok())
        .map_or(0.5, |v| v as f64 / (1u64 << 56) as f64)
}

async fn try_once(state: &AppState, client: &HttpClient, e: OutboxEvent) {
    let settings = state.settings.webhook;
    let result = post(state, client, &e).await;
    let now = state.clock.now_ms();
    let outcome = match result {
        Ok(()) => {
            let _ = state.store.event_delivered(&e.event_id, now).await;
            "delivered"
        }
        Err(error) => {
            let attempts = u32::try_from(e.attempts + 1).unwrap_or(u32::MAX);
            let next = (attempts < settings.max_attempts)
                .then(|| now + settings.backoff_ms(attempts, unit()));
            let _ = state
                .store
                .event_failed(&e.event_id, now, next, &error)
                .await;
            if next.is_some() {
                "retry"
            } else {
                "given_up"
            }
        }
    };
    state.metrics.webhook_try(outcome);
    tracing::info!(
        event_id = %e.event_id,
        certify_id = %e.certify_id,
        attempt = e.attempts + 1,
        outcome,
        "webhook"
    );
}

async fn post(state: &AppState, client: &HttpClient, e: &OutboxEvent) -> Result<(), String> {
    let now = state.clock.now_ms();
    let secrets = state
        .store
        .webhook_secrets(&e.app_id, now)
        .await
        .map_err(|err| format!("store: {err}"))?;
    if secrets.is_empty() {
        return Err("the app has no webhook secret".into());
    }
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signature = sign(&refs, now / 1000, e.body.as_bytes());
    let request = hyper::Request::post(e.url.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "realface-server-webhook/1")
        .header(HEADER, signature)
        .header("Realface-Event-Id", e.event_id.as_str())
        .body(Full::new(Bytes::from(e.body.clone())))
        .map_err(|err| format!("request: {err}"))?;
    let timeout = Duration::from_millis(state.settings.webhook.timeout_ms.max(1));
    let answer = tokio::time::timeout(timeout, async {
        let response = client
            .request(request)
            .await
            .map_err(|err| err.to_string())?;
        let status = response.status();
        // read (and drop) a little of the body so the connection is reused
        let _ = http_body_util::Limited::new(response.into_body(), 64 << 10)
            .collect()
            .await;
        Ok::<_, String>(status)
    })
    .await
    .map_err(|_| format!("no answer within {} ms", timeout.as_millis()))??;
    if answer.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered HTTP {}", answer.as_u16()))
    }
}
