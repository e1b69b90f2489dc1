//! The server's clock: the system's, plus an offset tests move forward to
//! expire ids without waiting 23 hours.

use std::sync::atomic::{AtomicU64, Ordering};

/// Unix time in ms, with an offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicU64,
}

impl Clock {
    /// Now, Unix ms.
    pub fn now_ms(&self) -> u64 {
        realface::session::certify::unix_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: u64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
