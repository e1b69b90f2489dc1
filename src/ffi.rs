//! C ABI (feature `ffi`): a thin layer over the Rust API for mobile and desktop
//! clients. Header: `include/realface.h` (cbindgen; a test fails when stale).
//!
//! Conventions:
//! - opaque handles with create/destroy pairs: `rf_engine_new`/`rf_engine_free`,
//!   `rf_registry_new`/`rf_registry_free`, `rf_session_new`/`rf_session_free`;
//!   strings returned by the library are freed with `rf_string_free`;
//! - a session needs a certifyId claimed through a registry: one issued by
//!   the registry itself (`rf_registry_issue`, nonce null), or one issued by
//!   the server with its challenge nonce and expiry; expired, reused or
//!   nonce-less ids are refused with the product's codes (CERTIFY_ID_*);
//! - every function returns `RF_OK` (0) or a realface error code (the numbers of
//!   `ErrorCode`, e.g. 300 NO_FACE, 400 INVALID_ARGUMENT); the code and message
//!   of the last error on the calling thread are read with `rf_last_error_code`
//!   and `rf_last_error_message`;
//! - every pointer is checked for null, and every `*out` pointer is set to
//!   null before any work, so an error never leaves a stale handle; no panic
//!   crosses the boundary (`catch_unwind` in every function, the free
//!   functions included): a caught panic is code 900 INTERNAL, and a panic
//!   inside a session ends that session as FAIL (reason INTERNAL), so every
//!   later call answers with that verdict;
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
use crate::imaging::frame::{frame_from_buffer, PixelFormat};
use crate::matching::embed::Embedding;
use crate::session::certify::{unix_now_ms as now_ms, CertifyRegistry, CertifyTicket, IssuedId};
use crate::session::{Reference, SessionOptions, SessionState, TimerKind, VerificationSession};
use crate::{EngineConfig, FaceEngine};

/// Success.
pub const RF_OK: i32 = 0;

/// Opaque engine handle.
pub struct RfEngine {
    engine: Arc<FaceEngine>,
}

/// Opaque certifyId registry handle: the ids claimed through it cannot be
/// claimed again.
pub struct RfRegistry {
    registry: CertifyRegistry,
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
    /// 0 waiting for a face, 1 warm-up, 2 a prompt is shown (show `action`),
    /// 3 finished, 4 hold still (between prompts: show "Hold still").
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
    /// When the shown prompt appeared (ms since the first frame); -1 when
    /// no prompt is shown.
    pub prompt_at_ms: i64,
    /// The answer must start in this window (ms since the first frame);
    /// -1 when no prompt is shown.
    pub window_start_ms: i64,
    /// See `window_start_ms`.
    pub window_end_ms: i64,
    /// The text and icon to show: its number in the prompt table (read the
    /// text with `rf_prompt_text`; 0 face in the circle, 1 hold still, 2-6
    /// the actions in `action`'s order, 7 done, 8 "step k of n", 9 relax
    /// (after a release cue), 10 hold until the ring is full).
    pub prompt: i32,
    /// Step k of `actions_total` (1-based): the action prompted now or
    /// next; 0 before the challenge starts.
    pub step: u32,
    /// The timer ring: 0 none, 1 the answer window, 2 the hold until the
    /// release cue.
    pub timer_kind: u32,
    /// When the timer started (ms since the first frame); -1 without one.
    pub timer_from_ms: i64,
    /// When it is full: the window's end or the release cue; -1 without one.
    pub timer_to_ms: i64,
    /// 1: play a sound or a vibration at `timer_to_ms` (the eyes are closed).
    pub timer_sound: u32,
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
        Err(_) => set_error(ErrorCode::Internal.as_u32() as i32, PANIC),
    }
}

const PANIC: &str = "internal panic caught at the C boundary";

/// [`guard`] for calls on a live session: a caught panic also ends the
/// session as FAIL (INTERNAL).
fn guard_session(
    session: *mut RfSession,
    f: impl FnOnce(&mut RfSession) -> Result<(), Error>,
) -> i32 {
    if session.is_null() {
        return report(&null("session"));
    }
    // SAFETY: a live session handle by contract, used by one thread at a time.
    let rc = guard(|| f(unsafe { &mut *session }));
    if rc == ErrorCode::Internal.as_u32() as i32 {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: as above.
            unsafe { &mut *session }.session.abort(PANIC)
        }));
    }
    rc
}

/// Frees a boxed handle, catching any panic of its destructor.
///
/// # Safety
/// `p` null or a pointer from `Box::into_raw`, freed once.
unsafe fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: forwarded caller guarantees.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(p) })));
    }
}

/// Sets `*out` to null when `out` is not null.
///
/// # Safety
/// `out` null or writable.
unsafe fn clear<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: non-null and writable by contract.
        unsafe { *out = std::ptr::null_mut() };
    }
}

/// Writes `value` as a JSON C string to `*out` (non-null by contract).
///
/// # Safety
/// `out` non-null and writable.
unsafe fn write_json(
    out: *mut *mut c_char,
    value: &impl serde::Serialize,
    what: &'static str,
) -> Result<(), Error> {
    let json = serde_json::to_string(value).map_err(|e| Error::invalid(what, e.to_string()))?;
    let c = CString::new(json).map_err(|_| Error::invalid(what, "NUL in JSON"))?;
    // SAFETY: non-null and writable by contract.
    unsafe { *out = c.into_raw() };
    Ok(())
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

/// Creates an engine with the default matcher (`w600k_mbf`: non-commercial
/// research use only, see models/NOTICE.md; [`rf_engine_new_with`] picks
/// another). `model_dir` and `ort_library` may be null (defaults: see
/// docs/models.md). Writes the handle to `*out`.
///
/// # Safety
/// Strings must be null or valid NUL-terminated; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn rf_engine_new(
    model_dir: *const c_char,
    ort_library: *const c_char,
    out: *mut *mut RfEngine,
) -> i32 {
    // SAFETY: forwarded caller guarantees.
    unsafe { rf_engine_new_with(model_dir, ort_library, std::ptr::null(), out) }
}

/// Creates an engine with the named face matcher: `"w600k_mbf"` (the
/// default, non-commercial research use only), `"permissive"` (SFace +
/// MobileFaceNet + fr_feature: no non-commercial weights, see
/// `models/NOTICE.md` for two networks' provenance caveats), `"fused"` (MobileFaceNet + fr_feature) or `"mobilefacenet"`;
/// null for the default. An unknown name is
/// INVALID_ARGUMENT. Embeddings and thresholds belong to their matcher: a
/// stored reference embedding only compares under the matcher that made it.
/// `model_dir` and `ort_library` may be null. Writes the handle to `*out`.
///
/// # Safety
/// Strings must be null or valid NUL-terminated; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn rf_engine_new_with(
    model_dir: *const c_char,
    ort_library: *const c_char,
    matcher: *const c_char,
    out: *mut *mut RfEngine,
) -> i32 {
    // SAFETY: `out` null or writable by contract.
    unsafe { clear(out) };
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
        // SAFETY: forwarded caller guarantees.
        if let Some(m) = unsafe { opt_str(matcher, "matcher") }? {
            cfg = cfg.with_matcher(m.parse()?);
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
    // SAFETY: a live handle from rf_engine_new, freed once.
    unsafe { free_box(engine) }
}

/// Creates an empty certifyId registry. Writes the handle to `*out`.
///
/// # Safety
/// `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn rf_registry_new(out: *mut *mut RfRegistry) -> i32 {
    // SAFETY: `out` null or writable by contract.
    unsafe { clear(out) };
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let r = Box::new(RfRegistry {
            registry: CertifyRegistry::new(),
        });
        // SAFETY: non-null and writable by contract.
        unsafe { *out = Box::into_raw(r) };
        Ok(())
    })
}

/// Issues a certifyId on the device (no server): writes
/// `{"certifyId": ..., "challengeNonce": ..., "expiresMs": ...}` to
/// `*json_out` (free it with `rf_string_free`). Start its session with a
/// null nonce.
///
/// # Safety
/// `registry` a live handle; `json_out` writable.
#[no_mangle]
pub unsafe extern "C" fn rf_registry_issue(
    registry: *const RfRegistry,
    json_out: *mut *mut c_char,
) -> i32 {
    // SAFETY: `json_out` null or writable by contract.
    unsafe { clear(json_out) };
    guard(|| {
        if registry.is_null() {
            return Err(null("registry"));
        }
        if json_out.is_null() {
            return Err(null("json_out"));
        }
        // SAFETY: a live registry handle by contract.
        let t = unsafe { &*registry }.registry.issue(now_ms())?;
        let issued = IssuedId {
            certify_id: t.certify_id().to_string(),
            challenge_nonce: t.challenge_nonce().to_string(),
            expires_ms: t.expires_ms(),
        };
        // SAFETY: `json_out` checked above.
        unsafe { write_json(json_out, &issued, "certifyId") }
    })
}

/// Destroys a registry (null is a no-op).
///
/// # Safety
/// `registry` null or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn rf_registry_free(registry: *mut RfRegistry) {
    // SAFETY: a live handle from rf_registry_new, freed once.
    unsafe { free_box(registry) }
}

/// Claims the certifyId for a session through the registry.
///
/// # Safety
/// Strings null or NUL-terminated.
unsafe fn claim(
    registry: *const RfRegistry,
    certify_id: *const c_char,
    challenge_nonce: *const c_char,
    expires_ms: u64,
) -> Result<CertifyTicket, Error> {
    if registry.is_null() {
        return Err(null("registry"));
    }
    // SAFETY: a live registry handle by contract.
    let reg = &unsafe { &*registry }.registry;
    // SAFETY: forwarded caller guarantees.
    let id = unsafe { opt_str(certify_id, "certify_id") }?.ok_or(Error::CertifyIdEmpty)?;
    // SAFETY: forwarded caller guarantees.
    match unsafe { opt_str(challenge_nonce, "challenge_nonce") }? {
        None => reg.claim(id, now_ms()),
        Some(nonce) => reg.claim_issued(
            &IssuedId {
                certify_id: id.to_string(),
                challenge_nonce: nonce.to_string(),
                expires_ms,
            },
            now_ms(),
        ),
    }
}

/// Parses the options (null = defaults).
///
/// # Safety
/// `options_json` null or NUL-terminated.
unsafe fn options(options_json: *const c_char) -> Result<SessionOptions, Error> {
    // SAFETY: forwarded caller guarantees.
    match unsafe { opt_str(options_json, "options_json") }? {
        Some(j) => serde_json::from_str::<SessionOptions>(j)
            .map_err(|e| Error::invalid("options_json", e.to_string())),
        None => Ok(SessionOptions::default()),
    }
}

/// The body of both session constructors: checks, options, reference (built
/// by `reference`), claim, session.
///
/// # Safety
/// As [`rf_session_new`] (the reference's own pointers are `reference`'s).
#[allow(clippy::too_many_arguments)]
unsafe fn new_session(
    engine: *const RfEngine,
    registry: *const RfRegistry,
    certify_id: *const c_char,
    challenge_nonce: *const c_char,
    expires_ms: u64,
    options_json: *const c_char,
    out: *mut *mut RfSession,
    reference: impl FnOnce(&FaceEngine) -> Result<Reference, Error>,
) -> i32 {
    // SAFETY: `out` null or writable by contract.
    unsafe { clear(out) };
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
        let mut options = unsafe { options(options_json) }?;
        let reference = reference(&engine.engine)?;
        // a capture for a server is uploaded: it always records
        options.record_evidence |= matches!(reference, Reference::Server);
        // SAFETY: forwarded caller guarantees.
        let ticket = unsafe { claim(registry, certify_id, challenge_nonce, expires_ms) }?;
        let session = VerificationSession::new(engine.engine.clone(), ticket, reference, options)?;
        let handle = Box::new(RfSession {
            session,
            limits: engine.engine.config().limits,
        });
        // SAFETY: `out` is non-null and writable by contract.
        unsafe { *out = Box::into_raw(handle) };
        Ok(())
    })
}

/// Starts a session. The certifyId is claimed through `registry`: with a
/// null `challenge_nonce` it must have been issued by that registry
/// (`rf_registry_issue`); otherwise it was issued by a server, with that
/// nonce (at least 32 hex digits) and expiry (`expires_ms`, Unix ms).
/// `reference` is a photo as encoded image bytes, with exactly one face;
/// `options_json` a `SessionOptions` JSON object, partial or null (defaults).
/// Writes the handle to `*out`.
///
/// # Safety
/// `engine` and `registry` live handles; strings null or NUL-terminated;
/// `reference` points to `reference_len` bytes; `out` writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rf_session_new(
    engine: *const RfEngine,
    registry: *const RfRegistry,
    certify_id: *const c_char,
    challenge_nonce: *const c_char,
    expires_ms: u64,
    reference: *const u8,
    reference_len: usize,
    options_json: *const c_char,
    out: *mut *mut RfSession,
) -> i32 {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        new_session(
            engine,
            registry,
            certify_id,
            challenge_nonce,
            expires_ms,
            options_json,
            out,
            |e| {
                let bytes = bytes(reference, reference_len, "reference")?;
                Ok(Reference::Photo(e.decode(bytes)?))
            },
        )
    }
}

/// [`rf_session_new`] with a stored reference embedding (`dim` floats, the
/// embedder's length) instead of a photo. A NaN, infinite, all-zero or
/// wrong-length vector is refused (INVALID_ARGUMENT or NON_FINITE_OUTPUT).
///
/// # Safety
/// As [`rf_session_new`]; `embedding` points to `dim` floats.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rf_session_new_embedding(
    engine: *const RfEngine,
    registry: *const RfRegistry,
    certify_id: *const c_char,
    challenge_nonce: *const c_char,
    expires_ms: u64,
    embedding: *const f32,
    dim: usize,
    options_json: *const c_char,
    out: *mut *mut RfSession,
) -> i32 {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        new_session(
            engine,
            registry,
            certify_id,
            challenge_nonce,
            expires_ms,
            options_json,
            out,
            |_| {
                if embedding.is_null() {
                    return Err(null("embedding"));
                }
                // SAFETY: the caller promises `dim` readable floats.
                let values = std::slice::from_raw_parts(embedding, dim).to_vec();
                Ok(Reference::Embedding(Embedding::from_raw(values)?))
            },
        )
    }
}

/// A capture-only session for a certifyId issued by `realface-server`. The
/// app's backend calls `certify` with its app key and hands the device the
/// `certifyId` and its `deviceToken`; the device calls `start` and
/// `evidence` with that token (`X-Realface-Device-Token`) and never holds
/// the app key. Pass the `certifyId`, the `challengeNonce` and `expiresAt`
/// that `start` answered, and `options_json` with `start`'s
/// `sessionOptions` (or at least the server's actions:
/// `{"challenge": {"fixed": ["blink"]}}`). The server keeps the reference;
/// no face match runs on the device, and a completed capture finishes as
/// PROCESSING with client code 0 (the backend reads the verdict with
/// getAuthResult). Frames are recorded for upload: see
/// [`rf_session_evidence`].
///
/// # Safety
/// As [`rf_session_new`], without the reference.
#[no_mangle]
pub unsafe extern "C" fn rf_session_new_capture(
    engine: *const RfEngine,
    registry: *const RfRegistry,
    certify_id: *const c_char,
    challenge_nonce: *const c_char,
    expires_ms: u64,
    options_json: *const c_char,
    out: *mut *mut RfSession,
) -> i32 {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        new_session(
            engine,
            registry,
            certify_id,
            challenge_nonce,
            expires_ms,
            options_json,
            out,
            |_| Ok(Reference::Server),
        )
    }
}

/// Writes the evidence to upload (`POST /v1/certify/{id}/evidence`,
/// `Content-Type: application/json`) to `*json_out`: every frame the session
/// took as JPEG with its timestamp, and the device's result as advisory.
/// Free it with `rf_string_free`. INVALID_ARGUMENT for a session that does
/// not record (capture sessions always do; others set `record_evidence`).
///
/// # Safety
/// `session` a live handle; `json_out` writable.
#[no_mangle]
pub unsafe extern "C" fn rf_session_evidence(
    session: *mut RfSession,
    json_out: *mut *mut c_char,
) -> i32 {
    // SAFETY: `json_out` null or writable by contract.
    unsafe { clear(json_out) };
    guard_session(session, |s| {
        if json_out.is_null() {
            return Err(null("json_out"));
        }
        let bundle = s.session.evidence()?;
        let c = CString::new(bundle).map_err(|_| Error::invalid("evidence", "NUL in JSON"))?;
        // SAFETY: `json_out` checked above.
        unsafe { *json_out = c.into_raw() };
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
    guard_session(session, |s| {
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
        // SAFETY: `progress` null or writable by contract.
        unsafe { write_progress(progress, &p) };
        Ok(())
    })
}

/// Writes `p` to `progress` unless it is null.
///
/// # Safety
/// `progress` null or writable.
unsafe fn write_progress(progress: *mut RfProgress, p: &crate::session::Progress) {
    if progress.is_null() {
        return;
    }
    let out = RfProgress {
        state: match p.state {
            SessionState::WaitingForFace => 0,
            SessionState::Warmup => 1,
            SessionState::Action => 2,
            SessionState::Finished => 3,
            SessionState::HoldStill => 4,
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
        prompt_at_ms: p.prompt_at_ms.map_or(-1, |t| t as i64),
        window_start_ms: p.answer_window_ms.map_or(-1, |w| w[0] as i64),
        window_end_ms: p.answer_window_ms.map_or(-1, |w| w[1] as i64),
        prompt: crate::prompts::index_of(p.prompt_key).map_or(-1, |i| i as i32),
        step: p.step as u32,
        timer_kind: p.timer.map_or(0, |t| match t.kind {
            TimerKind::AnswerWindow => 1,
            TimerKind::Hold => 2,
        }),
        timer_from_ms: p.timer.map_or(-1, |t| t.from_ms as i64),
        timer_to_ms: p.timer.map_or(-1, |t| t.to_ms as i64),
        timer_sound: p.timer.map_or(0, |t| u32::from(t.sound)),
    };
    // SAFETY: non-null and writable by contract.
    unsafe { *progress = out };
}

/// One plane of a YUV frame ([`RfYuvFrame`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RfPlane {
    /// The plane's first sample.
    pub data: *const u8,
    /// Readable bytes at `data`.
    pub len: usize,
    /// Bytes from one row to the next.
    pub row_stride: usize,
    /// Bytes from one sample to the next in a row (1 planar, 2 interleaved).
    pub pixel_stride: usize,
}

/// A YUV 4:2:0 camera frame: Android `YUV_420_888` planes as they come
/// (`pixel_stride` 2 for interleaved chroma), NV12 (`u` at the UV plane,
/// `v` one byte later, both `pixel_stride` 2) or NV21 (`v` first). `colour`:
/// 0 BT.601 full range, 1 BT.601 limited, 2 BT.709 full, 3 BT.709 limited.
/// `rotation`: 0, 90, 180 or 270 degrees clockwise to make it upright;
/// `mirror`: non-zero to flip it left to right after turning.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RfYuvFrame {
    /// Width in pixels (as captured).
    pub width: u32,
    /// Height in pixels (as captured).
    pub height: u32,
    /// Luma.
    pub y: RfPlane,
    /// Cb.
    pub u: RfPlane,
    /// Cr.
    pub v: RfPlane,
    /// Matrix and range (see above).
    pub colour: u32,
    /// Clockwise degrees.
    pub rotation: u32,
    /// Non-zero: mirror after turning.
    pub mirror: u32,
}

/// # Safety
/// `p.data` null or `p.len` readable bytes.
unsafe fn plane<'a>(
    p: &RfPlane,
    name: &'static str,
) -> Result<crate::imaging::yuv::Plane<'a>, Error> {
    // SAFETY: forwarded caller guarantees.
    let data = unsafe { bytes(p.data, p.len, name) }?;
    Ok(crate::imaging::yuv::Plane::new(
        data,
        p.row_stride,
        p.pixel_stride,
    ))
}

/// Pushes one YUV 4:2:0 camera frame (see [`RfYuvFrame`]) taken at
/// `timestamp_ms`; it is converted, turned upright and mirrored before the
/// session sees it. `progress` may be null.
///
/// # Safety
/// `session` a live handle; `frame` readable, each plane's `data` pointing
/// to at least `len` bytes; `progress` null or writable.
#[no_mangle]
pub unsafe extern "C" fn rf_session_push_yuv420(
    session: *mut RfSession,
    frame: *const RfYuvFrame,
    timestamp_ms: u64,
    progress: *mut RfProgress,
) -> i32 {
    guard_session(session, |s| {
        use crate::imaging::yuv::{Rotation, Yuv420, YuvMatrix, YuvRange};
        if frame.is_null() {
            return Err(null("frame"));
        }
        // SAFETY: non-null and readable by contract.
        let f = unsafe { &*frame };
        let (matrix, range) = match f.colour {
            0 => (YuvMatrix::Bt601, YuvRange::Full),
            1 => (YuvMatrix::Bt601, YuvRange::Limited),
            2 => (YuvMatrix::Bt709, YuvRange::Full),
            3 => (YuvMatrix::Bt709, YuvRange::Limited),
            other => return Err(Error::invalid("colour", format!("{other} (valid: 0-3)"))),
        };
        // SAFETY: each plane's pointer and length by contract.
        let (y, u, v) = unsafe { (plane(&f.y, "y")?, plane(&f.u, "u")?, plane(&f.v, "v")?) };
        let upright = Yuv420::planes(f.width, f.height, y, u, v)
            .with_colour(matrix, range)
            .to_rgb_upright(
                &s.limits,
                Rotation::from_degrees(f.rotation)?,
                f.mirror != 0,
            )?;
        let p = s.session.push_frame(&upright, timestamp_ms)?;
        // SAFETY: `progress` null or writable by contract.
        unsafe { write_progress(progress, &p) };
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
    // SAFETY: `json_out` null or writable by contract.
    unsafe { clear(json_out) };
    guard_session(session, |s| {
        if json_out.is_null() {
            return Err(null("json_out"));
        }
        // SAFETY: `json_out` checked above.
        unsafe { write_json(json_out, &s.session.finish(), "result") }
    })
}

/// Ends the session as interrupted by the user (10011).
///
/// # Safety
/// `session` a live handle.
#[no_mangle]
pub unsafe extern "C" fn rf_session_cancel(session: *mut RfSession) -> i32 {
    guard_session(session, |s| {
        s.session.cancel();
        Ok(())
    })
}

/// Destroys a session (null is a no-op).
///
/// # Safety
/// `session` null or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn rf_session_free(session: *mut RfSession) {
    // SAFETY: a live handle from rf_session_new, freed once.
    unsafe { free_box(session) }
}

/// The prompt table's texts as C strings: `[prompt][language]`.
fn prompt_texts() -> &'static [[CString; 2]] {
    static TEXTS: std::sync::OnceLock<Vec<[CString; 2]>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        crate::prompts::PROMPTS
            .iter()
            .map(|p| crate::prompts::Lang::ALL.map(|l| CString::new(p.text(l)).unwrap_or_default()))
            .collect()
    })
}

/// The text of prompt number `prompt` (`RfProgress::prompt`) in `lang` (0
/// English, 1 Simplified Chinese), UTF-8, owned by the library (never
/// free it); null (and INVALID_ARGUMENT) for an unknown number or language.
#[no_mangle]
pub extern "C" fn rf_prompt_text(prompt: i32, lang: u32) -> *const c_char {
    let found = catch_unwind(|| {
        usize::try_from(prompt)
            .ok()
            .and_then(|i| prompt_texts().get(i))
            .and_then(|t| t.get(lang as usize))
            .map(|t| t.as_ptr())
    })
    .ok()
    .flatten();
    match found {
        Some(t) => t,
        None => {
            set_error(
                ErrorCode::InvalidArgument.as_u32() as i32,
                &format!("no prompt {prompt} in language {lang}"),
            );
            std::ptr::null()
        }
    }
}

/// Frees a string returned by the library (null is a no-op).
///
/// # Safety
/// `s` null or a string from this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn rf_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: a string from CString::into_raw in this library, freed once.
            drop(unsafe { CString::from_raw(s) })
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic caught inside a session call ends that session: the call
    /// answers INTERNAL, finishing gives FAIL with reason INTERNAL, and the
    /// session takes no more frames.
    #[test]
    fn a_caught_panic_ends_the_session() {
        let engine = Arc::new(FaceEngine::new(EngineConfig::default()).expect("engine"));
        let ticket = CertifyRegistry::new()
            .claim_issued(
                &IssuedId {
                    certify_id: "panic".into(),
                    challenge_nonce: "0123456789abcdef0123456789abcdef".into(),
                    expires_ms: 60_000,
                },
                0,
            )
            .expect("ticket");
        let reference =
            Embedding::from_raw(vec![0.1; crate::Matcher::default().dim()]).expect("embedding");
        let session = VerificationSession::new(
            engine.clone(),
            ticket,
            Reference::Embedding(reference),
            SessionOptions::default(),
        )
        .expect("session");
        let handle = Box::into_raw(Box::new(RfSession {
            session,
            limits: engine.config().limits,
        }));
        let rc = guard_session(handle, |_| panic!("injected"));
        assert_eq!(rc, ErrorCode::Internal.as_u32() as i32);
        let mut json = std::ptr::null_mut();
        // SAFETY: a live handle and a writable pointer.
        assert_eq!(unsafe { rf_session_finish(handle, &mut json) }, RF_OK);
        // SAFETY: a string returned by rf_session_finish.
        let text = unsafe { CStr::from_ptr(json) }
            .to_string_lossy()
            .to_string();
        // SAFETY: freed once.
        unsafe { rf_string_free(json) };
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["auth_state"], "FAIL");
        assert_eq!(v["reasons"][0]["code"], "INTERNAL");
        let frame = vec![0u8; 64 * 48 * 3];
        // SAFETY: a live handle and a buffer of the stated size.
        let rc = unsafe {
            rf_session_push_frame(
                handle,
                frame.as_ptr(),
                frame.len(),
                64,
                48,
                192,
                0,
                0,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, ErrorCode::SessionFinished.as_u32() as i32);
        // SAFETY: freed once.
        unsafe { rf_session_free(handle) };
    }
}
