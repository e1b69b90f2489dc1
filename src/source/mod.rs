//! Frame sources: where a live session's frames come from, behind one small
//! interface, [`FrameSource`]. Three kinds ship: a directory of frames
//! replayed at a given frame rate ([`DirSource`]), frames held in memory
//! ([`MemorySource`], for tests and for apps that capture themselves) and the
//! camera ([`open_camera`], feature `camera`, through nokhwa). A source
//! knows nothing of sessions: [`crate::session::drive::run`] feeds one into
//! a session (re-exported here as [`run`] for one release).

#[cfg(feature = "camera")]
mod camera;
#[cfg(feature = "video")]
pub mod video;

use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::error::{Error, Result};
use crate::imaging::limits::Limits;

/// A frame and when it was taken (milliseconds on the source's monotonic clock).
#[derive(Debug, Clone)]
pub struct TimedFrame {
    /// The pixels.
    pub image: RgbImage,
    /// Capture time in ms, strictly increasing within a source.
    pub t_ms: u64,
}

/// Something that yields frames.
///
/// `Ok(None)` is the end of the stream. An `Err` concerns one frame only (a
/// corrupt file, a dropped camera buffer): the next call moves on, so a
/// caller may report it and continue. A source that cannot go on at all
/// returns `Ok(None)` afterwards.
pub trait FrameSource {
    /// The next frame.
    fn next_frame(&mut self) -> Result<Option<TimedFrame>>;
    /// What this source is, for logs and UIs (`"camera 0: Integrated Webcam"`).
    fn describe(&self) -> String;
    /// The nominal frame rate, when the source knows it.
    fn fps(&self) -> Option<f64>;
}

fn check_fps(fps: f64) -> Result<f64> {
    if fps.is_finite() && fps > 0.0 && fps <= 1000.0 {
        Ok(fps)
    } else {
        Err(Error::invalid("fps", format!("{fps} is outside (0, 1000]")))
    }
}

fn timestamp(i: usize, fps: f64) -> u64 {
    (i as f64 * 1000.0 / fps).round() as u64
}

/// Sorted image files (`jpg`, `jpeg`, `png`, `bmp`) of a folder.
pub fn frame_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io {
            path: dir.into(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                matches!(
                    x.to_ascii_lowercase().as_str(),
                    "jpg" | "jpeg" | "png" | "bmp"
                )
            })
        })
        .collect();
    files.sort();
    Ok(files)
}

/// A directory of frame images, in file-name order, stamped at `fps`.
#[derive(Debug)]
pub struct DirSource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    fps: f64,
    limits: Limits,
}

impl DirSource {
    /// Lists the frames of `dir`; an empty or missing folder is an error.
    pub fn open(dir: &Path, fps: f64, limits: Limits) -> Result<Self> {
        let fps = check_fps(fps)?;
        let files = frame_files(dir)?;
        if files.is_empty() {
            return Err(Error::invalid(
                "frames",
                format!("no image files in {}", dir.display()),
            ));
        }
        Ok(Self {
            dir: dir.into(),
            files,
            next: 0,
            fps,
            limits,
        })
    }

    /// How many frames the folder holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the folder holds no frames (never true after [`DirSource::open`]).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FrameSource for DirSource {
    fn next_frame(&mut self) -> Result<Option<TimedFrame>> {
        let i = self.next;
        let Some(path) = self.files.get(i) else {
            return Ok(None);
        };
        self.next += 1;
        let image = crate::imaging::image_io::load_image(path, &self.limits)?;
        Ok(Some(TimedFrame {
            image,
            t_ms: timestamp(i, self.fps),
        }))
    }

    fn describe(&self) -> String {
        format!(
            "{} frames from {} at {} fps",
            self.files.len(),
            self.dir.display(),
            self.fps
        )
    }

    fn fps(&self) -> Option<f64> {
        Some(self.fps)
    }
}

/// Frames held in memory, stamped at `fps`.
#[derive(Debug, Clone)]
pub struct MemorySource {
    frames: std::vec::IntoIter<RgbImage>,
    index: usize,
    total: usize,
    fps: f64,
}

impl MemorySource {
    /// Frames to replay at `fps`.
    pub fn new(frames: Vec<RgbImage>, fps: f64) -> Result<Self> {
        let fps = check_fps(fps)?;
        Ok(Self {
            total: frames.len(),
            frames: frames.into_iter(),
            index: 0,
            fps,
        })
    }
}

impl FrameSource for MemorySource {
    fn next_frame(&mut self) -> Result<Option<TimedFrame>> {
        let Some(image) = self.frames.next() else {
            return Ok(None);
        };
        let t_ms = timestamp(self.index, self.fps);
        self.index += 1;
        Ok(Some(TimedFrame { image, t_ms }))
    }

    fn describe(&self) -> String {
        format!("{} frames in memory at {} fps", self.total, self.fps)
    }

    fn fps(&self) -> Option<f64> {
        Some(self.fps)
    }
}

/// Names of the cameras the system reports (empty without the `camera` feature).
pub fn list_cameras() -> Result<Vec<String>> {
    #[cfg(feature = "camera")]
    {
        camera::list()
    }
    #[cfg(not(feature = "camera"))]
    {
        Ok(Vec::new())
    }
}

/// Opens camera `index` (0 = the first). Without a camera, or without the
/// `camera` feature, this is [`Error::Camera`] naming what was found.
pub fn open_camera(index: u32) -> Result<Box<dyn FrameSource>> {
    #[cfg(feature = "camera")]
    {
        Ok(Box::new(camera::CameraSource::open(index)?))
    }
    #[cfg(not(feature = "camera"))]
    {
        Err(Error::Camera {
            reason: format!(
                "camera {index} cannot be opened: realface was built without the `camera` feature"
            ),
            found: Vec::new(),
        })
    }
}

// Moved to the session, which drives a source (issue #41): the old path
// stays for one release (a compat re-export is not an import of this
// module's code: scripts/import_graph.py does not count it).
pub use crate::session::drive::{run, FrameEvent, MAX_CONSECUTIVE_SOURCE_ERRORS}; // compat
