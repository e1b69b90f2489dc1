//! What the capture page runs in the browser besides its own script: ONNX
//! Runtime Web (npm `onnxruntime-web`, MIT; its WebAssembly build, unpacked
//! by `scripts/setup.sh` into `.runtime/web/`) and the face detector the
//! library runs first (`blazeface_short.onnx` from the model folder); and,
//! for device-mode prompts, the library's session compiled to WebAssembly
//! (`realface_web.wasm`, built by `scripts/build-web.sh` into the same
//! folder) with the two other models it needs in the page
//! (`face_mesh.onnx`, `fr_eye.onnx`).
//!
//! Every file is read once at start. The downloaded and model files are
//! served only when their sha256 is the pinned one (the same sums
//! `scripts/setup.sh` checks); the built module's sum is taken at start (it
//! is the URL's version). When the runtime or the detector is missing or
//! differs, nothing of it is served and the page runs without analysis: the
//! nonce's fixed schedule, as a browser without WebAssembly does
//! (`analysis: "none"` in its outcome). When only the session is missing,
//! the page checks readiness and prompts on the fixed schedule
//! (`mode: "scheduled"`).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The onnxruntime-web version served.
pub const ORT_WEB_VERSION: &str = "1.30.0";

/// The files of onnxruntime-web the page loads: (name, sha256, content type).
pub const ORT_WEB_FILES: [(&str, &str, &str); 3] = [
    (
        "ort.wasm.min.js",
        "faece07e84faa9001f5104bbe4e5c70861d06cb2376a0dea1fa0ad33a67adc81",
        "text/javascript; charset=utf-8",
    ),
    (
        "ort-wasm-simd-threaded.mjs",
        "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
        "text/javascript; charset=utf-8",
    ),
    (
        "ort-wasm-simd-threaded.wasm",
        "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
        "application/wasm",
    ),
];

/// Environment variable naming the folder of onnxruntime-web's files.
pub const WEB_RUNTIME_ENV: &str = "REALFACE_WEB_RUNTIME";

/// One file served as is (or gzip-compressed, made on its first request).
#[derive(Debug)]
pub struct WebFile {
    /// Its name in the URL.
    pub name: &'static str,
    /// Its content type.
    pub ctype: &'static str,
    /// Its sha256 (lowercase hex): the URL's version and the ETag.
    pub sha256: String,
    /// Its bytes.
    pub bytes: axum::body::Bytes,
    gzip: std::sync::OnceLock<Option<axum::body::Bytes>>,
}

impl WebFile {
    /// The gzip-compressed bytes, compressed on the first call (None if
    /// compression failed: the plain bytes are served then).
    pub fn gzip(&self) -> Option<axum::body::Bytes> {
        self.gzip
            .get_or_init(|| {
                use std::io::Write;
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(&self.bytes)
                    .and_then(|()| enc.finish())
                    .ok()
                    .map(Into::into)
            })
            .clone()
    }

    /// Its URL below `/sdk/v1/`, versioned by its sha256 (so it may be
    /// cached for good).
    pub fn url(&self) -> String {
        format!("rt/{}?v={}", self.name, &self.sha256[..16])
    }
}

/// The page's in-browser runtime and model, or why they are not served.
#[derive(Debug, Default)]
pub struct WebRuntime {
    files: Vec<WebFile>,
    /// Why the page runs without analysis (None when it can analyse).
    pub missing: Option<String>,
    /// Why the page cannot run the session, so prompts on the fixed
    /// schedule (None when it can prompt as a device does).
    pub session_missing: Option<String>,
}

/// The library's session compiled to WebAssembly (`scripts/build-web.sh`).
pub const SESSION_WASM: &str = "realface_web.wasm";

impl WebFile {
    fn checked(
        name: &'static str,
        ctype: &'static str,
        path: &Path,
        sum: &str,
    ) -> Result<Self, String> {
        Ok(Self {
            name,
            ctype,
            sha256: sum.to_string(),
            bytes: read_checked(path, sum)?.into(),
            gzip: Default::default(),
        })
    }

    fn model(spec: realface::runtime::models::ModelSpec, model_dir: &Path) -> Result<Self, String> {
        Self::checked(
            spec.file,
            "application/octet-stream",
            &model_dir.join(spec.file),
            spec.sha256,
        )
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_checked(path: &Path, sha256: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let got = sha256_hex(&bytes);
    if got != sha256 {
        return Err(format!(
            "{}: sha256 {got}, expected {sha256}",
            path.display()
        ));
    }
    Ok(bytes)
}

/// The folders searched for onnxruntime-web's files, in order:
/// `REALFACE_WEB_RUNTIME`, else `web/` beside each place the library looks
/// for ONNX Runtime (`.runtime/` of the project, of the executable's).
pub fn candidates() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os(WEB_RUNTIME_ENV) {
        return vec![PathBuf::from(dir)];
    }
    let mut out = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../.runtime/web")];
    out.extend(
        realface::runtime::library_candidates(None)
            .into_iter()
            .filter_map(|lib| lib.parent().map(|d| d.join("web"))),
    );
    out
}

impl WebRuntime {
    /// Loads onnxruntime-web from the first folder of [`candidates`] that
    /// holds it, and the detector from `model_dir`, checking every sha256.
    pub fn load(model_dir: &Path) -> Self {
        match Self::try_load(model_dir) {
            Ok((dir, mut files)) => {
                let session = Self::try_session(&dir, model_dir);
                let session_missing = session.as_ref().err().cloned();
                files.extend(session.unwrap_or_default());
                Self {
                    files,
                    missing: None,
                    session_missing,
                }
            }
            Err(why) => Self {
                files: Vec::new(),
                session_missing: Some(why.clone()),
                missing: Some(why),
            },
        }
    }

    fn try_load(model_dir: &Path) -> Result<(PathBuf, Vec<WebFile>), String> {
        let dirs = candidates();
        let dir = dirs
            .iter()
            .find(|d| d.join(ORT_WEB_FILES[0].0).is_file())
            .ok_or_else(|| {
                format!(
                    "onnxruntime-web {ORT_WEB_VERSION} not found (run scripts/setup.sh; looked in {})",
                    dirs.iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        let mut files = Vec::new();
        for (name, sum, ctype) in ORT_WEB_FILES {
            files.push(WebFile::checked(name, ctype, &dir.join(name), sum)?);
        }
        files.push(WebFile::model(
            realface::runtime::models::BLAZEFACE_SHORT,
            model_dir,
        )?);
        Ok((dir.clone(), files))
    }

    /// The session module beside onnxruntime-web, and the mesh and
    /// eye-state models.
    fn try_session(dir: &Path, model_dir: &Path) -> Result<Vec<WebFile>, String> {
        let path = dir.join(SESSION_WASM);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "{}: {e} (build it with scripts/build-web.sh)",
                path.display()
            )
        })?;
        let module = WebFile {
            name: SESSION_WASM,
            ctype: "application/wasm",
            sha256: sha256_hex(&bytes),
            bytes: bytes.into(),
            gzip: Default::default(),
        };
        Ok(vec![
            module,
            WebFile::model(realface::runtime::models::FACE_MESH, model_dir)?,
            WebFile::model(realface::runtime::models::EYE_STATE, model_dir)?,
        ])
    }

    /// The file served under `name`, if it is one.
    pub fn file(&self, name: &str) -> Option<&WebFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Whether the page can analyse frames.
    pub fn available(&self) -> bool {
        self.missing.is_none()
    }

    /// What the capture script is told: the versioned URLs (below
    /// `/sdk/v1/`) of the runtime, its WebAssembly and the detector, or
    /// `null` when the page must run without analysis.
    pub fn page_config(&self) -> serde_json::Value {
        let url = |name: &str| self.file(name).map(WebFile::url);
        match (
            url(ORT_WEB_FILES[0].0),
            url(ORT_WEB_FILES[1].0),
            url(ORT_WEB_FILES[2].0),
            url(realface::runtime::models::BLAZEFACE_SHORT.file),
        ) {
            (Some(ort), Some(mjs), Some(wasm), Some(model)) => serde_json::json!({
                "ort": ort, "mjs": mjs, "wasm": wasm, "detector": model,
                "session": self.session_config(),
            }),
            _ => serde_json::Value::Null,
        }
    }

    /// The URLs of the session module and its two models, or `null`.
    fn session_config(&self) -> serde_json::Value {
        let url = |name: &str| self.file(name).map(WebFile::url);
        match (
            url(SESSION_WASM),
            url(realface::runtime::models::FACE_MESH.file),
            url(realface::runtime::models::EYE_STATE.file),
        ) {
            (Some(module), Some(mesh), Some(eyes)) => {
                serde_json::json!({ "module": module, "mesh": mesh, "eyes": eyes })
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Bytes of everything the page loads for its analysis.
    pub fn total_bytes(&self) -> usize {
        self.files.iter().map(|f| f.bytes.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_another_sum_is_not_served() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x");
        std::fs::write(&path, b"tampered").expect("write");
        let err = read_checked(&path, ORT_WEB_FILES[0].1).expect_err("refused");
        assert!(err.contains("expected"), "{err}");
        assert!(read_checked(&path, &sha256_hex(b"tampered")).is_ok());
    }
}
