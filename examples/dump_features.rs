//! Prints per-frame liveness features as CSV, for a folder of frames or for a
//! synthetic attack made from one photo (how the detector thresholds and the
//! flat-motion cue in `src/liveness/` were measured).
//!
//! `cargo run --release --example dump_features -- DIR`
//! `cargo run --release --example dump_features -- --attack PHOTO perspective|affine|rotation|blur|bend|still`

#[path = "common/frames.rs"]
mod common;

use realface::liveness::features::FrameFeatures;

fn main() -> realface::Result<()> {
    let (engine, frames) =
        common::engine_and_frames(40, "usage: dump_features DIR | --attack PHOTO KIND")?;
    println!(
        "frame,faces,ear_norm,mar_norm,yaw,pitch,roll,nose_offset,nose_offset_v,face_aspect,width"
    );
    for (i, img) in frames.iter().enumerate() {
        let faces = engine.detect(img)?;
        let n = faces.len();
        match faces.first().map(|face| engine.landmarks(img, face)) {
            Some(Ok(realface::FaceLandmarks { mesh, .. })) => {
                let x = FrameFeatures::from_mesh(&mesh);
                println!(
                    "{},{n},{:.4},{:.4},{:.1},{:.1},{:.1},{:.3},{:.3},{:.3},{:.0}",
                    i + 1,
                    x.ear_norm(),
                    x.mar_norm(),
                    x.yaw,
                    x.pitch,
                    x.roll,
                    x.nose_offset,
                    x.nose_offset_v,
                    x.face_aspect,
                    x.face_width
                );
            }
            _ => println!("{},{n},,,,,,,,,", i + 1),
        }
    }
    Ok(())
}
