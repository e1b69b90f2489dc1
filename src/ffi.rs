//! C ABI (feature `ffi`): a thin layer over the Rust API for mobile and desktop
//! clients. Header: `include/realface.h` (cbindgen; a test fails when stale).
//!
//! Conventions:
//! - opaque handles with create/destroy pairs: `rf_engine_new`/`rf_engine_free`,
//!   `rf_session_new`/`rf_session_free`; strings returned by the library are
//!   freed with `rf_string_free`;
//! - every function returns `RF_OK` (0) or a realface error code (the numbers of
//!   `ErrorCode`, e.g. 300 NO_FACE, 400 INVALID_ARGUMENT); the code and message
//!   of the last error on the calling thread are read with `rf_last_error_code`
//!   and `rf_last_error_message`;
//! - every pointer is checked for null; no panic crosses the boundary
//!   (`catch_unwind`; a caught panic is reported as code 102 INFERENCE);
//! - the verdict is the `AuthResult` as a JSON string (the same JSON as
//!   `realface verify --json`).
//!
//! Use after `*_free` cannot be detected in general and is undefined behaviour,
//! as in any C API; freeing null is a no-op.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::{Error, ErrorCode};
use crate::frame::{frame_from_buffer, PixelFormat};
use crate::session::certify::CertifyTicket;
use crate::session::{Reference, SessionOptions, SessionState, VerificationSession};
use crate::{EngineConfig, FaceEngine};

/// Success.
pub const RF_OK: i32 = 0;

/// Opaque engine handle.
pub struct RfEngine {
    engine: Arc<FaceEngine>,
}

/// Opaque session handle.
pub struct RfSession {
    session: VerificationSession,
    limits: crate::Limits,
}

/// Progress after a pushed frame.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct RfProgress {
    /// 0 waiting for a face, 1 warm-up, 2 action, 3 finished.
    pub state: u32,
    /// Ring progress 0..1.
    pub ring: f32,
    /// Current action: -1 none, 0 blink, 1 mouth_open, 2 turn_left, 3 turn_right, 4 nod.
    pub action: i32,
    /// Actions completed.
    pub actions_done: u32,
    /// Actions in the challenge.
    pub actions_total: u32,
    /// Faces in the frame.
    pub faces: u32,
}

thread_local! {
    static LAST_ERROR: RefCell<(i32, CString)> = RefCell::new((0, CString::default()));
}

fn set_error(code: i32, message: &str) -> i32 {
    let msg = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = (code, msg));
    code
}

fn report(e: &Error) -> i32 {
    set_error(e.code().as_u32() as i32, &e.to_string())
}

/// Runs `f`, turning errors and panics into codes.
fn guard(f: impl FnOnce() -> Result<(), Error>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_error(RF_OK, "");
            RF_OK
        }
        Ok(Err(e)) => report(&e),
        Err(_) => set_error(
            ErrorCode::Inference.as_u32() as i32,
            "internal panic caught at the C boundary",
        ),
    }
}

fn null(name: &'static str) -> Error {
    Error::invalid(name, "null pointer")
}

/// # Safety
/// `p` must be null or a valid NUL-terminated string.
unsafe fn opt_str<'a>(p: *const c_char, name: &'static str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|_| Error::invalid(name, "not UTF-8"))
}

/// # Safety
/// `p` must be null or point to `len` readable bytes.
unsafe fn bytes<'a>(p: *const u8, len: usize, name: &'static str) -> Result<&'a [u8], Error> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: the caller promises `len` readable bytes at `p`.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Code of the last error on this thread (0 after a success).
#[no_mangle]
pub extern "C" fn rf_last_error_code() -> i32 {
    LAST_ERROR.with(|e| e.borrow().0)
}

/// Message of the last error on this thread, valid until the next call on
/// this thread; never null.
#[no_mangle]
pub extern "C" fn rf_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().1.as_ptr())
}

/// Creates an engine. `model_dir` and `ort_library` may be null (defaults:
/// see the README). Writes the handle to `*out`.
///
/// # Safety
/// Strings must be null or valid NUL-terminated; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn rf_engine_new(
    model_dir: *const c_char,
    ort_library: *const c_char,
    out: *mut *mut RfEngine,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let mut cfg = EngineConfig::default();
        // SAFETY: forwarded caller guarantees.
        if let Some(d) = unsafe { opt_str(model_dir, "model_dir") }? {
            cfg = cfg.with_model_dir(d);
        }
        // SAFETY: forwarded caller guarantees.
        if let Some(l) = unsafe { opt_str(ort_library, "ort_library") }? {
            cfg = cfg.with_runtime_library(l);
        }
        let engine = Box::new(RfEngine {
            engine: Arc::new(FaceEngine::new(cfg)?),
        });
        // SAFETY: `out` is non-null and writable by contract.
        unsafe { *out = Box::into_raw(engine) };
        Ok(())
    })
}

/// Destroys an engine (null is a no-op). Sessions keep their own reference.
///
/// # Safety
/// `engine` must be null or a handle from `rf_engine_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn rf_engine_free(engine: *mut RfEngine) {
    if !engine.is_null() {
        // SAFETY: a live handle from rf_engine_new, freed once.
        drop(unsafe { Box::from_raw(engine) });
    }
}

/// Starts a session: `certify_id` (non-empty), a reference photo as encoded
/// image bytes, and `options_json` (a `SessionOptions` JSON object; null =
/// defaults). Writes the handle to `*out`.
///
/// # Safety
/// `engine` a live handle; strings null or NUL-terminated; `reference` points
/// to `reference_len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rf_session_new(
    engine: *const RfEngine,
    certify_id: *const c_char,
    reference: *const u8,
    reference_len: usize,
    options_json: *const c_char,
    out: *mut *mut RfSession,
) -> i32 {
    guard(|| {
        if engine.is_null() {
            return Err(null("engine"));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: a live engine handle by contract.
        let engine = unsafe { &*engine };
        // SAFETY: forwarded caller guarantees.
        let id = unsafe { opt_str(certify_id, "certify_id") }?.ok_or(Error::CertifyIdEmpty)?;
        // SAFETY: forwarded caller guarantees.
        let options = match unsafe { opt_str(options_json, "options_json") }? {
            Some(j) => serde_json::from_str::<SessionOptions>(j)
                .map_err(|e| Error::invalid("options_json", e.to_string()))?,
            None => SessionOptions::default(),
        };
        // SAFETY: forwarded caller guarantees.
        let img = engine
            .engine
            .decode(unsafe { bytes(reference, reference_len, "reference") }?)?;
        let ticket = CertifyTicket {
            certify_id: id.to_string(),
            issued_ms: 0,
            expires_ms: u64::MAX,
            challenge_nonce: String::new(),
        };
        let session = VerificationSession::new(
            engine.engine.clone(),
            ticket,
            Reference::Photo(img),
            options,
        )?;
        // SAFETY: `out` is non-null and writable by contract.
        unsafe {
            *out = Box::into_raw(Box::new(RfSession {
                session,
                limits: engine.engine.config().limits,
            }))
        };
        Ok(())
    })
}

/// Pushes one raw frame (format: 0 RGB, 1 RGBA, 2 BGRA, 3 grey; `stride` in
/// bytes per row) taken at `timestamp_ms`. `progress` may be null.
///
/// # Safety
/// `session` a live handle; `data` points to at least `len` bytes; `progress`
/// null or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rf_session_push_frame(
    session: *mut RfSession,
    data: *const u8,
    len: usize,
    width: u32,
    height: u32,
    stride: usize,
    format: u32,
    timestamp_ms: u64,
    progress: *mut RfProgress,
) -> i32 {
    guard(|| {
        if session.is_null() {
            return Err(null("session"));
        }
        // SAFETY: a live session handle by contract, used by one thread.
        let s = unsafe { &mut *session };
        // SAFETY: forwarded caller guarantees.
        let buf = unsafe { bytes(data, len, "data") }?;
        let frame = frame_from_buffer(
            buf,
            width,
            height,
            stride,
            PixelFormat::from_u32(format)?,
            &s.limits,
        )?;
        let p = s.session.push_frame(&frame, timestamp_ms)?;
        if !progress.is_null() {
            let out = RfProgress {
                state: match p.state {
                    SessionState::WaitingForFace => 0,
                    SessionState::Warmup => 1,
                    SessionState::Action => 2,
                    SessionState::Finished => 3,
                },
                ring: p.ring,
                action: p
                    .action
                    .and_then(|a| {
                        crate::liveness::actions::Action::ALL
                            .iter()
                            .position(|&x| x == a)
                    })
                    .map_or(-1, |i| i as i32),
                actions_done: p.actions_done as u32,
                actions_total: p.actions_total as u32,
                faces: p.faces as u32,
            };
            // SAFETY: non-null and writable by contract.
            unsafe { *progress = out };
        }
        Ok(())
    })
}

/// Ends the session (no more frames) and writes the `AuthResult` JSON to
/// `*json_out` (free it with `rf_string_free`). Finishing twice returns the
/// same verdict.
///
/// # Safety
/// `session` a live handle; `json_out` writable.
#[no_mangle]
pub unsafe extern "C" fn rf_session_finish(
    session: *mut RfSession,
    json_out: *mut *mut c_char,
) -> i32 {
    guard(|| {
        if session.is_null() {
            return Err(null("session"));
        }
        if json_out.is_null() {
            return Err(null("json_out"));
        }
        // SAFETY: a live session handle by contract.
        let s = unsafe { &mut *session };
        let json = serde_json::to_string(&s.session.finish())
            .map_err(|e| Error::invalid("result", e.to_string()))?;
        let c = CString::new(json).map_err(|_| Error::invalid("result", "NUL in JSON"))?;
        // SAFETY: non-null and writable by contract.
        unsafe { *json_out = c.into_raw() };
        Ok(())
    })
}

/// Ends the session as interrupted by the user (10011).
///
/// # Safety
/// `session` a live handle.
#[no_mangle]
pub unsafe extern "C" fn rf_session_cancel(session: *mut RfSession) -> i32 {
    guard(|| {
        if session.is_null() {
            return Err(null("session"));
        }
        // SAFETY: a live session handle by contract.
        unsafe { &mut *session }.session.cancel();
        Ok(())
    })
}

/// Destroys a session (null is a no-op).
///
/// # Safety
/// `session` null or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn rf_session_free(session: *mut RfSession) {
    if !session.is_null() {
        // SAFETY: a live handle from rf_session_new, freed once.
        drop(unsafe { Box::from_raw(session) });
    }
}

/// Frees a string returned by the library (null is a no-op).
///
/// # Safety
/// `s` null or a string from this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn rf_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: a string from CString::into_raw in this library, freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}
