//! `/metrics` in the Prometheus text format (behind the admin key):
//! requests by route and errCode, verdicts by state and first reason, the
//! judging queue, judging latency, webhook tries and backlog.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    state: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// The server's metrics (cheap to clone: shared handles).
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RouteLabels, Counter>,
    verdicts: Family<VerdictLabels, Counter>,
    webhook_tries: Family<OutcomeLabels, Counter>,
    judge_latency: Histogram,
    /// Evidence admitted and not finished (waiting or being judged).
    pub judge_queue: Gauge<i64, AtomicI64>,
    /// Webhook events neither delivered nor given up (counted by the store
    /// when `/metrics` is scraped, its only reader).
    pub webhook_backlog: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh, zeroed metrics.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("realface");
        let requests = Family::<RouteLabels, Counter>::default();
        let verdicts = Family::<VerdictLabels, Counter>::default();
        let webhook_tries = Family::<OutcomeLabels, Counter>::default();
        let judge_latency =
            Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0]);
        let judge_queue = Gauge::<i64, AtomicI64>::default();
        let webhook_backlog = Gauge::<i64, AtomicI64>::default();
        r.register(
            "requests",
            "API calls by route and errCode",
            requests.clone(),
        );
        r.register(
            "verdicts",
            "Verdicts by state and first reason",
            verdicts.clone(),
        );
        r.register(
            "judge_queue_depth",
            "Evidence uploads admitted and not yet judged",
            judge_queue.clone(),
        );
        r.register(
            "judge_seconds",
            "Time to judge one evidence upload (queue wait included)",
            judge_latency.clone(),
        );
        r.register(
            "webhook_tries",
            "Webhook delivery tries by outcome",
            webhook_tries.clone(),
        );
        r.register(
            "webhook_backlog",
            "Webhook events neither delivered nor given up",
            webhook_backlog.clone(),
        );
        Self {
            registry: Arc::new(r),
            requests,
            verdicts,
            webhook_tries,
            judge_latency,
            judge_queue,
            webhook_backlog,
        }
    }

    /// One API call on `route` (the matched pattern) answered with `code`.
    pub fn request(&self, route: &str, code: i64) {
        self.requests
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                code: code.to_string(),
            })
            .inc();
    }

    /// One verdict (`reason` is the first reason's code, `none` on SUCCESS).
    pub fn verdict(&self, state: &str, reason: &str) {
        self.verdicts
            .get_or_create(&VerdictLabels {
                state: state.to_string(),
                reason: reason.to_string(),
            })
            .inc();
    }

    /// One judging, `seconds` long.
    pub fn judged(&self, seconds: f64) {
        self.judge_latency.observe(seconds);
    }

    /// One webhook try ended `outcome` (delivered, retry, given_up).
    pub fn webhook_try(&self, outcome: &str) {
        self.webhook_tries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // writing to a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
