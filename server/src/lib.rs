//! # realface-server
//!
//! The server side of the real-person authentication flow, built on the
//! same `realface` library the device runs: it issues certifyIds
//! (getCertifyId), draws each one's challenge, re-verifies the evidence the
//! device uploads (a video or timestamped frames) with a
//! [`realface::VerificationSession`], and serves the authoritative verdict
//! (getAuthResult). State lives in SQLite (one file) or PostgreSQL (several
//! instances behind a load balancer).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use realface_server::{Server, Settings};
//! let server = Server::open("realface.db", Settings::default()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! server.serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod billing;
pub mod clock;
pub mod config;
pub mod error;
pub mod evidence;
pub mod idcard;
pub mod judge;
pub mod lockout;
pub mod metrics;
pub mod reference;
pub mod secret;
pub mod settings;
pub mod store;
pub mod verdict;
pub mod web_runtime;
pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use realface::{EngineConfig, FaceEngine};

pub use api::AppState;
pub use clock::Clock;
pub use error::{ApiError, Code};
pub use settings::{EvidenceLimits, Settings, StoreSettings};
pub use store::Store;

/// A server: its store, models, settings and clock.
#[derive(Debug, Clone)]
pub struct Server {
    state: AppState,
}

/// Why a server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store.
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    /// The models.
    #[error("models: {0}")]
    Engine(#[from] realface::Error),
    /// The listener.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

impl Server {
    /// Opens the store at `db` (a SQLite file or a `postgres://` URL) and
    /// loads the models once.
    pub async fn open(db: &str, settings: Settings) -> Result<Self, ServerError> {
        let store = Store::open_with(
            db,
            settings.store.pool,
            std::time::Duration::from_millis(settings.store.acquire_timeout_ms.max(1)),
        )
        .await?;
        let workers = settings.workers.max(1);
        let matcher = settings.matcher;
        let engine = tokio::task::spawn_blocking(move || {
            FaceEngine::new(
                EngineConfig::default()
                    .with_sessions_per_model(workers)
                    .with_matcher(matcher),
            )
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
        Ok(Self::with_parts(store, Arc::new(engine), settings))
    }

    /// A server over an open store and a loaded engine.
    pub fn with_parts(store: Store, engine: Arc<FaceEngine>, settings: Settings) -> Self {
        let model_dir =
            realface::runtime::models::resolve_model_dir(engine.config().model_dir.as_deref());
        let web = web_runtime::WebRuntime::load(&model_dir);
        if let Some(why) = &web.missing {
            tracing::warn!(%why, "the capture page runs without in-page analysis");
        } else if let Some(why) = &web.session_missing {
            tracing::warn!(%why, "the capture page prompts on the fixed schedule (no session in the page)");
        }
        let judge = judge::Judge::new(engine, settings.workers, settings.queue);
        let seeded = settings
            .test_seed
            .map(|s| Arc::new(std::sync::Mutex::new(realface::rng::SplitMix::new(s))));
        Self {
            state: AppState {
                store,
                judge,
                settings: Arc::new(settings),
                clock: Arc::new(Clock::default()),
                webhooks: Arc::new(tokio::sync::Notify::new()),
                metrics: metrics::Metrics::new(),
                demo: None,
                seeded,
                capture_js: Arc::new(api::web::capture_js_asset(&web)),
                web: Arc::new(web),
            },
        }
    }

    /// Serves the demo (`/demo`): a new app named `demo` with a prepaid
    /// balance, whose key stays in this process; the demo page plays its
    /// backend. Returns the app's id.
    pub async fn enable_demo(&mut self) -> Result<String, ServerError> {
        let now = self.state.clock.now_ms();
        let app = self.state.store.add_app("demo", now, None).await?;
        self.state.store.deposit(&app.app_id, 100_000, now).await?;
        self.state.demo = Some(Arc::from(app.app_id.as_str()));
        Ok(app.app_id)
    }

    /// The shared state (tests move its clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves the API on `listener` until `shutdown` resolves, sweeping
    /// expired ids every [`Settings::sweep_every_ms`] and delivering
    /// webhook events.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let sweeper = tokio::spawn(sweep_loop(self.state.clone()));
        let courier = tokio::spawn(webhook::deliver::run(self.state.clone()));
        let app = api::router(self.state.clone());
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        courier.abort();
        Ok(served?)
    }
}

/// Days of call records kept (today included); older ones are purged and
/// cannot be asked for.
pub const RECORD_DAYS: i64 = 30;

async fn sweep_loop(state: AppState) {
    let every = std::time::Duration::from_millis(state.settings.sweep_every_ms.max(1_000));
    loop {
        // a failed sweep is retried next round; the API is unaffected
        let now = state.clock.now_ms();
        let _ = state.store.sweep(now, state.settings.retain_ms).await;
        let _ = state
            .store
            .purge_records(billing::day_of(now) - RECORD_DAYS + 1)
            .await;
        tokio::time::sleep(every).await;
    }
}
