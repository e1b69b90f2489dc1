//! Decoding photos and frames into 8-bit RGB, within [`Limits`].
//!
//! JPEG, PNG, BMP, TIFF and WebP; grey, grey+alpha, RGBA and 16-bit inputs are
//! converted to RGB8 (alpha dropped); the EXIF orientation is applied so that
//! faces are upright as the camera saw them. The image dimensions are checked
//! from the header *before* any pixel is decoded, so a decompression bomb costs
//! nothing.

use std::io::Cursor;
use std::path::Path;

use image::{ImageDecoder, ImageReader, RgbImage};

use crate::error::{Error, Result};
use crate::imaging::limits::Limits;

/// Reads and decodes an image file.
pub fn load_image(path: &Path, limits: &Limits) -> Result<RgbImage> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Io {
        path: path.into(),
        source: e,
    })?;
    if meta.len() > limits.max_encoded_bytes {
        return Err(Error::LimitExceeded {
            what: "encoded image size (bytes)",
            value: meta.len(),
            limit: limits.max_encoded_bytes,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.into(),
        source: e,
    })?;
    decode_image(&bytes, limits)
}

fn decode_err(e: image::ImageError, needed_bytes: u64, limits: &Limits) -> Error {
    match e {
        image::ImageError::Limits(_) => Error::LimitExceeded {
            what: "decoded image size (bytes)",
            value: needed_bytes,
            limit: limits.max_decoded_bytes,
        },
        image::ImageError::Unsupported(u) => Error::Unsupported {
            what: u.to_string(),
        },
        other => Error::Decode {
            reason: other.to_string(),
            source: Some(Box::new(other)),
        },
    }
}

/// Checks frame/image dimensions against the limits.
pub fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::EmptyImage {
            what: format!("{width}x{height} pixels"),
        });
    }
    let side = u64::from(width.max(height));
    if side > u64::from(limits.max_dimension) {
        return Err(Error::LimitExceeded {
            what: "image width or height (pixels)",
            value: side,
            limit: u64::from(limits.max_dimension),
        });
    }
    let decoded = u64::from(width) * u64::from(height) * 4;
    if decoded > limits.max_decoded_bytes {
        return Err(Error::LimitExceeded {
            what: "decoded image size (bytes)",
            value: decoded,
            limit: limits.max_decoded_bytes,
        });
    }
    Ok(())
}

/// Decodes encoded image bytes (any supported format) into upright RGB8.
pub fn decode_image(bytes: &[u8], limits: &Limits) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(Error::EmptyImage {
            what: "no bytes".into(),
        });
    }
    if bytes.len() as u64 > limits.max_encoded_bytes {
        return Err(Error::LimitExceeded {
            what: "encoded image size (bytes)",
            value: bytes.len() as u64,
            limit: limits.max_encoded_bytes,
        });
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Decode {
            reason: e.to_string(),
            source: None,
        })?;
    if reader.format().is_none() {
        return Err(Error::Decode {
            reason: "unknown image format".into(),
            source: None,
        });
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| decode_err(e, 0, limits))?;
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h, limits)?;
    let needed = decoder.total_bytes();
    let decode_err = |e| decode_err(e, needed, limits);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_dimension);
    image_limits.max_image_height = Some(limits.max_dimension);
    image_limits.max_alloc = Some(limits.max_decoded_bytes);
    decoder.set_limits(image_limits).map_err(decode_err)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    img.apply_orientation(orientation);
    Ok(img.into_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode");
        out
    }

    #[test]
    fn empty_and_garbage_are_typed() {
        let l = Limits::default();
        assert_eq!(
            decode_image(&[], &l).unwrap_err().code(),
            ErrorCode::EmptyImage
        );
        assert_eq!(
            decode_image(b"hello world", &l).unwrap_err().code(),
            ErrorCode::Decode
        );
    }

    #[test]
    fn truncated_png_is_decode_error() {
        let bytes = png(64, 64);
        let err = decode_image(&bytes[..bytes.len() / 2], &Limits::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Decode);
    }

    #[test]
    fn oversized_header_rejected_before_decoding() {
        let l = Limits {
            max_dimension: 32,
            ..Limits::default()
        };
        let err = decode_image(&png(64, 16), &l).unwrap_err();
        assert_eq!(err.code(), ErrorCode::LimitExceeded);
    }

    #[test]
    fn grey_and_rgba_become_rgb() {
        let grey = image::GrayImage::from_pixel(5, 4, image::Luma([77]));
        let mut out = Vec::new();
        grey.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode");
        let rgb = decode_image(&out, &Limits::default()).expect("decodes");
        assert_eq!((rgb.width(), rgb.height()), (5, 4));
        assert_eq!(rgb.get_pixel(0, 0).0, [77, 77, 77]);
    }
}
