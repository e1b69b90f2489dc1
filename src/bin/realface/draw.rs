//! Drawing detections onto a copy of the image (for `detect --draw`).

use image::{Rgb, RgbImage};
use realface::{Face, Point};

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn rect(img: &mut RgbImage, x0: f32, y0: f32, x1: f32, y1: f32, thick: i64, c: Rgb<u8>) {
    let (x0, y0, x1, y1) = (x0 as i64, y0 as i64, x1 as i64, y1 as i64);
    for t in 0..thick {
        for x in x0..=x1 {
            put(img, x, y0 + t, c);
            put(img, x, y1 - t, c);
        }
        for y in y0..=y1 {
            put(img, x0 + t, y, c);
            put(img, x1 - t, y, c);
        }
    }
}

fn dot(img: &mut RgbImage, p: Point, r: i64, c: Rgb<u8>) {
    for dy in -r..=r {
        for dx in -r..=r {
            put(img, p.x as i64 + dx, p.y as i64 + dy, c);
        }
    }
}

/// Boxes in green, keypoints coloured by index (right eye red, left eye blue).
pub fn faces(img: &RgbImage, faces: &[Face]) -> RgbImage {
    let mut out = img.clone();
    let thick = (img.width().max(img.height()) / 300).max(1) as i64;
    let colours = [
        Rgb([255, 0, 0]),
        Rgb([0, 80, 255]),
        Rgb([255, 255, 0]),
        Rgb([255, 0, 255]),
        Rgb([0, 255, 255]),
        Rgb([255, 128, 0]),
    ];
    for f in faces {
        let b = f.bbox;
        rect(
            &mut out,
            b.x,
            b.y,
            b.x + b.w,
            b.y + b.h,
            thick,
            Rgb([0, 255, 0]),
        );
        for (k, p) in f.keypoints.iter().enumerate() {
            dot(&mut out, *p, thick + 1, colours[k % colours.len()]);
        }
    }
    out
}
