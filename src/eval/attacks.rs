//! Synthetic presentation attacks made from one live photo: what an attacker
//! with a printed photo or a still on a screen can show the camera. Each kind
//! yields a frame sequence (10 fps) to push through a verification session.
//!
//! - `still`: the same frame, with a little sensor noise;
//! - `affine`: random shifts, scaling and small rotations (a hand-held photo);
//! - `perspective`: the photo turned about its vertical, then horizontal axis,
//!   up to ±40° (an attacker imitating a head turn or a nod with a print);
//! - `rotation`: in-plane rotation back and forth up to ±30°;
//! - `blur`: the photo moved quickly (Gaussian blur of varying strength, shifts);
//! - `bend`: the photo bent about its vertical centre line (a curved print).

use crate::rng::SplitMix;
use image::RgbImage;
use serde::Serialize;

use crate::imaging::geometry::{Affine, Point};
use crate::imaging::warp::{sample, warp_image};

/// A kind of synthetic attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// Still photo.
    Still,
    /// Hand-held photo: random affine motion.
    Affine,
    /// Photo turned in depth (perspective).
    Perspective,
    /// In-plane rotation.
    Rotation,
    /// Motion blur and shake.
    Blur,
    /// Bent print.
    Bend,
}

impl AttackKind {
    /// Every kind.
    pub const ALL: [AttackKind; 6] = [
        AttackKind::Still,
        AttackKind::Affine,
        AttackKind::Perspective,
        AttackKind::Rotation,
        AttackKind::Blur,
        AttackKind::Bend,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Still => "still",
            Self::Affine => "affine",
            Self::Perspective => "perspective",
            Self::Rotation => "rotation",
            Self::Blur => "blur",
            Self::Bend => "bend",
        }
    }
}

/// Warps with a plane rotated by (yaw, pitch) radians about the image centre,
/// seen by a pinhole camera with focal length = image width.
fn perspective(src: &RgbImage, yaw: f32, pitch: f32) -> RgbImage {
    let (w, h) = (src.width(), src.height());
    let (cx, cy, f) = (w as f32 / 2.0, h as f32 / 2.0, w as f32);
    let (sy, cyaw) = yaw.sin_cos();
    let (sp, cp) = pitch.sin_cos();
    // R = Rx(pitch) * Ry(yaw); output pixel -> ray -> intersect the rotated plane.
    let r = [
        [cyaw, 0.0, sy],
        [sp * sy, cp, -sp * cyaw],
        [-cp * sy, sp, cp * cyaw],
    ];
    RgbImage::from_fn(w, h, |u, v| {
        let d = [u as f32 - cx, v as f32 - cy, f];
        // plane: points R * (x, y, 0) + (0, 0, f); solve for (x, y)
        let n = [r[0][2], r[1][2], r[2][2]];
        let denom = n[0] * d[0] + n[1] * d[1] + n[2] * d[2];
        if denom.abs() < 1e-6 {
            return image::Rgb([0, 0, 0]);
        }
        let t = n[2] * f / denom;
        let p = [d[0] * t, d[1] * t, d[2] * t - f];
        // back to plane coordinates: R^T p
        let x = r[0][0] * p[0] + r[1][0] * p[1] + r[2][0] * p[2];
        let y = r[0][1] * p[0] + r[1][1] * p[1] + r[2][1] * p[2];
        match sample(src, x + cx, y + cy) {
            Some(px) => image::Rgb(px.map(|c| c.round().clamp(0.0, 255.0) as u8)),
            None => image::Rgb([0, 0, 0]),
        }
    })
}

fn bend(src: &RgbImage, amount: f32) -> RgbImage {
    let (w, h) = (src.width(), src.height());
    let cx = w as f32 / 2.0;
    RgbImage::from_fn(w, h, |u, v| {
        let dx = (u as f32 - cx) / cx;
        // a cylinder: horizontal compression grows away from the centre, and the
        // edges come closer to the camera (slightly larger vertically)
        let x = cx + dx * cx * (1.0 + amount * dx * dx);
        let y = h as f32 / 2.0 + (v as f32 - h as f32 / 2.0) * (1.0 - 0.3 * amount * dx * dx);
        match sample(src, x, y) {
            Some(px) => image::Rgb(px.map(|c| c.round().clamp(0.0, 255.0) as u8)),
            None => image::Rgb([0, 0, 0]),
        }
    })
}

fn noise(img: &mut RgbImage, rng: &mut SplitMix, amp: f32) {
    for p in img.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (f32::from(*c) + rng.uniform(-amp, amp))
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
}

/// `n` frames of an attack of `kind` made from `photo`.
pub fn synthesize(photo: &RgbImage, kind: AttackKind, n: usize, seed: u64) -> Vec<RgbImage> {
    let mut rng = SplitMix::new(seed ^ (kind as u64) << 32);
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let c = Point::new(w / 2.0, h / 2.0);
    let around = |angle: f32, scale: f32, tx: f32, ty: f32| -> Affine {
        // output -> source: rotate/scale about the centre, then shift
        let (s, co) = angle.sin_cos();
        let (a, b, cc, d) = (co / scale, s / scale, -s / scale, co / scale);
        Affine([
            a,
            b,
            c.x - a * c.x - b * c.y - tx,
            cc,
            d,
            c.y - cc * c.x - d * c.y - ty,
        ])
    };
    (0..n)
        .map(|i| {
            let phase = i as f32 / n.max(2) as f32 * std::f32::consts::TAU;
            let mut frame = match kind {
                AttackKind::Still => photo.clone(),
                AttackKind::Affine => {
                    let m = around(
                        rng.uniform(-0.08, 0.08),
                        rng.uniform(0.9, 1.1),
                        rng.uniform(-0.05, 0.05) * w,
                        rng.uniform(-0.05, 0.05) * h,
                    );
                    warp_image(photo, &m, photo.width(), photo.height())
                }
                AttackKind::Perspective => {
                    // first half: turn left/right; second half: tilt down/up
                    let a = 40f32.to_radians() * (2.0 * phase).sin();
                    if i < n / 2 {
                        perspective(photo, a, 0.0)
                    } else {
                        perspective(photo, 0.0, a)
                    }
                }
                AttackKind::Rotation => {
                    let m = around(30f32.to_radians() * phase.sin(), 1.0, 0.0, 0.0);
                    warp_image(photo, &m, photo.width(), photo.height())
                }
                AttackKind::Blur => {
                    let m = around(
                        0.0,
                        1.0,
                        rng.uniform(-0.1, 0.1) * w,
                        rng.uniform(-0.05, 0.05) * h,
                    );
                    let moved = warp_image(photo, &m, photo.width(), photo.height());
                    image::imageops::blur(&moved, rng.uniform(0.5, 4.0))
                }
                AttackKind::Bend => bend(photo, 0.25 * phase.sin()),
            };
            noise(&mut frame, &mut rng, 3.0);
            frame
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_reproducible_and_sized() {
        let photo = RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, 100])
        });
        for kind in AttackKind::ALL {
            let a = synthesize(&photo, kind, 6, 7);
            let b = synthesize(&photo, kind, 6, 7);
            assert_eq!(a.len(), 6);
            assert!(a.iter().all(|f| f.dimensions() == (64, 48)));
            assert_eq!(a, b, "{kind:?} is deterministic");
        }
    }

    #[test]
    fn zero_perspective_is_identity() {
        let photo = RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 9]));
        let p = perspective(&photo, 0.0, 0.0);
        let diff: i64 = p
            .as_raw()
            .iter()
            .zip(photo.as_raw())
            .map(|(a, b)| (i64::from(*a) - i64::from(*b)).abs())
            .sum();
        assert!(diff < 40 * 30 * 3, "{diff}");
    }
}
