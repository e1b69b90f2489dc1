//! The module's exports: a C ABI over its linear memory, for the page's
//! JavaScript (`server/web/realface-analyse.js`). One capture at a time.
//!
//! Every call that advances the frame answers a code: 0 the frame is done
//! (the progress JSON in the out buffer), 1 run the detector, 2 run the mesh
//! model on the tensor buffer, 3 run the eye-state model on the tensor
//! buffer's two 24x24 crops, -1 an error (`{"code","message"}` in the out
//! buffer). Pointers handed in come from [`rf_alloc`] and stay the caller's.
#![allow(clippy::missing_safety_doc)]

use std::cell::RefCell;
use std::sync::Arc;

use realface::FaceEngine;

use crate::{Next, Page, PageError};

#[derive(Default)]
struct State {
    engine: Option<Arc<FaceEngine>>,
    page: Option<Page>,
    out: Vec<u8>,
    tensor: Vec<f32>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn answer(s: &mut State, r: Result<Next, PageError>) -> i32 {
    match r {
        Ok(Next::Done(json)) => {
            s.out = json.into_bytes();
            0
        }
        Ok(Next::Detect) => 1,
        Ok(Next::Mesh(t)) => {
            s.tensor = t;
            2
        }
        Ok(Next::Eyes(t)) => {
            s.tensor = t;
            3
        }
        Err(e) => {
            s.out = serde_json::json!({"code": e.code, "message": e.message})
                .to_string()
                .into_bytes();
            -1
        }
    }
}

fn with_page(f: impl FnOnce(&mut Page) -> Result<Next, PageError>) -> i32 {
    STATE.with(|cell| {
        let mut s = cell.borrow_mut();
        let r = match s.page.as_mut() {
            Some(p) => f(p),
            None => Err(PageError {
                code: "INVALID_ARGUMENT",
                message: "no capture started (rf_start)".into(),
            }),
        };
        answer(&mut s, r)
    })
}

/// Bytes the caller may fill; free them with [`rf_free`].
#[no_mangle]
pub extern "C" fn rf_alloc(len: usize) -> *mut u8 {
    let mut v = vec![0u8; len.max(1)];
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// Frees what [`rf_alloc`] gave.
#[no_mangle]
pub unsafe extern "C" fn rf_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        drop(Vec::from_raw_parts(ptr, len.max(1), len.max(1)));
    }
}

unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

unsafe fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, PageError> {
    std::str::from_utf8(bytes(ptr, len)).map_err(|e| PageError {
        code: "INVALID_ARGUMENT",
        message: format!("not UTF-8: {e}"),
    })
}

/// Starts a capture from `start`'s answer (JSON: certifyId,
/// challengeNonce, sessionOptions): 0, or -1 with the error.
#[no_mangle]
pub unsafe extern "C" fn rf_start(ptr: *const u8, len: usize) -> i32 {
    let json = text(ptr, len);
    STATE.with(|cell| {
        let mut s = cell.borrow_mut();
        let engine = match s.engine.clone() {
            Some(e) => Ok(e),
            None => Page::engine(),
        };
        let r = engine.and_then(|engine| {
            s.engine = Some(engine.clone());
            Page::new(engine, json?)
        });
        match r {
            Ok(page) => {
                s.page = Some(page);
                0
            }
            Err(e) => answer(&mut s, Err(e)),
        }
    })
}

/// A frame: `len` RGBA bytes of `w` x `h`, taken `t_ms` after the
/// recording began.
#[no_mangle]
pub unsafe extern "C" fn rf_frame(ptr: *const u8, len: usize, w: u32, h: u32, t_ms: f64) -> i32 {
    let rgba = bytes(ptr, len);
    let t = if t_ms.is_finite() && t_ms >= 0.0 {
        t_ms.round() as u64
    } else {
        u64::MAX
    };
    with_page(|p| {
        if t == u64::MAX {
            return Err(PageError {
                code: "INVALID_ARGUMENT",
                message: format!("timestamp {t_ms}"),
            });
        }
        p.frame(rgba, w, h, t)
    })
}

/// The detector's faces, JSON `[{"bbox":[x,y,w,h],"score":s,"kps":[[x,y]x6]}]`.
#[no_mangle]
pub unsafe extern "C" fn rf_faces(ptr: *const u8, len: usize) -> i32 {
    let json = text(ptr, len);
    with_page(|p| p.faces(json?))
}

/// The mesh model's outputs: `n` floats at `ptr` (468 x 3) and the
/// presence logit.
#[no_mangle]
pub unsafe extern "C" fn rf_mesh(ptr: *const f32, n: usize, logit: f32) -> i32 {
    let coords: &[f32] = if ptr.is_null() || n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, n)
    };
    with_page(|p| p.mesh(coords, logit))
}

/// The eye-state model's two outputs for the right eye, then the left.
#[no_mangle]
pub extern "C" fn rf_eyes(r0: f32, r1: f32, l0: f32, l1: f32) -> i32 {
    with_page(|p| p.eyes([r0, r1], [l0, l1]))
}

/// The out buffer (JSON).
#[no_mangle]
pub extern "C" fn rf_out_ptr() -> *const u8 {
    STATE.with(|cell| cell.borrow().out.as_ptr())
}

/// The out buffer's length.
#[no_mangle]
pub extern "C" fn rf_out_len() -> usize {
    STATE.with(|cell| cell.borrow().out.len())
}

/// The tensor buffer (float32).
#[no_mangle]
pub extern "C" fn rf_tensor_ptr() -> *const f32 {
    STATE.with(|cell| cell.borrow().tensor.as_ptr())
}

/// The tensor buffer's length (floats).
#[no_mangle]
pub extern "C" fn rf_tensor_len() -> usize {
    STATE.with(|cell| cell.borrow().tensor.len())
}

/// Getrandom's backend in the browser: the page's session draws nothing at
/// random (its delays come from the nonce).
#[cfg(target_arch = "wasm32")]
#[no_mangle]
unsafe extern "Rust" fn __getrandom_v03_custom(
    _dest: *mut u8,
    _len: usize,
) -> Result<(), getrandom::Error> {
    Err(getrandom::Error::UNSUPPORTED)
}
