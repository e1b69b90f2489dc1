//! The desktop example (examples/desktop.rs, feature `gui`) under Xvfb with a
//! frames-directory source: it shows "Hold still" and then the prompt when
//! the schedule says, verifies, draws the ring in the configured colours,
//! and a press of Quit ends the session as interrupted (10011).
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

/// `xvfb-run` with an authority file of ours in `tmp`: without `-f` it
/// makes a temporary directory of its own and exits 5 when removing it fails
/// after the app ended (seen once in CI), which hid the app's exit code.
fn xvfb(tmp: &std::path::Path) -> Command {
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", "-screen 0 1280x1000x24", "-f"])
        .arg(tmp.join("Xauthority"));
    cmd
}

/// Runs the app on `apfol_real2`'s frames with a turn-left challenge
/// prompted 500 ms after the first frame (the turn starts at about 0.7 s)
/// and its release cue at 1.3 s:
/// exit code, the AuthResult JSON, and what it logged on stderr.
fn run(tmp: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let clip = data_dir().join("actions/apfol_real2");
    let ui = tmp.join("ui.json");
    std::fs::write(
        &ui,
        r##"{"progressBarColor":"#FF6D00","progressBarBackgroundColor":"#263238","title":"realface test"}"##,
    )
    .expect("ui options");
    let out = xvfb(tmp)
        .arg(desktop_exe())
        .arg("--reference")
        .arg(clip.join("frame_0001.jpg"))
        .arg("--frames")
        .arg(&clip)
        .args([
            "--fps",
            "10",
            "--actions",
            "turn_left",
            "--prompt-delays-ms",
            "500",
            // the turn is held from 1.0 s and let go at 1.6 s
            "--release-at-ms",
            "1300",
            "--close-after",
            "0.5",
        ])
        .arg("--ui-options")
        .arg(&ui)
        .args(extra)
        .output()
        .expect("xvfb-run missing: run `bash scripts/system-deps.sh`");
    let code = out.status.code().unwrap_or(-1);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON result ({e}); exit {code}; stderr: {err}"));
    (code, v, err)
}

/// Pixels within a small distance of `rgb`.
fn count(img: &image::RgbaImage, rgb: [u8; 3]) -> usize {
    img.pixels()
        .filter(|p| (0..3).all(|i| (p.0[i] as i32 - rgb[i] as i32).abs() <= 12))
        .count()
}

const PROMPT: [u8; 3] = [0xFF, 0x6D, 0x00];
const HOLD: [u8; 3] = [0x5A, 0x5A, 0x5A];
const RING: [u8; 3] = [0x26, 0x32, 0x38];

#[test]
fn desktop_app_follows_the_prompt_schedule_under_xvfb() {
    let tmp = std::env::temp_dir().join(format!("realface-desktop-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let (hold, prompt, end) = (
        tmp.join("hold.png"),
        tmp.join("prompt.png"),
        tmp.join("end.png"),
    );
    let path = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let (code, v, log) = run(
        &tmp,
        &[
            "--screenshot-hold",
            &path(&hold),
            "--screenshot",
            &path(&prompt),
            "--screenshot-end",
            &path(&end),
        ],
    );
    assert_eq!(code, 0, "{v}\n{log}");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    // the prompt appeared when the schedule said, after "Hold still"
    let shown: Vec<(u64, String)> = log
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("desktop: ")?;
            let (t, what) = rest.split_once(" ms: ")?;
            Some((t.parse().ok()?, what.to_string()))
        })
        .collect();
    let prompt_at = v["actions"][0]["prompt_ms"].as_u64().expect("prompt_ms");
    assert!((500..600).contains(&prompt_at), "{v}");
    let first_prompt = shown
        .iter()
        .find(|(_, w)| w.starts_with("Action"))
        .expect("a prompt was shown");
    assert_eq!(first_prompt.0, prompt_at, "{shown:?}");
    assert!(
        first_prompt.1.contains("Turn your head to the left"),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|(t, w)| *t < prompt_at && w.contains("Hold still")),
        "{shown:?}"
    );
    // "Hold still" on grey before the prompt, the prompt on the ring's
    // colour (the camera image has some grey of its own: compare the shots)
    let hold = image::open(&hold).expect("hold screenshot").to_rgba8();
    let prompt = image::open(&prompt).expect("prompt screenshot").to_rgba8();
    let (hold_grey, hold_orange) = (count(&hold, HOLD), count(&hold, PROMPT));
    let (prompt_grey, prompt_orange) = (count(&prompt, HOLD), count(&prompt, PROMPT));
    assert!(
        hold_grey > prompt_grey + 2_000,
        "hold banner: {hold_grey} vs {prompt_grey}"
    );
    assert!(
        prompt_orange > hold_orange + 2_000,
        "prompt banner: {prompt_orange} vs {hold_orange}"
    );
    assert!(
        hold_orange < 300,
        "no prompt or progress yet: {hold_orange}"
    );
    assert!(count(&hold, RING) > 3_000, "ring background");
    // at the end the ring is full: the progress colour all the way round
    let end = image::open(&end).expect("end screenshot").to_rgba8();
    let left = end
        .enumerate_pixels()
        .filter(|(x, _, p)| {
            *x < end.width() / 2 && (0..3).all(|i| (p.0[i] as i32 - PROMPT[i] as i32).abs() <= 12)
        })
        .count();
    assert!(
        count(&end, PROMPT) > 6_000 && left > 2_000,
        "full ring: {}",
        count(&end, PROMPT)
    );

    let quit = tmp.join("quit.png");
    let (code, v, _) = run(
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
    let tmp = std::env::temp_dir().join(format!("realface-nocam-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let out = xvfb(&tmp)
        .arg(desktop_exe())
        .arg("--reference")
        .arg(clip.join("frame_0001.jpg"))
        .args(["--camera", "0", "--close-after", "0.2"])
        .output()
        .expect("xvfb-run missing: run `bash scripts/system-deps.sh`");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error 600") && err.contains("cameras found"),
        "{err}"
    );
}
