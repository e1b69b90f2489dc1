//! Camera YUV 4:2:0 frames as phones deliver them, turned into the RGB the
//! pipeline takes, then rotated upright and mirrored:
//!
//! - Android CameraX / Camera2 `YUV_420_888`: three planes, each with its
//!   own row stride and pixel stride (the U and V planes of most phones
//!   interleave, pixel stride 2) — [`Yuv420::planes`];
//! - NV12 (iOS `kCVPixelFormatType_420YpCbCr8BiPlanar*`: Y, then U and V
//!   interleaved) — [`Yuv420::nv12`];
//! - NV21 (Android's legacy camera: Y, then V and U interleaved) —
//!   [`Yuv420::nv21`].
//!
//! Every plane is checked against its buffer before a byte is read (a short
//! plane, a zero or too-small stride is INVALID_ARGUMENT), and the size
//! against the [`Limits`]. The colour matrix (BT.601 or BT.709) and range
//! (full or limited/"video") are the camera's to say; chroma is taken from
//! the 2x2 block's sample (no interpolation), in 14-bit fixed point.
//! `tests/yuv_reference.rs` checks the result against FFmpeg's conversion
//! of the same planes made from real frames.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::imaging::image_io::check_dimensions;
use crate::imaging::limits::Limits;

/// One plane of a camera frame, as the camera hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    /// The plane's bytes (from its first sample).
    pub data: &'a [u8],
    /// Bytes from one row to the next.
    pub row_stride: usize,
    /// Bytes from one sample to the next within a row (1 planar, 2
    /// interleaved).
    pub pixel_stride: usize,
}

impl<'a> Plane<'a> {
    /// A plane of `data` with these strides.
    pub fn new(data: &'a [u8], row_stride: usize, pixel_stride: usize) -> Self {
        Self {
            data,
            row_stride,
            pixel_stride,
        }
    }

    /// Checks that `cols` x `rows` samples fit in the buffer.
    fn check(&self, name: &'static str, cols: usize, rows: usize) -> Result<()> {
        if self.pixel_stride == 0 || self.row_stride == 0 {
            return Err(Error::invalid(name, "a stride of 0"));
        }
        let row = (cols - 1)
            .checked_mul(self.pixel_stride)
            .and_then(|v| v.checked_add(1))
            .ok_or_else(|| Error::invalid(name, "row size overflows"))?;
        if self.row_stride < row {
            return Err(Error::invalid(
                name,
                format!(
                    "row stride {} is less than a row ({row} bytes)",
                    self.row_stride
                ),
            ));
        }
        let needed = self
            .row_stride
            .checked_mul(rows - 1)
            .and_then(|v| v.checked_add(row))
            .ok_or_else(|| Error::invalid(name, "plane size overflows"))?;
        if self.data.len() < needed {
            return Err(Error::invalid(
                name,
                format!("{} bytes, {needed} needed", self.data.len()),
            ));
        }
        Ok(())
    }
}

/// The YUV to RGB matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YuvMatrix {
    /// ITU-R BT.601 (SD; JPEG; most phone camera analysis streams).
    #[default]
    Bt601,
    /// ITU-R BT.709 (HD video).
    Bt709,
}

/// The range of the YUV samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YuvRange {
    /// 0-255 (JPEG, iOS `…FullRange`, Android camera analysis).
    #[default]
    Full,
    /// Y 16-235, chroma 16-240 (iOS `…VideoRange`, video files).
    Limited,
}

/// A YUV 4:2:0 frame: a full-size Y plane and U and V planes of half width
/// and height (rounded up).
#[derive(Debug, Clone, Copy)]
pub struct Yuv420<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Luma.
    pub y: Plane<'a>,
    /// Cb.
    pub u: Plane<'a>,
    /// Cr.
    pub v: Plane<'a>,
    /// The matrix.
    pub matrix: YuvMatrix,
    /// The range.
    pub range: YuvRange,
}

impl<'a> Yuv420<'a> {
    /// Three planes as `YUV_420_888` gives them (BT.601, full range; set
    /// `matrix` and `range` if the camera says otherwise).
    pub fn planes(width: u32, height: u32, y: Plane<'a>, u: Plane<'a>, v: Plane<'a>) -> Self {
        Self {
            width,
            height,
            y,
            u,
            v,
            matrix: YuvMatrix::default(),
            range: YuvRange::default(),
        }
    }

    /// NV12: the Y plane, then one plane of U, V pairs.
    pub fn nv12(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_stride: usize,
        uv: &'a [u8],
        uv_stride: usize,
    ) -> Self {
        Self::planes(
            width,
            height,
            Plane::new(y, y_stride, 1),
            Plane::new(uv, uv_stride, 2),
            Plane::new(uv.get(1..).unwrap_or_default(), uv_stride, 2),
        )
    }

    /// NV21: the Y plane, then one plane of V, U pairs (NV12 with the
    /// chroma planes swapped).
    pub fn nv21(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_stride: usize,
        vu: &'a [u8],
        vu_stride: usize,
    ) -> Self {
        let f = Self::nv12(width, height, y, y_stride, vu, vu_stride);
        Self {
            u: f.v,
            v: f.u,
            ..f
        }
    }

    /// With this matrix and range.
    pub fn with_colour(mut self, matrix: YuvMatrix, range: YuvRange) -> Self {
        self.matrix = matrix;
        self.range = range;
        self
    }

    /// The RGB image, after checking every plane against its buffer and the
    /// size against `limits`.
    pub fn to_rgb(&self, limits: &Limits) -> Result<RgbImage> {
        self.to_rgb_upright(limits, Rotation::R0, false)
    }

    /// The RGB image turned clockwise by `rotation`, then mirrored left to
    /// right if `mirror`, in one pass (the same pixels as [`orient`] of
    /// [`Self::to_rgb`], without the second copy).
    pub fn to_rgb_upright(
        &self,
        limits: &Limits,
        rotation: Rotation,
        mirror: bool,
    ) -> Result<RgbImage> {
        check_dimensions(self.width, self.height, limits)?;
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        self.y.check("y plane", w, h)?;
        self.u.check("u plane", cw, ch)?;
        self.v.check("v plane", cw, ch)?;
        let k = Coefficients::of(self.matrix, self.range);
        let (ow, oh) = match rotation {
            Rotation::R0 | Rotation::R180 => (w, h),
            Rotation::R90 | Rotation::R270 => (h, w),
        };
        // where pixel (col, row) lands, as an index into the output
        let dest = |col: usize, row: usize| -> isize {
            let (ox, oy) = match rotation {
                Rotation::R0 => (col, row),
                Rotation::R90 => (h - 1 - row, col),
                Rotation::R180 => (w - 1 - col, h - 1 - row),
                Rotation::R270 => (row, w - 1 - col),
            };
            let ox = if mirror { ow - 1 - ox } else { ox };
            (oy * ow + ox) as isize
        };
        let mut out = vec![0u8; w * h * 3];
        for row in 0..h {
            // the output index moves by a fixed step along a source row
            let base = dest(0, row);
            let step = if w > 1 { dest(1, row) - base } else { 1 };
            self.convert_row(&k, row, |col, rgb| {
                let i = (base + step * col as isize) as usize * 3;
                out[i..i + 3].copy_from_slice(&rgb);
            });
        }
        RgbImage::from_raw(ow as u32, oh as u32, out)
            .ok_or_else(|| Error::invalid("frame", "size mismatch"))
    }

    /// Converts source row `row` (planes already checked), handing each
    /// pixel's column and RGB to `put`; the chroma terms once per pair.
    #[inline(always)]
    fn convert_row(&self, k: &Coefficients, row: usize, mut put: impl FnMut(usize, [u8; 3])) {
        let w = self.width as usize;
        let (ys, us, vs) = (
            self.y.pixel_stride,
            self.u.pixel_stride,
            self.v.pixel_stride,
        );
        let yrow = &self.y.data[row * self.y.row_stride..];
        let urow = &self.u.data[(row / 2) * self.u.row_stride..];
        let vrow = &self.v.data[(row / 2) * self.v.row_stride..];
        for c in 0..w.div_ceil(2) {
            let (r, g, b) = k.chroma(urow[c * us], vrow[c * vs]);
            for col in 2 * c..(2 * c + 2).min(w) {
                let y = k.luma(yrow[col * ys]);
                put(col, [clamp(y + r), clamp(y - g), clamp(y + b)]);
            }
        }
    }
}

/// Fixed-point (14-bit) conversion coefficients.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    /// Luma offset and scale.
    y_off: i32,
    y_mul: i32,
    r_v: i32,
    g_u: i32,
    g_v: i32,
    b_u: i32,
}

const SHIFT: u32 = 14;
const ONE: f64 = (1 << SHIFT) as f64;

impl Coefficients {
    fn of(matrix: YuvMatrix, range: YuvRange) -> Self {
        let (kr, kb) = match matrix {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        };
        let kg = 1.0 - kr - kb;
        let (y_off, y_scale, c_scale) = match range {
            YuvRange::Full => (0, 1.0, 1.0),
            YuvRange::Limited => (16, 255.0 / 219.0, 255.0 / 224.0),
        };
        let fix = |v: f64| (v * ONE).round() as i32;
        Self {
            y_off,
            y_mul: fix(y_scale),
            r_v: fix(2.0 * (1.0 - kr) * c_scale),
            g_u: fix(2.0 * kb * (1.0 - kb) / kg * c_scale),
            g_v: fix(2.0 * kr * (1.0 - kr) / kg * c_scale),
            b_u: fix(2.0 * (1.0 - kb) * c_scale),
        }
    }

    /// Luma in fixed point, with the rounding half.
    #[inline(always)]
    fn luma(&self, y: u8) -> i32 {
        (i32::from(y) - self.y_off) * self.y_mul + (1 << (SHIFT - 1))
    }

    /// The chroma terms added to R, taken from G and added to B.
    #[inline(always)]
    fn chroma(&self, u: u8, v: u8) -> (i32, i32, i32) {
        let (u, v) = (i32::from(u) - 128, i32::from(v) - 128);
        (self.r_v * v, self.g_u * u + self.g_v * v, self.b_u * u)
    }

    #[cfg(test)]
    fn rgb(&self, y: u8, u: u8, v: u8) -> [u8; 3] {
        let y = self.luma(y);
        let (r, g, b) = self.chroma(u, v);
        [clamp(y + r), clamp(y - g), clamp(y + b)]
    }
}

#[inline(always)]
fn clamp(x: i32) -> u8 {
    (x >> SHIFT).clamp(0, 255) as u8
}

/// A clockwise rotation that makes a camera frame upright (CameraX's
/// `rotationDegrees`, the device orientation on iOS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rotation {
    /// As captured.
    #[default]
    R0,
    /// 90 degrees clockwise.
    R90,
    /// 180 degrees.
    R180,
    /// 270 degrees clockwise.
    R270,
}

impl Rotation {
    /// From degrees (0, 90, 180 or 270; anything else is INVALID_ARGUMENT).
    pub fn from_degrees(degrees: u32) -> Result<Self> {
        match degrees {
            0 => Ok(Self::R0),
            90 => Ok(Self::R90),
            180 => Ok(Self::R180),
            270 => Ok(Self::R270),
            other => Err(Error::invalid(
                "rotation",
                format!("{other} (valid: 0, 90, 180, 270)"),
            )),
        }
    }
}

/// `img` rotated clockwise by `rotation`, then mirrored left to right if
/// `mirror` (a front camera's preview).
pub fn orient(img: RgbImage, rotation: Rotation, mirror: bool) -> RgbImage {
    use image::imageops::{flip_horizontal, rotate180, rotate270, rotate90};
    let upright = match rotation {
        Rotation::R0 => img,
        Rotation::R90 => rotate90(&img),
        Rotation::R180 => rotate180(&img),
        Rotation::R270 => rotate270(&img),
    };
    if mirror {
        flip_horizontal(&upright)
    } else {
        upright
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    /// The textbook formula in floating point, nearest chroma.
    fn reference(y: u8, u: u8, v: u8, matrix: YuvMatrix, range: YuvRange) -> [f64; 3] {
        let (kr, kb) = match matrix {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        };
        let (y, cb, cr) = match range {
            YuvRange::Full => (f64::from(y), f64::from(u) - 128.0, f64::from(v) - 128.0),
            YuvRange::Limited => (
                (f64::from(y) - 16.0) * 255.0 / 219.0,
                (f64::from(u) - 128.0) * 255.0 / 224.0,
                (f64::from(v) - 128.0) * 255.0 / 224.0,
            ),
        };
        let r = y + 2.0 * (1.0 - kr) * cr;
        let b = y + 2.0 * (1.0 - kb) * cb;
        let g = (y - kr * r - kb * b) / (1.0 - kr - kb);
        [r, g, b].map(|c| c.clamp(0.0, 255.0))
    }

    #[test]
    fn fixed_point_is_within_one_level_of_the_formula_everywhere() {
        for matrix in [YuvMatrix::Bt601, YuvMatrix::Bt709] {
            for range in [YuvRange::Full, YuvRange::Limited] {
                let k = Coefficients::of(matrix, range);
                let mut worst = 0f64;
                for y in (0..=255u8).step_by(3) {
                    for u in (0..=255u8).step_by(5) {
                        for v in (0..=255u8).step_by(5) {
                            let got = k.rgb(y, u, v);
                            let want = reference(y, u, v, matrix, range);
                            for c in 0..3 {
                                worst = worst.max((f64::from(got[c]) - want[c]).abs());
                            }
                        }
                    }
                }
                assert!(worst <= 0.51, "{matrix:?} {range:?}: {worst}");
            }
        }
    }

    /// A 3x3 NV21 frame with padded rows; the same frame as NV12 and as
    /// three planes gives the same image.
    #[test]
    fn layouts_and_strides_agree() {
        let (w, h) = (3u32, 3u32);
        let ys: Vec<u8> = (0..9).map(|i| 40 + 20 * i).collect();
        // row stride 5 (2 bytes of padding)
        let mut y = vec![0u8; 5 * 3];
        for r in 0..3 {
            y[r * 5..r * 5 + 3].copy_from_slice(&ys[r * 3..r * 3 + 3]);
        }
        let (us, vs) = ([90u8, 100, 110, 120], [150u8, 160, 170, 180]);
        let mut vu = vec![0u8; 6 * 2];
        let mut uv = vec![0u8; 6 * 2];
        for i in 0..4 {
            let (r, c) = (i / 2, i % 2);
            vu[r * 6 + 2 * c] = vs[i];
            vu[r * 6 + 2 * c + 1] = us[i];
            uv[r * 6 + 2 * c] = us[i];
            uv[r * 6 + 2 * c + 1] = vs[i];
        }
        let l = Limits::default();
        let a = Yuv420::nv21(w, h, &y, 5, &vu, 6).to_rgb(&l).expect("nv21");
        let b = Yuv420::nv12(w, h, &y, 5, &uv, 6).to_rgb(&l).expect("nv12");
        let c = Yuv420::planes(
            w,
            h,
            Plane::new(&y, 5, 1),
            Plane::new(&us, 2, 1),
            Plane::new(&vs, 2, 1),
        )
        .to_rgb(&l)
        .expect("planar");
        assert_eq!(a, b);
        assert_eq!(a, c);
        // pixel (2, 2) takes chroma block (1, 1)
        let want = reference(ys[8], us[3], vs[3], YuvMatrix::Bt601, YuvRange::Full);
        for (got, want) in a.get_pixel(2, 2).0.iter().zip(want) {
            assert!((f64::from(*got) - want).abs() <= 0.51);
        }
    }

    #[test]
    fn bad_planes_are_typed_errors() {
        let l = Limits::default();
        let y = [0u8; 16];
        let uv = [0u8; 8];
        let code = |f: Yuv420<'_>| f.to_rgb(&l).expect_err("bad").code();
        // a short chroma plane, a zero stride, a stride shorter than a row
        assert_eq!(
            code(Yuv420::nv12(4, 4, &y, 4, &uv[..5], 4)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(Yuv420::nv12(4, 4, &y, 0, &uv, 4)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(Yuv420::nv12(4, 4, &y, 3, &uv, 4)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(Yuv420::planes(
                4,
                4,
                Plane::new(&y, 4, 1),
                Plane::new(&uv, 2, 0),
                Plane::new(&uv, 2, 1)
            )),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(Yuv420::nv12(0, 4, &y, 4, &uv, 4)),
            ErrorCode::EmptyImage
        );
        assert_eq!(
            code(Yuv420::nv12(100_000, 4, &y, 4, &uv, 4)),
            ErrorCode::LimitExceeded
        );
        assert!(Rotation::from_degrees(45).is_err());
    }

    #[test]
    fn the_one_pass_turn_equals_turning_afterwards() {
        let (w, h) = (5u32, 3u32);
        let y: Vec<u8> = (0..15).map(|i| 10 + 15 * i).collect();
        let u: Vec<u8> = (0..6).map(|i| 60 + 20 * i).collect();
        let v: Vec<u8> = (0..6).map(|i| 200 - 20 * i).collect();
        let f = Yuv420::planes(
            w,
            h,
            Plane::new(&y, 5, 1),
            Plane::new(&u, 3, 1),
            Plane::new(&v, 3, 1),
        );
        let l = Limits::default();
        let plain = f.to_rgb(&l).expect("rgb");
        for r in [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270] {
            for m in [false, true] {
                assert_eq!(
                    f.to_rgb_upright(&l, r, m).expect("upright"),
                    orient(plain.clone(), r, m),
                    "{r:?} mirror {m}"
                );
            }
        }
    }

    #[test]
    fn orientation_turns_clockwise_then_mirrors() {
        // 2x1: red, blue
        let img = RgbImage::from_raw(2, 1, vec![255, 0, 0, 0, 0, 255]).expect("img");
        let r = orient(img.clone(), Rotation::R90, false);
        assert_eq!((r.width(), r.height()), (1, 2));
        // clockwise: the left (red) pixel goes to the top
        assert_eq!(r.get_pixel(0, 0).0, [255, 0, 0]);
        let m = orient(img.clone(), Rotation::R0, true);
        assert_eq!(m.get_pixel(0, 0).0, [0, 0, 255]);
        let u = orient(img, Rotation::R180, false);
        assert_eq!(u.get_pixel(0, 0).0, [0, 0, 255]);
    }
}
