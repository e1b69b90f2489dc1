//! Equivalence of the fast path: `realface verify` with a frame's model
//! calls side by side on two cores (the default,
//! `RuntimeConfig::parallel_stages`) and one after the other
//! (`--sequential-stages`) must give the same result, field for field
//! (verdict, reasons, actions with their prompt and onset times, scores,
//! similarity, passive medians, the photo), on genuine clips and on attacks.
//! Only the certifyId (random per run) may differ.

mod common;

use std::path::PathBuf;

use common::{cli, data_dir};

/// One `realface verify --json` run.
fn verify(
    args: &[&str],
    media: (&str, PathBuf),
    reference: PathBuf,
    sequential: bool,
) -> serde_json::Value {
    let mut cmd = cli();
    cmd.arg("verify").arg("--json").args(args);
    cmd.arg("--reference").arg(&reference);
    cmd.arg(media.0).arg(&media.1);
    if sequential {
        cmd.arg("--sequential-stages");
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{args:?} {}: {}",
        media.1.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let obj = v.as_object_mut().expect("an object");
    assert!(obj.remove("certify_id").is_some(), "no certify_id");
    v
}

/// Runs a case both ways and returns the (equal) result.
fn same_both_ways(args: &[&str], media: (&str, PathBuf), reference: PathBuf) -> serde_json::Value {
    let parallel = verify(args, media.clone(), reference.clone(), false);
    let sequential = verify(args, media, reference, true);
    assert_eq!(
        parallel, sequential,
        "{args:?}: the fast path changed the result"
    );
    parallel
}

#[test]
fn genuine_clips_decide_the_same_with_and_without_parallel_stages() {
    let apfol = data_dir().join("actions/apfol_real2");
    let v = same_both_ways(
        &[
            "--actions",
            "turn_left",
            "--prompt-delays-ms",
            "500",
            "--release-at-ms",
            "1300",
            "--photo",
            "Y_M",
        ],
        ("--frames", apfol.clone()),
        apfol.join("frame_0001.jpg"),
    );
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    let v = same_both_ways(
        &["--actions", "mouth_open", "--prompt-delays-ms", "500"],
        ("--frames", apfol.clone()),
        apfol.join("frame_0001.jpg"),
    );
    assert_eq!(v["auth_state"], "FAIL", "{v}");
    // at the video's own rate (23.9 fps), every passive and embedding frame
    let blink = data_dir().join("actions/blinkdet_video");
    let v = same_both_ways(
        &[
            "--actions",
            "blink",
            "--prompt-delays-ms",
            "5400",
            "--release-at-ms",
            "7700",
        ],
        ("--video", blink.join("source.mp4")),
        blink.join("frame_0001.jpg"),
    );
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    assert!(v["pad"].is_object(), "{v}");
}

#[test]
fn attacks_decide_the_same_with_and_without_parallel_stages() {
    let videos = data_dir().join("spoof/apfol/videos");
    let reference = data_dir().join("actions/apfol_real2/frame_0001.jpg");
    // a phone-screen replay of the person
    let v = same_both_ways(
        &["--actions", "blink", "--prompt-delays-ms", "1000"],
        ("--video", videos.join("fake2.webm")),
        reference.clone(),
    );
    assert_eq!(v["auth_state"], "FAIL", "{v}");
    // a recorded genuine clip asked for an action it never answers in time
    let lp = data_dir().join("actions/lp_d12");
    let v = same_both_ways(
        &["--actions", "nod,blink", "--prompt-delays-ms", "700,900"],
        ("--frames", lp.clone()),
        lp.join("frame_0001.jpg"),
    );
    assert_eq!(v["auth_state"], "FAIL", "{v}");
}
