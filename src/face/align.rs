//! Face alignment: the least-squares similarity transform that maps the five
//! mesh points (eyes, nose tip, mouth corners) onto the standard 112x112
//! ArcFace template (insightface `arcface_dst`), and the bilinear warp into the
//! embedder's input. Pure code, no models.

use image::RgbImage;

use crate::imaging::geometry::{similarity_transform, Affine, Point};
use crate::imaging::warp::warp_image;

/// Side of the aligned face crop.
pub const ALIGNED_SIZE: u32 = 112;

/// The ArcFace 5-point template for a 112x112 crop: image-left eye,
/// image-right eye, nose tip, image-left mouth corner, image-right mouth corner.
pub const ARCFACE_TEMPLATE: [Point; 5] = [
    Point::new(38.2946, 51.6963),
    Point::new(73.5318, 51.5014),
    Point::new(56.0252, 71.7366),
    Point::new(41.5493, 92.3655),
    Point::new(70.7299, 92.2041),
];

/// The map from the aligned crop to the image (what the warp needs), or
/// `None` when the points are degenerate.
pub fn alignment(five: &[Point; 5]) -> Option<Affine> {
    similarity_transform(five, &ARCFACE_TEMPLATE)?.inverse()
}

/// The aligned 112x112 face as an RGB image (for inspection and photos).
pub fn aligned_image(img: &RgbImage, crop_to_image: &Affine) -> RgbImage {
    warp_image(img, crop_to_image, ALIGNED_SIZE, ALIGNED_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_points_map_to_themselves() {
        let m = alignment(&ARCFACE_TEMPLATE).expect("solvable");
        for p in ARCFACE_TEMPLATE {
            let q = m.apply(p);
            assert!((q.x - p.x).abs() < 1e-3 && (q.y - p.y).abs() < 1e-3);
        }
    }

    #[test]
    fn scaled_rotated_face_aligns_back() {
        // A face twice the template size, rotated 30 degrees, shifted.
        let (s, c) = (30f32.to_radians().sin(), 30f32.to_radians().cos());
        let img_pts = ARCFACE_TEMPLATE.map(|p| {
            Point::new(
                2.0 * (c * p.x - s * p.y) + 300.0,
                2.0 * (s * p.x + c * p.y) + 50.0,
            )
        });
        let crop_to_img = alignment(&img_pts).expect("solvable");
        for (t, i) in ARCFACE_TEMPLATE.iter().zip(img_pts) {
            let q = crop_to_img.apply(*t);
            assert!((q.x - i.x).abs() < 1e-2 && (q.y - i.y).abs() < 1e-2);
        }
        assert!((crop_to_img.scale() - 2.0).abs() < 1e-4);
    }

    #[test]
    fn degenerate_points_are_none() {
        assert!(alignment(&[Point::new(5.0, 5.0); 5]).is_none());
    }
}
