//! Prints per-frame liveness signals of a video as CSV at its native frame
//! rate: timestamp, faces, mesh eye/mouth ratios, pose, eye-state and passive
//! PAD model outputs, and the planar residual against the first face frame
//! (how the eye-state, PAD and planarity choices were measured).
//!
//! `cargo run --release --example dump_signals -- VIDEO`
//! `cargo run --release --example dump_signals -- --attack PHOTO KIND` (30 frames at 10 fps)

use realface::eval::attacks::{synthesize, AttackKind};
use realface::liveness::features::FrameFeatures;
use realface::liveness::planar::{residual, PlanarReference};
use realface::source::video::{VideoLimits, VideoSource};
use realface::source::{FrameSource, MemorySource};
use realface::{EngineConfig, Error, FaceEngine};

fn main() -> realface::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = FaceEngine::new(EngineConfig::default())?;
    let mut src: Box<dyn FrameSource> = match args.as_slice() {
        [flag, photo, kind] if flag == "--attack" => {
            let kind = AttackKind::ALL
                .into_iter()
                .find(|k| k.name() == kind)
                .ok_or(Error::invalid("kind", "unknown attack kind"))?;
            let frames = synthesize(&engine.load(photo)?, kind, 30, 42);
            Box::new(MemorySource::new(frames, 10.0)?)
        }
        [path] => Box::new(VideoSource::open(
            path.as_ref(),
            engine.config().limits,
            VideoLimits {
                max_frames: 100_000,
                max_duration_ms: 3_600_000,
            },
        )?),
        _ => {
            return Err(Error::invalid(
                "args",
                "usage: dump_signals VIDEO | --attack PHOTO KIND",
            ))
        }
    };
    println!("t_ms,faces,ear_norm,mar_norm,yaw,pitch,nose_offset,right_closed,left_closed,pad_real,sharpness,face_w,width,height,planar");
    let mut reference: Option<PlanarReference> = None;
    while let Some(f) = src.next_frame()? {
        let img = &f.image;
        let faces = engine.detect(img)?;
        let n = faces.len();
        let Some(face) = faces.first() else {
            println!("{},0,,,,,,,,,,{},{},", f.t_ms, img.width(), img.height());
            continue;
        };
        let realface::FaceLandmarks { mesh, map, .. } = engine.landmarks(img, face)?;
        let x = FrameFeatures::from_mesh(&mesh);
        let eyes = engine.eye_state().run(img, &mesh)?;
        let pad = engine.pad().real_probability(img, &face.bbox)?;
        if reference.is_none() {
            reference = PlanarReference::new(img, &mesh);
        }
        let planar = reference
            .as_ref()
            .and_then(|r| residual(r, img, &mesh))
            .map_or(String::new(), |v| format!("{v:.4}"));
        println!(
            "{},{n},{:.4},{:.4},{:.1},{:.1},{:.3},{:.4},{:.4},{:.4},{:.3},{:.0},{},{},{planar}",
            f.t_ms,
            x.ear_norm(),
            x.mar_norm(),
            x.yaw,
            x.pitch,
            x.nose_offset,
            eyes.right_closed,
            eyes.left_closed,
            pad,
            realface::sharpness::laplacian_log_variance(&realface::align::aligned_image(img, &map)),
            face.bbox.w,
            img.width(),
            img.height()
        );
    }
    Ok(())
}
