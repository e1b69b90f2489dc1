//! Bilinear affine warps: every model input (letterboxed detector input,
//! rotated mesh crop, aligned 112x112 face) is one warp of the source image
//! straight into a normalised NHWC float tensor, with no intermediate copies.
//! Pixels outside the source are the border value (black). Pure code, no models.

use image::RgbImage;

use crate::imaging::geometry::{Affine, Point};

/// How 8-bit values become model inputs: `(v - mean) * scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalize {
    /// Subtracted from each 0..255 value.
    pub mean: f32,
    /// Multiplied after subtraction.
    pub scale: f32,
}

impl Normalize {
    /// 0..255 -> [0, 1].
    pub const UNIT: Normalize = Normalize {
        mean: 0.0,
        scale: 1.0 / 255.0,
    };
    /// 0..255 -> [-1, 1].
    pub const SIGNED: Normalize = Normalize {
        mean: 127.5,
        scale: 1.0 / 127.5,
    };
    /// MobileFaceNet / ArcFace: (v - 127.5) / 128.
    pub const ARCFACE: Normalize = Normalize {
        mean: 127.5,
        scale: 1.0 / 128.0,
    };

    /// A pixel outside the source (black), normalised.
    fn border(self) -> f32 {
        (0.0 - self.mean) * self.scale
    }
}

/// Samples the source at (x, y) (pixel centres at integer coordinates),
/// bilinearly; `None` outside the image. Neighbours outside the image count
/// as black. Hot path of every model input: the common case (all four
/// neighbours inside) reads the two source rows directly.
#[inline(always)]
pub(crate) fn sample(src: &RgbImage, x: f32, y: f32) -> Option<[f32; 3]> {
    let (w, h) = (src.width() as i64, src.height() as i64);
    if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
        return None;
    }
    // floor() for values above -1, without a libm call.
    let x0 = (x + 1.0) as i64 - 1;
    let y0 = (y + 1.0) as i64 - 1;
    let fx = x - x0 as f32;
    let fy = y - y0 as f32;
    let raw = src.as_raw();
    let stride = w as usize * 3;
    if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        let i = y0 as usize * stride + x0 as usize * 3;
        if let (Some(r0), Some(r1)) = (raw.get(i..i + 6), raw.get(i + stride..i + stride + 6)) {
            let mut out = [0.0; 3];
            for c in 0..3 {
                let (p00, p10) = (f32::from(r0[c]), f32::from(r0[c + 3]));
                let (p01, p11) = (f32::from(r1[c]), f32::from(r1[c + 3]));
                let top = p00 + (p10 - p00) * fx;
                let bottom = p01 + (p11 - p01) * fx;
                out[c] = top + (bottom - top) * fy;
            }
            return Some(out);
        }
    }
    let px = |xi: i64, yi: i64| -> [f32; 3] {
        if xi < 0 || yi < 0 || xi >= w || yi >= h {
            return [0.0; 3];
        }
        let i = yi as usize * stride + xi as usize * 3;
        match raw.get(i..i + 3) {
            Some(p) => [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])],
            None => [0.0; 3],
        }
    };
    let (p00, p10, p01, p11) = (
        px(x0, y0),
        px(x0 + 1, y0),
        px(x0, y0 + 1),
        px(x0 + 1, y0 + 1),
    );
    let mut out = [0.0; 3];
    for c in 0..3 {
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bottom = p01[c] + (p11[c] - p01[c]) * fx;
        out[c] = top + (bottom - top) * fy;
    }
    Some(out)
}

/// Fills `out` (`height * width * 3` floats, HWC) with the source warped by
/// `dst_to_src` (maps an output pixel to source coordinates), normalised.
/// With `mirror`, output columns are flipped (the mirror image of the crop).
pub fn warp_into(
    src: &RgbImage,
    dst_to_src: &Affine,
    width: usize,
    height: usize,
    norm: Normalize,
    mirror: bool,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), width * height * 3);
    let m = dst_to_src.0;
    if m[1] == 0.0 && m[3] == 0.0 && !mirror {
        axis_aligned(src, &m, width, norm, out);
    } else {
        general(src, &m, width, height, norm, mirror, out);
    }
}

/// [`warp_into`] for any map: positions per pixel.
fn general(
    src: &RgbImage,
    m: &[f32; 6],
    width: usize,
    height: usize,
    norm: Normalize,
    mirror: bool,
    out: &mut [f32],
) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    // Interior: both neighbours of x and of y inside the image.
    let (x_max, y_max) = (w as f32 - 1.0, h as f32 - 1.0);
    let raw = src.as_raw().as_slice();
    let stride = w * 3;
    let mut xs = vec![0f32; width];
    let mut ys = vec![0f32; width];
    for (v, row) in out.chunks_exact_mut(width * 3).take(height).enumerate() {
        let fv = v as f32;
        let (bx, by) = (m[1] * fv + m[2], m[4] * fv + m[5]);
        for (u, (x, y)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
            // Output pixel centre (u, v) in the same integer-centre convention.
            let uu = if mirror { width - 1 - u } else { u } as f32;
            *x = m[0] * uu + bx;
            *y = m[3] * uu + by;
        }
        for ((px, &x), &y) in row.chunks_exact_mut(3).zip(&xs).zip(&ys) {
            if x >= 0.0 && y >= 0.0 && x < x_max && y < y_max {
                let (xf, yf) = (fixed(x), fixed(y));
                let i = (yf >> WEIGHT_BITS) as usize * stride + (xf >> WEIGHT_BITS) as usize * 3;
                let (r0, r1) = (raw.get(i..i + 6), raw.get(i + stride..i + stride + 6));
                if let (Some(r0), Some(r1)) = (r0, r1) {
                    if blend_fixed(r0, r1, weight(xf), weight(yf), norm, px) {
                        continue;
                    }
                }
            }
            edge_pixel(src, x, y, norm, px);
        }
    }
}

/// [`warp_into`] for maps without rotation (letterbox, resize): the column
/// positions and weights are computed once per call, the row's once per row.
fn axis_aligned(src: &RgbImage, m: &[f32; 6], width: usize, norm: Normalize, out: &mut [f32]) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let raw = src.as_raw().as_slice();
    let stride = w * 3;
    let border = norm.border();
    // Per column: byte offset and weight when both neighbours are inside.
    let cols: Vec<Column> = (0..width)
        .map(|u| {
            let x = m[0] * u as f32 + m[2];
            if x >= 0.0 && x < w as f32 - 1.0 {
                let xf = fixed(x);
                Column::Inside((xf >> WEIGHT_BITS) as usize * 3, weight(xf))
            } else if x > -1.0 && x < w as f32 {
                Column::Edge
            } else {
                Column::Outside
            }
        })
        .collect();
    for (v, row) in out.chunks_exact_mut(width * 3).enumerate() {
        let y = m[4] * v as f32 + m[5];
        // `sample`'s test: no pixel of this row touches the image
        if !(y > -1.0 && y < h as f32) {
            row.fill(border);
            continue;
        }
        let rows = (y >= 0.0 && y < h as f32 - 1.0).then(|| {
            let yf = fixed(y);
            let start = (yf >> WEIGHT_BITS) as usize * stride;
            (
                raw.get(start..start + stride),
                raw.get(start + stride..start + 2 * stride),
                weight(yf),
            )
        });
        for ((u, px), col) in row.chunks_exact_mut(3).enumerate().zip(&cols) {
            match (rows, col) {
                (_, Column::Outside) => {
                    px.fill(border);
                    continue;
                }
                (Some((Some(r0), Some(r1), wy)), Column::Inside(i, wx)) => {
                    if let (Some(a), Some(b)) = (r0.get(*i..i + 6), r1.get(*i..i + 6)) {
                        if blend_fixed(a, b, *wx, wy, norm, px) {
                            continue;
                        }
                    }
                }
                _ => {}
            }
            edge_pixel(src, m[0] * u as f32 + m[2], y, norm, px);
        }
    }
}

/// Where an output column of an axis-aligned map falls in the source.
#[derive(Clone, Copy)]
enum Column {
    /// Both horizontal neighbours inside: byte offset in a row, x weight.
    Inside(usize, u32),
    /// Within a pixel of the edge: the float sample (outside neighbours black).
    Edge,
    /// No neighbour inside: the border value on every row.
    Outside,
}

const WEIGHT_BITS: u32 = 11;
const WEIGHT_ONE: u32 = 1 << WEIGHT_BITS;

/// A non-negative coordinate in fixed point (11 fractional bits).
#[inline(always)]
fn fixed(v: f32) -> u32 {
    (v * WEIGHT_ONE as f32) as u32
}

/// The fractional weight of a fixed-point coordinate.
#[inline(always)]
fn weight(f: u32) -> u32 {
    f & (WEIGHT_ONE - 1)
}

/// Interior pixels blend in fixed point (11-bit weights, as OpenCV's
/// bilinear resize does): one int->float conversion per channel instead of
/// four, within 0.25 grey levels of the float blend. `top` and `bottom` hold
/// the two neighbouring RGB pixels of each row; false if they are short.
#[inline(always)]
fn blend_fixed(
    top: &[u8],
    bottom: &[u8],
    wx: u32,
    wy: u32,
    norm: Normalize,
    px: &mut [f32],
) -> bool {
    let (Ok(r0), Ok(r1)) = (<&[u8; 6]>::try_from(top), <&[u8; 6]>::try_from(bottom)) else {
        return false;
    };
    let k = norm.scale / (WEIGHT_ONE * WEIGHT_ONE) as f32;
    let offset = norm.mean * norm.scale;
    let (ax, ay) = (WEIGHT_ONE - wx, WEIGHT_ONE - wy);
    for c in 0..3 {
        let t = u32::from(r0[c]) * ax + u32::from(r0[c + 3]) * wx;
        let b = u32::from(r1[c]) * ax + u32::from(r1[c + 3]) * wx;
        px[c] = (t * ay + b * wy) as f32 * k - offset;
    }
    true
}

/// A pixel at or past the image edge: the float bilinear sample (outside
/// neighbours black), or the border value outside the image.
fn edge_pixel(src: &RgbImage, x: f32, y: f32, norm: Normalize, px: &mut [f32]) {
    match sample(src, x, y) {
        Some(p) => {
            for c in 0..3 {
                px[c] = (p[c] - norm.mean) * norm.scale;
            }
        }
        None => px.fill(norm.border()),
    }
}

/// A `1 x size x size x 3` model input: the source warped by `dst_to_src`
/// (output pixel -> source coordinates), normalised.
pub fn input_tensor(
    src: &RgbImage,
    dst_to_src: &Affine,
    size: usize,
    norm: Normalize,
) -> ndarray::Array4<f32> {
    let mut buf = vec![0f32; size * size * 3];
    warp_into(src, dst_to_src, size, size, norm, false, &mut buf);
    ndarray::Array4::from_shape_vec((1, size, size, 3), buf)
        .unwrap_or_else(|_| ndarray::Array4::zeros((1, size, size, 3)))
}

thread_local! {
    static INPUT_BUFFER: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Like [`input_tensor`], but warps into a per-thread buffer that is reused
/// from call to call (no allocation or zeroing per frame) and lends it to `f`
/// as a `1 x size x size x 3` view. Re-entrant calls get a fresh buffer.
pub fn with_input_tensor<R>(
    src: &RgbImage,
    dst_to_src: &Affine,
    size: usize,
    norm: Normalize,
    f: impl FnOnce(ndarray::ArrayView4<'_, f32>) -> R,
) -> R {
    let n = size * size * 3;
    INPUT_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.resize(n, 0.0);
            warp_into(src, dst_to_src, size, size, norm, false, &mut buf[..n]);
            match ndarray::ArrayView4::from_shape((1, size, size, 3), &buf[..n]) {
                Ok(view) => f(view),
                Err(_) => f(input_tensor(src, dst_to_src, size, norm).view()),
            }
        }
        Err(_) => f(input_tensor(src, dst_to_src, size, norm).view()),
    })
}

/// Warps into a new RGB8 image (for aligned face crops and drawings).
pub fn warp_image(src: &RgbImage, dst_to_src: &Affine, width: u32, height: u32) -> RgbImage {
    let mut buf = vec![0f32; width as usize * height as usize * 3];
    warp_into(
        src,
        dst_to_src,
        width as usize,
        height as usize,
        Normalize {
            mean: 0.0,
            scale: 1.0,
        },
        false,
        &mut buf,
    );
    // Bilinear mixes of 0..255 values: non-negative, so +0.5 and the
    // saturating cast round half up exactly like `round()`, without libm.
    let bytes: Vec<u8> = buf.iter().map(|v| (v + 0.5) as u8).collect();
    RgbImage::from_raw(width, height, bytes).unwrap_or_else(|| RgbImage::new(width, height))
}

/// Letterbox geometry: the map from a `size x size` model input to the image
/// for an image of `w x h`, keeping the aspect ratio and centring (padding
/// equally on both sides of the shorter axis). Pixel-centre convention:
/// input pixel u maps to image x = (u + 0.5) * s - 0.5 - pad_x.
pub fn letterbox(w: u32, h: u32, size: u32) -> Affine {
    let (wf, hf, sf) = (w as f32, h as f32, size as f32);
    let s = wf.max(hf) / sf; // image pixels per input pixel
    let pad_x = (wf.max(hf) - wf) * 0.5;
    let pad_y = (wf.max(hf) - hf) * 0.5;
    Affine::scale_translate(s, s, 0.5 * s - 0.5 - pad_x, 0.5 * s - 0.5 - pad_y)
}

/// Maps a point given in normalised input coordinates (0..1 across the model
/// input, as BlazeFace and the mesh report them) to image pixels.
pub fn normalized_to_image(m: &Affine, size: u32, p: Point) -> Point {
    // Normalised 0..1 spans the input's outer edges: pixel-centre coordinate
    // u = p * size - 0.5.
    m.apply(Point::new(p.x * size as f32 - 0.5, p.y * size as f32 - 0.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 7]))
    }

    /// 97x61, every channel varying: no two neighbours alike.
    fn texture() -> RgbImage {
        RgbImage::from_fn(97, 61, |x, y| {
            image::Rgb([
                (x * 37 % 251) as u8,
                (y * 53 % 241) as u8,
                ((x * y) % 239) as u8,
            ])
        })
    }

    /// The fixed-point paths (rotated and axis-aligned) agree with the float
    /// bilinear sample within a quarter grey level, borders included.
    #[test]
    fn fixed_point_paths_match_float_bilinear() {
        let img = texture();
        let maps = [
            Affine::rotated_crop(Point::new(40.0, 30.0), 90.0, 0.3, 48.0),
            Affine::rotated_crop(Point::new(5.0, 55.0), 70.0, -2.0, 40.0),
            letterbox(97, 61, 32),
            Affine::scale_translate(0.7, 1.3, -3.0, 2.5),
        ];
        for (k, m) in maps.iter().enumerate() {
            for mirror in [false, true] {
                let n = 40;
                let mut out = vec![0f32; n * n * 3];
                warp_into(&img, m, n, n, Normalize::UNIT, mirror, &mut out);
                for v in 0..n {
                    for u in 0..n {
                        let uu = if mirror { n - 1 - u } else { u };
                        let p = m.apply(Point::new(uu as f32, v as f32));
                        let want = sample(&img, p.x, p.y).unwrap_or([0.0; 3]);
                        for c in 0..3 {
                            let got = out[(v * n + u) * 3 + c] * 255.0;
                            assert!(
                                (got - want[c]).abs() < 0.25,
                                "map {k} mirror {mirror} ({u},{v}) c{c}: {got} vs {}",
                                want[c]
                            );
                        }
                    }
                }
            }
        }
    }

    /// The axis-aligned path is the general one with the per-column and
    /// per-row work hoisted: the same floats bit for bit, including columns
    /// and rows at and past every edge (the border fast path).
    #[test]
    fn axis_aligned_path_equals_general_bit_for_bit() {
        let img = texture();
        let maps = [
            letterbox(97, 61, 32),
            letterbox(61, 97, 40),
            Affine::scale_translate(0.7, 1.3, -3.0, 2.5),
            Affine::scale_translate(2.9, 2.1, -20.0, -15.5),
            Affine::scale_translate(1.0, 1.0, 90.0, -0.5),
        ];
        for (k, map) in maps.iter().enumerate() {
            let (n, m) = (40, map.0);
            for norm in [Normalize::UNIT, Normalize::SIGNED] {
                let mut fast = vec![0f32; n * n * 3];
                let mut slow = vec![1f32; n * n * 3];
                axis_aligned(&img, &m, n, norm, &mut fast);
                general(&img, &m, n, n, norm, false, &mut slow);
                let same = fast
                    .iter()
                    .zip(&slow)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "map {k}");
            }
        }
    }

    #[test]
    fn identity_warp_reproduces_pixels() {
        let img = ramp(8, 6);
        let out = warp_image(&img, &Affine::IDENTITY, 8, 6);
        assert_eq!(out, img);
    }

    #[test]
    fn bilinear_midpoint_and_border() {
        let img = ramp(4, 4);
        let mut out = vec![0.0; 3];
        let m = Affine::scale_translate(1.0, 1.0, 0.5, 0.0);
        warp_into(
            &img,
            &m,
            1,
            1,
            Normalize {
                mean: 0.0,
                scale: 1.0,
            },
            false,
            &mut out,
        );
        assert!((out[0] - 5.0).abs() < 1e-4);
        let far = Affine::scale_translate(1.0, 1.0, 100.0, 100.0);
        warp_into(&img, &far, 1, 1, Normalize::SIGNED, false, &mut out);
        assert!(
            (out[0] + 1.0).abs() < 1e-6,
            "border is black = -1 after SIGNED"
        );
    }

    #[test]
    fn mirror_flips_columns() {
        let img = ramp(4, 1);
        let mut a = vec![0.0; 12];
        warp_into(
            &img,
            &Affine::IDENTITY,
            4,
            1,
            Normalize {
                mean: 0.0,
                scale: 1.0,
            },
            true,
            &mut a,
        );
        assert_eq!(a[0], 30.0);
        assert_eq!(a[9], 0.0);
    }

    #[test]
    fn letterbox_inverse_maps_corners() {
        // 200x100 image into 128: scale 200/128, vertical padding 50 px.
        let m = letterbox(200, 100, 128);
        let tl = normalized_to_image(&m, 128, Point::new(0.0, 0.25));
        assert!(
            (tl.x + 0.5).abs() < 1e-3 && (tl.y + 0.5).abs() < 1e-3,
            "{tl:?}"
        );
        let br = normalized_to_image(&m, 128, Point::new(1.0, 0.75));
        assert!(
            (br.x - 199.5).abs() < 1e-3 && (br.y - 99.5).abs() < 1e-3,
            "{br:?}"
        );
        let c = normalized_to_image(&m, 128, Point::new(0.5, 0.5));
        assert!((c.x - 99.5).abs() < 1e-3 && (c.y - 49.5).abs() < 1e-3);
    }
}
