//! The C entry points with arbitrary arguments: null or valid pointers,
//! arbitrary sizes, strides, formats and timestamps. Every call must return a
//! code; nothing may crash.
#![no_main]

use std::ffi::CString;
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use realface::ffi::*;

struct Engine(*mut RfEngine);
// SAFETY: the engine handle is only read concurrently (FaceEngine is Sync).
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

fn engine() -> *mut RfEngine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let mut e = ptr::null_mut();
        // SAFETY: null strings select the defaults; `e` is writable.
        let rc = unsafe { rf_engine_new(ptr::null(), ptr::null(), &mut e) };
        assert_eq!(rc, RF_OK, "run scripts/setup.sh first");
        Engine(e)
    })
    .0
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let e = engine();
    let id = CString::new(data[..4].iter().map(|b| b'a' + b % 26).collect::<Vec<u8>>())
        .unwrap_or_default();
    let reference = &data[16..];
    let nonce = CString::new(data[13..16].iter().map(|b| format!("{b:02x}")).collect::<String>().repeat(6))
        .unwrap_or_default();
    let mut s = ptr::null_mut();
    // SAFETY: all pointers are null or valid for the lengths given.
    unsafe {
        let mut reg = ptr::null_mut();
        assert_eq!(rf_registry_new(&mut reg), RF_OK);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let rc = rf_session_new(
            if data[4] & 1 == 0 { e } else { ptr::null() },
            if data[4] & 16 == 0 { reg } else { ptr::null_mut() },
            if data[4] & 2 == 0 {
                id.as_ptr()
            } else {
                ptr::null()
            },
            if data[4] & 32 == 0 {
                nonce.as_ptr()
            } else {
                ptr::null()
            },
            now.wrapping_add(u64::from(data[12]) * 1_000_000).wrapping_sub(100_000_000),
            if data[4] & 4 == 0 {
                reference.as_ptr()
            } else {
                ptr::null()
            },
            reference.len(),
            ptr::null(),
            if data[4] & 8 == 0 {
                &mut s
            } else {
                ptr::null_mut()
            },
        );
        if rc != RF_OK || s.is_null() {
            assert_ne!(rf_last_error_code(), RF_OK);
            assert!(s.is_null(), "*out is null after an error");
            rf_registry_free(reg);
            return;
        }
        let w = u32::from(data[5]) + 1;
        let h = u32::from(data[6]) + 1;
        let stride = usize::from(data[7]) * 4;
        let format = u32::from(data[8] % 6);
        let mut p = RfProgress::default();
        for k in 0..u64::from(data[9] % 4) {
            let len = reference.len().min(usize::from(data[10]) * 64);
            let _ = rf_session_push_frame(
                s,
                reference.as_ptr(),
                len,
                w,
                h,
                stride,
                format,
                k * u64::from(data[11]),
                &mut p,
            );
        }
        if data[12] & 1 == 1 {
            let _ = rf_session_cancel(s);
        }
        let mut json = ptr::null_mut();
        assert_eq!(rf_session_finish(s, &mut json), RF_OK);
        rf_string_free(json);
        rf_session_free(s);
        rf_registry_free(reg);
    }
});
