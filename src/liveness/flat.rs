//! Flat-attack cue: a photo or screen turned in depth in front of the camera.
//!
//! Measured on the shared data: the face mesh infers a 3-D pose even from a
//! flat picture, so a print turned by 40° can show up to ~22° of mesh yaw —
//! and a homography fitted to its mesh points left as large a residual as a
//! real head turn (0.06-0.08 of the face width in both), because the mesh
//! places its outline from a 3-D prior; that test was dropped. What separates
//! them is 2-D parallax: in a real turn the nose tip moves across the face (nose offset
//! change 0.4-0.6), in a turned print it stays nearly centred between the
//! print's own outline (at most 0.27). The cue fires when the mesh yaw changed
//! by at least `YAW_DEG` but the nose offset by less than `MIN_NOSE`.
//!
//! Second, stronger rule — unexplained foreshortening: a surface turned by θ
//! shrinks by about 1 - cos θ across the turn. A print tilted by 40° loses
//! ~23% of its height or width, but the mesh reports only ~10° of pose change
//! for it (its 3-D prior resists), which explains 1.5%. The excess
//! |aspect / baseline - 1| - (1 - cos Δpose) was at most 0.079 over all 18
//! real clips and at least 0.18 for prints turned or tilted by up to 40°
//! (`examples/dump_features.rs`); the cue fires above `MAX_EXCESS` = 0.12.
//!
//! Third, from the pixels rather than the mesh — planarity ([`super::planar`]):
//! at frames turned (yaw `YAW_DEG`) or tilted (pitch `PITCH_DEG`) away from
//! the reference, the best homography from the reference's inner face
//! explains a picture's image but not a head's. The largest residual over
//! such frames (measured against the session's first face frame) was at
//! least 0.188 in every real clip at native rate, and at most 0.108 for
//! prints turned or tilted in depth by up to 40° (`examples/dump_signals.rs`,
//! column `planar`); the cue fires when turned frames were seen and none
//! reached `PLANAR_MIN` = 0.14 (near the geometric midpoint). The mesh cues
//! alone let one such print through as a 15.6° turn.

use image::RgbImage;
use serde::Serialize;

use super::actions::History;
use super::features::FrameFeatures;
use super::planar::{residual, PlanarReference};
use crate::face::landmarks::Mesh;

/// What one frame's pixels add to the flat-motion evidence.
#[derive(Debug, Clone)]
pub enum PixelStep {
    /// Nothing (not turned, or a head was already seen).
    Nothing,
    /// The planar reference (the first frame that is not turned).
    Reference(Box<PlanarReference>),
    /// A turned or tilted frame's planar residual.
    Residual(f32),
}

/// Flat-motion evidence gathered over a session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlatMotion {
    #[serde(skip)]
    reference: Option<FrameFeatures>,
    /// Largest yaw change from the reference frame (degrees).
    pub max_yaw_change: f32,
    /// Nose-offset change at the frames with a large yaw change (the largest).
    pub nose_change_at_turn: f32,
    /// Frames whose yaw changed by at least `yaw_deg`.
    pub turned_frames: usize,
    /// Largest foreshortening not explained by the mesh's pose change.
    pub max_foreshortening_excess: f32,
    #[serde(skip)]
    planar_reference: Option<PlanarReference>,
    /// Frames turned or tilted from the reference whose planarity was measured.
    pub planar_frames: usize,
    /// Largest planar residual over those frames (0 without them).
    pub max_planar_residual: f32,
}

impl FlatMotion {
    /// Yaw change that makes a frame count as turned.
    pub const YAW_DEG: f32 = 12.0;
    /// Minimum nose-offset change of a real turn.
    pub const MIN_NOSE: f32 = 0.2;
    /// Largest foreshortening excess of a real face.
    pub const MAX_EXCESS: f32 = 0.12;
    /// Pitch change that makes a frame count as tilted.
    pub const PITCH_DEG: f32 = 6.0;
    /// Smallest largest-planar-residual of a real head's turn or tilt.
    pub const PLANAR_MIN: f32 = 0.14;

    /// Feeds a frame; `history` holds the recent frames (this one included).
    pub fn update(&mut self, f: &FrameFeatures, history: &History) {
        if let (Some(aspect), Some(yaw), Some(pitch)) = (
            history.stat(|x| x.face_aspect, 0.5),
            history.stat(|x| x.yaw, 0.5),
            history.stat(|x| x.pitch, 0.5),
        ) {
            if aspect > 1e-3 {
                let dpose = (f.yaw - yaw).abs().max((f.pitch - pitch).abs()).min(89.0);
                let explained = 1.0 - dpose.to_radians().cos();
                let excess = (f.face_aspect / aspect - 1.0).abs() - explained;
                if excess.is_finite() {
                    self.max_foreshortening_excess = self.max_foreshortening_excess.max(excess);
                }
            }
        }
        let Some(r) = &self.reference else {
            self.reference = Some(*f);
            return;
        };
        let dy = (f.yaw - r.yaw).abs();
        self.max_yaw_change = self.max_yaw_change.max(dy);
        if dy >= Self::YAW_DEG {
            self.turned_frames += 1;
            self.nose_change_at_turn = self
                .nose_change_at_turn
                .max((f.nose_offset - r.nose_offset).abs());
        }
    }

    /// What a frame's pixels add (computed before [`FlatMotion::update`]
    /// with the same frame's features, without changing anything): the
    /// first frame's inner face becomes the planar reference; a frame turned
    /// or tilted from it is tested for planarity, until one frame has shown
    /// that the face is not a plane.
    pub fn pixel_step(&self, frame: &RgbImage, mesh: &Mesh, f: &FrameFeatures) -> PixelStep {
        // the first face frame is its own reference (update() keeps it)
        let r = self.reference.as_ref().unwrap_or(f);
        let turned =
            (f.yaw - r.yaw).abs() >= Self::YAW_DEG || (f.pitch - r.pitch).abs() >= Self::PITCH_DEG;
        let Some(reference) = &self.planar_reference else {
            return match (!turned)
                .then(|| PlanarReference::new(frame, mesh))
                .flatten()
            {
                Some(p) => PixelStep::Reference(Box::new(p)),
                None => PixelStep::Nothing,
            };
        };
        if !turned || self.max_planar_residual >= Self::PLANAR_MIN {
            return PixelStep::Nothing;
        }
        residual(reference, frame, mesh).map_or(PixelStep::Nothing, PixelStep::Residual)
    }

    /// Applies a [`FlatMotion::pixel_step`].
    pub fn apply_pixels(&mut self, step: &PixelStep) {
        match step {
            PixelStep::Nothing => {}
            PixelStep::Reference(p) => {
                if self.planar_reference.is_none() {
                    self.planar_reference = Some((**p).clone());
                }
            }
            PixelStep::Residual(v) => {
                self.planar_frames += 1;
                self.max_planar_residual = self.max_planar_residual.max(*v);
            }
        }
    }

    /// Whether a frame that showed a head (a planar residual of at least
    /// [`FlatMotion::PLANAR_MIN`]) has been seen.
    pub fn head_seen(&self) -> bool {
        self.max_planar_residual >= Self::PLANAR_MIN
    }

    /// Whether the motion looked flat: turned frames without 2-D parallax,
    /// foreshortening that the head's pose does not explain, or turned
    /// frames that one homography explains.
    pub fn flat_suspected(&self) -> bool {
        (self.turned_frames > 0 && self.nose_change_at_turn < Self::MIN_NOSE)
            || self.max_foreshortening_excess > Self::MAX_EXCESS
            || (self.planar_frames > 0 && self.max_planar_residual < Self::PLANAR_MIN)
    }

    /// Forgets the reference (face lost or replaced).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(yaw: f32, nose: f32, aspect: f32) -> FrameFeatures {
        FrameFeatures {
            yaw,
            nose_offset: nose,
            face_aspect: aspect,
            face_width: 150.0,
            ..FrameFeatures::default()
        }
    }

    fn run(frames: &[FrameFeatures]) -> FlatMotion {
        let (mut flat, mut history) = (FlatMotion::default(), History::default());
        for (i, f) in frames.iter().enumerate() {
            history.push(i as u64 * 100, *f);
            flat.update(f, &history);
        }
        flat
    }

    #[test]
    fn a_real_turn_is_not_flat() {
        let mut frames = vec![frame(0.0, 0.0, 1.2); 10];
        frames.extend((1..=5).map(|k| frame(5.0 * k as f32, 0.1 * k as f32, 1.2)));
        let flat = run(&frames);
        assert!(flat.turned_frames > 0);
        assert!(!flat.flat_suspected(), "{flat:?}");
    }

    #[test]
    fn a_print_turned_without_parallax_is_flat() {
        // the mesh reports 20 degrees of yaw but the nose stays centred
        let mut frames = vec![frame(0.0, 0.0, 1.2); 10];
        frames.extend((1..=5).map(|k| frame(4.0 * k as f32, 0.01 * k as f32, 1.2)));
        let flat = run(&frames);
        assert!(flat.nose_change_at_turn < FlatMotion::MIN_NOSE);
        assert!(flat.flat_suspected(), "{flat:?}");
    }

    #[test]
    fn a_tilted_print_foreshortens_without_pose_change() {
        // a print tilted by ~40 degrees loses ~23% of its height; the mesh
        // reports no pose change that would explain it
        let mut frames = vec![frame(0.0, 0.0, 1.2); 10];
        frames.extend((1..=5).map(|k| frame(0.0, 0.0, 1.2 * (1.0 - 0.05 * k as f32))));
        let flat = run(&frames);
        assert!(
            flat.max_foreshortening_excess > FlatMotion::MAX_EXCESS,
            "{flat:?}"
        );
        assert!(flat.flat_suspected());
        // the same shrink explained by a 40-degree nod of a real head is fine
        let mut real = vec![frame(0.0, 0.0, 1.2); 10];
        real.extend((1..=5).map(|k| FrameFeatures {
            pitch: -8.0 * k as f32,
            ..frame(0.0, 0.0, 1.2 * (1.0 - 0.04 * k as f32))
        }));
        assert!(!run(&real).flat_suspected());
    }
}
