//! Prints per-frame liveness features of a folder of frames as CSV
//! (frame, faces, ear, ear_right, ear_left, mar, yaw, pitch, roll, width).
//! `cargo run --release --example dump_features -- DIR`

use realface::liveness::features::FrameFeatures;
use realface::{EngineConfig, FaceEngine};

fn main() -> realface::Result<()> {
    let dir = std::env::args().nth(1).ok_or(realface::Error::invalid("dir", "usage: dump_features DIR"))?;
    let engine = FaceEngine::new(EngineConfig::default())?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| realface::Error::Io { path: dir.clone().into(), source: e })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        .collect();
    files.sort();
    println!("frame,faces,ear,ear_right,ear_left,mar,yaw,pitch,roll,width");
    for (i, f) in files.iter().enumerate() {
        let img = engine.load(f)?;
        let faces = engine.detect(&img)?;
        let n = faces.len();
        match faces.into_iter().next().map(|face| engine.landmarks(&img, &face)) {
            Some(Ok((mesh, _, _))) => {
                let x = FrameFeatures::from_mesh(&mesh);
                println!(
                    "{},{n},{:.4},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.1}",
                    i + 1, x.ear, x.ear_right, x.ear_left, x.mar, x.yaw, x.pitch, x.roll, x.face_width
                );
            }
            _ => println!("{},{n},,,,,,,,", i + 1),
        }
    }
    Ok(())
}
