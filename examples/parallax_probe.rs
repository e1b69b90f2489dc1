//! Prints the flat-motion evidence (max homography residual and pose change)
//! of frame folders and of synthetic perspective attacks made from photos.
//! `cargo run --release --example parallax_probe -- CLIP_DIR... -- PHOTO...`

use realface::eval::attacks::{synthesize, AttackKind};
use realface::liveness::features::FrameFeatures;
use realface::liveness::parallax::ParallaxTracker;
use realface::{EngineConfig, FaceEngine, RgbImage};

fn track(engine: &FaceEngine, frames: impl Iterator<Item = RgbImage>) -> (ParallaxTracker, f32, f32) {
    let mut t = ParallaxTracker::default();
    let (mut ymin, mut ymax) = (f32::MAX, f32::MIN);
    for img in frames {
        let Ok(faces) = engine.detect(&img) else { continue };
        let Some(face) = faces.into_iter().next() else { continue };
        let Ok((mesh, _, _)) = engine.landmarks(&img, &face) else { continue };
        let f = FrameFeatures::from_mesh(&mesh);
        ymin = ymin.min(f.nose_offset);
        ymax = ymax.max(f.nose_offset);
        t.update(&mesh, f.yaw, f.pitch, f.face_width, 10.0);
    }
    (t, ymin, ymax)
}

fn main() -> realface::Result<()> {
    let engine = FaceEngine::new(EngineConfig::default())?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    for dir in &args[..split] {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| realface::Error::Io { path: dir.into(), source: e })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
            .collect();
        files.sort();
        let (t, a, b) = track(&engine, files.iter().filter_map(|f| engine.load(f).ok()));
        println!("clip {dir}: compared {} max_residual {:.4} max_pose {:.1} nose {a:.2}..{b:.2}", t.frames_compared, t.max_residual, t.max_pose_change);
    }
    for photo in args.iter().skip(split + 1) {
        let img = engine.load(photo.as_ref())?;
        for kind in [AttackKind::Perspective, AttackKind::Bend, AttackKind::Affine, AttackKind::Rotation] {
            let (t, a, b) = track(&engine, synthesize(&img, kind, 40, 1).into_iter());
            println!("attack {photo} {}: compared {} max_residual {:.4} max_pose {:.1} nose {a:.2}..{b:.2}", kind.name(), t.frames_compared, t.max_residual, t.max_pose_change);
        }
    }
    Ok(())
}
