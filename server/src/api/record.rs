//! Every API call leaves a record: who called, about which certifyId, at
//! which step, with which answer, verdict and billed amount.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::AppState;
use crate::error::ApiResult;
use crate::store::{CertifyRow, Record};

/// What a handler learns about its call, recorded when it answers (unless
/// the call's own transaction wrote it already: [`Rec::written`]).
#[derive(Debug, Clone)]
pub struct Rec(pub Record, bool);

impl Rec {
    /// A record of a call at `step` from `peer`, about `certify_id`.
    pub fn new(
        step: &str,
        headers: &HeaderMap,
        peer: SocketAddr,
        certify_id: Option<&str>,
    ) -> Self {
        let app = headers
            .get("x-realface-app")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(64).collect::<String>())
            .filter(|v| !v.is_empty());
        Self(
            Record {
                app_id: app,
                caller: peer.ip().to_string(),
                certify_id: certify_id.map(|id| id.chars().take(64).collect()),
                step: step.to_string(),
                ..Record::default()
            },
            false,
        )
    }

    /// The call's transaction wrote this record (with its verdict and
    /// price): answering does not write it again.
    pub fn written(&mut self) {
        self.1 = true;
    }

    /// The masked identity of the certifyId's row.
    pub fn identity(&mut self, row: &CertifyRow) {
        if self.0.app_id.is_none() {
            // device routes name no app: the id's own
            self.0.app_id = Some(row.app_id.clone());
        }
        self.0.name_masked = Some(row.name_masked.clone());
        self.0.id_masked = Some(row.id_masked.clone());
    }

    /// Writes the record (a record that cannot be written does not change
    /// the answer) and answers.
    pub async fn answer(mut self, state: &AppState, r: ApiResult<Json<Value>>) -> Response {
        // a call refused because the store is away cannot be recorded
        // there either: answer at once instead of waiting on it again
        let unreachable = matches!(&r, Err(e) if e.is_store_unavailable());
        if !self.1 && !unreachable {
            self.0.at_ms = state.clock.now_ms() as i64;
            self.0.err_code = match &r {
                Ok(_) => 0,
                Err(e) => i64::from(e.code.number()),
            };
            let _ = state.store.insert_record(&self.0).await;
        }
        r.into_response()
    }
}
