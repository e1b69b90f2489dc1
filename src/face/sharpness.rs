//! Image detail: the log variance of the Laplacian of a grey face crop. The
//! quality score uses it (blur), and so does liveness (a blink closes the
//! eyes of a sharp face; motion blur makes open eyes look closed to the eye
//! model and drops it; recaptured prints and screens lose fine texture).

use image::RgbImage;

use crate::face::align::ALIGNED_SIZE;

fn grey(img: &RgbImage) -> Vec<f32> {
    img.pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

/// ln(1 + variance of the 4-neighbour Laplacian) over the inner face region.
pub fn laplacian_log_variance(face: &RgbImage) -> f32 {
    let (w, h) = (face.width() as usize, face.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let g = grey(face);
    let m = (ALIGNED_SIZE as usize / 8).min(w.min(h) / 4).max(1);
    let mut vals = Vec::with_capacity(w * h);
    for y in m.max(1)..h - m.max(1) {
        for x in m.max(1)..w - m.max(1) {
            let c = g[y * w + x];
            let lap = g[y * w + x - 1] + g[y * w + x + 1] + g[(y - 1) * w + x] + g[(y + 1) * w + x]
                - 4.0 * c;
            vals.push(lap);
        }
    }
    let n = vals.len().max(1) as f32;
    let mean = vals.iter().sum::<f32>() / n;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    var.ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_shape_gives_a_finite_value_without_panicking() {
        for (w, h) in [
            (0, 0),
            (1, 1),
            (2, 9),
            (100, 5),
            (5, 100),
            (112, 112),
            (300, 7),
        ] {
            let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 31 + y * 17) as u8, 0, 0]));
            assert!(laplacian_log_variance(&img).is_finite(), "{w}x{h}");
        }
    }
}
