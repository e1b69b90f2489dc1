//! Liveness on the shared data: attack sequences (synthetic ones made from a
//! live frame, the real NUAA print captures, the phone-screen replay video)
//! never pass a challenge under random prompt schedules, and
//! `realface verify` passes genuine clips prompted before their actions,
//! from frames and from the original video at its own frame rate.

mod common;

use std::sync::Arc;

use common::{cli, data_dir, load};
use rayon::prelude::*;
use realface::eval::attacks::{synthesize, AttackKind};
use realface::eval::challenge::{run, Recorded, Schedule, Tuning};
use realface::eval::clips::{at_fps, frame_files};
use realface::eval::dataset::read_pad_labels;
use realface::liveness::actions::Action;
use realface::session::challenge::ChallengeSpec;
use realface::session::SessionOptions;
use realface::source::video::{read_video, VideoLimits};
use realface::source::TimedFrame;
use realface::{EngineConfig, FaceEngine, RgbImage};

fn engine() -> Arc<FaceEngine> {
    Arc::new(FaceEngine::new(EngineConfig::default().with_sessions_per_model(2)).expect("engine"))
}

/// Random schedules per action and sequence.
const SCHEDULES: u64 = 8;

/// Every action under `SCHEDULES` random schedules, and 2-action challenges:
/// the runs that passed.
fn passes(e: &Arc<FaceEngine>, seqs: &[Recorded]) -> Vec<String> {
    let jobs: Vec<(usize, ChallengeSpec, u64)> = (0..seqs.len())
        .flat_map(|i| {
            Action::ALL
                .into_iter()
                .map(|a| ChallengeSpec::Fixed(vec![a]))
                .chain([ChallengeSpec::Random(2)])
                .flat_map(move |c| (0..SCHEDULES).map(move |k| (i, c.clone(), k)))
        })
        .collect();
    jobs.par_iter()
        .filter_map(|(i, spec, k)| {
            let r = run(
                e,
                &seqs[*i],
                spec.clone(),
                &Schedule::Nonce(*k),
                &Tuning::default(),
            );
            r.passed
                .then(|| format!("{} {:?} schedule {k}", seqs[*i].name, r.actions))
        })
        .collect()
}

fn record(
    e: &Arc<FaceEngine>,
    name: &str,
    species: &str,
    reference: &RgbImage,
    frames: &[TimedFrame],
) -> Recorded {
    let r = e.embed_image(reference).expect("reference");
    Recorded::new(
        e,
        &SessionOptions::default(),
        name,
        species,
        name,
        r,
        frames,
        Vec::new(),
    )
    .expect("record")
}

#[test]
fn synthetic_photo_attacks_never_pass() {
    let e = engine();
    // lp_d3: its perspective attack got through as a turn before the
    // planarity cue (the mesh saw 15.6° of yaw and a real-looking nose shift)
    let photos: Vec<(&str, RgbImage)> = ["lp_d12", "blinkdet_video", "lp_d3"]
        .iter()
        .map(|c| {
            (
                *c,
                load(&data_dir().join("actions").join(c).join("frame_0001.jpg")),
            )
        })
        .collect();
    let jobs: Vec<(usize, AttackKind)> = (0..photos.len())
        .flat_map(|p| AttackKind::ALL.into_iter().map(move |k| (p, k)))
        .collect();
    let seqs: Vec<Recorded> = jobs
        .par_iter()
        .map(|&(p, kind)| {
            let frames = at_fps(&synthesize(&photos[p].1, kind, 120, 42), 15.0);
            record(
                &e,
                &format!("{}:{}", photos[p].0, kind.name()),
                "photo",
                &photos[p].1,
                &frames,
            )
        })
        .collect();
    let passed = passes(&e, &seqs);
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

/// NUAA prints moved in front of the webcam (24 captures a subject, played
/// back and forth at 10 fps for 8 s), against the subject's live capture.
#[test]
fn real_print_attacks_never_pass() {
    let e = engine();
    let dir = data_dir().join("spoof");
    let labels = read_pad_labels(&dir.join("labels.csv")).expect("labels");
    let seqs: Vec<Recorded> = ["nuaa:0002", "nuaa:0005", "nuaa:0009"]
        .par_iter()
        .map(|subject| {
            let of = |label: &str| -> Vec<RgbImage> {
                labels
                    .iter()
                    .filter(|s| s.subject.as_deref() == Some(*subject) && s.label == label)
                    .map(|s| load(&dir.join(&s.path)))
                    .collect()
            };
            let prints = of("print");
            let back_and_forth: Vec<RgbImage> = prints
                .iter()
                .chain(prints.iter().rev())
                .cycle()
                .take(80)
                .cloned()
                .collect();
            record(
                &e,
                subject,
                "print",
                &of("live")[0],
                &at_fps(&back_and_forth, 10.0),
            )
        })
        .collect();
    let passed = passes(&e, &seqs);
    assert!(passed.is_empty(), "print attacks that passed: {passed:?}");
}

#[test]
fn verify_cli_passes_a_genuine_clip_and_reports_json() {
    let clip = data_dir().join("actions/apfol_real2");
    // the user's left turn starts at about 0.7 s: prompted at 0.5 s; held
    // from 1.0 s to 1.6 s: its release cue at 1.3 s
    let out = cli()
        .args([
            "verify",
            "--json",
            "--actions",
            "turn_left",
            "--prompt-delays-ms",
            "500",
            "--release-at-ms",
            "1300",
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
    assert_eq!(v["actions"][0]["prompt_ms"], 500);
    assert_eq!(frame_files(&clip).expect("frames").len(), 117);
}

/// `--photo-out` writes the Y_M photo as a JPEG file, `--quiet` leaves
/// stderr to the final verdict line, and errors name their input: the
/// reference (not an image; no face) or the video.
#[test]
fn verify_cli_writes_the_photo_states_the_verdict_and_names_bad_inputs() {
    let clip = data_dir().join("actions/apfol_real2");
    let tmp = std::env::temp_dir().join(format!("realface-verify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let photo = tmp.join("y_m.jpg");
    let out = cli()
        .args(["verify", "--quiet", "--actions", "turn_left"])
        .args(["--prompt-delays-ms", "500", "--release-at-ms", "1300"])
        .args(["--photo", "Y_M", "--photo-out"])
        .arg(&photo)
        .arg("--reference")
        .arg(clip.join("frame_0001.jpg"))
        .arg("--frames")
        .arg(&clip)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "realface: verify: SUCCESS",
        "quiet: {stderr}"
    );
    let img = image::open(&photo).expect("a JPEG was written");
    assert!(img.width() > 100 && img.height() > 100);
    // FAIL says so on the last line, whatever the last prompt was
    let out = cli()
        .args(["verify", "--actions", "blink", "--prompt-delays-ms", "500"])
        .arg("--reference")
        .arg(clip.join("frame_0001.jpg"))
        .arg("--frames")
        .arg(&clip)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("realface: verify: FAIL ("), "{last}");
    assert!(stderr.lines().count() > 10, "progress without --quiet");
    // bad inputs name themselves
    let blank = tmp.join("blank.ppm");
    let mut ppm = b"P6 64 64 255\n".to_vec();
    ppm.extend(std::iter::repeat_n(128u8, 64 * 64 * 3));
    std::fs::write(&blank, ppm).expect("write");
    let video = clip.join("source.webm");
    let missing = tmp.join("missing.webm");
    for (reference, video, input, name) in [
        (
            &video,
            &video,
            format!("reference {}", video.display()),
            "DECODE",
        ),
        (
            &blank,
            &video,
            format!("reference {}", blank.display()),
            "NO_FACE",
        ),
        (
            &clip.join("frame_0001.jpg"),
            &missing,
            missing.display().to_string(),
            "IO",
        ),
    ] {
        let out = cli()
            .args(["verify", "--json", "--reference"])
            .arg(reference)
            .arg("--video")
            .arg(video)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["error"]["name"], name, "{v}");
        assert_eq!(v["error"]["input"], input, "{v}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
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
        (vec!["--certify-id", "srv"], "INVALID_ARGUMENT"),
        (vec!["--actions", "blink,wink"], "INVALID_ARGUMENT"),
        (vec!["--random", "9"], "INVALID_ARGUMENT"),
        (vec!["--photo", "Y_X"], "INVALID_ARGUMENT"),
        (vec!["--photo-out", "/tmp/none.jpg"], "INVALID_ARGUMENT"),
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
    let seq = record(&e, "fake2.webm", "replay", &reference, &fake);
    let passed = passes(&e, std::slice::from_ref(&seq));
    assert!(passed.is_empty(), "{passed:?}");
    // whatever else ends its sessions, the passive evidence says attack
    let gate = realface::liveness::pad::PadOptions::default();
    for model in [
        gate.model,
        realface::liveness::pad_model::PadChoice::FrLiveness,
    ] {
        let m = seq.pad_median(model).expect("scored frames");
        assert!(m < gate.threshold, "{model:?}: median P(real) {m}");
    }
}

/// `realface verify --json` on `blinkdet_video` with a blink prompted `delay` ms in.
/// `blinkdet_video` prompted for a blink after `delay` ms, its release cue
/// at 7.7 s (0.5 s before the long closure from 5.8 s ends).
fn verify_blinkdet(delay: &str) -> serde_json::Value {
    let clip = data_dir().join("actions/blinkdet_video");
    common::json_of(
        cli()
            .args(["verify", "--json", "--actions", "blink"])
            .args(["--prompt-delays-ms", delay, "--release-at-ms", "7700"])
            .arg("--reference")
            .arg(clip.join("frame_0001.jpg"))
            .arg("--video")
            .arg(clip.join("source.mp4")),
    )
}

/// `blinkdet_video` (23.9 fps) closes its eyes for 2.4 s from 5.8 s: a
/// prompt 400 ms before that is answered at the clip's own rate.
#[test]
fn verify_cli_passes_a_genuine_blink_video_at_its_native_rate() {
    let v = verify_blinkdet("5400");
    assert_eq!(v["auth_state"], "SUCCESS", "{v}");
    assert!(v["pad"]["samples"].as_u64() >= Some(6), "{v}");
    assert!(v["pad"]["median_real"].as_f64() > v["pad"]["threshold"].as_f64());
    // 23.9 fps: frames arrive about 42 ms apart, so more frames than seconds x 10
    assert!(v["frames"].as_u64() > Some(100), "{v}");
    // its natural blinks (1.7 s, 3.4 s: 80-130 ms closed) answer nothing
    for d in ["1300", "3000"] {
        let v = verify_blinkdet(d);
        assert_eq!(v["auth_state"], "FAIL", "natural blink after {d} ms: {v}");
    }
}
