//! `realface demo-evidence`: a realface server's evidence upload made
//! without a camera, by the tests' puppet (`realface::eval::puppet`): real
//! frames of a shared clip arranged in time so that its recorded answers
//! start a reaction time after each prompt the server drew. It lets a
//! newcomer see a server SUCCESS without a camera. The bundle is marked
//! `"demo": true`, and a server judges a marked bundle only when it was
//! started with `--demo`. The mark is a label, not a defence: a device whose
//! software an attacker controls can do what this tool does
//! (docs/EVALUATION.md, what is not defended).

use std::path::Path;
use std::sync::Arc;

use crate::{config, Cli, CmdResult};
use realface::eval::clips::source_video;
use realface::eval::puppet::{answered_evidence, DemoClip, StartAnswer};
use realface::source::video::{read_video, VideoLimits};
use realface::{EngineConfig, Error, FaceEngine, Result};
use serde_json::Value;
use std::path::PathBuf;

/// What `demo-evidence` was given.
pub struct DemoArgs<'a> {
    /// The file holding `start`'s JSON answer.
    pub start: &'a Path,
    /// The shared clip's folder (`actions/<name>`, with `source.<ext>`).
    pub clip: &'a Path,
    /// Where to write the bundle (stdout when absent).
    pub out: Option<&'a Path>,
}

/// Builds the upload and writes it.
pub fn demo_evidence(args: &DemoArgs<'_>, config: EngineConfig) -> Result<()> {
    let name = args
        .clip
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let clip = DemoClip::named(name)?;
    let text = std::fs::read_to_string(args.start).map_err(|e| Error::Io {
        path: args.start.to_path_buf(),
        source: e,
    })?;
    let start: Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid("start", format!("not the start answer's JSON: {e}")))?;
    let start = StartAnswer::from_json(&start)?;
    let engine = Arc::new(FaceEngine::new(config)?);
    let frames = read_video(
        &source_video(args.clip)?,
        engine.config().limits,
        VideoLimits::default(),
    )?;
    let puppet = clip.puppet(&frames)?;
    let bundle = answered_evidence(engine, &start, &puppet)?;
    let mut v: Value =
        serde_json::from_slice(&bundle).map_err(|e| Error::invalid("evidence", e.to_string()))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("demo".into(), Value::Bool(true));
    }
    let bytes = v.to_string();
    match args.out {
        Some(path) => std::fs::write(path, bytes).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?,
        None => println!("{bytes}"),
    }
    eprintln!(
        "realface: demo-evidence: {} frames of {name} answering {:?} (a demo bundle: judged only by a server started with --demo)",
        v["frames"].as_array().map_or(0, Vec::len),
        clip.actions().iter().map(|a| a.name()).collect::<Vec<_>>()
    );
    Ok(())
}

/// A test tool: a realface server's evidence upload made without a
/// camera, by a person made of a shared clip's real frames answering
/// the prompts of `start`'s answer (apfol_real2: turns; lp_d9: a
/// blink). The bundle is marked demo: a server judges it only when
/// started with --demo.
#[derive(clap::Args)]
pub struct DemoEvidenceCmd {
    /// A file with the start call's JSON answer (its certifyId, nonce,
    /// expiry and sessionOptions).
    #[arg(long)]
    pub start: PathBuf,
    /// The clip's folder (../shared/data/actions/apfol_real2 or lp_d9).
    #[arg(long)]
    pub clip: PathBuf,
    /// Write the bundle here (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl DemoEvidenceCmd {
    /// Runs the command.
    pub fn run(&self, cli: &Cli) -> CmdResult {
        let Self { start, clip, out } = self;

        demo_evidence(
            &DemoArgs {
                start,
                clip,
                out: out.as_deref(),
            },
            config(cli),
        )
        .map_err(|e| ("demo-evidence".to_string(), e))
    }
}
