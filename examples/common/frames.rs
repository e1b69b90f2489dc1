//! The engine and the frames an example measures, from its command line: a
//! folder of frames, or `n` frames of a synthetic attack made from one
//! photo (`--attack PHOTO KIND`).

use realface::eval::attacks::{synthesize, AttackKind};
use realface::eval::clips::frame_files;
use realface::{EngineConfig, Error, FaceEngine, RgbImage};

/// The default engine and the frames of `DIR` or `--attack PHOTO KIND`;
/// `usage` is the example's own.
pub fn engine_and_frames(n: usize, usage: &str) -> realface::Result<(FaceEngine, Vec<RgbImage>)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = FaceEngine::new(EngineConfig::default())?;
    let frames = match args.as_slice() {
        [flag, photo, kind] if flag == "--attack" => {
            let kind = AttackKind::ALL
                .into_iter()
                .find(|k| k.name() == kind)
                .ok_or(Error::invalid("kind", "unknown attack kind"))?;
            synthesize(&engine.load(photo)?, kind, n, 1)
        }
        [dir] => frame_files(dir.as_ref())?
            .iter()
            .map(|f| engine.load(f))
            .collect::<realface::Result<_>>()?,
        _ => return Err(Error::invalid("args", usage.to_string())),
    };
    Ok((engine, frames))
}
