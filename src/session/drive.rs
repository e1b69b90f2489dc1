//! Feeding a [`FrameSource`] into a [`VerificationSession`]: frames until
//! the session finishes, the source ends or dies, or the caller quits. The
//! session drives the source; a source knows nothing of sessions.

use std::ops::ControlFlow;

use crate::error::Error;
use crate::session::result::AuthResult;
use crate::session::{Progress, VerificationSession};
use crate::source::{FrameSource, TimedFrame};

/// What [`run`] saw of one frame.
#[derive(Debug)]
pub enum FrameEvent<'a> {
    /// The session took the frame.
    Progress(&'a TimedFrame, &'a Progress),
    /// The frame was refused or could not be read; the session goes on
    /// unless it finished.
    Error(Option<&'a TimedFrame>, &'a Error),
}

/// Consecutive source errors after which [`run`] treats the source as dead.
pub const MAX_CONSECUTIVE_SOURCE_ERRORS: usize = 30;

/// Feeds `source` into `session` until the session finishes, the source
/// ends (or fails [`MAX_CONSECUTIVE_SOURCE_ERRORS`] times in a row), or
/// `on_frame` breaks (the user quit: the session is cancelled). Returns the
/// final result (never PROCESSING).
pub fn run(
    session: &mut VerificationSession,
    source: &mut dyn FrameSource,
    mut on_frame: impl FnMut(FrameEvent<'_>) -> ControlFlow<()>,
) -> AuthResult {
    let mut failures = 0;
    while !session.is_finished() && failures < MAX_CONSECUTIVE_SOURCE_ERRORS {
        let flow = match source.next_frame() {
            Ok(None) => break,
            Ok(Some(frame)) => {
                failures = 0;
                match session.push_frame(&frame.image, frame.t_ms) {
                    Ok(p) => on_frame(FrameEvent::Progress(&frame, &p)),
                    Err(e) => on_frame(FrameEvent::Error(Some(&frame), &e)),
                }
            }
            Err(e) => {
                failures += 1;
                on_frame(FrameEvent::Error(None, &e))
            }
        };
        if flow.is_break() {
            session.cancel();
        }
    }
    session.finish()
}
