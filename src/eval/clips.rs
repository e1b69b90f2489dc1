//! The labelled action clips of `actions/<clip>/` (their original videos and
//! the events of `labels.json`), and who is who for cross-validation.

use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::liveness::actions::Action;
use crate::source::TimedFrame;

pub use crate::source::frame_files;

/// Frames at a fixed rate (folders of stills, synthetic attacks).
pub fn at_fps(frames: &[RgbImage], fps: f64) -> Vec<TimedFrame> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| TimedFrame {
            image: f.clone(),
            t_ms: (i as f64 * 1000.0 / fps).round() as u64,
        })
        .collect()
}

/// A labelled event on the video's clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimedEvent {
    /// Label vocabulary action (`blink`, `head_turn`, ...).
    pub action: String,
    /// Start (ms).
    pub start_ms: u64,
    /// End (ms).
    pub end_ms: u64,
    /// `image_left` / `image_right` for head turns.
    pub direction: Option<String>,
    /// Performed on purpose, as an answer would be (held, from rest):
    /// `deliberate: true` in labels.json.
    pub deliberate: bool,
    /// Marked `"confidence": "low"` in labels.json (doubtful).
    pub doubtful: bool,
}

/// Whether a label event shows an action (turn directions are image sides:
/// nose toward the image's right = the user's left).
pub fn event_matches(action: Action, e: &TimedEvent) -> bool {
    match action {
        Action::Blink => matches!(e.action.as_str(), "blink" | "eyes_closed"),
        Action::MouthOpen => e.action == "mouth_open",
        Action::TurnLeft => {
            e.action == "head_turn" && e.direction.as_deref() == Some("image_right")
        }
        Action::TurnRight => {
            e.action == "head_turn" && e.direction.as_deref() == Some("image_left")
        }
        Action::Nod => e.action == "head_pitch_down",
    }
}

/// A labelled clip of `actions/<clip>/`: its original video and events.
#[derive(Debug, Clone)]
pub struct VideoClip {
    /// Clip name.
    pub name: String,
    /// Cross-validation group (the person).
    pub group: String,
    /// The original video (`source.<ext>`).
    pub video: PathBuf,
    /// Labelled events on the video's clock.
    pub events: Vec<TimedEvent>,
}

impl VideoClip {
    /// Whether the clip shows actions performed on purpose (any event
    /// labelled `deliberate`): footage of the person doing what a challenge
    /// asks, the material of a deliberate-recording attack.
    pub fn is_deliberate(&self) -> bool {
        self.events.iter().any(|e| e.deliberate)
    }
}

/// The person a clip or sample belongs to: each clip is a person, except
/// that `apfol_real2`, its replay `fake2.webm` and the `apfol:*` spoof
/// samples share one (same person, same room).
pub fn group_of(name: &str) -> String {
    if name.starts_with("apfol") {
        "apfol".into()
    } else {
        name.to_string()
    }
}

/// The events of a labels.json; an action of `whole_clip` becomes one event
/// over the whole video (a clip that is talking throughout is never quiet).
fn read_events(labels: &Path) -> Result<Vec<TimedEvent>> {
    let text = std::fs::read_to_string(labels).map_err(|e| Error::Io {
        path: labels.into(),
        source: e,
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid("labels", format!("{}: {e}", labels.display())))?;
    let ms = |x: &serde_json::Value| x.as_f64().map(|s| (s * 1000.0).round().max(0.0) as u64);
    let mut events: Vec<TimedEvent> = v["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    Some(TimedEvent {
                        action: e["action"].as_str()?.to_string(),
                        start_ms: ms(&e["start_s"])?,
                        end_ms: ms(&e["end_s"])?,
                        direction: e["direction"].as_str().map(str::to_string),
                        deliberate: e["deliberate"].as_bool() == Some(true),
                        doubtful: e["confidence"].as_str() == Some("low"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let duration = ms(&v["video"]["duration_s"]).unwrap_or(u64::MAX / 2);
    if let Some(whole) = v["whole_clip"].as_array() {
        events.extend(whole.iter().filter_map(|a| {
            Some(TimedEvent {
                action: a.as_str()?.to_string(),
                start_ms: 0,
                end_ms: duration,
                direction: None,
                deliberate: false,
                doubtful: false,
            })
        }));
    }
    Ok(events)
}

/// The original video of a clip folder: its `source.<ext>` file.
pub fn source_video(folder: &Path) -> Result<PathBuf> {
    let video = std::fs::read_dir(folder)
        .map_err(|e| Error::Io {
            path: folder.into(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|f| f.file_stem().is_some_and(|s| s == "source"));
    video.ok_or_else(|| {
        Error::invalid(
            "clips",
            format!("{} has no source.<ext> video", folder.display()),
        )
    })
}

/// Every clip folder under `dir` with a labels.json and a `source.*` video.
pub fn read_video_clips(dir: &Path) -> Result<Vec<VideoClip>> {
    let io = |e: std::io::Error| Error::Io {
        path: dir.into(),
        source: e,
    };
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("labels.json").is_file())
        .collect();
    folders.sort();
    let mut clips = Vec::new();
    for p in folders {
        let events = read_events(&p.join("labels.json"))?;
        let video = source_video(&p)?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        clips.push(VideoClip {
            group: group_of(&name),
            name,
            video,
            events,
        });
    }
    Ok(clips)
}
