//! Planar-motion test: is the face's change since a reference frame what a
//! flat picture turned in depth would show?
//!
//! A picture — print or screen — is a plane: whatever way it is turned, its
//! image in a later frame is its image in the reference frame warped by one
//! homography (up to light). A real head is not: turning it moves the nose
//! across the cheeks, hides one side and shows the other. The face mesh
//! cannot tell them apart (it places its points from a 3-D prior, so a
//! turned print shows mesh yaw and nose shift like a real turn); the pixels
//! can. [`residual`] fits the best homography (initialised from the mesh's
//! eye, brow and mouth points, refined on the grey values by Gauss-Newton
//! with a gain and a bias for light) from the reference's inner face to the
//! current frame, and returns what it cannot explain, as a fraction of the
//! reference's own contrast. A picture leaves little; a real turn leaves a
//! lot.

use image::RgbImage;

use crate::face::landmarks::Mesh;
use crate::imaging::geometry::Point;

/// Mesh points that sit on visible texture (eye corners, brows, mouth):
/// where even a picture's mesh follows the pixels.
const ANCHORS: [usize; 18] = [
    33, 133, 362, 263, 70, 105, 107, 336, 334, 300, 61, 291, 0, 17, 152, 168, 46, 276,
];
/// Samples per side of the inner-face grid.
const GRID: usize = 24;
/// Gauss-Newton iterations per scale.
const ITERATIONS: usize = 12;

/// The reference frame's inner face, as grey samples on a grid.
#[derive(Debug, Clone)]
pub struct PlanarReference {
    /// Grid positions in reference-image pixels.
    points: Vec<Point>,
    /// Grey value at each position, box-smoothed at each scale: fine, coarse.
    grey: [Vec<f32>; 2],
    /// The anchors' positions in the reference.
    anchors: Vec<Point>,
    /// Grid spacing (pixels).
    step: f32,
    /// Standard deviation of the fine grey values.
    contrast: f32,
}

/// A frame's grey values (Rec. 601 luma), converted once per frame.
struct Grey {
    w: usize,
    h: usize,
    data: Vec<f32>,
}

impl Grey {
    fn of(img: &RgbImage) -> Self {
        let data = img
            .pixels()
            .map(|p| {
                0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2])
            })
            .collect();
        Self {
            w: img.width() as usize,
            h: img.height() as usize,
            data,
        }
    }

    /// Bilinear grey value at (x, y); `None` outside the frame.
    fn at(&self, x: f32, y: f32) -> Option<f32> {
        let (w, h) = (self.w as f32, self.h as f32);
        if !(x >= 0.0 && y >= 0.0 && x <= w - 1.0 && y <= h - 1.0) {
            return None;
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as usize, y0 as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let g = |x: usize, y: usize| self.data.get(y * self.w + x).copied();
        let top = g(x0, y0)? * (1.0 - fx) + g(x1, y0)? * fx;
        let bottom = g(x0, y1)? * (1.0 - fx) + g(x1, y1)? * fx;
        Some(top * (1.0 - fy) + bottom * fy)
    }

    /// Grey value averaged over a 3x3 pattern of spacing `r` (a box blur of
    /// width ~3r): the scale at which the fit looks.
    fn smooth(&self, x: f32, y: f32, r: f32) -> Option<f32> {
        let mut s = 0.0;
        for dy in [-r, 0.0, r] {
            for dx in [-r, 0.0, r] {
                s += self.at(x + dx, y + dy)?;
            }
        }
        Some(s / 9.0)
    }
}

fn anchors(mesh: &Mesh) -> Option<Vec<Point>> {
    let pts: Vec<Point> = ANCHORS.iter().map(|&i| mesh.point(i)).collect();
    pts.iter()
        .all(|p| p.x.is_finite() && p.y.is_finite())
        .then_some(pts)
}

impl PlanarReference {
    /// Samples the inner face of `frame` (between the outer eye corners,
    /// from the brows to the chin); `None` when it does not fit in the frame.
    pub fn new(frame: &RgbImage, mesh: &Mesh) -> Option<Self> {
        let anchors = anchors(mesh)?;
        let (l, r) = (mesh.point(33), mesh.point(263));
        let eye = l.dist(r);
        if eye.is_nan() || eye <= 8.0 {
            return None;
        }
        let (x0, x1) = (l.x.min(r.x), l.x.max(r.x));
        let top = mesh.point(105).y.min(mesh.point(334).y);
        let bottom = mesh.point(152).y;
        if bottom.is_nan() || top.is_nan() || bottom <= top {
            return None;
        }
        let step = (x1 - x0).max(bottom - top) / GRID as f32;
        let mut points = Vec::with_capacity(GRID * GRID);
        for j in 0..GRID {
            for i in 0..GRID {
                points.push(Point::new(
                    x0 + (i as f32 + 0.5) * (x1 - x0) / GRID as f32,
                    top + (j as f32 + 0.5) * (bottom - top) / GRID as f32,
                ));
            }
        }
        let grey = Grey::of(frame);
        let sample = |k: f32| -> Option<Vec<f32>> {
            points
                .iter()
                .map(|p| grey.smooth(p.x, p.y, k * step / 3.0))
                .collect()
        };
        let grey = [sample(1.0)?, sample(2.0)?];
        let n = grey[0].len() as f32;
        let mean = grey[0].iter().sum::<f32>() / n;
        let var = grey[0].iter().map(|g| (g - mean) * (g - mean)).sum::<f32>() / n;
        let contrast = var.sqrt();
        (contrast > 1.0).then_some(Self {
            points,
            grey,
            anchors,
            step,
            contrast,
        })
    }
}

/// Solves `a x = b` (n x n, row-major) by Gaussian elimination with partial
/// pivoting; `None` when singular.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))?;
        if a[p * n + c].abs() < 1e-12 {
            return None;
        }
        if p != c {
            for k in 0..n {
                a.swap(c * n + k, p * n + k);
            }
            b.swap(c, p);
        }
        for r in c + 1..n {
            let f = a[r * n + c] / a[c * n + c];
            for k in c..n {
                a[r * n + k] -= f * a[c * n + k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c * n + k] * x[k]).sum();
        x[c] = (b[c] - s) / a[c * n + c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// A homography with h22 = 1 (row-major, 8 parameters).
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 8]);

impl Homography {
    fn apply(&self, p: Point) -> Option<(f64, f64, f64)> {
        let h = &self.0;
        let (x, y) = (f64::from(p.x), f64::from(p.y));
        let w = h[6] * x + h[7] * y + 1.0;
        if w.abs() < 1e-9 {
            return None;
        }
        Some((
            (h[0] * x + h[1] * y + h[2]) / w,
            (h[3] * x + h[4] * y + h[5]) / w,
            w,
        ))
    }

    /// Least-squares fit (direct linear transform) of `src` -> `dst`.
    fn fit(src: &[Point], dst: &[Point]) -> Option<Self> {
        let mut ata = vec![0.0f64; 64];
        let mut atb = vec![0.0f64; 8];
        for (s, d) in src.iter().zip(dst) {
            let (x, y) = (f64::from(s.x), f64::from(s.y));
            let (u, v) = (f64::from(d.x), f64::from(d.y));
            for (row, rhs) in [
                ([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], u),
                ([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y], v),
            ] {
                for i in 0..8 {
                    atb[i] += row[i] * rhs;
                    for j in 0..8 {
                        ata[i * 8 + j] += row[i] * row[j];
                    }
                }
            }
        }
        let h = solve(ata, atb)?;
        let mut out = [0.0; 8];
        out.copy_from_slice(&h);
        Some(Self(out))
    }
}

/// Maps pixel coordinates to a centred, unit-spread frame and back (for
/// the conditioning of the fits).
#[derive(Debug, Clone, Copy)]
struct Norm {
    c: Point,
    s: f32,
}

impl Norm {
    fn of(pts: &[Point]) -> Option<Self> {
        let n = pts.len() as f32;
        let c = Point::new(
            pts.iter().map(|p| p.x).sum::<f32>() / n,
            pts.iter().map(|p| p.y).sum::<f32>() / n,
        );
        let s = pts.iter().map(|p| p.dist(c)).sum::<f32>() / n;
        (s > 1e-3).then_some(Self { c, s })
    }

    fn to(&self, p: Point) -> Point {
        Point::new((p.x - self.c.x) / self.s, (p.y - self.c.y) / self.s)
    }
}

/// The state of one fit: the homography (normalised reference -> normalised
/// current coordinates) and the light's gain and bias.
struct Fit {
    h: Homography,
    gain: f64,
    bias: f64,
}

/// Where and how the current frame is sampled at one scale.
struct Sampler<'a> {
    frame: &'a Grey,
    norm: Norm,
    /// Box-smoothing spacing (pixels).
    r: f32,
    /// Gradient step (pixels).
    d: f32,
}

impl Sampler<'_> {
    /// Grey value and its gradient per unit of normalised coordinates at
    /// normalised point (u, v).
    fn at(&self, u: f64, v: f64) -> Option<(f64, f64, f64)> {
        let (px, py) = (
            u as f32 * self.norm.s + self.norm.c.x,
            v as f32 * self.norm.s + self.norm.c.y,
        );
        let (f, r, d) = (self.frame, self.r, self.d);
        let i0 = f.smooth(px, py, r)?;
        let dx = f.smooth(px + d, py, r)? - f.smooth(px - d, py, r)?;
        let dy = f.smooth(px, py + d, r)? - f.smooth(px, py - d, r)?;
        let k = f64::from(self.norm.s) / (2.0 * f64::from(d));
        Some((f64::from(i0), f64::from(dx) * k, f64::from(dy) * k))
    }
}

impl Fit {
    /// One Gauss-Newton step over the samples; returns the RMS residual
    /// before the step, `None` when under half the samples could be read.
    fn step(&mut self, pts: &[Point], grey: &[f32], s: &Sampler) -> Option<f64> {
        let mut ata = vec![0.0f64; 100];
        let mut atb = vec![0.0f64; 10];
        let (mut sse, mut n) = (0.0f64, 0usize);
        for (p, &g) in pts.iter().zip(grey) {
            let Some((u, v, w)) = self.h.apply(*p) else {
                continue;
            };
            let Some((i0, gx, gy)) = s.at(u, v) else {
                continue;
            };
            let (x, y, g) = (f64::from(p.x), f64::from(p.y), f64::from(g));
            let res = i0 - self.gain * g - self.bias;
            let persp = -(gx * u + gy * v) / w;
            let j = [
                gx * x / w,
                gx * y / w,
                gx / w,
                gy * x / w,
                gy * y / w,
                gy / w,
                persp * x,
                persp * y,
                -g,
                -1.0,
            ];
            for (a, ja) in j.iter().enumerate() {
                atb[a] -= ja * res;
                for (b, jb) in j.iter().enumerate() {
                    ata[a * 10 + b] += ja * jb;
                }
            }
            sse += res * res;
            n += 1;
        }
        if n < pts.len() / 2 {
            return None;
        }
        // a little damping (Levenberg-Marquardt style) for flat regions
        for a in 0..10 {
            ata[a * 10 + a] = ata[a * 10 + a] * (1.0 + 1e-3) + 1e-9;
        }
        if let Some(delta) = solve(ata, atb) {
            for (hk, dk) in self.h.0.iter_mut().zip(&delta) {
                *hk += dk;
            }
            self.gain += delta[8];
            self.bias += delta[9];
        }
        Some((sse / n as f64).sqrt())
    }
}

/// What the best homography from the reference's inner face to `frame`
/// leaves unexplained: RMS grey residual over the reference's contrast
/// (0 = a perfect plane). `None` when the face cannot be sampled (out of
/// the frame, degenerate mesh).
pub fn residual(reference: &PlanarReference, frame: &RgbImage, mesh: &Mesh) -> Option<f32> {
    let cur = anchors(mesh)?;
    let (nr, nc) = (Norm::of(&reference.anchors)?, Norm::of(&cur)?);
    let src: Vec<Point> = reference.anchors.iter().map(|p| nr.to(*p)).collect();
    let dst: Vec<Point> = cur.iter().map(|p| nc.to(*p)).collect();
    let mut fit = Fit {
        h: Homography::fit(&src, &dst)?,
        gain: 1.0,
        bias: 0.0,
    };
    let pts: Vec<Point> = reference.points.iter().map(|p| nr.to(*p)).collect();
    // the current frame's pixel scale relative to the reference's
    let zoom = nc.s / nr.s;
    let mut last = None;
    let luma = Grey::of(frame);
    // coarse (smoothed twice as much) then fine
    for (scale, grey) in [(2.0f32, &reference.grey[1]), (1.0, &reference.grey[0])] {
        let sampler = Sampler {
            frame: &luma,
            norm: nc,
            r: scale * reference.step * zoom / 3.0,
            d: (scale * reference.step * zoom / 2.0).max(0.5),
        };
        for _ in 0..ITERATIONS {
            last = Some(fit.step(&pts, grey, &sampler)?);
        }
    }
    let out = (last? / f64::from(reference.contrast)) as f32;
    out.is_finite().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_and_fit_recover_a_known_homography() {
        let truth = Homography([1.1, 0.05, 0.2, -0.03, 0.95, -0.1, 0.02, -0.01]);
        let src: Vec<Point> = (0..12)
            .map(|i| Point::new((i % 4) as f32 - 1.5, (i / 4) as f32 - 1.0))
            .collect();
        let dst: Vec<Point> = src
            .iter()
            .filter_map(|p| {
                truth
                    .apply(*p)
                    .map(|(u, v, _)| Point::new(u as f32, v as f32))
            })
            .collect();
        let h = Homography::fit(&src, &dst).expect("fits");
        for (a, b) in h.0.iter().zip(truth.0.iter()) {
            assert!((a - b).abs() < 1e-3, "{:?}", h.0);
        }
        assert!(solve(vec![0.0; 4], vec![1.0, 1.0]).is_none());
    }
}
