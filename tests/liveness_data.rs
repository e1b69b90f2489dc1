//! Liveness on the shared data: attack sequences (synthetic ones made from a
//! live frame, and the real NUAA print captures) never pass a challenge, and
//! `realface verify` passes a genuine clip.

mod common;

use std::sync::Arc;

use common::{cli, data_dir, load};
use rayon::prelude::*;
use realface::eval::attacks::{synthesize, AttackKind};
use realface::eval::dataset::read_pad_labels;
use realface::eval::liveness::{frame_files, run_challenge};
use realface::liveness::actions::Action;
use realface::session::result::AuthState;
use realface::session::Reference;
use realface::{EngineConfig, FaceEngine, RgbImage};

fn engine() -> Arc<FaceEngine> {
    Arc::new(FaceEngine::new(EngineConfig::default().with_sessions_per_model(2)).expect("engine"))
}

#[test]
fn synthetic_photo_attacks_never_pass() {
    let e = engine();
    let photos: Vec<RgbImage> = ["lp_d12", "blinkdet_video"]
        .iter()
        .map(|c| load(&data_dir().join("actions").join(c).join("frame_0001.jpg")))
        .collect();
    let jobs: Vec<(usize, AttackKind, Action)> = (0..photos.len())
        .flat_map(|p| {
            AttackKind::ALL
                .into_iter()
                .flat_map(move |k| Action::ALL.into_iter().map(move |a| (p, k, a)))
        })
        .collect();
    let passed: Vec<String> = jobs
        .par_iter()
        .filter_map(|&(p, kind, action)| {
            let frames = synthesize(&photos[p], kind, 30, 42);
            let r = run_challenge(
                &e,
                Reference::Photo(photos[p].clone()),
                &frames,
                action,
                "attack",
            )
            .expect("runs");
            (r.auth_state == AuthState::Success).then(|| format!("{p} {kind:?} {action:?}"))
        })
        .collect();
    assert!(passed.is_empty(), "attacks that passed: {passed:?}");
}

#[test]
fn real_print_attacks_never_pass() {
    let e = engine();
    let dir = data_dir().join("spoof");
    let labels = read_pad_labels(&dir.join("labels.csv")).expect("labels");
    let subjects = ["nuaa:0001", "nuaa:0005", "nuaa:0009"];
    let passed: Vec<String> = subjects
        .par_iter()
        .flat_map_iter(|subject| {
            let of = |label: &str| -> Vec<RgbImage> {
                labels
                    .iter()
                    .filter(|s| s.subject.as_deref() == Some(*subject) && s.label == label)
                    .map(|s| load(&dir.join(&s.path)))
                    .collect()
            };
            let reference = of("live").remove(0);
            let prints = of("print");
            let e = e.clone();
            Action::ALL.into_iter().filter_map(move |a| {
                let r = run_challenge(&e, Reference::Photo(reference.clone()), &prints, a, "print")
                    .expect("runs");
                (r.auth_state == AuthState::Success).then(|| format!("{subject} {a:?}"))
            })
        })
        .collect();
    assert!(passed.is_empty(), "print attacks that passed: {passed:?}");
}

#[test]
fn verify_cli_passes_a_genuine_clip_and_reports_json() {
    let clip = data_dir().join("actions/apfol_real2");
    let out = cli()
        .args([
            "verify",
            "--json",
            "--actions",
            "turn_left,turn_right",
            "--photo",
            "Y_M",
            "--reference",
        ])
        .arg(clip.join("frame_0001.jpg"))
        .arg("--frames")
        .arg(&clip)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    assert_eq!(v["client_code"], 0);
    assert_eq!(v["photo_kind"], "Y_M");
    assert!(v["photo"].as_str().is_some_and(|p| p.len() > 1000));
    assert!(v["similarity"].as_f64() >= v["threshold"].as_f64());
    assert_eq!(frame_files(&clip).expect("frames").len(), 117);
}

#[test]
fn verify_cli_refuses_bad_arguments_with_codes() {
    let clip = data_dir().join("actions/lp_d0");
    for (args, name) in [
        (vec!["--certify-id", ""], "CERTIFY_ID_EMPTY"),
        (vec!["--actions", "blink,wink"], "INVALID_ARGUMENT"),
        (vec!["--random", "9"], "INVALID_ARGUMENT"),
        (vec!["--photo", "Y_X"], "INVALID_ARGUMENT"),
    ] {
        let out = cli()
            .args(["verify", "--json", "--reference"])
            .arg(clip.join("frame_0001.jpg"))
            .arg("--frames")
            .arg(&clip)
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["error"]["name"], name, "{args:?}");
    }
}
