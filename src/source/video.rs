//! Video files as a frame source (feature `video`): WebM, MP4, MPEG and
//! whatever else the system's FFmpeg libraries decode, at the video's own
//! frame rate with its real presentation timestamps (variable-rate webcam
//! recordings keep their timing).

use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg::util::frame::video::Video;
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::{FrameSource, TimedFrame};
use crate::error::{Error, Result};
use crate::imaging::limits::Limits;

fn decode_err(path: &Path) -> impl Fn(ffmpeg::Error) -> Error + '_ {
    move |e| Error::Decode {
        reason: format!("video {}: {e}", path.display()),
        source: None,
    }
}

/// Limits of one video, on top of the per-frame [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLimits {
    /// Most frames decoded; past it the source reports [`Error::LimitExceeded`].
    pub max_frames: usize,
    /// Longest stretch of video, in ms from the first frame.
    pub max_duration_ms: u64,
}

impl Default for VideoLimits {
    fn default() -> Self {
        Self {
            max_frames: 3_000,
            max_duration_ms: 120_000,
        }
    }
}

/// A video file decoded frame by frame.
pub struct VideoSource {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    decoder: ffmpeg::decoder::Video,
    stream: usize,
    time_base: f64,
    fps: Option<f64>,
    scaler: Option<(Scaler, Pixel, u32, u32)>,
    limits: Limits,
    video_limits: VideoLimits,
    first_pts: Option<i64>,
    last_ms: Option<u64>,
    decoded: usize,
    input_done: bool,
    finished: bool,
}

impl std::fmt::Debug for VideoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoSource")
            .field("path", &self.path)
            .field("fps", &self.fps)
            .field("decoded", &self.decoded)
            .finish()
    }
}

impl VideoSource {
    /// Opens a video file. A missing file is [`Error::Io`]; a file FFmpeg
    /// cannot read, or one without a video stream, is [`Error::Decode`].
    pub fn open(path: &Path, limits: Limits, video_limits: VideoLimits) -> Result<Self> {
        std::fs::metadata(path).map_err(|e| Error::Io {
            path: path.into(),
            source: e,
        })?;
        ffmpeg::init().map_err(decode_err(path))?;
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
        let input = ffmpeg::format::input(path).map_err(decode_err(path))?;
        let stream = input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .ok_or_else(|| Error::Decode {
                reason: format!("video {}: no video stream", path.display()),
                source: None,
            })?;
        let index = stream.index();
        let tb = stream.time_base();
        let time_base = if tb.denominator() != 0 {
            f64::from(tb.numerator()) / f64::from(tb.denominator())
        } else {
            0.0
        };
        let rate = stream.avg_frame_rate();
        let fps = (rate.denominator() != 0 && rate.numerator() > 0)
            .then(|| f64::from(rate.numerator()) / f64::from(rate.denominator()));
        let ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
            .map_err(decode_err(path))?;
        let decoder = ctx.decoder().video().map_err(decode_err(path))?;
        crate::imaging::image_io::check_dimensions(decoder.width(), decoder.height(), &limits)?;
        Ok(Self {
            path: path.into(),
            input,
            decoder,
            stream: index,
            time_base,
            fps,
            scaler: None,
            limits,
            video_limits,
            first_pts: None,
            last_ms: None,
            decoded: 0,
            input_done: false,
            finished: false,
        })
    }

    /// Frames decoded so far.
    pub fn decoded(&self) -> usize {
        self.decoded
    }

    /// Feeds the decoder the next packet of the video stream; false at the end.
    fn feed(&mut self) -> Result<bool> {
        if self.input_done {
            return Ok(false);
        }
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.stream {
                        continue;
                    }
                    // A corrupt packet is skipped; the decoder resynchronises.
                    let _ = self.decoder.send_packet(&packet);
                    return Ok(true);
                }
                Err(ffmpeg::Error::Eof) => {
                    self.input_done = true;
                    let _ = self.decoder.send_eof();
                    return Ok(false);
                }
                Err(e) => {
                    // A truncated or corrupt container: what was decoded stands.
                    self.input_done = true;
                    let _ = self.decoder.send_eof();
                    if self.decoded == 0 {
                        return Err(decode_err(&self.path)(e));
                    }
                    return Ok(false);
                }
            }
        }
    }

    fn convert_rgb(&mut self, frame: &Video) -> Result<RgbImage> {
        let (w, h, fmt) = (frame.width(), frame.height(), frame.format());
        crate::imaging::image_io::check_dimensions(w, h, &self.limits)?;
        let fresh =
            !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h);
        if fresh {
            let s = Scaler::get(fmt, w, h, Pixel::RGB24, w, h, Flags::BILINEAR)
                .map_err(decode_err(&self.path))?;
            self.scaler = Some((s, fmt, w, h));
        }
        let Some((scaler, ..)) = self.scaler.as_mut() else {
            return Err(Error::Unsupported {
                what: "video pixel format".into(),
            });
        };
        let mut rgb = Video::empty();
        scaler
            .run(frame, &mut rgb)
            .map_err(decode_err(&self.path))?;
        let stride = rgb.stride(0);
        let row = w as usize * 3;
        let data = rgb.data(0);
        let mut out = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            let start = y * stride;
            let line = data.get(start..start + row).ok_or_else(|| Error::Decode {
                reason: format!("video {}: short frame buffer", self.path.display()),
                source: None,
            })?;
            out.extend_from_slice(line);
        }
        RgbImage::from_raw(w, h, out).ok_or_else(|| Error::Decode {
            reason: format!("video {}: frame size mismatch", self.path.display()),
            source: None,
        })
    }

    fn stamp(&mut self, frame: &Video) -> u64 {
        let pts = frame.timestamp().or_else(|| frame.pts());
        let t = match (pts, self.time_base > 0.0) {
            (Some(p), true) => {
                let first = *self.first_pts.get_or_insert(p);
                ((p - first) as f64 * self.time_base * 1000.0)
                    .round()
                    .max(0.0) as u64
            }
            _ => {
                let fps = self.fps.unwrap_or(25.0);
                (self.decoded as f64 * 1000.0 / fps).round() as u64
            }
        };
        // Timestamps strictly increase even where a container repeats one.
        let t = match self.last_ms {
            Some(prev) if t <= prev => prev + 1,
            _ => t,
        };
        self.last_ms = Some(t);
        t
    }
}

impl FrameSource for VideoSource {
    fn next_frame(&mut self) -> Result<Option<TimedFrame>> {
        if self.finished {
            return Ok(None);
        }
        let mut frame = Video::empty();
        loop {
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => break,
                Err(ffmpeg::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(_) => {
                    // The decoder wants more input; after the end of the
                    // input it has nothing more to give.
                    if self.input_done {
                        self.finished = true;
                        return Ok(None);
                    }
                    self.feed()?;
                }
            }
        }
        self.decoded += 1;
        if self.decoded > self.video_limits.max_frames {
            self.finished = true;
            return Err(Error::LimitExceeded {
                what: "video frames",
                value: self.decoded as u64,
                limit: self.video_limits.max_frames as u64,
            });
        }
        let t_ms = self.stamp(&frame);
        if t_ms > self.video_limits.max_duration_ms {
            self.finished = true;
            return Err(Error::LimitExceeded {
                what: "video duration (ms)",
                value: t_ms,
                limit: self.video_limits.max_duration_ms,
            });
        }
        let image = self.convert_rgb(&frame)?;
        Ok(Some(TimedFrame { image, t_ms }))
    }

    fn describe(&self) -> String {
        match self.fps {
            Some(fps) => format!("video {} at {fps:.2} fps", self.path.display()),
            None => format!("video {}", self.path.display()),
        }
    }

    fn fps(&self) -> Option<f64> {
        self.fps
    }
}

/// Decodes a whole video into memory (for evaluation), at most `limits`.
pub fn read_video(
    path: &Path,
    limits: Limits,
    video_limits: VideoLimits,
) -> Result<Vec<TimedFrame>> {
    let mut src = VideoSource::open(path, limits, video_limits)?;
    let mut out = Vec::new();
    while let Some(f) = src.next_frame()? {
        out.push(f);
    }
    if out.is_empty() {
        return Err(Error::Decode {
            reason: format!("video {}: no frame could be decoded", path.display()),
            source: None,
        });
    }
    Ok(out)
}
