//! Plane geometry: points, boxes, 2-D affine maps and the least-squares
//! similarity transform (Umeyama 1991) used to align faces. Pure maths, no models.

use serde::Serialize;

/// A point in pixel coordinates (x right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point {
    /// Horizontal coordinate.
    pub x: f32,
    /// Vertical coordinate.
    pub y: f32,
}

impl Point {
    /// A new point.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Euclidean distance to another point.
    pub fn dist(self, o: Point) -> f32 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2)).sqrt()
    }

    /// Midpoint with another point.
    pub fn mid(self, o: Point) -> Point {
        Point::new((self.x + o.x) * 0.5, (self.y + o.y) * 0.5)
    }
}

/// An axis-aligned box: top-left corner, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BBox {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl BBox {
    /// Box from its centre and size.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self {
            x: cx - w * 0.5,
            y: cy - h * 0.5,
            w,
            h,
        }
    }

    /// Centre point.
    pub fn center(&self) -> Point {
        Point::new(self.x + self.w * 0.5, self.y + self.h * 0.5)
    }

    /// Whether all four numbers are finite.
    pub fn is_finite(&self) -> bool {
        self.x.is_finite() && self.y.is_finite() && self.w.is_finite() && self.h.is_finite()
    }

    /// Area (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Intersection over union; 0 when either box is empty or not finite.
    pub fn iou(&self, o: &BBox) -> f32 {
        if !(self.is_finite() && o.is_finite()) {
            return 0.0;
        }
        let x1 = self.x.max(o.x);
        let y1 = self.y.max(o.y);
        let x2 = (self.x + self.w).min(o.x + o.w);
        let y2 = (self.y + self.h).min(o.y + o.h);
        let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
        let union = self.area() + o.area() - inter;
        if union > 0.0 && union.is_finite() {
            inter / union
        } else {
            0.0
        }
    }
}

/// A 2-D affine map `p' = A p + t`, stored row-major as `[a, b, tx, c, d, ty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f32; 6]);

impl Affine {
    /// The identity map.
    pub const IDENTITY: Affine = Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);

    /// Applies the map to a point.
    pub fn apply(&self, p: Point) -> Point {
        let m = &self.0;
        Point::new(
            m[0] * p.x + m[1] * p.y + m[2],
            m[3] * p.x + m[4] * p.y + m[5],
        )
    }

    /// The inverse map, or `None` when the map is singular or not finite.
    pub fn inverse(&self) -> Option<Affine> {
        let [a, b, tx, c, d, ty] = self.0.map(f64::from);
        let det = a * d - b * c;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        let itx = -(ia * tx + ib * ty);
        let ity = -(ic * tx + id * ty);
        Some(Affine([ia, ib, itx, ic, id, ity].map(|v| v as f32)))
    }

    /// `self ∘ other`: first `other`, then `self`.
    pub fn compose(&self, other: &Affine) -> Affine {
        let [a, b, c, d, e, f] = self.0;
        let [g, h, i, j, k, l] = other.0;
        Affine([
            a * g + b * j,
            a * h + b * k,
            a * i + b * l + c,
            d * g + e * j,
            d * h + e * k,
            d * i + e * l + f,
        ])
    }

    /// Scale then translate: `p' = s p + t`.
    pub fn scale_translate(sx: f32, sy: f32, tx: f32, ty: f32) -> Affine {
        Affine([sx, 0.0, tx, 0.0, sy, ty])
    }

    /// The map from a `size x size` crop to the image for a square region of
    /// side `side` centred at `center` and rotated by `angle` radians
    /// (the crop's x axis runs along `(cos angle, sin angle)` in the image).
    /// Both sides use pixel-centre coordinates (pixel i is centred at i), so
    /// the crop's centre is at `size / 2 - 0.5`.
    pub fn rotated_crop(center: Point, side: f32, angle: f32, size: f32) -> Affine {
        let s = side / size;
        let (sin, cos) = angle.sin_cos();
        let (a, b, c, d) = (cos * s, -sin * s, sin * s, cos * s);
        let h = size * 0.5 - 0.5;
        // p = c + R * s * (u - h, v - h)
        Affine([
            a,
            b,
            center.x - (a * h + b * h),
            c,
            d,
            center.y - (c * h + d * h),
        ])
    }

    /// Uniform scale of the map (sqrt of |det|).
    pub fn scale(&self) -> f32 {
        (self.0[0] * self.0[4] - self.0[1] * self.0[3]).abs().sqrt()
    }
}

/// Least-squares similarity transform (rotation, uniform scale, translation)
/// mapping `src[i]` onto `dst[i]` (Umeyama 1991, without reflection).
/// `None` for fewer than two points, degenerate or non-finite input.
pub fn similarity_transform(src: &[Point], dst: &[Point]) -> Option<Affine> {
    let n = src.len();
    if n < 2 || n != dst.len() {
        return None;
    }
    let nf = n as f64;
    let (mut sx, mut sy, mut dx, mut dy) = (0.0, 0.0, 0.0, 0.0);
    for (s, d) in src.iter().zip(dst) {
        sx += f64::from(s.x);
        sy += f64::from(s.y);
        dx += f64::from(d.x);
        dy += f64::from(d.y);
    }
    let (sx, sy, dx, dy) = (sx / nf, sy / nf, dx / nf, dy / nf);
    // For a similarity with no reflection the least-squares solution reduces to
    // a = sum(xs*xd + ys*yd) / sum|s|^2, b = sum(xs*yd - ys*xd) / sum|s|^2.
    let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
    for (s, d) in src.iter().zip(dst) {
        let (xs, ys) = (f64::from(s.x) - sx, f64::from(s.y) - sy);
        let (xd, yd) = (f64::from(d.x) - dx, f64::from(d.y) - dy);
        num_a += xs * xd + ys * yd;
        num_b += xs * yd - ys * xd;
        den += xs * xs + ys * ys;
    }
    if den < 1e-9 || !den.is_finite() || !num_a.is_finite() || !num_b.is_finite() {
        return None;
    }
    let a = num_a / den;
    let b = num_b / den;
    let tx = dx - (a * sx - b * sy);
    let ty = dy - (b * sx + a * sy);
    Some(Affine([a, -b, tx, b, a, ty].map(|v| v as f32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Point, b: Point) -> bool {
        (a.x - b.x).abs() < 1e-3 && (a.y - b.y).abs() < 1e-3
    }

    #[test]
    fn iou_basic_and_degenerate() {
        let a = BBox {
            x: 0.0,
            y: 0.0,
            w: 2.0,
            h: 2.0,
        };
        let b = BBox {
            x: 1.0,
            y: 0.0,
            w: 2.0,
            h: 2.0,
        };
        assert!((a.iou(&b) - 2.0 / 6.0).abs() < 1e-6);
        let nan = BBox {
            x: f32::NAN,
            y: 0.0,
            w: 1.0,
            h: 1.0,
        };
        assert_eq!(a.iou(&nan), 0.0);
        assert_eq!(a.iou(&BBox::default()), 0.0);
    }

    #[test]
    fn similarity_recovers_known_transform() {
        let t = Affine([0.8 * 0.6, -0.8 * 0.8, 5.0, 0.8 * 0.8, 0.8 * 0.6, -3.0]);
        let src = [
            Point::new(10.0, 20.0),
            Point::new(40.0, 22.0),
            Point::new(25.0, 35.0),
            Point::new(14.0, 50.0),
            Point::new(36.0, 49.0),
        ];
        let dst: Vec<Point> = src.iter().map(|&p| t.apply(p)).collect();
        let est = similarity_transform(&src, &dst).expect("solvable");
        for (s, d) in src.iter().zip(&dst) {
            assert!(close(est.apply(*s), *d));
        }
    }

    #[test]
    fn similarity_rejects_degenerate() {
        let p = [Point::new(1.0, 1.0); 5];
        assert!(similarity_transform(&p, &p).is_none());
        assert!(similarity_transform(&p[..1], &p[..1]).is_none());
        let nan = [Point::new(f32::NAN, 0.0), Point::new(1.0, 1.0)];
        assert!(similarity_transform(&nan, &nan).is_none());
    }

    #[test]
    fn inverse_and_compose() {
        let t = Affine([2.0, 0.5, 3.0, -0.5, 2.0, 1.0]);
        let inv = t.inverse().expect("invertible");
        let p = Point::new(7.0, -2.0);
        assert!(close(inv.apply(t.apply(p)), p));
        assert!(close(t.compose(&inv).apply(p), p));
        assert!(Affine([0.0; 6]).inverse().is_none());
    }

    #[test]
    fn rotated_crop_maps_center_and_axes() {
        let c = Point::new(100.0, 50.0);
        let m = Affine::rotated_crop(c, 60.0, std::f32::consts::FRAC_PI_2, 192.0);
        assert!(close(m.apply(Point::new(95.5, 95.5)), c));
        // crop x axis points down in the image for a 90 degree rotation
        let p = m.apply(Point::new(191.5, 95.5));
        assert!(close(p, Point::new(100.0, 80.0)));
    }
}
