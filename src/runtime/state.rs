//! The runtime's state dir: what `serve` writes and what hal9ctl reads to find it.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `{"pid":123,"listen":"127.0.0.1:8080","version":"…","started_at":"RFC 3339"}`
pub const RUNTIME_JSON: &str = "runtime.json";
/// Holds the pid of the running `serve`, locked (flock) while it runs.
pub const PID_FILE: &str = "hal9.pid";
/// Admin bearer token, mode 0600, made on first start.
pub const TOKEN_FILE: &str = "admin.token";
/// The log of a detached `serve`.
pub const LOG_FILE: &str = "hal9.log";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeInfo {
    pub pid: u32,
    pub listen: String,
    pub version: String,
    pub started_at: String,
}

/// The files of one state dir.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub root: PathBuf,
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> StateDir {
        StateDir { root: root.into() }
    }

    pub fn runtime_json(&self) -> PathBuf {
        self.root.join(RUNTIME_JSON)
    }

    pub fn pid_file(&self) -> PathBuf {
        self.root.join(PID_FILE)
    }

    pub fn token_file(&self) -> PathBuf {
        self.root.join(TOKEN_FILE)
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join(LOG_FILE)
    }

    /// `runtime.json`, or `None` when no runtime ever started here.
    pub fn read_runtime_info(&self) -> io::Result<Option<RuntimeInfo>> {
        read_json(&self.runtime_json())
    }

    /// The pid recorded in the pid file, if any.
    pub fn read_pid(&self) -> io::Result<Option<u32>> {
        match std::fs::read_to_string(self.pid_file()) {
            Ok(s) => Ok(s.trim().parse().ok()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The admin token (whitespace trimmed).
    pub fn read_token(&self) -> io::Result<String> {
        Ok(std::fs::read_to_string(self.token_file())?
            .trim()
            .to_string())
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
