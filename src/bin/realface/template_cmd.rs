//! `realface eval template`: session templates on the shared clips.

use std::path::Path;

use indicatif::ProgressBar;
use realface::eval::clips::read_video_clips;
use realface::eval::template::{clip_probes, embed_clip, probe_figures, ClipProbes};
use realface::{Error, Result, SessionOptions};
use serde_json::json;

use crate::eval_cmd::{data_args, DataOpts, SplitArg};
use crate::eval_cmd::{embed_dataset, DataArgs, Purpose};
use crate::{Cli, CmdResult};
use std::path::PathBuf;

pub fn eval_template(args: &DataArgs, clips_dir: &Path, out: &Path, window_ms: u64) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::Io {
        path: out.into(),
        source: e,
    })?;
    let options = SessionOptions::default();
    let photos = embed_dataset(args, false, Purpose::Evaluate)?;
    let engine = &photos.engine;
    let impostors: Vec<_> = photos
        .outcomes
        .iter()
        .filter_map(|o| o.embedding.clone())
        .collect();
    let clips = read_video_clips(clips_dir)?;
    let bar = ProgressBar::new(clips.len() as u64);
    let mut probes: Vec<ClipProbes> = Vec::new();
    let mut skipped = Vec::new();
    for clip in &clips {
        bar.set_message(clip.name.clone());
        let (frames, duration) = embed_clip(engine, &clip.video, options.embed_every)?;
        match clip_probes(
            &clip.name,
            &frames,
            duration,
            window_ms,
            options.template_frames,
        )? {
            Some(p) => probes.push(p),
            None => skipped.push(clip.name.clone()),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let point = engine.calibration().threshold_for(options.far)?;
    let single = probe_figures(&probes, &impostors, point.threshold, |w| &w.single)?;
    let template = probe_figures(&probes, &impostors, point.threshold, |w| &w.template)?;
    let report = json!({
        "matcher": engine.config().matcher.name(),
        "threshold": point.threshold,
        "far_target": point.far,
        "window_ms": window_ms,
        "embed_every": options.embed_every,
        "template_frames": options.template_frames,
        "template_rule": "quality-weighted mean of the best frame and the best embedded frames",
        "clips": probes.len(),
        "skipped_clips": skipped,
        "windows": probes.iter().map(|c| c.windows.len()).sum::<usize>(),
        "impostor_photos": impostors.len(),
        "best_frame": single,
        "template": template,
    });
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::invalid("report", e.to_string()))?;
    let path = out.join("report.json");
    std::fs::write(&path, text.clone() + "\n").map_err(|e| Error::Io { path, source: e })?;
    println!("{text}");
    Ok(())
}

/// Session templates on the shared clips: similarity to the clip's own
/// reference and to other people's photos, best frame alone vs template.
#[derive(clap::Args)]
pub struct EvalTemplateCmd {
    /// Folder of clip folders (labels.json + source.<ext> video).
    #[arg(long)]
    pub clips: PathBuf,
    #[command(flatten)]
    pub data: DataOpts,
    /// Output folder (report.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Length of a window (one live session's face frames), ms.
    #[arg(long, default_value_t = 2000)]
    pub window_ms: u64,
}

impl EvalTemplateCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self {
            clips,
            data,
            out,
            window_ms,
        } = self;

        let args = data_args(cli, data, SplitArg::Report);
        eval_template(&args, clips, out, *window_ms).map_err(|e| ("eval template".to_string(), e))
    }
}
