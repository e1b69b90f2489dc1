//! Device-mode prompts in the browser, end to end in headless Chromium: the
//! page runs the library's session compiled to WebAssembly (the models in
//! ONNX Runtime Web) and prompts as a device does; the server judges the
//! recording with its own session in device mode, recomputing the prompts
//! from the frames.
//!
//! The person is slow to settle and slow to answer: still for the page's
//! readiness, then still moving (a head turn and back) when the first
//! prompt is due, then answering each prompt about 1 s after it, holding a
//! turn until its release cue. The camera's file is what that person does
//! in front of a device: a puppet of `apfol_real2`'s real frames driven by
//! the library's own session with the certifyId's nonce and the server's
//! options (`Puppet::perform_recorded`). Device mode: the prompt waits for
//! the face to settle, SUCCESS. The same behaviour before the fixed
//! schedule (`prompting: "scheduled"`): its first prompt comes while the
//! head still moves, FAIL (`NOT_AT_REST`).

mod common;

use common::page::{arriving_late, browser, camera_file, capture_prompted, verdict, write_figure};
use common::page::{capture_hints, with_image, HOLD_MS, LEAD_MS};
use common::{chromedriver, clip_file, Db, TestServer};
use realface::liveness::actions::Action;
use realface::session::challenge::{draw, seed, ChallengeSpec};
use realface::session::prompt::random_delays;
use realface::session::prompt::PromptMode;
use realface::source::TimedFrame;
use realface::{CertifyRegistry, IssuedId, Reference, RgbImage, VerificationSession};
use realface_server::evidence::judged_options;
use realface_server::Settings;
use serde_json::json;

const SEED: u64 = 20_261_207;

/// The tests that record hold this: one capture at a time on two cores
/// (two at once starve the page's session and MediaRecorder alike).
static RECORDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_recording() -> std::sync::MutexGuard<'static, ()> {
    RECORDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn settings() -> Settings {
    Settings {
        actions: vec![Action::TurnLeft, Action::TurnRight],
        challenge_count: 1,
        workers: 2,
        queue: 8,
        test_seed: Some(SEED),
        ..Settings::default()
    }
}

/// What the person in front of the camera does for `id`, and when the
/// device's own session prompted them (ms after the first frame).
struct Person {
    frames: Vec<TimedFrame>,
    prompts: Vec<u64>,
    due_ms: u64,
}

/// The person slow to settle and to answer, for `id`'s nonce: rest, then
/// a quick left turn and back from 300 ms before the first prompt is due
/// (so the head moves when it is), then resting and answering each prompt
/// of the device's session about 1 s after it.
fn person(s: &TestServer, id: &str, clip: &[TimedFrame]) -> Person {
    let row = s
        .block_on(s.state.store.certify_by_id(id))
        .expect("store")
        .expect("row");
    let st = &s.state.settings;
    let sd = seed(id, &row.nonce);
    let actions = draw(&st.actions, st.challenge_count, sd).expect("challenge");
    // the options the server judges with, as start gives them
    let options = judged_options(st.session.clone(), actions.clone(), PromptMode::Device);
    let due_ms = st.session.warmup_ms + random_delays(sd, &options.prompt, 1)[0];
    let rest: Vec<RgbImage> = clip
        .iter()
        .filter(|f| f.t_ms <= 600)
        .map(|f| f.image.clone())
        .collect();
    let frame_ms = (clip[clip.len() - 1].t_ms - clip[0].t_ms) / (clip.len() as u64 - 1);
    // the clip's left turn and back (0.6-1.6 s: 41 degrees at 1.2 s, back
    // at 1.6 s) played twice as fast, so that no stretch of it is still
    let turn: Vec<RgbImage> = clip
        .iter()
        .filter(|f| (600..=1_600).contains(&f.t_ms))
        .step_by(2)
        .map(|f| f.image.clone())
        .collect();
    // the turn under way over the rest window before the due prompt
    let still = (due_ms.saturating_sub(300) / frame_ms) as usize;
    let mut settle: Vec<RgbImage> = (0..still).map(|k| rest[k % rest.len()].clone()).collect();
    settle.extend(turn);
    let ticket = CertifyRegistry::new()
        .claim_issued(
            &IssuedId {
                certify_id: id.to_string(),
                challenge_nonce: row.nonce.clone(),
                expires_ms: realface::CERTIFY_ID_TTL_MS,
            },
            0,
        )
        .expect("ticket");
    let mut session =
        VerificationSession::new(common::engine(), ticket, Reference::Server, options)
            .expect("session");
    // the answer starts 0.9 s after its prompt (the 10 fps clip puts the
    // measured onset up to a frame later)
    let puppet = common::puppet_for_turns(clip, 900);
    let (r, frames) = puppet.perform_recorded(&mut session, &settle, 0, 30_000, true);
    assert!(
        r.actions.iter().all(|a| a.passed),
        "the device's own session: {:?} {:?}",
        r.actions,
        r.reasons
    );
    let prompts = r.actions.iter().filter_map(|a| a.prompt_ms).collect();
    eprintln!(
        "{id}: {actions:?}; first prompt due at {due_ms} ms; the device prompted at {prompts:?} (onsets {:?})",
        r.actions.iter().map(|a| a.onset_ms).collect::<Vec<_>>()
    );
    Person {
        frames,
        prompts,
        due_ms,
    }
}

#[test]
fn device_mode_waits_for_a_slow_person_and_the_fixed_schedule_does_not() {
    let _one = one_recording();
    let s = TestServer::start(Db::Sqlite, settings());
    let tmp = tempfile::tempdir().expect("tmp");
    let clip = common::clip_video_frames("apfol_real2");
    let (_driver, driver) = chromedriver();
    let mut figures = Vec::new();
    for (k, prompting) in ["device", "scheduled"].into_iter().enumerate() {
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let token = s.token(&id);
        let p = person(&s, &id, &clip);
        assert!(
            p.prompts[0] > p.due_ms + 400,
            "the device's first prompt came at {} ms, not after the head settled (due {})",
            p.prompts[0],
            p.due_ms
        );
        let last = p.frames.last().map_or(0, |f| f.t_ms);
        let file = camera_file(
            tmp.path(),
            &format!("slow-{k}"),
            &arriving_late(&p.frames, LEAD_MS, HOLD_MS),
            LEAD_MS + HOLD_MS + last + 5_000,
        );
        let shown = s.block_on(async {
            let c = browser(&driver, Some(&file), (1366, 768)).await;
            let shown =
                capture_prompted(&c, &s, &id, &token, Some(&format!("slow-{prompting}")), prompting)
                    .await;
            let fps: f64 = c
                .execute(
                    "var r = document.querySelector('section.rfc'); return r ? Number(r.getAttribute('data-session-fps') || 0) : 0;",
                    vec![],
                )
                .await
                .expect("script")
                .as_f64()
                .unwrap_or(0.0);
            c.close().await.expect("close");
            (shown, fps)
        });
        let (shown, session_fps) = shown;
        let v = verdict(&s, &id);
        eprintln!(
            "{prompting}: page {} ({}), session {session_fps} frames/s; states {:?}; server {} {} prompts at {:?}",
            shown.state,
            shown.mode,
            shown.seen,
            v["authState"],
            v["reasons"],
            v["actions"]
                .as_array()
                .map(|a| a.iter().map(|x| x["promptMs"].clone()).collect::<Vec<_>>())
        );
        assert_eq!(shown.mode, prompting, "{:?}", shown.seen);
        assert!(shown.seen.iter().any(|x| x == "prompt"), "{:?}", shown.seen);
        assert_eq!(v["capture"], "web", "{v}");
        assert_eq!(v["prompts"], prompting, "{v}");
        if prompting == "device" {
            assert_eq!(
                shown.state, "verified",
                "{} {:?}: {v}",
                shown.text, shown.seen
            );
            assert_eq!(v["authState"], "SUCCESS", "{v}");
            // a person who did as asked was never told off
            assert!(
                capture_hints(&shown.seen).is_empty(),
                "live hints during a genuine capture: {:?}",
                shown.seen
            );
            // the server recomputed the prompts from the recording: where
            // the device's session put them, within the page's clock
            for (a, want) in v["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .zip(&p.prompts)
            {
                let got = a["promptMs"].as_u64().expect("promptMs");
                assert!(
                    got.abs_diff(*want) <= 400,
                    "the server prompted at {got} ms, the device at {want} ms: {v}"
                );
            }
            assert!(
                session_fps > 5.0,
                "the page's session ran at {session_fps} frames/s"
            );
            figures.push(json!({"mode": prompting, "sessionFps": session_fps}));
        } else {
            assert_eq!(shown.state, "failed", "{} {:?}", shown.text, shown.seen);
            assert_eq!(v["authState"], "FAIL", "{v}");
            assert_eq!(v["reasons"][0]["code"], "NOT_AT_REST", "{v}");
        }
    }
    write_figure("device_mode", json!(figures));
}

/// A face that leaves the oval during the capture, in both modes: the live
/// hint says so while it is away (and none shows while it is in place),
/// the capture fails, and the person is told that their face left the
/// oval (the server's hint from its own look at the recording); the
/// scheduled run's page is in Simplified Chinese (`lang`), and says it so.
#[test]
fn a_face_that_leaves_is_told_so_during_and_after_the_capture() {
    let _one = one_recording();
    let s = TestServer::start(Db::Sqlite, settings());
    let tmp = tempfile::tempdir().expect("tmp");
    let first = common::clip_video_frames("apfol_real2")[0].image.clone();
    let grey = RgbImage::from_pixel(first.width(), first.height(), image::Rgb([118, 118, 118]));
    // an empty camera while the page loads, then the person, still, for
    // the page's readiness and 3 s of the recording, then nobody
    let away = LEAD_MS + HOLD_MS + 3_000;
    let frames = vec![
        TimedFrame {
            image: grey.clone(),
            t_ms: 0,
        },
        TimedFrame {
            image: first,
            t_ms: LEAD_MS,
        },
        TimedFrame {
            image: grey,
            t_ms: away,
        },
    ];
    let file = camera_file(tmp.path(), "leaves", &frames, away + 30_000);
    let (_driver, driver) = chromedriver();
    for (prompting, lang) in [("device", "en"), ("scheduled", "zh-CN")] {
        let id = s.certify(&clip_file("apfol_real2", "frame_0001.jpg"));
        let token = s.token(&id);
        let (shown, hint) = s.block_on(async {
            let c = browser(&driver, Some(&file), (1366, 768)).await;
            let fragment = format!("{prompting}&lang={lang}");
            let shown = capture_prompted(&c, &s, &id, &token, None, &fragment).await;
            let hint = c
                .execute(
                    "return [document.querySelector('section.rfc').getAttribute('data-hint'), \
                             document.getElementById('rfc-dialog-message').textContent, \
                             document.getElementById('rfc-dialog-title').textContent];",
                    vec![],
                )
                .await
                .expect("script");
            c.close().await.expect("close");
            (shown, hint)
        });
        let v = verdict(&s, &id);
        eprintln!(
            "{prompting}: page {} {:?}, hint {hint}; server {} {}",
            shown.state, shown.seen, v["authState"], v["reasons"]
        );
        assert_eq!(shown.mode, prompting, "{:?}", shown.seen);
        assert_eq!(shown.state, "failed", "{} {:?}", shown.text, shown.seen);
        assert_eq!(v["authState"], "FAIL", "{v}");
        let hints = capture_hints(&shown.seen);
        assert_eq!(
            hints.first(),
            Some(&"face_in_circle"),
            "{prompting}: the live hints {:?}",
            shown.seen
        );
        assert_eq!(hint[0], json!("hint.left_oval"), "{prompting}: {v}");
        // in the page's language, the title as well as the hint
        let lang = realface::prompts::Lang::from_tag(lang);
        for (k, key) in [(1, "hint.left_oval"), (2, "ui.not_verified")] {
            let said = realface::prompts::text(key, lang);
            assert_eq!(hint[k].as_str(), said, "{prompting}, {lang:?}: {hint}");
        }
    }
}

/// Runs `script` in the page with `args`; it calls `done` with its answer.
async fn run_async(
    c: &fantoccini::Client,
    script: &str,
    args: Vec<serde_json::Value>,
) -> serde_json::Value {
    c.execute_async(
        &format!("var done = arguments[arguments.length - 1]; {script}"),
        args,
    )
    .await
    .expect("script")
}

/// What a page shows of a progress (its JSON), without the quality score
/// and the detector's faces the page adds for its own hints, the ring's
/// fraction as a number to 4 places (JavaScript's JSON writes 0 where
/// Rust's writes 0.0).
fn shown(p: &serde_json::Value) -> serde_json::Value {
    let mut p = p.clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("quality");
        o.remove("detections");
        let ring = o.get("ring").and_then(serde_json::Value::as_f64);
        o.insert("ring".into(), json!(ring.map(|r| format!("{r:.4}"))));
    }
    p
}

/// The page's session (realface_web.wasm, the mesh and eye-state models in
/// ONNX Runtime Web, the detector in realface-analyse.js) against the
/// library's own session (native ONNX Runtime) on the same frames:
/// `apfol_real2`'s first 5 s, a left turn prompted at 0.5 s with its
/// release cue at 1.3 s. Every frame's progress is the same: states,
/// prompts, answer windows, holds, the answer. Also what the session costs
/// the page: the bytes it downloads and its time per frame.
#[test]
fn the_pages_session_matches_the_library() {
    let s = TestServer::start(Db::Sqlite, settings());
    let options = realface::SessionOptions::default()
        .with_challenge(ChallengeSpec::Fixed(vec![Action::TurnLeft]))
        .with_prompt_delays_ms(vec![500])
        .with_release_at_ms(vec![1300]);
    let (id, nonce) = ("page-session", "0".repeat(32));
    let mut native = VerificationSession::new(
        common::engine(),
        CertifyRegistry::new()
            .claim_issued(
                &IssuedId {
                    certify_id: id.into(),
                    challenge_nonce: nonce.clone(),
                    expires_ms: realface::CERTIFY_ID_TTL_MS,
                },
                0,
            )
            .expect("ticket"),
        Reference::Server,
        options.clone(),
    )
    .expect("session");
    let clip = common::clip_video_frames("apfol_real2");
    let (_driver, driver) = chromedriver();
    s.block_on(async {
        let c = browser(&driver, None, (800, 600)).await;
        c.goto(&format!("{}/capture/{}", s.url, s.app.app_id))
            .await
            .expect("page");
        let loaded = run_async(
            &c,
            "var s = document.createElement('script'); s.src = '/sdk/v1/realface-analyse.js'; \
             s.onload = function () { RealfaceAnalyse.load('', RealfaceCapture.analysis) \
               .then(function (a) { return a.session(); }) \
               .then(function (ps) { window.__ps = ps; done(ps.start(arguments_start)); }, \
                     function (e) { done('load: ' + e); }); }; \
             s.onerror = function () { done('script'); }; document.head.appendChild(s);"
                .replace(
                    "arguments_start",
                    &json!({"certifyId": id, "challengeNonce": nonce, "sessionOptions": options})
                        .to_string(),
                )
                .as_str(),
            vec![],
        )
        .await;
        assert_eq!(loaded, serde_json::Value::Null, "the page's session: {loaded}");
        let bytes = run_async(
            &c,
            "var out = {}; performance.getEntriesByType('resource').forEach(function (e) { \
               if (e.name.indexOf('/sdk/v1/rt/') >= 0) out[e.name.replace(location.origin, '')] = e.transferSize; }); \
             done(out);",
            vec![],
        )
        .await;
        let mut ms = Vec::new();
        let (mut prompted, mut answered) = (0, 0);
        for (i, f) in clip.iter().take_while(|f| f.t_ms <= 5_000).enumerate() {
            let got = with_image(
                &c,
                &f.image,
                "var t = performance.now(); \
                 window.__ps.frame(img.data, w, h, args[0]).then( \
                   function (p) { done({progress: p, ms: performance.now() - t}); }, \
                   function (e) { done({error: e && (e.code || String(e))}); });",
                vec![json!(f.t_ms)],
            )
            .await;
            let want = native.push_frame(&f.image, f.t_ms);
            if native.is_finished() {
                // the library concluded (its passive evidence is in); the
                // page's session never does (the server judges)
                if let (Ok(w), Some(p)) = (&want, got.get("progress")) {
                    assert_eq!(p["actions_done"], json!(w.actions_done), "frame {i}");
                    answered = w.actions_done as u64;
                }
                ms.push(got["ms"].as_f64().unwrap_or(f64::NAN));
                break;
            }
            match (&want, got.get("progress")) {
                (Ok(w), Some(p)) => {
                    let w = serde_json::to_value(w).expect("json");
                    assert_eq!(shown(p), shown(&w), "frame {i} at {} ms", f.t_ms);
                    prompted += usize::from(!w["action"].is_null());
                    answered = w["actions_done"].as_u64().unwrap_or(0);
                }
                (Err(e), None) => assert_eq!(
                    got["error"],
                    json!(e.code().name()),
                    "frame {i} at {} ms",
                    f.t_ms
                ),
                _ => panic!("frame {i} at {} ms: page {got}, library {want:?}", f.t_ms),
            }
            ms.push(got["ms"].as_f64().unwrap_or(f64::NAN));
        }
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        eprintln!(
            "the page's session: {} frames equal to the library's ({prompted} prompted, {answered} answered); \
             {median:.1} ms a frame (median); downloads {bytes}",
            ms.len()
        );
        assert!(prompted > 0 && answered == 1, "{prompted} prompted, {answered} answered");
        write_figure(
            "page_session",
            json!({"frames": ms.len(), "msMedian": median, "bytes": bytes}),
        );
        c.close().await.expect("close");
    });
}
