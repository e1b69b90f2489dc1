//! What `eval pad` scores an image with: a passive model's P(real)
//! (`model`/`fr_liveness`, `minifasnet`, `both` = the lower of the two), or
//! an image cue on the aligned face ([`PassiveCue`]). Shared by the CLI and
//! the Python package, so both give the same scores.

use std::path::Path;

use crate::engine::FaceEngine;
use crate::error::Result;
use crate::liveness::pad::model::PadChoice;
use crate::liveness::passive::PassiveCue;

/// A presentation-attack scorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadScorer {
    /// A passive model's P(real).
    Model(PadChoice),
    /// An image cue on the aligned face.
    Cue(PassiveCue),
}

impl std::str::FromStr for PadScorer {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "model" | "fr_liveness" => Self::Model(PadChoice::FrLiveness),
            "minifasnet" => Self::Model(PadChoice::Minifasnet),
            "both" => Self::Model(PadChoice::Both),
            other => Self::Cue(other.parse()?),
        })
    }
}

impl PadScorer {
    /// The name reports carry: the model choice as given, or the cue's name.
    pub fn name(self, given: &str) -> String {
        match self {
            Self::Model(_) => given.to_string(),
            Self::Cue(c) => c.name().to_string(),
        }
    }

    /// The score of the (largest) face of the image at `path`; `None` when
    /// the image cannot be read or holds no usable face (a rejected
    /// presentation).
    pub fn score_file(self, engine: &FaceEngine, path: &Path) -> Option<f32> {
        let img = engine.load(path).ok()?;
        let face = engine.select_face(engine.detect(&img).ok()?).ok()?;
        match self {
            Self::Model(choice) => engine
                .pad()
                .scores(&img, &face.bbox)
                .ok()
                .map(|s| s.pick(choice)),
            Self::Cue(cue) => {
                let map = engine.landmarks(&img, &face).ok()?.map;
                Some(cue.score(&img, &map))
            }
        }
    }
}
