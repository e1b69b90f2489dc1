//! The settings file: `realface-server serve --config realface.toml`.
//!
//! The file is [`ConfigFile`] in TOML: a `[server]` table (store, address,
//! logs) and every [`Settings`] field at the top level, with its
//! sub-tables (`[limits]`, `[session]`, `[lockout]`, `[webhook]`). A key
//! left out keeps its default; `realface-server config --defaults` prints
//! the whole file with every default. Environment variables override the
//! file: `REALFACE_<KEY>` for a top-level key (`REALFACE_CHALLENGE_COUNT=3`)
//! and `REALFACE_<TABLE>__<KEY>` for a key of a table
//! (`REALFACE_LOCKOUT__FAILURES=3`, `REALFACE_SERVER__LISTEN=0.0.0.0:80`),
//! the value written as in TOML (a bare word is a string). Command-line
//! flags win over both. A key the server does not know, or a value of the
//! wrong type, is an error that names the key.

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::settings::Settings;

/// Logs: text for people, JSON for collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One line per event, `key=value` fields.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The `[server]` table: what is not a [`Settings`] field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSection {
    /// A SQLite file (created if missing) or a `postgres://` URL.
    pub db: String,
    /// The address the API listens on.
    pub listen: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`info`, `warn`, `realface_server=debug`...).
    pub log_level: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            db: "realface.db".into(),
            listen: "127.0.0.1:8080".into(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
        }
    }
}

/// The whole settings file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigFile {
    /// Store, address, logs: the `[server]` table.
    pub server: ServerSection,
    /// Everything else, at the top level.
    pub settings: Settings,
}

/// The `[server]` table alone (the other keys are [`Settings`]').
#[derive(Debug, Default, Serialize, Deserialize)]
struct ServerOnly {
    #[serde(default)]
    server: ServerSection,
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A key or value is wrong; `key` names it (`lockout.failures`).
    #[error("{origin}: `{key}`: {message}")]
    Key {
        /// The file, or the environment variable.
        origin: String,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Not TOML, or a type error the parser places itself.
    #[error("{origin}: {message}")]
    Parse {
        /// The file, or the environment variable.
        origin: String,
        /// The parser's message (with the line and the key).
        message: String,
    },
}

/// The environment variables' prefix.
pub const ENV_PREFIX: &str = "REALFACE_";

impl ConfigFile {
    /// Reads `path` (None: defaults only), then applies the overrides in
    /// `env` (`REALFACE_...` pairs; others are ignored).
    pub fn load(
        path: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let (origin, text) = match path {
            Some(p) => (
                p.to_string(),
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_string(),
                    source,
                })?,
            ),
            None => ("(defaults)".to_string(), String::new()),
        };
        let mut table: Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        let known = known_keys()?;
        check_keys(&table, &known, "", &origin)?;
        // the file alone first, so its errors carry its line numbers
        Self::parse(&text, &origin)?;
        for (name, raw) in env {
            let Some(path) = env_key(&name, &known) else {
                continue;
            };
            let value = env_value(&raw);
            set(&mut table, &path, value);
            let mut alone = Table::new();
            set(&mut alone, &path, env_value(&raw));
            Self::from_table(&alone, &name)?;
        }
        Self::from_table(&table, &origin)
    }

    fn from_table(table: &Table, origin: &str) -> Result<Self, ConfigError> {
        let text = toml::to_string(table).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, origin)
    }

    /// Parses settings-file text (each part on its own, so a type error
    /// points at its line and key).
    fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let error = |e: toml::de::Error| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        };
        let server: ServerOnly = toml::from_str(text).map_err(error)?;
        let settings: Settings = toml::from_str(text).map_err(error)?;
        let c = Self {
            server: server.server,
            settings,
        };
        c.check(origin)?;
        Ok(c)
    }

    /// The settings as a TOML table (`[server]` and the rest).
    pub fn to_table(&self) -> Result<Table, ConfigError> {
        let error = |e: toml::ser::Error| ConfigError::Parse {
            origin: "(settings)".into(),
            message: e.to_string(),
        };
        let mut t = Table::try_from(&self.settings).map_err(error)?;
        let server = Table::try_from(&self.server).map_err(error)?;
        t.insert("server".into(), Value::Table(server));
        Ok(t)
    }

    /// The settings as a settings file.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(&self.to_table()?).map_err(|e| ConfigError::Parse {
            origin: "(settings)".into(),
            message: e.to_string(),
        })
    }

    /// Checks what the types cannot: the challenge can be drawn, the
    /// session's timings hold, the limits are positive.
    fn check(&self, origin: &str) -> Result<(), ConfigError> {
        let key_error = |key: &str, message: String| ConfigError::Key {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let s = &self.settings;
        realface::session::challenge::draw(&s.actions, s.challenge_count, 0)
            .map_err(|e| key_error("challenge_count", e.to_string()))?;
        s.session
            .validate()
            .map_err(|e| key_error("session", e.to_string()))?;
        if s.limits.max_bytes == 0 || s.limits.max_frames == 0 {
            return Err(key_error("limits", "limits must be positive".into()));
        }
        if s.webhook.max_attempts == 0 || s.webhook.timeout_ms == 0 {
            return Err(key_error(
                "webhook",
                "max_attempts and timeout_ms must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The defaults as a settings file (every key, every default).
    pub fn defaults_toml() -> Result<String, ConfigError> {
        Self::default().to_toml()
    }
}

/// Every key the defaults have, as a table of the same shape (optional
/// keys that default to nothing are added by name).
fn known_keys() -> Result<Table, ConfigError> {
    ConfigFile::default().to_table()
}

/// An unknown key anywhere in `table` is an error naming it. Tables the
/// defaults leave empty or hold in arrays are not looked into.
fn check_keys(table: &Table, known: &Table, prefix: &str, origin: &str) -> Result<(), ConfigError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let Some(spec) = known.get(k) else {
            if known.is_empty() {
                continue; // a table with optional keys only
            }
            return Err(ConfigError::Key {
                origin: origin.to_string(),
                key,
                message: format!(
                    "unknown key (known here: {})",
                    known.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        };
        if let (Value::Table(inner), Value::Table(spec)) = (v, spec) {
            check_keys(inner, spec, &key, origin)?;
        }
    }
    Ok(())
}

/// The dotted key an environment variable sets: `REALFACE_A` is `a` and
/// `REALFACE_T__K` is `t.k`, if the defaults know it; else None.
fn env_key(name: &str, known: &Table) -> Option<Vec<String>> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    let mut t = known;
    for (i, p) in path.iter().enumerate() {
        match t.get(p) {
            Some(Value::Table(inner)) if i + 1 < path.len() => t = inner,
            Some(_) if i + 1 == path.len() => return Some(path),
            _ => return None,
        }
    }
    None
}

/// An environment value as TOML (`3`, `true`, `["blink"]`), else a string.
fn env_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

fn set(table: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(inner) = entry else {
            return;
        };
        t = inner;
    }
    t.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write");
        f
    }

    fn load(text: &str, env: &[(&str, &str)]) -> Result<ConfigFile, ConfigError> {
        let f = file(text);
        let path = f.path().to_string_lossy().into_owned();
        ConfigFile::load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn the_fleet_settings_file_in_deploy_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/realface.toml");
        let c = ConfigFile::load(Some(path), std::iter::empty()).expect("deploy/realface.toml");
        assert!(c.server.db.starts_with("postgres://"));
        assert_eq!((c.settings.store.pool, c.settings.workers), (16, 4));
        assert_eq!(c.settings.evidence_lease_ms, 120_000);
        // the database URL with its password comes from the environment
        let c = ConfigFile::load(
            Some(path),
            [(
                "REALFACE_SERVER__DB".to_string(),
                "postgres://u:p@h/d".to_string(),
            )],
        )
        .expect("with the environment");
        assert_eq!(c.server.db, "postgres://u:p@h/d");
    }

    #[test]
    fn the_defaults_round_trip() {
        let text = ConfigFile::defaults_toml().expect("defaults");
        for key in [
            "[server]",
            "[lockout]",
            "[webhook]",
            "[limits]",
            "[session",
            "matcher",
        ] {
            assert!(text.contains(key), "{key} missing in\n{text}");
        }
        let c = load(&text, &[]).expect("defaults load");
        assert_eq!(c, ConfigFile::default());
    }

    #[test]
    fn a_file_sets_keys_and_env_overrides_it() {
        let c = load(
            "challenge_count = 3\nmatcher = \"mobilefacenet\"\n[lockout]\nfailures = 2\n[server]\nlisten = \"127.0.0.1:9\"\n",
            &[
                ("REALFACE_LOCKOUT__FAILURES", "7"),
                ("REALFACE_WEBHOOK__MAX_ATTEMPTS", "3"),
                ("REALFACE_DATA", "/elsewhere"),
                ("PATH", "/bin"),
            ],
        )
        .expect("load");
        assert_eq!(c.settings.challenge_count, 3);
        assert_eq!(c.settings.matcher, realface::Matcher::MobileFaceNet);
        assert_eq!(c.settings.lockout.failures, 7);
        assert_eq!(c.settings.webhook.max_attempts, 3);
        assert_eq!(c.server.listen, "127.0.0.1:9");
        assert_eq!(c.settings.workers, Settings::default().workers);
    }

    #[test]
    fn errors_name_the_key() {
        let msg = |r: Result<ConfigFile, ConfigError>| match r {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        };
        let m = msg(load("[lockout]\nfailurez = 3\n", &[]));
        assert!(
            m.contains("lockout.failurez") && m.contains("unknown key"),
            "{m}"
        );
        let m = msg(load("[lockout]\nfailures = \"many\"\n", &[]));
        assert!(m.contains("failures"), "{m}");
        let m = msg(load("challenge_count = 9\n", &[]));
        assert!(m.contains("challenge_count"), "{m}");
        let m = msg(load("[webhook]\ntimeout_ms = -1\n", &[]));
        assert!(m.contains("timeout_ms"), "{m}");
        let m = msg(load("", &[("REALFACE_LOCKOUT__FAILURES", "lots")]));
        assert!(
            m.contains("REALFACE_LOCKOUT__FAILURES") && m.contains("failures"),
            "{m}"
        );
        let m = msg(load("not toml at all [", &[]));
        assert!(m.contains("TOML") || m.contains("line"), "{m}");
    }
}
