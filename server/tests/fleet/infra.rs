//! The fleet's machinery: a PostgreSQL server of its own (scripts/pg.sh),
//! `realface-server` instances on fixed ports that can be killed and
//! started again, and HTTP calls with a time limit.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{agent_within, free_port, root, server_bin, try_request_with};

/// A PostgreSQL server started by `scripts/pg.sh` for this run alone (so its
/// outage touches nothing else); stopped and deleted on drop.
pub struct Pg {
    dir: PathBuf,
    /// Its `postgres` database: the fleet's store.
    pub url: String,
}

fn pg_script(cmd: &str, dir: &PathBuf) -> bool {
    Command::new("bash")
        .arg(root().join("scripts/pg.sh"))
        .arg(cmd)
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Pg {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "realface-fleet-pg-{}",
            realface::session::certify::random_hex(6).expect("random")
        ));
        assert!(
            pg_script("start", &dir),
            "scripts/pg.sh start {} failed (PostgreSQL: bash scripts/system-deps.sh)",
            dir.display()
        );
        let url = std::fs::read_to_string(dir.join("url"))
            .expect("pg.sh wrote its URL")
            .trim()
            .to_string();
        Self { dir, url }
    }

    /// `pg_ctl stop -m fast`, the data kept: the database is away.
    pub fn down(&self) {
        assert!(pg_script("down", &self.dir), "scripts/pg.sh down failed");
    }

    /// Back on the same port.
    pub fn up(&self) {
        assert!(pg_script("up", &self.dir), "scripts/pg.sh up failed");
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = pg_script("stop", &self.dir);
    }
}

/// One `realface-server serve` on a fixed port of 127.0.0.1 (so the
/// clients' address list stays right across restarts); its logs go to a
/// file, kept for a failed run.
pub struct Instance {
    pub url: String,
    listen: String,
    log: PathBuf,
    child: Option<Child>,
    /// Times started.
    pub starts: u32,
}

impl Instance {
    pub fn new(n: usize, logs: &std::path::Path) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        Self {
            url: format!("http://{listen}"),
            listen,
            log: logs.join(format!("instance-{n}.log")),
            child: None,
            starts: 0,
        }
    }

    /// Starts the process (without waiting for it to answer).
    pub fn spawn(&mut self, db: &str, args: &[&str], env: &[(&str, String)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = server_bin()
            .args(["serve", "--db", db, "--listen", &self.listen])
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("realface-server serve");
        self.child = Some(child);
        self.starts += 1;
    }

    /// Waits (at most `secs`) until `/healthz` answers 200.
    pub fn wait_healthy(&self, secs: u64) -> bool {
        wait_for(secs, || {
            matches!(
                call(&self.url, "GET", "/healthz", &[], None, b"", 5),
                Ok((200, _))
            )
        })
    }

    /// The process id, while it runs.
    pub fn pid(&mut self) -> Option<u32> {
        let c = self.child.as_mut()?;
        match c.try_wait() {
            Ok(None) => Some(c.id()),
            _ => None,
        }
    }

    /// SIGKILL: no shutdown, no goodbye to the database.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `done` every 100 ms for at most `secs`.
pub fn wait_for(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if done() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Any request, answered within `timeout_s` seconds: the status and JSON
/// body; a transport error (instance down, timed out) is an `Err`.
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    ctype: Option<&str>,
    body: &[u8],
    timeout_s: u64,
) -> Result<(u16, Value), String> {
    let agent = agent_within(Some(Duration::from_secs(timeout_s)));
    try_request_with(&agent, base, method, path, headers, ctype, body).map_err(|e| e.to_string())
}
