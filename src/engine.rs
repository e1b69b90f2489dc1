//! The photo pipeline: detect -> face policy -> mesh -> align -> embed, and
//! 1:1 comparison of two photos. [`FaceEngine`] owns one instance of each stage
//! (each `Send + Sync`), so one engine serves any number of threads.

use std::path::Path;

use image::RgbImage;
use serde::Serialize;

use crate::config::{EngineConfig, FacePolicy};
use crate::error::{Error, Result};
use crate::face::align::alignment;
use crate::face::detect::{Face, FaceDetector};
use crate::face::landmarks::{FaceMesh, Mesh, Roi};
use crate::face::segment::Segmenter;
use crate::imaging::geometry::{Affine, Point};
use crate::imaging::image_io::{decode_image, load_image};
use crate::liveness::eye_state::EyeStateModel;
use crate::liveness::pad::model::PadModel;
use crate::matching::compare::{Calibration, Decision};
use crate::matching::embed::{Embedding, FaceEmbedder};
use crate::runtime::models::resolve_model_dir;

/// A face's landmarks: the mesh, the five alignment points and the
/// aligned-crop -> image map they give.
#[derive(Debug, Clone)]
pub struct FaceLandmarks {
    /// The 468-point mesh.
    pub mesh: Mesh,
    /// Eye centres, nose tip, mouth corners (image pixels).
    pub five: [Point; 5],
    /// 112x112 aligned crop -> image.
    pub map: Affine,
}

/// Everything the pipeline found about the one face of a photo.
#[derive(Debug, Clone, Serialize)]
pub struct FaceAnalysis {
    /// The detection.
    pub face: Face,
    /// The 468-point mesh.
    pub mesh: Mesh,
    /// The five alignment points (ArcFace order).
    pub five_points: [Point; 5],
    /// The identity embedding.
    pub embedding: Embedding,
    /// How many faces the detector found in the photo.
    pub faces_in_image: usize,
}

/// The face pipeline, built once from an [`EngineConfig`].
#[derive(Debug)]
pub struct FaceEngine {
    config: EngineConfig,
    detector: FaceDetector,
    mesh: FaceMesh,
    embedder: FaceEmbedder,
    segmenter: Segmenter,
    eyes: EyeStateModel,
    pad: PadModel,
    calibration: Calibration,
}

/// A mesh as a face's landmarks: `NO_FACE` when its presence score is below
/// `min_presence` or its points cannot be aligned. The engine's
/// [`FaceEngine::landmarks_in`] and a page that runs the mesh model itself
/// both decide here.
pub fn landmarks_of(mesh: Mesh, min_presence: f32) -> Result<FaceLandmarks> {
    if mesh.presence < min_presence {
        return Err(Error::NoFace);
    }
    let five = mesh.five_points();
    let map = alignment(&five).ok_or(Error::NoFace)?;
    Ok(FaceLandmarks { mesh, five, map })
}

impl FaceEngine {
    /// Loads and verifies every model (ONNX Runtime is loaded on first use).
    pub fn new(config: EngineConfig) -> Result<Self> {
        let calibration = Calibration::shipped(config.matcher, config.flip_fusion)?;
        calibration.check_alignment(config.effective_alignment())?;
        Self::with_calibration(config, calibration)
    }

    /// Like [`FaceEngine::new`], for computing a calibration table: a shipped
    /// table that does not fit the matcher's models (after a model change,
    /// before `realface calibrate` has regenerated it) is not an error. The
    /// engine then holds an empty table, so every decision fails with an
    /// error until [`FaceEngine::set_calibration`] replaces it, and a fused
    /// matcher gives per-network embeddings only
    /// ([`FaceEmbedder::embed_parts`]).
    pub fn for_calibration(config: EngineConfig) -> Result<Self> {
        let alignment = config.effective_alignment();
        let calibration = Calibration::shipped(config.matcher, config.flip_fusion)
            .and_then(|c| c.check_alignment(alignment).map(|()| c))
            .unwrap_or_else(|_| Calibration::empty(config.matcher, config.flip_fusion, alignment));
        Self::with_calibration(config, calibration)
    }

    fn with_calibration(config: EngineConfig, calibration: Calibration) -> Result<Self> {
        config.validate()?;
        let dir = resolve_model_dir(config.model_dir.as_deref());
        let rt = &config.runtime;
        let detector = FaceDetector::new(config.detector, config.min_detection_score, &dir, rt)?;
        let mesh = FaceMesh::new(&dir, rt)?;
        let embedder =
            FaceEmbedder::with_matcher(&dir, rt, config.matcher, calibration.fusion.as_ref())?
                .with_alignment(config.effective_alignment(), &dir, rt)?;
        let segmenter = Segmenter::new(&dir, rt)?;
        let eyes = EyeStateModel::new(&dir, rt)?;
        let pad = PadModel::new(&dir, rt)?;
        Ok(Self {
            config,
            detector,
            mesh,
            embedder,
            segmenter,
            eyes,
            pad,
            calibration,
        })
    }

    /// The eye-state stage (blinks).
    pub fn eye_state(&self) -> &EyeStateModel {
        &self.eyes
    }

    /// The passive presentation-attack stage.
    pub fn pad(&self) -> &PadModel {
        &self.pad
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The detector stage.
    pub fn detector(&self) -> &FaceDetector {
        &self.detector
    }

    /// The mesh stage.
    pub fn mesh(&self) -> &FaceMesh {
        &self.mesh
    }

    /// The embedding stage.
    pub fn embedder(&self) -> &FaceEmbedder {
        &self.embedder
    }

    /// The person-segmentation stage (Y_M photos).
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// The FAR -> threshold table in use.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// Replaces the calibration (e.g. one just computed by `realface
    /// calibrate`); it must belong to the configured matcher, and a fused
    /// table's weights take effect for every later embedding.
    pub fn set_calibration(&mut self, calibration: Calibration) -> Result<()> {
        calibration.check_matcher(self.config.matcher)?;
        calibration.check_alignment(self.config.effective_alignment())?;
        if let Some(f) = &calibration.fusion {
            self.embedder.set_fusion(f)?;
        }
        self.calibration = calibration;
        Ok(())
    }

    /// Decodes an image file within the configured limits.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<RgbImage> {
        load_image(path.as_ref(), &self.config.limits)
    }

    /// Decodes image bytes within the configured limits.
    pub fn decode(&self, bytes: &[u8]) -> Result<RgbImage> {
        decode_image(bytes, &self.config.limits)
    }

    /// All faces in the image, best first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        crate::imaging::image_io::check_dimensions(img.width(), img.height(), &self.config.limits)?;
        self.detector.detect(img)
    }

    /// Applies the face policy: the one face, or the largest.
    pub fn select_face(&self, faces: Vec<Face>) -> Result<Face> {
        let count = faces.len();
        match (self.config.face_policy, count) {
            (_, 0) => Err(Error::NoFace),
            (FacePolicy::ExactlyOne, n) if n > 1 => Err(Error::MultipleFaces { count: n }),
            _ => faces
                .into_iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
                .ok_or(Error::NoFace),
        }
    }

    /// Mesh and alignment for a detected face. A mesh whose presence score is
    /// below the configured minimum means the detection was not a usable face.
    pub fn landmarks(&self, img: &RgbImage, face: &Face) -> Result<FaceLandmarks> {
        self.landmarks_in(img, Roi::from_face(face))
    }

    /// Mesh and alignment in a region (a detection's, or the previous
    /// frame's mesh for tracking); `NO_FACE` when the mesh sees no face there.
    pub fn landmarks_in(&self, img: &RgbImage, roi: Roi) -> Result<FaceLandmarks> {
        landmarks_of(self.mesh.run(img, roi)?, self.config.min_mesh_presence)
    }

    /// The embedding of one aligned face (aligned-crop -> image map), with
    /// the configured flip fusion.
    pub fn embed_face(&self, img: &RgbImage, map: Affine) -> Result<Embedding> {
        self.embedder
            .embed(&[(img, map)], self.config.flip_fusion)?
            .pop()
            .ok_or(Error::Inference {
                stage: "embed",
                message: "no embedding".into(),
                source: None,
            })
    }

    /// The full pipeline on one photo.
    pub fn analyze(&self, img: &RgbImage) -> Result<FaceAnalysis> {
        let faces = self.detect(img)?;
        let faces_in_image = faces.len();
        let face = self.select_face(faces)?;
        let FaceLandmarks {
            mesh,
            five: five_points,
            map,
        } = self.landmarks(img, &face)?;
        let embedding = self.embed_face(img, map)?;
        Ok(FaceAnalysis {
            face,
            mesh,
            five_points,
            embedding,
            faces_in_image,
        })
    }

    /// The capture quality of the one face in a photo (size, sharpness,
    /// exposure, pose, open eyes; the same figure a session reports for its
    /// best frame).
    pub fn photo_quality(&self, img: &RgbImage) -> Result<crate::face::quality::Quality> {
        let face = self.select_face(self.detect(img)?)?;
        let lm = self.landmarks(img, &face)?;
        let m = crate::liveness::measure::measure_face(
            self, img, &lm.mesh, &lm.map, &face.bbox, false,
        )?;
        Ok(crate::face::quality::assess_aligned(
            &m.aligned,
            &m.features,
            None,
        ))
    }

    /// The embedding of the one face in a photo.
    pub fn embed_image(&self, img: &RgbImage) -> Result<Embedding> {
        self.analyze(img).map(|a| a.embedding)
    }

    /// Compares two embeddings at a target FAR.
    pub fn compare_embeddings(&self, a: &Embedding, b: &Embedding, far: f64) -> Result<Decision> {
        self.calibration.decide(a, b, far)
    }

    /// Compares the faces of two photos at a target FAR.
    pub fn compare_images(&self, a: &RgbImage, b: &RgbImage, far: f64) -> Result<Decision> {
        let ea = self.embed_image(a)?;
        let eb = self.embed_image(b)?;
        self.compare_embeddings(&ea, &eb, far)
    }
}

impl crate::liveness::measure::FaceModels for FaceEngine {
    fn eye_state(&self) -> &EyeStateModel {
        FaceEngine::eye_state(self)
    }
    fn pad(&self) -> &PadModel {
        FaceEngine::pad(self)
    }
    fn embed_face(&self, frame: &RgbImage, map: Affine) -> Result<Embedding> {
        FaceEngine::embed_face(self, frame, map)
    }
    fn parallel_stages(&self) -> bool {
        self.config.runtime.parallel_stages
    }
}
