//! Flat-attack defence: a printed photo or a screen moved in front of the
//! camera is a plane, and any two views of a plane are related by a
//! homography; a real head turning shows parallax (the nose moves against the
//! face outline) that no homography explains. realface fits a homography
//! between the rigid mesh points of a frontal reference frame and of each
//! frame whose pose differs by at least `min_pose_change_deg`, and records the
//! RMS residual relative to the face width.
//!
//! Pure geometry: direct linear transform with Hartley normalisation, solved
//! by least squares in f64.

use serde::Serialize;

use crate::geometry::Point;
use crate::landmarks::Mesh;

/// Rigid mesh points: face outline, nose ridge and tip, eye corners (no lids,
/// lips or brows, which move with expressions).
pub const RIGID_POINTS: [usize; 44] = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 1, 4, 5, 195, 197, 6, 168, 98,
    327, 33, 133, 263,
];

/// A 3x3 homography, row-major, h[8] = 1.
pub type Homography = [f64; 9];

/// Normalised points and the (scale, mean x, mean y) that produced them.
type Normalised = (Vec<(f64, f64)>, [f64; 3]);

fn normalise(pts: &[Point]) -> Option<Normalised> {
    let n = pts.len() as f64;
    let (mx, my) = pts.iter().fold((0.0, 0.0), |(x, y), p| {
        (x + f64::from(p.x), y + f64::from(p.y))
    });
    let (mx, my) = (mx / n, my / n);
    let d = pts
        .iter()
        .map(|p| ((f64::from(p.x) - mx).powi(2) + (f64::from(p.y) - my).powi(2)).sqrt())
        .sum::<f64>()
        / n;
    if d.is_nan() || d <= 1e-9 || !d.is_finite() {
        return None;
    }
    let s = std::f64::consts::SQRT_2 / d;
    Some((
        pts.iter()
            .map(|p| ((f64::from(p.x) - mx) * s, (f64::from(p.y) - my) * s))
            .collect(),
        [s, mx, my],
    ))
}

/// Solves the n x n system `a x = b` (Gaussian elimination, partial pivoting).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Least-squares homography mapping `src` onto `dst` (at least 4 points).
pub fn fit_homography(src: &[Point], dst: &[Point]) -> Option<Homography> {
    if src.len() < 4 || src.len() != dst.len() {
        return None;
    }
    let (s, ts) = normalise(src)?;
    let (d, td) = normalise(dst)?;
    // Normal equations of the 8-parameter DLT (h33 = 1).
    let mut ata = vec![vec![0.0; 8]; 8];
    let mut atb = vec![0.0; 8];
    for ((x, y), (u, v)) in s.iter().zip(&d) {
        let rows = [
            ([*x, *y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], *u),
            ([0.0, 0.0, 0.0, *x, *y, 1.0, -v * x, -v * y], *v),
        ];
        for (r, rhs) in rows {
            for i in 0..8 {
                atb[i] += r[i] * rhs;
                for j in 0..8 {
                    ata[i][j] += r[i] * r[j];
                }
            }
        }
    }
    let h = solve(ata, atb)?;
    let hn = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
    // Undo normalisation: H = Td^-1 * Hn * Ts
    let ts_m = [
        ts[0],
        0.0,
        -ts[0] * ts[1],
        0.0,
        ts[0],
        -ts[0] * ts[2],
        0.0,
        0.0,
        1.0,
    ];
    let td_inv = [
        1.0 / td[0],
        0.0,
        td[1],
        0.0,
        1.0 / td[0],
        td[2],
        0.0,
        0.0,
        1.0,
    ];
    let m = mul(&td_inv, &mul(&hn, &ts_m));
    (m[8].abs() > 1e-12).then(|| m.map(|v| v / m[8]))
}

fn mul(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut out = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            out[r * 3 + c] = (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum();
        }
    }
    out
}

/// Applies a homography to a point.
pub fn apply(h: &Homography, p: Point) -> Point {
    let (x, y) = (f64::from(p.x), f64::from(p.y));
    let w = h[6] * x + h[7] * y + h[8];
    Point::new(
        ((h[0] * x + h[1] * y + h[2]) / w) as f32,
        ((h[3] * x + h[4] * y + h[5]) / w) as f32,
    )
}

/// RMS distance between `dst` and the homography image of `src`, divided by `scale`.
pub fn residual(src: &[Point], dst: &[Point], scale: f32) -> Option<f32> {
    let h = fit_homography(src, dst)?;
    let n = src.len() as f32;
    let ss: f32 = src
        .iter()
        .zip(dst)
        .map(|(s, d)| apply(&h, *s).dist(*d).powi(2))
        .sum();
    let r = (ss / n).sqrt() / scale.max(1e-3);
    r.is_finite().then_some(r)
}

/// The rigid points of a mesh in the image plane.
pub fn rigid_points(mesh: &Mesh) -> Vec<Point> {
    RIGID_POINTS.iter().map(|&i| mesh.point(i)).collect()
}

/// Running flat-motion evidence over a session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ParallaxTracker {
    /// Reference points (from the most frontal frame seen first).
    #[serde(skip)]
    reference: Option<(Vec<Point>, f32, f32, f32)>,
    /// Frames compared (pose far enough from the reference).
    pub frames_compared: usize,
    /// Largest residual seen (relative to face width).
    pub max_residual: f32,
    /// Largest pose change (degrees) among compared frames.
    pub max_pose_change: f32,
}

impl ParallaxTracker {
    /// Feeds one frame: its mesh, yaw, pitch and face width.
    pub fn update(
        &mut self,
        mesh: &Mesh,
        yaw: f32,
        pitch: f32,
        width: f32,
        min_pose_change_deg: f32,
    ) {
        let pts = rigid_points(mesh);
        match &self.reference {
            None => self.reference = Some((pts, yaw, pitch, width)),
            Some((r, ry, rp, rw)) => {
                let change = (yaw - ry).abs().max((pitch - rp).abs());
                if change >= min_pose_change_deg {
                    if let Some(res) = residual(r, &pts, rw.max(width)) {
                        self.frames_compared += 1;
                        self.max_residual = self.max_residual.max(res);
                        self.max_pose_change = self.max_pose_change.max(change);
                    }
                }
            }
        }
    }

    /// Forgets everything (face lost).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Vec<Point> {
        (0..25)
            .map(|i| Point::new((i % 5) as f32 * 20.0 + 3.0, (i / 5) as f32 * 17.0 - 4.0))
            .collect()
    }

    #[test]
    fn recovers_a_projective_map_exactly() {
        let h: Homography = [1.1, 0.2, 5.0, -0.1, 0.9, 3.0, 0.001, -0.0005, 1.0];
        let src = grid();
        let dst: Vec<Point> = src.iter().map(|&p| apply(&h, p)).collect();
        let r = residual(&src, &dst, 100.0).expect("fits");
        assert!(r < 1e-4, "{r}");
    }

    #[test]
    fn parallax_leaves_a_residual() {
        // Points at two depths rotated about the vertical axis: not a plane.
        let src = grid();
        let yaw = 0.4f32;
        let dst: Vec<Point> = src
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let z = if i % 3 == 0 { 40.0 } else { 0.0 };
                let x = p.x * yaw.cos() + z * yaw.sin();
                Point::new(x, p.y)
            })
            .collect();
        let r = residual(&src, &dst, 100.0).expect("fits");
        assert!(r > 0.02, "{r}");
    }

    #[test]
    fn degenerate_input_is_none() {
        let same = vec![Point::new(1.0, 1.0); 10];
        assert!(fit_homography(&same, &same).is_none());
        assert!(fit_homography(&grid()[..3], &grid()[..3]).is_none());
    }
}
