//! The C ABI (feature `ffi`): the committed header is current, misuse gets
//! typed errors, the C example compiles and runs, and the same verification
//! through the Rust API and the C API gives the same verdict.
#![cfg(feature = "ffi")]
#![allow(unsafe_code)]

mod common;

use std::ffi::{CStr, CString};
use std::ptr;

use common::{data_dir, root, NONCE};
use realface::ffi::*;

fn generated_header() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root())
        .with_config(config)
        .generate()
        .expect("cbindgen runs")
        .write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn header_is_current() {
    let path = root().join("include/realface.h");
    let fresh = generated_header();
    if std::env::var_os("REALFACE_WRITE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write header");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/realface.h is stale: REALFACE_WRITE_HEADER=1 cargo test --features ffi --test ffi"
    );
    for f in [
        "rf_engine_new",
        "rf_session_new",
        "rf_session_new_embedding",
        "rf_engine_new_with",
        "rf_session_new_capture",
        "rf_session_evidence",
        "rf_registry_new",
        "rf_registry_issue",
        "rf_session_push_frame",
        "rf_session_push_yuv420",
        "rf_session_finish",
        "rf_last_error_code",
    ] {
        assert!(fresh.contains(f), "{f} missing from the header");
    }
}

fn engine() -> *mut RfEngine {
    let mut e = ptr::null_mut();
    // SAFETY: null strings are allowed; `e` is writable.
    let rc = unsafe { rf_engine_new(ptr::null(), ptr::null(), &mut e) };
    assert_eq!(rc, RF_OK);
    e
}

fn registry() -> *mut RfRegistry {
    let mut r = ptr::null_mut();
    // SAFETY: `r` is writable.
    assert_eq!(unsafe { rf_registry_new(&mut r) }, RF_OK);
    r
}

fn now_ms() -> u64 {
    realface::session::certify::unix_now_ms()
}

/// A non-null pointer that must never be read: a failed call has to
/// overwrite it with null.
fn poison<T>() -> *mut T {
    std::ptr::NonNull::dangling().as_ptr()
}

#[test]
fn misuse_gets_typed_errors_not_crashes() {
    // SAFETY: every call below passes null or valid pointers, as the test intends.
    unsafe {
        let mut e = poison();
        assert_eq!(
            rf_engine_new(ptr::null(), ptr::null(), ptr::null_mut()),
            400
        );
        assert_eq!(rf_last_error_code(), 400);
        let msg = CStr::from_ptr(rf_last_error_message())
            .to_string_lossy()
            .to_string();
        assert!(msg.contains("null"), "{msg}");
        let bad_dir = CString::new("/nonexistent").expect("cstring");
        assert_eq!(rf_engine_new(bad_dir.as_ptr(), ptr::null(), &mut e), 101);
        assert!(e.is_null(), "*out is null after an error");
        let reg = registry();
        let mut s = poison();
        let id = CString::new("c-test").expect("cstring");
        let nonce = CString::new(NONCE).expect("cstring");
        let exp = now_ms() + 60_000;
        let photo = std::fs::read(common::sample("obama.jpg")).expect("read");
        assert_eq!(
            rf_session_new(
                ptr::null(),
                reg,
                id.as_ptr(),
                nonce.as_ptr(),
                exp,
                photo.as_ptr(),
                photo.len(),
                ptr::null(),
                &mut s
            ),
            400
        );
        assert!(s.is_null(), "*out is null after an error");
        let e = engine();
        let new = |reg: *const RfRegistry,
                   id: *const std::ffi::c_char,
                   nonce: *const std::ffi::c_char,
                   exp: u64,
                   reference: &[u8],
                   options: *const std::ffi::c_char,
                   s: &mut *mut RfSession| {
            rf_session_new(
                e,
                reg,
                id,
                nonce,
                exp,
                if reference.is_empty() {
                    ptr::null()
                } else {
                    reference.as_ptr()
                },
                reference.len(),
                options,
                s,
            )
        };
        let no = ptr::null();
        let bad = CString::new("{not json").expect("cstring");
        let short = CString::new("abcd").expect("cstring");
        let (i, n) = (id.as_ptr(), nonce.as_ptr());
        let cases: [(*const RfRegistry, _, _, u64, &[u8], _, i32, &str); 9] = [
            (ptr::null(), i, n, exp, &photo, no, 400, "no registry"),
            (reg, no, n, exp, &photo, no, 500, "no certifyId"),
            (reg, i, n, exp, &[], no, 400, "no reference"),
            (reg, i, n, exp, b"junk", no, 201, "undecodable reference"),
            (reg, i, n, exp, &photo, bad.as_ptr(), 400, "bad options"),
            // certifyId rules: never issued here, expired, short nonce
            (reg, i, no, 0, &photo, no, 501, "not issued here"),
            (reg, i, n, now_ms() - 1, &photo, no, 502, "expired"),
            (reg, i, short.as_ptr(), exp, &photo, no, 400, "short nonce"),
            (
                reg,
                i,
                n,
                now_ms() + 48 * 3_600_000,
                &photo,
                no,
                400,
                "valid too long",
            ),
        ];
        for (r, id, nonce, exp, reference, options, code, what) in cases {
            s = poison();
            assert_eq!(
                new(r, id, nonce, exp, reference, options, &mut s),
                code,
                "{what}"
            );
            assert!(s.is_null(), "{what}: *out is null after an error");
        }
        assert!(s.is_null());
        // a one-field options object: every other option takes its default
        let one = CString::new(r#"{"photo":"Y_M"}"#).expect("cstring");
        assert_eq!(
            new(
                reg,
                id.as_ptr(),
                nonce.as_ptr(),
                exp,
                &photo,
                one.as_ptr(),
                &mut s
            ),
            RF_OK
        );
        let mut again = ptr::null_mut();
        assert_eq!(
            new(
                reg,
                id.as_ptr(),
                nonce.as_ptr(),
                exp,
                &photo,
                no,
                &mut again
            ),
            503,
            "reused"
        );
        let mut json = poison();
        assert_eq!(rf_registry_issue(ptr::null(), &mut json), 400);
        assert!(json.is_null());
        assert_eq!(rf_registry_issue(reg, &mut json), RF_OK);
        let issued: serde_json::Value =
            serde_json::from_str(&CStr::from_ptr(json).to_string_lossy()).expect("json");
        rf_string_free(json);
        let local = CString::new(issued["certifyId"].as_str().expect("id")).expect("cstring");
        let mut s2 = ptr::null_mut();
        assert_eq!(
            new(reg, local.as_ptr(), no, 0, &photo, no, &mut s2),
            RF_OK,
            "locally issued"
        );
        rf_session_free(s2);
        assert_eq!(
            new(reg, local.as_ptr(), no, 0, &photo, no, &mut s2),
            503,
            "locally issued, reused"
        );
        let frame = vec![0u8; 64 * 48 * 3];
        let mut p = RfProgress::default();
        assert_eq!(
            rf_session_push_frame(
                ptr::null_mut(),
                frame.as_ptr(),
                frame.len(),
                64,
                48,
                192,
                0,
                0,
                &mut p
            ),
            400
        );
        assert_eq!(
            rf_session_push_frame(s, ptr::null(), 0, 64, 48, 192, 0, 0, &mut p),
            400
        );
        assert_eq!(
            rf_session_push_frame(s, frame.as_ptr(), frame.len(), 64, 48, 100, 0, 0, &mut p),
            400,
            "stride"
        );
        assert_eq!(
            rf_session_push_frame(s, frame.as_ptr(), 10, 64, 48, 192, 0, 0, &mut p),
            400,
            "short buffer"
        );
        assert_eq!(
            rf_session_push_frame(s, frame.as_ptr(), frame.len(), 64, 48, 192, 9, 0, &mut p),
            400,
            "format"
        );
        assert_eq!(
            rf_session_push_frame(s, frame.as_ptr(), frame.len(), 0, 48, 192, 0, 0, &mut p),
            204,
            "zero width"
        );
        assert_eq!(
            rf_session_push_frame(
                s,
                frame.as_ptr(),
                frame.len(),
                64,
                48,
                192,
                0,
                100,
                ptr::null_mut()
            ),
            RF_OK
        );
        assert_eq!(
            rf_session_push_frame(s, frame.as_ptr(), frame.len(), 64, 48, 192, 0, 100, &mut p),
            401,
            "order"
        );
        assert_eq!(rf_session_finish(s, ptr::null_mut()), 400);
        let mut json = ptr::null_mut();
        assert_eq!(rf_session_finish(s, &mut json), RF_OK);
        let first = CStr::from_ptr(json).to_string_lossy().to_string();
        rf_string_free(json);
        assert!(first.contains("\"auth_state\":\"FAIL\""), "{first}");
        assert_eq!(rf_session_finish(s, &mut json), RF_OK, "finishing twice");
        assert_eq!(CStr::from_ptr(json).to_string_lossy(), first);
        rf_string_free(json);
        assert_eq!(
            rf_session_push_frame(s, frame.as_ptr(), frame.len(), 64, 48, 192, 0, 500, &mut p),
            504
        );
        rf_session_free(s);
        rf_session_free(ptr::null_mut());
        rf_registry_free(reg);
        rf_registry_free(ptr::null_mut());
        rf_engine_free(e);
        rf_engine_free(ptr::null_mut());
        rf_string_free(ptr::null_mut());
    }
}

/// `rf_session_new_embedding` for id `id` with the fixed nonce and default
/// options: its return code and the handle it wrote (null on an error).
///
/// # Safety
/// `e` and `reg` are live handles.
unsafe fn embedding_session(
    e: *mut RfEngine,
    reg: *mut RfRegistry,
    id: &str,
    v: &[f32],
) -> (i32, *mut RfSession) {
    let id = CString::new(id).expect("cstring");
    let nonce = CString::new(NONCE).expect("cstring");
    let mut s = poison();
    // SAFETY: live handles by contract; the strings and `v` outlive the call.
    let rc = unsafe {
        rf_session_new_embedding(
            e,
            reg,
            id.as_ptr(),
            nonce.as_ptr(),
            now_ms() + 60_000,
            v.as_ptr(),
            v.len(),
            ptr::null(),
            &mut s,
        )
    };
    (rc, s)
}

/// A stored reference that is NaN, infinite, all zero or of the wrong length
/// never starts a session through the C ABI; a valid one does.
#[test]
fn bad_reference_embeddings_are_refused() {
    let dim = realface::Matcher::default().dim();
    let mut nan = vec![0.1f32; dim];
    nan[3] = f32::NAN;
    let mut inf = vec![0.0f32; dim];
    inf[0] = f32::NEG_INFINITY;
    let cases: [(&str, Vec<f32>, i32); 4] = [
        ("nan", nan, 103),
        ("inf", inf, 103),
        ("zero", vec![0.0; dim], 400),
        ("short", vec![0.1; dim - 1], 400),
    ];
    // SAFETY: valid pointers and lengths throughout.
    unsafe {
        let e = engine();
        let reg = registry();
        for (i, (name, v, code)) in cases.iter().enumerate() {
            let (rc, s) = embedding_session(e, reg, &format!("emb{i}"), v);
            assert_eq!(rc, *code, "{name}");
            assert!(s.is_null(), "{name}");
        }
        let (rc, s) = embedding_session(e, reg, "emb-ok", &vec![0.1f32; dim]);
        assert_eq!(rc, RF_OK);
        rf_session_free(s);
        rf_registry_free(reg);
        rf_engine_free(e);
    }
}

/// `rf_engine_new_with` picks the matcher by name: the fused one (the
/// licence-clean choice) takes its own 704-value references and refuses the
/// default's 512; an unknown name is INVALID_ARGUMENT with a null handle.
#[test]
fn the_matcher_is_chosen_by_name() {
    // SAFETY: valid pointers and lengths throughout.
    unsafe {
        let mut e = poison();
        let nope = CString::new("nope").expect("cstring");
        let rc = rf_engine_new_with(ptr::null(), ptr::null(), nope.as_ptr(), &mut e);
        assert_eq!(rc, 400);
        assert!(e.is_null());
        let msg = CStr::from_ptr(rf_last_error_message())
            .to_string_lossy()
            .to_string();
        assert!(msg.contains("w600k_mbf"), "{msg}");
        let fused = CString::new("fused").expect("cstring");
        let mut e = ptr::null_mut();
        let rc = rf_engine_new_with(ptr::null(), ptr::null(), fused.as_ptr(), &mut e);
        assert_eq!(rc, RF_OK);
        let reg = registry();
        for (i, (dim, code)) in [(realface::Matcher::default().dim(), 400), (704, RF_OK)]
            .into_iter()
            .enumerate()
        {
            let (rc, s) = embedding_session(e, reg, &format!("matcher{i}"), &vec![0.1f32; dim]);
            assert_eq!(rc, code, "{dim} values");
            rf_session_free(s);
        }
        rf_registry_free(reg);
        rf_engine_free(e);
    }
}

/// Default session options with a fixed challenge, as the C side passes
/// them; recorded frames answer prompts at fixed delays (`apfol_real2`'s
/// left turn starts at about 0.7 s: prompted at 0.5 s).
/// Options for `apfol_real2` at 10 fps: each action prompted 500 ms after
/// the previous one, its release cue at 1.3 s (the clip's turn to the left
/// is held from 1.0 s and let go at 1.6 s).
fn options_json(actions: &[&str]) -> String {
    let list = actions
        .iter()
        .map(|a| {
            a.parse::<realface::liveness::actions::Action>()
                .expect("action")
        })
        .collect();
    let o = realface::SessionOptions::default()
        .with_challenge(realface::ChallengeSpec::Fixed(list))
        .with_prompt_delays_ms(vec![500; actions.len()])
        .with_release_at_ms(vec![1300; actions.len()]);
    serde_json::to_string(&o).expect("options JSON")
}

fn frames(clip: &str) -> Vec<image::RgbImage> {
    let dir = data_dir().join("actions").join(clip);
    realface::eval::clips::frame_files(&dir)
        .expect("frames")
        .iter()
        .map(|f| image::open(f).expect("frame").to_rgb8())
        .collect()
}

/// A Rust session over `options` with `reference` (a photo) as certifyId `id`.
fn rust_session(
    id: &str,
    options: &str,
    reference: &[u8],
) -> realface::session::VerificationSession {
    let eng = std::sync::Arc::new(
        realface::FaceEngine::new(realface::EngineConfig::default()).expect("engine"),
    );
    let ticket = realface::CertifyRegistry::new()
        .claim_issued(
            &realface::IssuedId {
                certify_id: id.into(),
                challenge_nonce: NONCE.into(),
                expires_ms: now_ms() + 600_000,
            },
            now_ms(),
        )
        .expect("ticket");
    let opts: realface::session::SessionOptions = serde_json::from_str(options).expect("options");
    let ref_img = eng.decode(reference).expect("reference");
    realface::session::VerificationSession::new(
        eng,
        ticket,
        realface::session::Reference::Photo(ref_img),
        opts,
    )
    .expect("session")
}

/// Pushes `frames` at 100 ms apart until the session ends; its verdict.
fn run_rust(
    mut rs: realface::session::VerificationSession,
    frames: impl Iterator<Item = image::RgbImage>,
) -> serde_json::Value {
    for (i, f) in frames.enumerate() {
        let _ = rs.push_frame(&f, i as u64 * 100);
        if rs.is_finished() {
            break;
        }
    }
    serde_json::from_str(&serde_json::to_string(&rs.finish()).expect("json")).expect("json")
}

/// Finishes a C session and frees it with its registry and engine; its verdict.
///
/// # Safety
/// Live handles, not used afterwards.
unsafe fn finish_c(e: *mut RfEngine, reg: *mut RfRegistry, s: *mut RfSession) -> serde_json::Value {
    let mut json = ptr::null_mut();
    // SAFETY: live handles by contract; `json` is freed below.
    unsafe {
        assert_eq!(rf_session_finish(s, &mut json), RF_OK);
        let v = serde_json::from_str(&CStr::from_ptr(json).to_string_lossy()).expect("json");
        rf_string_free(json);
        rf_session_free(s);
        rf_registry_free(reg);
        rf_engine_free(e);
        v
    }
}

/// The same session through the C ABI.
///
/// # Safety
/// `e` and `reg` live handles.
unsafe fn c_session(
    e: *mut RfEngine,
    reg: *mut RfRegistry,
    id: &str,
    options: &str,
    reference: &[u8],
) -> *mut RfSession {
    let id = CString::new(id).expect("cstring");
    let nonce = CString::new(NONCE).expect("cstring");
    let o = CString::new(options).expect("cstring");
    let mut s = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let rc = unsafe {
        rf_session_new(
            e,
            reg,
            id.as_ptr(),
            nonce.as_ptr(),
            now_ms() + 600_000,
            reference.as_ptr(),
            reference.len(),
            o.as_ptr(),
            &mut s,
        )
    };
    assert_eq!(rc, RF_OK);
    s
}

/// The verdict fields both APIs must agree on.
fn assert_same_verdict(rust: &serde_json::Value, c: &serde_json::Value) {
    assert_eq!(rust["auth_state"], "SUCCESS", "{rust}");
    for key in [
        "auth_state",
        "client_code",
        "similarity",
        "score",
        "quality",
        "actions",
        "frames",
        "reasons",
    ] {
        assert_eq!(rust[key], c[key], "{key}");
    }
}

/// The same frames through the Rust API and through the C API (as BGRA with
/// padded rows): identical verdict, similarity and actions.
#[test]
fn rust_and_c_api_agree() {
    let clip = frames("apfol_real2");
    let reference =
        std::fs::read(data_dir().join("actions/apfol_real2/frame_0001.jpg")).expect("read");
    let options = &options_json(&["turn_left"]);
    // Rust
    let rust = run_rust(
        rust_session("eq", options, &reference),
        clip.iter().cloned(),
    );
    // C
    // SAFETY: valid pointers and lengths throughout.
    let c: serde_json::Value = unsafe {
        let e = engine();
        let reg = registry();
        let s = c_session(e, reg, "eq", options, &reference);
        let mut prompted = false;
        for (i, f) in clip.iter().enumerate() {
            let (w, h) = f.dimensions();
            let stride = w as usize * 4 + 8;
            let mut bgra = vec![0u8; stride * h as usize];
            for (x, y, p) in f.enumerate_pixels() {
                let o = y as usize * stride + x as usize * 4;
                bgra[o..o + 4].copy_from_slice(&[p[2], p[1], p[0], 255]);
            }
            let mut p = RfProgress::default();
            let _ = rf_session_push_frame(
                s,
                bgra.as_ptr(),
                bgra.len(),
                w,
                h,
                stride,
                2,
                i as u64 * 100,
                &mut p,
            );
            // the schedule reaches C: "hold still" (4) until the prompt at
            // 500 ms, then the prompt (2) with its time and answer window
            if i < 5 {
                assert!(
                    matches!(p.state, 1 | 4) && p.action == -1 && p.prompt_at_ms == -1,
                    "{i}: {p:?}"
                );
            } else if p.state == 2 {
                assert_eq!((p.action, p.prompt_at_ms), (2, 500), "{p:?}");
                let w = realface::session::prompt::PromptOptions::default();
                assert_eq!(
                    (p.window_start_ms, p.window_end_ms),
                    (
                        500 + w.reaction_min_ms as i64,
                        500 + w.reaction_max_ms as i64
                    ),
                    "{p:?}"
                );
                prompted = true;
            }
            if p.state == 3 {
                break;
            }
        }
        assert!(prompted, "the prompt was never shown");
        finish_c(e, reg, s)
    };
    assert_same_verdict(&rust, &c);
}

/// A capture for a server through the C ABI: no reference on the device,
/// the server's challenge and nonce, a completed capture is PROCESSING with
/// client code 0 (never SUCCESS), and the evidence holds every frame taken.
#[test]
fn capture_sessions_hand_back_the_evidence() {
    let clip = frames("apfol_real2");
    // SAFETY: valid pointers and lengths throughout.
    unsafe {
        let e = engine();
        let reg = registry();
        let id = CString::new("server-issued").expect("cstring");
        let nonce = CString::new(NONCE).expect("cstring");
        let o = CString::new(options_json(&["turn_left"])).expect("cstring");
        let mut s = poison();
        let rc = rf_session_new_capture(
            e,
            reg,
            id.as_ptr(),
            nonce.as_ptr(),
            now_ms() + 600_000,
            o.as_ptr(),
            &mut s,
        );
        assert_eq!(rc, RF_OK);
        let mut taken = 0;
        for (i, f) in clip.iter().enumerate() {
            let (w, h) = f.dimensions();
            let mut p = RfProgress::default();
            let rc = rf_session_push_frame(
                s,
                f.as_ptr(),
                f.len(),
                w,
                h,
                w as usize * 3,
                0,
                i as u64 * 100,
                &mut p,
            );
            if rc != RF_OK && rc != realface::ErrorCode::NoFace.as_u32() as i32 {
                panic!("push: {rc}");
            }
            taken += 1;
            if p.state == 3 {
                break;
            }
        }
        let mut json = poison();
        assert_eq!(rf_session_finish(s, &mut json), RF_OK);
        let v: serde_json::Value =
            serde_json::from_str(&CStr::from_ptr(json).to_string_lossy()).expect("json");
        rf_string_free(json);
        assert_eq!(v["auth_state"], "PROCESSING", "{v}");
        assert_eq!(v["client_code"], 0);
        assert!(v["similarity"].is_null());
        let mut bundle = poison();
        assert_eq!(rf_session_evidence(s, &mut bundle), RF_OK);
        let b: serde_json::Value =
            serde_json::from_str(&CStr::from_ptr(bundle).to_string_lossy()).expect("json");
        rf_string_free(bundle);
        assert_eq!(b["frames"].as_array().expect("frames").len(), taken);
        assert_eq!(b["deviceResult"]["auth_state"], "PROCESSING");
        rf_session_free(s);
        // a session with a reference records only when asked
        let id2 = CString::new("local").expect("cstring");
        let reference =
            std::fs::read(data_dir().join("actions/apfol_real2/frame_0001.jpg")).expect("read");
        let mut s2 = ptr::null_mut();
        let rc = rf_session_new(
            e,
            reg,
            id2.as_ptr(),
            nonce.as_ptr(),
            now_ms() + 600_000,
            reference.as_ptr(),
            reference.len(),
            o.as_ptr(),
            &mut s2,
        );
        assert_eq!(rc, RF_OK);
        let mut none = poison();
        assert_eq!(
            rf_session_evidence(s2, &mut none),
            realface::ErrorCode::InvalidArgument.as_u32() as i32
        );
        assert!(none.is_null());
        rf_session_free(s2);
        rf_registry_free(reg);
        rf_engine_free(e);
    }
}

/// The C example (examples/c/verify.c) compiles with gcc against the header
/// and the cdylib, runs a session over a clip (frames as PPM) and prints a
/// SUCCESS verdict.
#[test]
fn c_example_compiles_and_runs() {
    let lib_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().and_then(|d| d.parent()).map(|d| d.to_path_buf()))
        .expect("target dir");
    assert!(
        lib_dir.join("librealface.so").is_file(),
        "cdylib missing in {}",
        lib_dir.display()
    );
    let tmp = std::env::temp_dir().join(format!("realface-c-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let exe = tmp.join("verify");
    let status = std::process::Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Werror", "-O1", "-o"])
        .arg(&exe)
        .arg(root().join("examples/c/verify.c"))
        .arg("-I")
        .arg(root().join("include"))
        .arg(format!("-L{}", lib_dir.display()))
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-lrealface")
        .status()
        .expect("gcc runs");
    assert!(status.success(), "gcc failed");
    let clip = frames("apfol_real2");
    for (i, f) in clip.iter().enumerate() {
        let mut ppm = format!("P6\n{} {}\n255\n", f.width(), f.height()).into_bytes();
        ppm.extend_from_slice(f.as_raw());
        std::fs::write(tmp.join(format!("frame_{:04}.ppm", i + 1)), ppm).expect("ppm");
    }
    let options = &options_json(&["turn_left"]);
    let out = std::process::Command::new(&exe)
        .arg(data_dir().join("actions/apfol_real2/frame_0001.jpg"))
        .arg(tmp.join("frame_%04d.ppm"))
        .arg(clip.len().to_string())
        .arg("10")
        .arg(options)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    // it showed "Hold still" first, then the prompt at its scheduled time
    let log = String::from_utf8_lossy(&out.stderr);
    let hold = log.find("0 ms: Hold still").expect("hold still shown");
    let prompt = log
        .find("500 ms: Turn your head to the left (step 1 of 1")
        .unwrap_or_else(|| panic!("prompt not shown at 500 ms: {log}"));
    assert!(hold < prompt, "{log}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The C quick start as the README gives it, `bash examples/c/run.sh`: it
/// compiles the example with an rpath, makes PPM frames with ffmpeg and
/// prints a SUCCESS verdict (the library this test binary sits beside stands
/// in for its cargo build).
#[test]
fn the_c_quick_start_script_passes() {
    let lib_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().and_then(|d| d.parent()).map(|d| d.to_path_buf()))
        .expect("target dir");
    let out = std::process::Command::new("bash")
        .arg(root().join("examples/c/run.sh"))
        .env("REALFACE_LIB_DIR", &lib_dir)
        .env("REALFACE_DATA", data_dir())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).expect("JSON result");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}\n{stderr}");
}

/// The prompt table reaches C: every entry in both languages by the number
/// `RfProgress::prompt` carries; an unknown number or language is null with
/// INVALID_ARGUMENT.
#[test]
fn prompt_texts_reach_c_in_both_languages() {
    for (i, p) in realface::prompts::PROMPTS.iter().enumerate() {
        for (lang, want) in [(0, p.en), (1, p.zh_hans)] {
            let s = rf_prompt_text(i as i32, lang);
            assert!(!s.is_null(), "{} {lang}", p.key);
            // SAFETY: a NUL-terminated string owned by the library.
            let got = unsafe { CStr::from_ptr(s) }.to_str().expect("utf-8");
            assert_eq!(got, want);
        }
    }
    let n = realface::prompts::PROMPTS.len() as i32;
    for (i, lang) in [(-1, 0), (n, 0), (0, 2)] {
        assert!(rf_prompt_text(i, lang).is_null());
        assert_eq!(
            rf_last_error_code(),
            realface::ErrorCode::InvalidArgument.as_u32() as i32
        );
    }
}

/// An NV21 frame: its planes, their row stride and its size.
struct Nv21 {
    y: Vec<u8>,
    vu: Vec<u8>,
    stride: usize,
    w: u32,
    h: u32,
}

/// `img` as NV21 (BT.601 full range, chroma averaged over each 2x2 block),
/// rows padded to a multiple of `pad` bytes.
fn to_nv21(img: &image::RgbImage, pad: usize) -> Nv21 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let stride = w.div_ceil(pad) * pad;
    let mut y = vec![0u8; stride * h];
    let mut vu = vec![0u8; stride * h.div_ceil(2)];
    let px = |x: usize, yy: usize| {
        let p = img.get_pixel(x.min(w - 1) as u32, yy.min(h - 1) as u32).0;
        [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
    };
    for r in 0..h {
        for c in 0..w {
            let [rr, g, b] = px(c, r);
            y[r * stride + c] = (0.299 * rr + 0.587 * g + 0.114 * b).round() as u8;
        }
    }
    for r in 0..h.div_ceil(2) {
        for c in 0..w.div_ceil(2) {
            let mut uv = [0f64; 2];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let [rr, g, b] = px(2 * c + dx, 2 * r + dy);
                uv[0] += 128.0 - 0.168_736 * rr - 0.331_264 * g + 0.5 * b;
                uv[1] += 128.0 + 0.5 * rr - 0.418_688 * g - 0.081_312 * b;
            }
            vu[r * stride + 2 * c] = (uv[1] / 4.0).round().clamp(0.0, 255.0) as u8;
            vu[r * stride + 2 * c + 1] = (uv[0] / 4.0).round().clamp(0.0, 255.0) as u8;
        }
    }
    Nv21 {
        y,
        vu,
        stride,
        w: img.width(),
        h: img.height(),
    }
}

/// A phone's frames through the C ABI: NV21 with padded rows, captured
/// sideways (the app says "turn 90 degrees"), give the verdict the Rust API
/// gives on the same pixels turned upright; malformed planes are typed
/// errors.
#[test]
fn phone_frames_through_c_match_the_rust_api() {
    use realface::imaging::yuv::{orient, Rotation, Yuv420};
    let clip = frames("apfol_real2");
    let reference =
        std::fs::read(data_dir().join("actions/apfol_real2/frame_0001.jpg")).expect("read");
    let options = &options_json(&["turn_left"]);
    // the camera's frames: sideways (upright after 90 degrees clockwise)
    let sideways: Vec<Nv21> = clip
        .iter()
        .map(|f| to_nv21(&image::imageops::rotate270(f), 64))
        .collect();
    let limits = realface::imaging::limits::Limits::default();
    // Rust: the library's own conversion, then the session
    let rust = run_rust(
        rust_session("yuv", options, &reference),
        sideways.iter().map(|f| {
            let rgb = Yuv420::nv21(f.w, f.h, &f.y, f.stride, &f.vu, f.stride)
                .to_rgb(&limits)
                .expect("nv21");
            orient(rgb, Rotation::R90, false)
        }),
    );
    // C
    // SAFETY: valid pointers and lengths throughout.
    let c: serde_json::Value = unsafe {
        let e = engine();
        let reg = registry();
        let s = c_session(e, reg, "yuv", options, &reference);
        let plane = |data: &[u8], row: usize, px: usize| RfPlane {
            data: data.as_ptr(),
            len: data.len(),
            row_stride: row,
            pixel_stride: px,
        };
        let frame_of = |f: &Nv21| RfYuvFrame {
            width: f.w,
            height: f.h,
            y: plane(&f.y, f.stride, 1),
            u: plane(&f.vu[1..], f.stride, 2),
            v: plane(&f.vu, f.stride, 2),
            colour: 0,
            rotation: 90,
            mirror: 0,
        };
        // misuse first: nothing reaches the session
        let mut p = RfProgress::default();
        let good = frame_of(&sideways[0]);
        assert_eq!(rf_session_push_yuv420(s, ptr::null(), 0, &mut p), 400);
        for (what, bad) in [
            ("colour", RfYuvFrame { colour: 9, ..good }),
            (
                "rotation",
                RfYuvFrame {
                    rotation: 45,
                    ..good
                },
            ),
            (
                "short plane",
                RfYuvFrame {
                    v: RfPlane { len: 10, ..good.v },
                    ..good
                },
            ),
            (
                "zero stride",
                RfYuvFrame {
                    y: RfPlane {
                        row_stride: 0,
                        ..good.y
                    },
                    ..good
                },
            ),
            (
                "null plane",
                RfYuvFrame {
                    u: RfPlane {
                        data: ptr::null(),
                        ..good.u
                    },
                    ..good
                },
            ),
        ] {
            assert_eq!(rf_session_push_yuv420(s, &bad, 0, &mut p), 400, "{what}");
        }
        for (i, f) in sideways.iter().enumerate() {
            let mut p = RfProgress::default();
            let _ = rf_session_push_yuv420(s, &frame_of(f), i as u64 * 100, &mut p);
            if p.state == 3 {
                break;
            }
        }
        finish_c(e, reg, s)
    };
    assert_same_verdict(&rust, &c);
}
