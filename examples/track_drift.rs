//! What tracking sees against detecting every frame: per frame, the eye
//! opening and yaw of the mesh with the detector on every frame and with a
//! tracker detecting every 5th frame (CSV on stdout), then the tracker's
//! detector and mesh runs (stderr). How `realface::track::MAX_DRIFT` was
//! chosen: a shaken print must be seen as detecting every frame sees it.
//!
//! `cargo run --release --example track_drift -- DIR`
//! `cargo run --release --example track_drift -- --attack PHOTO affine|blur|perspective|rotation|bend|still`

#[path = "common/frames.rs"]
mod common;

use realface::face::features::FrameFeatures;
use realface::track::{TrackNeed, TrackOutcome, Tracker};

fn main() -> realface::Result<()> {
    let (engine, frames) =
        common::engine_and_frames(120, "usage: track_drift DIR | --attack PHOTO KIND")?;
    let (mut every, mut tracker) = (Tracker::new(1), Tracker::new(5));
    let (mut detector, mut mesh) = (0, 0);
    println!("frame,ear_every,ear_tracked,yaw_every,yaw_tracked,detected");
    for (i, img) in frames.iter().enumerate() {
        let a = every.next(&engine, img)?;
        let mut need = tracker.begin();
        let b = loop {
            need = match need {
                TrackNeed::Detect => {
                    detector += 1;
                    tracker.detected(engine.detect(img)?)
                }
                TrackNeed::Mesh(roi) => {
                    mesh += 1;
                    tracker.meshed(engine.landmarks_in(img, roi))?
                }
                TrackNeed::Done(outcome) => break outcome,
            };
        };
        match (a, b) {
            (TrackOutcome::Face(a), TrackOutcome::Face(b)) => {
                let (fa, fb) = (
                    FrameFeatures::from_mesh(&a.mesh),
                    FrameFeatures::from_mesh(&b.mesh),
                );
                println!(
                    "{},{:.4},{:.4},{:.1},{:.1},{}",
                    i + 1,
                    fa.ear_norm(),
                    fb.ear_norm(),
                    fa.yaw,
                    fb.yaw,
                    u8::from(b.detected)
                );
            }
            _ => println!("{},,,,,", i + 1),
        }
    }
    eprintln!(
        "{} frames: tracker ran the detector {detector} times, the mesh {mesh} times",
        frames.len()
    );
    Ok(())
}
