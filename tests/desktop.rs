//! The desktop example (examples/desktop.rs, feature `gui`) under Xvfb with a
//! frames-directory source: it verifies, draws the ring in the configured
//! colours, and a press of Quit ends the session as interrupted (10011).
#![cfg(feature = "gui")]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::data_dir;

fn desktop_exe() -> PathBuf {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().and_then(|d| d.parent()).map(|d| d.to_path_buf()))
        .expect("target dir")
        .join("examples/desktop");
    assert!(
        exe.is_file(),
        "{} missing: build it with `cargo build --release --features gui --example desktop`",
        exe.display()
    );
    exe
}

fn run(tmp: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let clip = data_dir().join("actions/apfol_real2");
    let ui = tmp.join("ui.json");
    std::fs::write(
        &ui,
        r##"{"progressBarColor":"#FF6D00","progressBarBackgroundColor":"#263238","title":"realface test"}"##,
    )
    .expect("ui options");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1000x24"])
        .arg(desktop_exe())
        .arg("--reference")
        .arg(clip.join("frame_0001.jpg"))
        .arg("--frames")
        .arg(&clip)
        .args([
            "--fps",
            "10",
            "--actions",
            "turn_left,turn_right",
            "--close-after",
            "0.5",
        ])
        .arg("--ui-options")
        .arg(&ui)
        .args(extra)
        .output()
        .expect("xvfb-run missing: run `bash scripts/system-deps.sh`");
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON result ({e}); exit {code}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

/// Pixels within a small distance of `rgb`.
fn count(img: &image::RgbaImage, rgb: [u8; 3]) -> usize {
    img.pixels()
        .filter(|p| (0..3).all(|i| (p.0[i] as i32 - rgb[i] as i32).abs() <= 12))
        .count()
}

#[test]
fn desktop_app_verifies_and_draws_the_ring_under_xvfb() {
    let tmp = std::env::temp_dir().join(format!("realface-desktop-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let shot = tmp.join("action.png");
    let (code, v) = run(&tmp, &["--screenshot", shot.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    let img = image::open(&shot).expect("screenshot").to_rgba8();
    // Half the ring in the progress colour, the whole ring in the background colour.
    let (fg, bg) = (
        count(&img, [0xFF, 0x6D, 0x00]),
        count(&img, [0x26, 0x32, 0x38]),
    );
    assert!(fg > 3_000, "progress arc pixels: {fg}");
    assert!(bg > 3_000, "ring background pixels: {bg}");
    // The progress arc covers about half the ring: between a quarter and three quarters.
    let right = img
        .enumerate_pixels()
        .filter(|(x, _, p)| {
            *x > img.width() / 2
                && (0..3).all(|i| (p.0[i] as i32 - [0xFF, 0x6D, 0x00][i]).abs() <= 12)
        })
        .count();
    assert!(
        right as f64 > 0.9 * fg as f64,
        "the first half of the arc runs clockwise from the top"
    );

    let quit = tmp.join("quit.png");
    let (code, v) = run(
        &tmp,
        &[
            "--press-quit-after",
            "3",
            "--screenshot",
            quit.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["auth_state"], "FAIL");
    assert_eq!(v["client_code"], 10011);
    assert_eq!(v["reasons"][0]["code"], "USER_QUIT");
    assert!(quit.is_file());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Without a camera (CI), asking for one shows the typed error and exits 2.
#[test]
fn desktop_app_without_a_camera_says_so() {
    if !realface::source::list_cameras()
        .unwrap_or_default()
        .is_empty()
    {
        return; // a machine with a camera: nothing to check here
    }
    let clip = data_dir().join("actions/apfol_real2");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1000x24"])
        .arg(desktop_exe())
        .arg("--reference")
        .arg(clip.join("frame_0001.jpg"))
        .args(["--camera", "0", "--close-after", "0.2"])
        .output()
        .expect("xvfb-run missing: run `bash scripts/system-deps.sh`");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error 600") && err.contains("cameras found"),
        "{err}"
    );
}
