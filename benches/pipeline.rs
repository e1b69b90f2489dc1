//! End to end: the per-frame pipeline of a live session (detect + mesh +
//! features + action + flat cue + quality), detecting every frame as sessions
//! do and tracking with a detection every fifth frame; and a full 1:1
//! comparison of two photos (decode both, detect, mesh, align, embed, decide).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::liveness::actions::{Action, ActionParams, History};
use realface::liveness::answer::{AnswerDetector, Baseline};
use realface::liveness::features::FrameFeatures;
use realface::liveness::flat::FlatMotion;
use realface::quality::assess;
use realface::track::{TrackOutcome, Tracker};
use realface::{DetectorChoice, FaceEngine, RgbImage, DEFAULT_FAR};

fn per_frame(e: &FaceEngine, frames: &[RgbImage], detect_every: usize, c: &mut Criterion) {
    let mut tracker = Tracker::new(detect_every);
    let mut history = History::default();
    let mut flat = FlatMotion::default();
    // the answer detector of a blink prompt, its baseline from a still face
    let mut det = {
        let TrackOutcome::Face(tr) = Tracker::new(1).next(e, &frames[0]).expect("track") else {
            panic!("no face in the fixture");
        };
        let f = FrameFeatures::from_mesh(&tr.mesh);
        let mut h = History::default();
        for k in 0..30 {
            h.push(k * 33, f);
        }
        let base = Baseline::at(&h, 0).expect("baseline");
        AnswerDetector::new(Action::Blink, ActionParams::default(), base)
    };
    let mut i = 0usize;
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("per_frame_detect_every_{detect_every}"), |b| {
        b.iter(|| {
            i += 1;
            // Each photo held for ten frames, as a face in front of a camera.
            let img = &frames[(i / 10) % frames.len()];
            let t = i as u64 * 33;
            if let TrackOutcome::Face(tr) = tracker.next(e, img).expect("track") {
                let f = FrameFeatures::from_mesh(&tr.mesh);
                history.push(t, f);
                flat.update(&f, &history);
                det.update(t, &f);
                let base = history.stat(FrameFeatures::ear_norm, 0.75);
                Some(assess(img, &tr.map, &f, base))
            } else {
                None
            }
        })
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let e = common::engine(DetectorChoice::Auto);
    let frames = common::frames(&e);
    per_frame(&e, &frames, 1, c);
    per_frame(&e, &frames, 5, c);
    let a = std::fs::read(common::sample("obama.jpg")).expect("read");
    let b2 = std::fs::read(common::sample("obama2.jpg")).expect("read");
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(1));
    g.bench_function("compare_two_photos", |b| {
        b.iter(|| {
            let (x, y) = (e.decode(&a).expect("a"), e.decode(&b2).expect("b"));
            e.compare_images(&x, &y, DEFAULT_FAR).expect("compare")
        })
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = pipeline }
criterion_main!(benches);
