//! Raw camera frames: turns a pixel buffer (RGB, RGBA, BGRA or grey, with a
//! row stride) into the RGB image the pipeline takes, after checking every
//! size against the buffer and the limits. This is what the C ABI and camera
//! sources feed; a malformed buffer is a typed error, never a read out of bounds.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::imaging::image_io::check_dimensions;
use crate::imaging::limits::Limits;

/// Pixel layout of a raw frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u32)]
pub enum PixelFormat {
    /// 3 bytes per pixel: R, G, B.
    Rgb = 0,
    /// 4 bytes per pixel: R, G, B, A.
    Rgba = 1,
    /// 4 bytes per pixel: B, G, R, A (common camera and GPU layout).
    Bgra = 2,
    /// 1 byte per pixel: grey.
    Gray = 3,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Rgb => 3,
            Self::Rgba | Self::Bgra => 4,
            Self::Gray => 1,
        }
    }

    /// From the C ABI's number.
    pub fn from_u32(v: u32) -> Result<Self> {
        match v {
            0 => Ok(Self::Rgb),
            1 => Ok(Self::Rgba),
            2 => Ok(Self::Bgra),
            3 => Ok(Self::Gray),
            other => Err(Error::invalid(
                "format",
                format!("{other} (valid: 0 RGB, 1 RGBA, 2 BGRA, 3 grey)"),
            )),
        }
    }
}

/// Copies a raw frame into an RGB image. `stride` is the number of bytes
/// from one row to the next (at least `width * bytes_per_pixel`).
pub fn frame_from_buffer(
    data: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
    limits: &Limits,
) -> Result<RgbImage> {
    check_dimensions(width, height, limits)?;
    let bpp = format.bytes_per_pixel();
    let row = (width as usize)
        .checked_mul(bpp)
        .ok_or_else(|| Error::invalid("width", "row size overflows"))?;
    if stride < row {
        return Err(Error::invalid(
            "stride",
            format!("{stride} is less than width x {bpp} = {row}"),
        ));
    }
    let needed = stride
        .checked_mul(height as usize - 1)
        .and_then(|v| v.checked_add(row))
        .ok_or_else(|| Error::invalid("stride", "buffer size overflows"))?;
    if data.len() < needed {
        return Err(Error::invalid(
            "buffer",
            format!("{} bytes, {needed} needed", data.len()),
        ));
    }
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height as usize {
        let line = &data[y * stride..y * stride + row];
        match format {
            PixelFormat::Rgb => out.extend_from_slice(line),
            PixelFormat::Rgba => line
                .chunks_exact(4)
                .for_each(|p| out.extend_from_slice(&p[..3])),
            PixelFormat::Bgra => line
                .chunks_exact(4)
                .for_each(|p| out.extend_from_slice(&[p[2], p[1], p[0]])),
            PixelFormat::Gray => line.iter().for_each(|&g| out.extend_from_slice(&[g, g, g])),
        }
    }
    RgbImage::from_raw(width, height, out).ok_or_else(|| Error::invalid("buffer", "size mismatch"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn converts_layouts_with_padding() {
        // 2x2 BGRA with 4 bytes of row padding
        let data = [
            1, 2, 3, 255, 4, 5, 6, 255, 0, 0, 0, 0, //
            7, 8, 9, 255, 10, 11, 12, 255, 0, 0, 0, 0,
        ];
        let img =
            frame_from_buffer(&data, 2, 2, 12, PixelFormat::Bgra, &Limits::default()).expect("ok");
        assert_eq!(img.get_pixel(0, 0).0, [3, 2, 1]);
        assert_eq!(img.get_pixel(1, 1).0, [12, 11, 10]);
        let grey = frame_from_buffer(
            &[9, 8, 7, 6],
            2,
            2,
            2,
            PixelFormat::Gray,
            &Limits::default(),
        )
        .expect("ok");
        assert_eq!(grey.get_pixel(1, 1).0, [6, 6, 6]);
    }

    #[test]
    fn refuses_bad_sizes() {
        let l = Limits::default();
        let code = |r: Result<RgbImage>| r.expect_err("bad").code();
        assert_eq!(
            code(frame_from_buffer(&[], 0, 5, 0, PixelFormat::Rgb, &l)),
            ErrorCode::EmptyImage
        );
        assert_eq!(
            code(frame_from_buffer(&[0; 12], 2, 2, 5, PixelFormat::Rgb, &l)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(frame_from_buffer(&[0; 11], 2, 2, 6, PixelFormat::Rgb, &l)),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(frame_from_buffer(
                &[0; 12],
                100_000,
                2,
                6,
                PixelFormat::Rgb,
                &l
            )),
            ErrorCode::LimitExceeded
        );
        assert_eq!(
            code(frame_from_buffer(
                &[0; 12],
                2,
                2,
                usize::MAX,
                PixelFormat::Rgb,
                &l
            )),
            ErrorCode::InvalidArgument
        );
        assert!(PixelFormat::from_u32(9).is_err());
    }
}
