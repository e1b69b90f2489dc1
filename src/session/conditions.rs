//! The capture's conditions as the session saw them: how often the face was
//! out of view and how often the light was too low. Counts only, from the
//! pixels and boxes the session has anyway; they choose the safe hint a
//! failed session may show ([`super::result::AuthResult::hint_of`]): "too
//! dark" or "the face left the oval" where the reason alone would say "no
//! answer in time" or "hold still".

use image::RgbImage;
use serde::Serialize;

use crate::imaging::geometry::BBox;

/// Mean luma (0-255) of the face's middle below which a frame counts as
/// dark. The capture page's readiness check uses the same figure
/// (`minLuma` in `realface-analyse.js`).
pub const DARK_LUMA: f32 = 45.0;

/// The face's centre further than this share of the frame's width (or
/// height) from the frame's centre counts as out of view (the capture
/// page's oval spans about the middle third of a landscape camera frame).
pub const OFF_CENTRE: f32 = 0.3;

/// A hint is about light when at least this share of the measured frames
/// was dark.
const DARK_SHARE: f32 = 0.5;

/// A hint is about the face leaving the oval when at least this share of
/// the frames after the first face frame had it out of view.
const OUT_SHARE: f32 = 0.25;

/// Fewer frames than this say nothing about the conditions.
const MIN_FRAMES: usize = 8;

/// What the session saw of the capture's conditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Conditions {
    /// Frames whose light was measured (every frame with pixels: the face's
    /// middle, or the whole frame when no face was found).
    pub measured: usize,
    /// Of those, frames darker than [`DARK_LUMA`].
    pub dark: usize,
    /// Frames from the first face frame on.
    pub since_face: usize,
    /// Of those, frames with no face found, or with the face's centre off
    /// the frame's middle by more than [`OFF_CENTRE`].
    pub out_of_view: usize,
}

impl Conditions {
    /// A frame where no face was found (`frame`: its pixels, `None` in a
    /// replay).
    pub fn no_face(&mut self, frame: Option<&RgbImage>) {
        if let Some(f) = frame {
            let (w, h) = (f.width() as f32, f.height() as f32);
            self.light(mean_luma(
                f,
                &BBox {
                    x: 0.0,
                    y: 0.0,
                    w,
                    h,
                },
                8,
            ));
        }
        if self.since_face > 0 {
            self.since_face += 1;
            self.out_of_view += 1;
        }
    }

    /// A frame with one face in `bbox`.
    pub fn face(&mut self, frame: Option<&RgbImage>, bbox: &BBox) {
        self.since_face += 1;
        let Some(f) = frame else {
            return;
        };
        let middle = BBox {
            x: bbox.x + 0.2 * bbox.w,
            y: bbox.y + 0.2 * bbox.h,
            w: 0.6 * bbox.w,
            h: 0.6 * bbox.h,
        };
        self.light(mean_luma(f, &middle, 4));
        let (w, h) = (f.width() as f32, f.height() as f32);
        let (cx, cy) = (bbox.x + bbox.w / 2.0, bbox.y + bbox.h / 2.0);
        if (cx - w / 2.0).abs() > OFF_CENTRE * w || (cy - h / 2.0).abs() > OFF_CENTRE * h {
            self.out_of_view += 1;
        }
    }

    fn light(&mut self, luma: Option<f32>) {
        if let Some(l) = luma {
            self.measured += 1;
            if l < DARK_LUMA {
                self.dark += 1;
            }
        }
    }

    /// Whether the light was too low for much of the capture.
    pub fn mostly_dark(&self) -> bool {
        self.measured >= MIN_FRAMES && self.dark as f32 >= DARK_SHARE * self.measured as f32
    }

    /// Whether the face was out of view for much of the capture after it
    /// was first found.
    pub fn often_out_of_view(&self) -> bool {
        self.since_face >= MIN_FRAMES
            && self.out_of_view as f32 >= OUT_SHARE * self.since_face as f32
    }
}

/// Mean luma of `region` (clipped to the frame), every `step`th pixel in
/// each direction; `None` for an empty region.
fn mean_luma(frame: &RgbImage, region: &BBox, step: usize) -> Option<f32> {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let clip = |v: f32, max: f32| {
        if v.is_finite() {
            v.clamp(0.0, max)
        } else {
            0.0
        }
    };
    let (x0, x1) = (
        clip(region.x, w) as u32,
        clip(region.x + region.w, w) as u32,
    );
    let (y0, y1) = (
        clip(region.y, h) as u32,
        clip(region.y + region.h, h) as u32,
    );
    let (mut sum, mut n) = (0.0f64, 0u64);
    for y in (y0..y1).step_by(step.max(1)) {
        for x in (x0..x1).step_by(step.max(1)) {
            let p = frame.get_pixel(x, y).0;
            sum += 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
            n += 1;
        }
    }
    (n > 0).then(|| (sum / n as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(v: u8) -> RgbImage {
        RgbImage::from_pixel(160, 120, image::Rgb([v, v, v]))
    }

    const MIDDLE: BBox = BBox {
        x: 60.0,
        y: 40.0,
        w: 40.0,
        h: 40.0,
    };

    #[test]
    fn light_is_the_faces_middle_or_the_whole_frame() {
        let mut c = Conditions::default();
        for _ in 0..10 {
            c.no_face(Some(&grey(20)));
        }
        assert!(c.mostly_dark(), "{c:?}");
        assert_eq!(c.since_face, 0, "nothing is out of view before a face");
        let mut c = Conditions::default();
        let mut lit_face = grey(20);
        for y in 40..80 {
            for x in 60..100 {
                lit_face.put_pixel(x, y, image::Rgb([150, 120, 100]));
            }
        }
        for _ in 0..10 {
            c.face(Some(&lit_face), &MIDDLE);
        }
        assert!(!c.mostly_dark(), "a lit face in a dark room: {c:?}");
        assert!(!c.often_out_of_view());
    }

    #[test]
    fn a_face_that_leaves_or_wanders_off_is_out_of_view() {
        let f = grey(128);
        let mut c = Conditions::default();
        for _ in 0..6 {
            c.face(Some(&f), &MIDDLE);
        }
        for _ in 0..3 {
            c.no_face(Some(&f));
        }
        assert_eq!((c.since_face, c.out_of_view), (9, 3));
        assert!(c.often_out_of_view(), "{c:?}");
        let corner = BBox {
            x: 0.0,
            y: 0.0,
            w: 30.0,
            h: 30.0,
        };
        let mut c = Conditions::default();
        for _ in 0..10 {
            c.face(Some(&f), &corner);
        }
        assert!(c.often_out_of_view(), "{c:?}");
        // too few frames say nothing; a replay without pixels measures no light
        let mut c = Conditions::default();
        c.face(None, &MIDDLE);
        c.no_face(None);
        assert!(!c.often_out_of_view() && !c.mostly_dark());
        assert_eq!(c.measured, 0);
    }

    #[test]
    fn boxes_outside_or_not_finite_measure_nothing() {
        let f = grey(128);
        let outside = BBox {
            x: 500.0,
            y: 500.0,
            w: 10.0,
            h: 10.0,
        };
        assert_eq!(mean_luma(&f, &outside, 4), None);
        let nan = BBox {
            x: f32::NAN,
            y: 0.0,
            w: f32::NAN,
            h: 10.0,
        };
        assert_eq!(mean_luma(&f, &nan, 4), None);
        assert!(mean_luma(&f, &MIDDLE, 4).is_some_and(|l| (l - 128.0).abs() < 1e-3));
    }
}
