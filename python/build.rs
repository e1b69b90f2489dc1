//! Bundles every model of `../models/manifest.json` into the extension
//! (`include_bytes!`), so that the wheel carries its models and nothing is
//! read from the repository or downloaded at import time. The engine checks
//! each one's sha256 and shapes when it loads it, as it does for files.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let manifest = models.join("manifest.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh first)", manifest.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut out = String::from("/// Every model file, bundled: (file name, bytes).\npub static MODELS: &[(&str, &[u8])] = &[\n");
    for m in v["models"].as_array().into_iter().flatten() {
        let Some(file) = m["file"].as_str() else {
            continue;
        };
        let path = models.join(file);
        if !path.is_file() {
            panic!("{} is missing: run scripts/setup.sh first", path.display());
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({file:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("models.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
