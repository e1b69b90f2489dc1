//! The camera's frames as apps get them (CameraX `ImageProxy` planes, NV21,
//! iOS NV12 and BGRA, RGBA bitmaps, encoded photos), converted once, in
//! Rust, to the upright RGB image the library analyses.

use realface::imaging::frame::{frame_from_buffer, PixelFormat};
use realface::imaging::yuv::{orient, Plane as YuvPlane, Rotation, Yuv420, YuvMatrix, YuvRange};
use realface::{FaceEngine, Limits, RgbImage};

use crate::error::Result;

/// The YUV matrix and range of a camera's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum YuvColour {
    /// BT.601, full range: CameraX analysis frames, iOS `…FullRange`.
    Bt601Full,
    /// BT.601, limited (video) range: most video files.
    Bt601Limited,
    /// BT.709, full range.
    Bt709Full,
    /// BT.709, limited range: iOS `…VideoRange` at HD sizes.
    Bt709Limited,
}

/// One plane of a planar YUV frame: CameraX `ImageProxy.PlaneProxy` as it
/// comes (its buffer's bytes, `rowStride`, `pixelStride`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Plane {
    /// The plane's bytes from its first sample.
    pub data: Vec<u8>,
    /// Bytes from one row to the next.
    pub row_stride: u32,
    /// Bytes from one sample to the next in a row (1 planar, 2 interleaved).
    pub pixel_stride: u32,
}

/// The pixels of a frame, in the camera's own layout. Every length and
/// stride is checked before a byte is read: a short plane or a zero stride
/// is an error, never a crash.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Pixels {
    /// An encoded photo (JPEG, PNG, WebP, ...).
    Encoded {
        /// The file's bytes.
        bytes: Vec<u8>,
    },
    /// R, G, B bytes.
    Rgb8 {
        /// The pixels, `row_stride` bytes per row.
        data: Vec<u8>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes from one row to the next (>= 3 x width).
        row_stride: u32,
    },
    /// R, G, B, A bytes (an Android `Bitmap` in `ARGB_8888` copied out).
    Rgba8 {
        /// The pixels, `row_stride` bytes per row.
        data: Vec<u8>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes from one row to the next (>= 4 x width).
        row_stride: u32,
    },
    /// B, G, R, A bytes (iOS `kCVPixelFormatType_32BGRA`).
    Bgra8 {
        /// The pixels, `row_stride` bytes per row.
        data: Vec<u8>,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes from one row to the next (`CVPixelBufferGetBytesPerRow`).
        row_stride: u32,
    },
    /// NV12: a Y plane, then one plane of U, V pairs (iOS
    /// `kCVPixelFormatType_420YpCbCr8BiPlanar…`).
    Nv12 {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Luma.
        y: Vec<u8>,
        /// Luma bytes per row.
        y_row_stride: u32,
        /// Interleaved U, V.
        uv: Vec<u8>,
        /// Chroma bytes per row.
        uv_row_stride: u32,
        /// Matrix and range.
        colour: YuvColour,
    },
    /// NV21: a Y plane, then one plane of V, U pairs (Android's legacy
    /// camera, many decoders).
    Nv21 {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Luma.
        y: Vec<u8>,
        /// Luma bytes per row.
        y_row_stride: u32,
        /// Interleaved V, U.
        vu: Vec<u8>,
        /// Chroma bytes per row.
        vu_row_stride: u32,
        /// Matrix and range.
        colour: YuvColour,
    },
    /// YUV 4:2:0 as three planes with their own strides: CameraX / Camera2
    /// `YUV_420_888` (the U and V planes of most phones interleave: pixel
    /// stride 2).
    Yuv420 {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Luma.
        y: Plane,
        /// Cb.
        u: Plane,
        /// Cr.
        v: Plane,
        /// Matrix and range.
        colour: YuvColour,
    },
}

/// A camera frame: its pixels and how to turn them upright.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Frame {
    /// The pixels as captured.
    pub pixels: Pixels,
    /// Clockwise degrees that make the frame upright: 0, 90, 180 or 270
    /// (CameraX `imageInfo.rotationDegrees`).
    pub rotation: u32,
    /// Flip left to right after turning (a front camera's preview is
    /// mirrored; the analysis frames usually are not).
    pub mirror: bool,
}

fn colour(c: YuvColour) -> (YuvMatrix, YuvRange) {
    match c {
        YuvColour::Bt601Full => (YuvMatrix::Bt601, YuvRange::Full),
        YuvColour::Bt601Limited => (YuvMatrix::Bt601, YuvRange::Limited),
        YuvColour::Bt709Full => (YuvMatrix::Bt709, YuvRange::Full),
        YuvColour::Bt709Limited => (YuvMatrix::Bt709, YuvRange::Limited),
    }
}

fn plane(p: &Plane) -> YuvPlane<'_> {
    YuvPlane::new(&p.data, p.row_stride as usize, p.pixel_stride as usize)
}

impl Frame {
    /// The upright RGB image (size checked against `limits`).
    pub(crate) fn to_rgb(&self, engine: &FaceEngine, limits: &Limits) -> Result<RgbImage> {
        let rotation = Rotation::from_degrees(self.rotation)?;
        let packed =
            |data: &[u8], w: u32, h: u32, stride: u32, f: PixelFormat| -> Result<RgbImage> {
                let img = frame_from_buffer(data, w, h, stride as usize, f, limits)?;
                Ok(orient(img, rotation, self.mirror))
            };
        let yuv = |f: Yuv420<'_>, c: YuvColour| -> Result<RgbImage> {
            let (m, r) = colour(c);
            Ok(f.with_colour(m, r)
                .to_rgb_upright(limits, rotation, self.mirror)?)
        };
        match &self.pixels {
            Pixels::Encoded { bytes } => Ok(orient(engine.decode(bytes)?, rotation, self.mirror)),
            Pixels::Rgb8 {
                data,
                width,
                height,
                row_stride,
            } => packed(data, *width, *height, *row_stride, PixelFormat::Rgb),
            Pixels::Rgba8 {
                data,
                width,
                height,
                row_stride,
            } => packed(data, *width, *height, *row_stride, PixelFormat::Rgba),
            Pixels::Bgra8 {
                data,
                width,
                height,
                row_stride,
            } => packed(data, *width, *height, *row_stride, PixelFormat::Bgra),
            Pixels::Nv12 {
                width,
                height,
                y,
                y_row_stride,
                uv,
                uv_row_stride,
                colour,
            } => yuv(
                Yuv420::nv12(
                    *width,
                    *height,
                    y,
                    *y_row_stride as usize,
                    uv,
                    *uv_row_stride as usize,
                ),
                *colour,
            ),
            Pixels::Nv21 {
                width,
                height,
                y,
                y_row_stride,
                vu,
                vu_row_stride,
                colour,
            } => yuv(
                Yuv420::nv21(
                    *width,
                    *height,
                    y,
                    *y_row_stride as usize,
                    vu,
                    *vu_row_stride as usize,
                ),
                *colour,
            ),
            Pixels::Yuv420 {
                width,
                height,
                y,
                u,
                v,
                colour,
            } => yuv(
                Yuv420::planes(*width, *height, plane(y), plane(u), plane(v)),
                *colour,
            ),
        }
    }
}
