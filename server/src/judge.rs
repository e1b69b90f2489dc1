//! Inference off the async workers: a bounded pool of blocking threads.
//! `workers` jobs run at once, `queue` more wait; past that a call is
//! answered 60000 at once instead of waiting.

use std::sync::Arc;

use realface::FaceEngine;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult, Code};

/// The models (loaded once) and the pool that runs them.
#[derive(Debug, Clone)]
pub struct Judge {
    engine: Arc<FaceEngine>,
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl Judge {
    /// A pool of `workers` threads with `queue` waiting places.
    pub fn new(engine: Arc<FaceEngine>, workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            engine,
            admitted: Arc::new(Semaphore::new(workers + queue)),
            running: Arc::new(Semaphore::new(workers)),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<FaceEngine> {
        &self.engine
    }

    /// Judging places free now (running or waiting), of `workers + queue`.
    pub fn free_places(&self) -> usize {
        self.admitted.available_permits()
    }

    /// Runs `job` on a blocking thread when a worker is free.
    pub async fn run<T, F>(&self, job: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<FaceEngine>) -> ApiResult<T> + Send + 'static,
    {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                Code::Unavailable,
                "queue.full",
                "every judging place is taken; try again shortly",
            )
        })?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal("pool", e))?;
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || {
            let _held = (admitted, running);
            job(engine)
        })
        .await
        .map_err(|e| ApiError::internal("pool", e))?
    }
}

/// A library error as the API answers it: bad input is 50002 with the
/// library's stable name as the cause; anything else is 55000.
pub fn lib_error(field: &str, e: &realface::Error) -> ApiError {
    use realface::ErrorCode as C;
    let code = e.code();
    let input = matches!(
        code,
        C::Decode
            | C::Unsupported
            | C::LimitExceeded
            | C::EmptyImage
            | C::NoFace
            | C::MultipleFaces
            | C::InvalidArgument
            | C::NonFiniteOutput
            | C::FrameOrder
    );
    let cause = format!("{field}.{}", code.name().to_ascii_lowercase());
    if input {
        ApiError::new(Code::BadParameter, cause, e.to_string())
    } else {
        ApiError::new(Code::Internal, cause, e.to_string())
    }
}
