//! The photo commands: `detect`, `quality`, `embed`, `compare`.

use std::path::{Path, PathBuf};

use realface::{Error, FaceEngine};
use serde_json::json;

use crate::{draw, with_path, CmdResult};
use crate::{engine, Cli};
use realface::DEFAULT_FAR;

/// `realface detect`.
pub fn detect(engine: &FaceEngine, image: &Path, json: bool, draw: Option<&PathBuf>) -> CmdResult {
    let img = engine.load(image).map_err(|e| with_path(image, e))?;
    let faces = engine.detect(&img).map_err(|e| with_path(image, e))?;
    if let Some(out) = draw {
        draw::faces(&img, &faces).save(out).map_err(|e| {
            with_path(
                out,
                Error::Io {
                    path: out.clone(),
                    source: std::io::Error::other(e),
                },
            )
        })?;
    }
    let list: Vec<_> = faces
        .iter()
        .map(|f| {
            json!({
                "bbox": [f.bbox.x, f.bbox.y, f.bbox.w, f.bbox.h],
                "score": f.score,
                "keypoints": f.keypoints.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>(),
                "detector": f.detector,
            })
        })
        .collect();
    if json {
        let v = json!({"image": {"width": img.width(), "height": img.height()}, "faces": list});
        println!("{v}");
    } else {
        println!("{}: {} face(s)", image.display(), faces.len());
        for f in &faces {
            println!(
                "  box x={:.1} y={:.1} w={:.1} h={:.1} score={:.3} ({:?})",
                f.bbox.x, f.bbox.y, f.bbox.w, f.bbox.h, f.score, f.detector
            );
        }
    }
    Ok(())
}

/// `realface quality`.
pub fn quality(engine: &FaceEngine, image: &Path, json: bool) -> CmdResult {
    let img = engine.load(image).map_err(|e| with_path(image, e))?;
    let q = engine
        .photo_quality(&img)
        .map_err(|e| with_path(image, e))?;
    if json {
        println!("{}", json!(q));
    } else {
        println!(
            "{}: quality {:.1} (size {:.2}, sharpness {:.2}, exposure {:.2}, pose {:.2}, eyes {:.2})",
            image.display(),
            q.score,
            q.size,
            q.sharpness,
            q.exposure,
            q.pose,
            q.eyes
        );
    }
    Ok(())
}

/// `realface embed`.
pub fn embed(engine: &FaceEngine, image: &Path, json: bool) -> CmdResult {
    let img = engine.load(image).map_err(|e| with_path(image, e))?;
    let a = engine.analyze(&img).map_err(|e| with_path(image, e))?;
    if json {
        let v = json!({
            "model": engine.calibration().model,
            "matcher": engine.config().matcher.name(),
            "dim": a.embedding.dim(),
            "flip_fusion": engine.config().flip_fusion,
            "embedding": a.embedding,
            "bbox": [a.face.bbox.x, a.face.bbox.y, a.face.bbox.w, a.face.bbox.h],
        });
        println!("{v}");
    } else {
        let s: Vec<String> = a
            .embedding
            .as_slice()
            .iter()
            .map(|v| format!("{v:.6}"))
            .collect();
        println!("{}", s.join(" "));
    }
    Ok(())
}

/// `realface compare`.
pub fn compare(engine: &FaceEngine, a: &Path, b: &Path, far: f64, json: bool) -> CmdResult {
    let ia = engine.load(a).map_err(|e| with_path(a, e))?;
    let ib = engine.load(b).map_err(|e| with_path(b, e))?;
    let ea = engine.embed_image(&ia).map_err(|e| with_path(a, e))?;
    let eb = engine.embed_image(&ib).map_err(|e| with_path(b, e))?;
    let d = engine
        .compare_embeddings(&ea, &eb, far)
        .map_err(|e| ("compare".into(), e))?;
    if json {
        let v = json!({
            "similarity": d.similarity,
            "score": d.score,
            "threshold": d.threshold,
            "far_target": d.far_target,
            "same_person": d.same_person,
            "calibrated": d.calibrated,
            "flip_fusion": engine.config().flip_fusion,
        });
        println!("{v}");
    } else {
        println!(
            "{}: similarity {:.4} (threshold {:.4} at FAR {:e}), score {:.1}",
            if d.same_person {
                "same person"
            } else {
                "different people"
            },
            d.similarity,
            d.threshold,
            d.far_target,
            d.score
        );
    }
    Ok(())
}

/// Finds faces: boxes, scores and six keypoints in image pixels.
#[derive(clap::Args)]
pub struct DetectCmd {
    /// Image file.
    pub image: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write a copy of the image with the faces drawn on it (PNG).
    #[arg(long)]
    pub draw: Option<PathBuf>,
}

impl DetectCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self { image, json, draw } = self;

        detect(&engine(cli)?, image, *json, draw.as_ref())
    }
}

/// Scores the one face of a photo: overall 0-100 (`score`) and its
/// parts (size, sharpness, exposure, pose, eyes), as for a reference
/// photo.
#[derive(clap::Args)]
pub struct QualityCmd {
    /// Image file.
    pub image: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl QualityCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self { image, json } = self;

        quality(&engine(cli)?, image, *json)
    }
}

/// Prints the identity embedding of the one face in an image.
#[derive(clap::Args)]
pub struct EmbedCmd {
    /// Image file.
    pub image: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl EmbedCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self { image, json } = self;

        embed(&engine(cli)?, image, *json)
    }
}

/// Decides whether two photos show the same person.
#[derive(clap::Args)]
pub struct CompareCmd {
    /// First photo (e.g. the reference).
    pub a: PathBuf,
    /// Second photo.
    pub b: PathBuf,
    /// Target false-accept rate for the decision threshold.
    #[arg(long, default_value_t = DEFAULT_FAR)]
    pub far: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl CompareCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self { a, b, far, json } = self;

        compare(&engine(cli)?, a, b, *far, *json)
    }
}
