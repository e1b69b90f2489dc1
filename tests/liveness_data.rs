//! Liveness on the shared data: attack sequences (synthetic ones made from a
//! live frame, the real NUAA print captures, the phone-screen replay video)
//! never pass a challenge, and `realface verify` passes genuine clips, from
//! frames and from the original video at its own frame rate.

mod common;

use std::sync::Arc;

use common::{cli, data_dir, load};
use rayon::prelude::*;
use realface::eval::attacks::{synthesize, AttackKind};
use realface::eval::dataset::read_pad_labels;
use realface::eval::liveness::{at_fps, frame_files, run_challenge};
use realface::liveness::actions::Action;
use realface::liveness::actions::ActionParams;
use realface::liveness::pad::DEFAULT_PAD_THRESHOLD;
use realface::session::result::AuthState;
use realface::session::Reference;
use realface::source::video::{read_video, VideoLimits};
use realface::{EngineConfig, FaceEngine, RgbImage};

fn engine() -> Arc<FaceEngine> {
    Arc::new(FaceEngine::new(EngineConfig::default().with_sessions_per_model(2)).expect("engine"))
}

#[test]
fn synthetic_photo_attacks_never_pass() {
    let e = engine();
    // lp_d3: its perspective attack got through as a turn before the
    // planarity cue (the mesh saw 15.6° of yaw and a real-looking nose shift)
    let photos: Vec<RgbImage> = ["lp_d12", "blinkdet_video", "lp_d3"]
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
                &at_fps(&frames, 10.0),
                action,
                ActionParams::default(),
                DEFAULT_PAD_THRESHOLD,
                "attack",
            )
            .expect("runs");
            (r.auth_state == AuthState::Success).then(|| format!("{p} {kind:?} {action:?}"))
        })
        .collect();
    assert!(passed.is_empty(), "attacks that passed: {passed:?}");
}

fn mesh_of(e: &FaceEngine, img: &RgbImage) -> realface::landmarks::Mesh {
    let faces = e.detect(img).expect("detects");
    let [face] = faces.as_slice() else {
        panic!("{} faces", faces.len())
    };
    e.landmarks(img, face).expect("mesh").mesh
}

#[test]
fn a_turned_picture_is_a_plane_and_a_turned_head_is_not() {
    use realface::liveness::flat::FlatMotion;
    use realface::liveness::planar::{residual, PlanarReference};
    let e = engine();
    let residual_to = |first: &RgbImage, later: &RgbImage| -> f32 {
        let reference = PlanarReference::new(first, &mesh_of(&e, first)).expect("reference");
        residual(&reference, later, &mesh_of(&e, later)).expect("residual")
    };
    // a real head turned (lp_d12, labelled turn at 3.0-3.7 s) ...
    let clip = data_dir().join("actions/lp_d12");
    let head = residual_to(
        &load(&clip.join("frame_0001.jpg")),
        &load(&clip.join("frame_0034.jpg")),
    );
    // ... and a picture turned in depth by ~35° (the synthetic attack)
    let photo = load(&data_dir().join("actions/lp_d3/frame_0001.jpg"));
    let turned = synthesize(&photo, AttackKind::Perspective, 30, 42);
    let plane = residual_to(&photo, &turned[4]);
    assert!(plane < FlatMotion::PLANAR_MIN, "picture: {plane}");
    assert!(head > FlatMotion::PLANAR_MIN, "head: {head}");
    // the picture unmoved is explained almost exactly
    assert!(residual_to(&photo, &photo) < 0.05);
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
            let prints = at_fps(&of("print"), 10.0);
            let e = e.clone();
            Action::ALL.into_iter().filter_map(move |a| {
                let r = run_challenge(
                    &e,
                    Reference::Photo(reference.clone()),
                    &prints,
                    a,
                    ActionParams::default(),
                    DEFAULT_PAD_THRESHOLD,
                    "print",
                )
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
    let nonce = common::NONCE;
    let later = "99999999999999";
    for (args, name) in [
        (
            vec!["--certify-id", "", "--nonce", nonce, "--expires-ms", later],
            "CERTIFY_ID_EMPTY",
        ),
        // a server's id must come with its nonce; expired or nonce-less ids are refused
        (
            vec!["--certify-id", "srv", "--nonce", nonce, "--expires-ms", "1"],
            "CERTIFY_ID_EXPIRED",
        ),
        (
            vec![
                "--certify-id",
                "srv",
                "--nonce",
                "abc",
                "--expires-ms",
                later,
            ],
            "INVALID_ARGUMENT",
        ),
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

#[test]
fn phone_replay_video_never_passes_and_the_passive_gate_says_why() {
    let e = engine();
    let videos = data_dir().join("spoof/apfol/videos");
    let limits = e.config().limits;
    let big = VideoLimits {
        max_frames: 10_000,
        max_duration_ms: 600_000,
    };
    let reference = read_video(&videos.join("real2.webm"), limits, big)
        .expect("real2.webm decodes")
        .remove(0)
        .image;
    let fake = read_video(&videos.join("fake2.webm"), limits, big).expect("fake2.webm decodes");
    assert!(fake.len() > 200, "{} frames", fake.len());
    let results: Vec<(Action, AuthState, Option<f32>)> = Action::ALL
        .par_iter()
        .map(|&a| {
            let r = run_challenge(
                &e,
                Reference::Photo(reference.clone()),
                &fake,
                a,
                ActionParams::default(),
                DEFAULT_PAD_THRESHOLD,
                "replay",
            )
            .expect("runs");
            (a, r.auth_state, r.pad.median_real)
        })
        .collect();
    for (a, state, median) in &results {
        assert_eq!(*state, AuthState::Fail, "{a:?} passed");
        // whatever else ended the session, the passive evidence was an attack
        assert!(
            median.is_some_and(|m| m < DEFAULT_PAD_THRESHOLD),
            "{a:?}: median P(real) {median:?}"
        );
    }
}

#[test]
fn verify_cli_passes_a_genuine_blink_video_at_its_native_rate() {
    let clip = data_dir().join("actions/blinkdet_video");
    let out = cli()
        .args(["verify", "--json", "--actions", "blink", "--reference"])
        .arg(clip.join("frame_0001.jpg"))
        .arg("--video")
        .arg(clip.join("source.mp4"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    assert!(v["pad"]["samples"].as_u64() >= Some(6), "{v}");
    assert!(v["pad"]["median_real"].as_f64() > v["pad"]["threshold"].as_f64());
    // 23.9 fps: frames arrive about 42 ms apart, so more frames than seconds x 10
    assert!(v["frames"].as_u64() > Some(20), "{v}");
}

/// The challenges that failed before this changes (a broad smile
/// with the lips apart, a grimace, turns of 17-20° with the head pitched
/// up), through full sessions on the original videos at their own rate and
/// the shipped thresholds. A regression guard, not a held-out figure: the
/// held-out ones come from `realface eval liveness`.
#[test]
fn smiles_and_small_turns_pass_at_native_rate() {
    let e = engine();
    let limits = e.config().limits;
    let big = VideoLimits {
        max_frames: 10_000,
        max_duration_ms: 600_000,
    };
    let cases = [
        ("lp_d0", Action::MouthOpen),
        ("xportrait_driving", Action::MouthOpen),
        ("lp_d12", Action::TurnLeft),
        ("lp_d12", Action::TurnRight),
    ];
    let failed: Vec<String> = cases
        .par_iter()
        .filter_map(|&(clip, action)| {
            let dir = data_dir().join("actions").join(clip);
            let frames = read_video(&dir.join("source.mp4"), limits, big).expect("decodes");
            let r = run_challenge(
                &e,
                Reference::Photo(frames[0].image.clone()),
                &frames,
                action,
                ActionParams::default(),
                DEFAULT_PAD_THRESHOLD,
                "genuine",
            )
            .expect("runs");
            (r.auth_state != AuthState::Success)
                .then(|| format!("{clip} {action:?}: {:?}", r.reasons))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "genuine challenges that failed: {failed:?}"
    );
}
