//! Labelled data sets: identity lists (`path,identity[,source,...]`), pair lists
//! (`a,b,same`) and PAD label lists (`path,label[,...]`), with paths relative to
//! a root folder, and the fixed identity split used for calibration vs report.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One image with its identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelledImage {
    /// Path relative to the data root.
    pub path: String,
    /// Identity label.
    pub identity: String,
    /// Source collection (pairs are only formed within one source), if given.
    pub source: Option<String>,
}

/// A labelled pair of image paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// First path.
    pub a: String,
    /// Second path.
    pub b: String,
    /// Same identity.
    pub same: bool,
}

/// Which identities a figure is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Every identity.
    All,
    /// Identities whose hash is even: thresholds are fitted here.
    Calibration,
    /// Identities whose hash is odd: figures are reported here.
    Report,
}

impl Split {
    /// The split of an identity: the low bit of the first byte of
    /// sha256(identity). Fixed, so calibration and report never share a person.
    pub fn of(identity: &str) -> Split {
        if Sha256::digest(identity.as_bytes())[0] & 1 == 0 {
            Split::Calibration
        } else {
            Split::Report
        }
    }

    /// Whether an identity belongs to this split.
    pub fn contains(self, identity: &str) -> bool {
        self == Split::All || Split::of(identity) == self
    }
}

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<csv::StringRecord>)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| csv_err(path, e))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_err(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| csv_err(path, e))?;
    Ok((header, rows))
}

fn csv_err(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io {
            path: path.into(),
            source: io,
        },
        other => Error::invalid("csv", format!("{}: {other:?}", path.display())),
    }
}

fn column(header: &[String], name: &'static str, path: &Path) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| Error::invalid("csv", format!("{} has no `{name}` column", path.display())))
}

/// Reads an identities file (`path,identity` plus an optional `source`).
pub fn read_identities(path: &Path) -> Result<Vec<LabelledImage>> {
    let (header, rows) = read_csv(path)?;
    let (p, id) = (
        column(&header, "path", path)?,
        column(&header, "identity", path)?,
    );
    let src = header.iter().position(|h| h == "source");
    Ok(rows
        .iter()
        .map(|r| LabelledImage {
            path: r[p].to_string(),
            identity: r[id].to_string(),
            source: src.map(|s| r[s].to_string()),
        })
        .collect())
}

/// Reads a pairs file (`a,b,same` with same = 1/0 or true/false).
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>> {
    let (header, rows) = read_csv(path)?;
    let (a, b, s) = (
        column(&header, "a", path)?,
        column(&header, "b", path)?,
        column(&header, "same", path)?,
    );
    rows.iter()
        .map(|r| {
            let same = match &r[s] {
                "1" | "true" | "True" => true,
                "0" | "false" | "False" => false,
                other => return Err(Error::invalid("csv", format!("same = `{other}`"))),
            };
            Ok(Pair {
                a: r[a].to_string(),
                b: r[b].to_string(),
                same,
            })
        })
        .collect()
}

/// One PAD sample: a path and its label (`live` or an attack species).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PadSample {
    /// Path relative to the root.
    pub path: String,
    /// `live` for bona fide presentations, else the attack species.
    pub label: String,
    /// Subject, if given.
    pub subject: Option<String>,
}

impl PadSample {
    /// Whether this is a bona fide (live) presentation.
    pub fn is_bona_fide(&self) -> bool {
        matches!(
            self.label.as_str(),
            "live" | "real" | "bona_fide" | "genuine"
        )
    }
}

/// Reads a PAD labels file (`path,label` plus optional `subject`).
pub fn read_pad_labels(path: &Path) -> Result<Vec<PadSample>> {
    let (header, rows) = read_csv(path)?;
    let (p, l) = (
        column(&header, "path", path)?,
        column(&header, "label", path)?,
    );
    let subj = header.iter().position(|h| h == "subject");
    Ok(rows
        .iter()
        .map(|r| PadSample {
            path: r[p].to_string(),
            label: r[l].to_string(),
            subject: subj.map(|s| r[s].to_string()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_deterministic_and_covers_both() {
        let ids: Vec<String> = (0..100).map(|i| format!("celeba:{i}")).collect();
        let cal = ids
            .iter()
            .filter(|i| Split::of(i) == Split::Calibration)
            .count();
        assert!(cal > 20 && cal < 80, "{cal}");
        for i in &ids {
            assert_eq!(Split::of(i), Split::of(i));
            assert!(Split::All.contains(i));
            assert_ne!(Split::Calibration.contains(i), Split::Report.contains(i));
        }
    }

    #[test]
    fn reads_identity_and_pair_files() {
        let dir = std::env::temp_dir().join(format!("realface-ds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let ids = dir.join("ids.csv");
        std::fs::write(&ids, "path,identity,source\na.jpg,x,s1\nb.jpg,y,s1\n").expect("write");
        let v = read_identities(&ids).expect("parses");
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].source.as_deref(), Some("s1"));
        let pairs = dir.join("pairs.csv");
        std::fs::write(&pairs, "a,b,same\na.jpg,b.jpg,0\n").expect("write");
        assert!(!read_pairs(&pairs).expect("parses")[0].same);
        std::fs::write(&pairs, "a,b,same\na.jpg,b.jpg,maybe\n").expect("write");
        assert!(read_pairs(&pairs).is_err());
        std::fs::write(&pairs, "x,y\n1,2\n").expect("write");
        assert!(read_pairs(&pairs).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
