//! The runtime's state dir: what `serve` writes and what hal9ctl reads to find it.
//!
//! Every file here is opened without following a symlink (ARCHITECTURE §5):
//! the dir is checked to be ours, and a link planted in it must not redirect
//! a write or a read.

use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::system::fsio;

use serde::{Deserialize, Serialize};

/// `{"pid":123,"listen":"127.0.0.1:8080","version":"…","started_at":"RFC 3339"}`
pub const RUNTIME_JSON: &str = "runtime.json";
/// Holds the pid of the running `serve`, locked (flock) while it runs.
pub const PID_FILE: &str = "hal9.pid";
/// Admin bearer token, mode 0600, made on first start.
pub const TOKEN_FILE: &str = "admin.token";
/// The log of a detached `serve`.
pub const LOG_FILE: &str = "hal9.log";
/// The admission limits last set through `/admin/limits`: a successor starts with them.
pub const ADMIN_LIMITS_FILE: &str = "admin-limits.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeInfo {
    pub pid: u32,
    pub listen: String,
    pub version: String,
    pub started_at: String,
    /// Start time in clock ticks since boot (`/proc/PID/stat`): with the pid,
    /// it names this process and no later one that gets the same pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ticks: Option<u64>,
    /// Inode of the listening socket, to check the pid still holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_inode: Option<u64>,
    /// The `serve` arguments, in `--flag value` pairs with absolute paths, so
    /// a successor starts exactly as this instance did. `None`: not recordable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve_args: Option<Vec<String>>,
    /// The config file this instance loaded (absolute), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// The OOM kill count of this instance's memory cgroup at its start:
    /// `health` reports only kills after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_baseline: Option<crate::system::oom::OomBaseline>,
}

impl RuntimeInfo {
    /// The value of `--flag` in the recorded serve arguments.
    pub fn serve_arg(&self, flag: &str) -> Option<&str> {
        let args = self.serve_args.as_deref()?;
        args.chunks(2)
            .find(|pair| pair.first().is_some_and(|f| f == flag))
            .and_then(|pair| pair.get(1))
            .map(String::as_str)
    }
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

    pub fn admin_limits_file(&self) -> PathBuf {
        self.root.join(ADMIN_LIMITS_FILE)
    }

    /// The limits last set through `/admin/limits`, or `None` if never.
    pub fn read_admin_limits(&self) -> io::Result<Option<crate::runtime::api::Limits>> {
        read_json(&self.admin_limits_file())
    }

    pub fn write_admin_limits(&self, limits: &crate::runtime::api::Limits) -> io::Result<()> {
        let body = serde_json::to_vec_pretty(limits).map_err(io::Error::other)?;
        crate::system::fsio::write_atomic(&self.admin_limits_file(), &body, 0o600)
    }

    /// The pid recorded in the pid file, if any.
    pub fn read_pid(&self) -> io::Result<Option<u32>> {
        Ok(fsio::read_state_file(&self.pid_file())?
            .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok()))
    }

    /// Where the token of the runtime recorded here lives: the
    /// `--admin-token-file` runtime.json records, else `admin.token`.
    pub fn admin_token_file(&self) -> PathBuf {
        match self.read_runtime_info() {
            Ok(Some(info)) => info
                .serve_arg("--admin-token-file")
                .map(PathBuf::from)
                .unwrap_or_else(|| self.token_file()),
            _ => self.token_file(),
        }
    }

    /// The token the recorded runtime takes (whitespace trimmed). The state
    /// dir's own `admin.token` is held to the trust rules below; a file the
    /// operator named with `--admin-token-file` is read as `serve` read it,
    /// following links, because secret mounts (Kubernetes, systemd
    /// credentials) are symlinks with modes the operator chose.
    pub fn read_admin_token(&self) -> io::Result<String> {
        let path = self.admin_token_file();
        if path == self.token_file() {
            return read_trusted_token(&path);
        }
        let mut s = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(std::fs::File::open(&path)?, fsio::MAX_STATE_FILE),
            &mut s,
        )?;
        Ok(s.trim().to_string())
    }

    /// The admin token (whitespace trimmed). Refused unless the file is ours
    /// and private: a token others can read is no secret, and one they could
    /// plant or change would let them in.
    pub fn read_token(&self) -> io::Result<String> {
        read_trusted_token(&self.token_file())
    }
}

fn read_trusted_token(path: &Path) -> io::Result<String> {
    let mut f = fsio::open_state_file(path, std::fs::OpenOptions::new().read(true))?;
    let m = f.metadata()?;
    let me = nix::unistd::geteuid().as_raw();
    if m.uid() != me {
        return Err(untrusted_token(
            path,
            format!("owned by uid {}, not by this user (uid {me})", m.uid()),
        ));
    }
    if m.mode() & 0o077 != 0 {
        return Err(untrusted_token(
            path,
            format!(
                "mode {:04o}; others could read or change it",
                m.mode() & 0o7777
            ),
        ));
    }
    let mut s = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(&mut f, fsio::MAX_STATE_FILE),
        &mut s,
    )?;
    Ok(s.trim().to_string())
}

fn untrusted_token(path: &Path, why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        crate::exit::Failure::critical(format!(
            "refused: the admin token {} is {why}",
            path.display()
        ))
        .with_next(format!(
            "rm {}   # a new private token is made on the next start",
            path.display()
        )),
    )
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match fsio::read_state_file(path)? {
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        None => Ok(None),
    }
}

/// The pid file, locked for the life of the process that holds it.
pub struct PidLock {
    _lock: nix::fcntl::Flock<std::fs::File>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateLockError {
    #[error("another runtime (pid {pid}) already uses the state dir {dir}")]
    Held { pid: String, dir: PathBuf },
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl StateDir {
    fn open_pid_file(&self) -> Result<std::fs::File, StateLockError> {
        let path = self.pid_file();
        fsio::open_state_file(
            &path,
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .mode(0o644),
        )
        .map_err(|source| StateLockError::Io { path, source })
    }

    /// The log of a detached `serve`, opened for appending (never through a symlink).
    pub fn open_log(&self) -> io::Result<std::fs::File> {
        fsio::open_append(&self.log_file(), 0o600)
    }

    /// Take the pid lock or say who holds it. The kernel drops the lock when
    /// the holder dies, so a stale pid file never blocks a start.
    pub fn lock_pid(&self) -> Result<PidLock, StateLockError> {
        let f = self.open_pid_file()?;
        match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(l) => self.write_pid(l),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                let pid = self
                    .read_pid()
                    .ok()
                    .flatten()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                Err(StateLockError::Held {
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid
                    },
                    dir: self.root.clone(),
                })
            }
            Err((_, e)) => Err(StateLockError::Io {
                path: self.pid_file(),
                source: io::Error::from(e),
            }),
        }
    }

    /// Wait for the pid lock (a successor waits for its predecessor to exit).
    pub fn lock_pid_blocking(&self) -> Result<PidLock, StateLockError> {
        let f = self.open_pid_file()?;
        match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive) {
            Ok(l) => self.write_pid(l),
            Err((_, e)) => Err(StateLockError::Io {
                path: self.pid_file(),
                source: io::Error::from(e),
            }),
        }
    }

    fn write_pid(&self, l: nix::fcntl::Flock<std::fs::File>) -> Result<PidLock, StateLockError> {
        use std::io::{Seek, Write};
        let mut f: &std::fs::File = &l;
        let r = f
            .set_len(0)
            .and_then(|_| f.seek(io::SeekFrom::Start(0)))
            .and_then(|_| writeln!(f, "{}", std::process::id()))
            .and_then(|_| f.sync_all());
        r.map_err(|source| StateLockError::Io {
            path: self.pid_file(),
            source,
        })?;
        Ok(PidLock { _lock: l })
    }

    /// Is the pid lock held by a live process right now?
    pub fn pid_lock_held(&self) -> bool {
        match fsio::open_state_file(&self.pid_file(), std::fs::OpenOptions::new().read(true)) {
            Ok(f) => matches!(
                nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockSharedNonblock),
                Err((_, nix::errno::Errno::EWOULDBLOCK))
            ),
            Err(_) => false,
        }
    }

    /// The admin token: read it, or make a new random one (0600) on first start.
    pub fn ensure_token(&self) -> io::Result<String> {
        match self.read_token() {
            Ok(t) if !t.is_empty() => return Ok(t),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw)
            .map_err(|e| io::Error::other(format!("no randomness for the admin token: {e}")))?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        crate::system::fsio::write_atomic(
            &self.token_file(),
            format!("{token}\n").as_bytes(),
            0o600,
        )?;
        Ok(token)
    }

    pub fn write_runtime_info(&self, info: &RuntimeInfo) -> io::Result<()> {
        let body = serde_json::to_vec_pretty(info).map_err(io::Error::other)?;
        crate::system::fsio::write_atomic(&self.runtime_json(), &body, 0o644)
    }

    /// Remove runtime.json, but only if it still describes `pid` (a successor may have replaced it).
    pub fn remove_runtime_info_of(&self, pid: u32) {
        if let Ok(Some(info)) = self.read_runtime_info()
            && info.pid == pid
        {
            let _ = std::fs::remove_file(self.runtime_json());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_the_token_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let sd = StateDir::new(d.path());
        let held = sd.lock_pid().unwrap();
        assert!(sd.pid_lock_held());
        match sd.lock_pid() {
            Err(StateLockError::Held { pid, .. }) => {
                assert_eq!(pid, std::process::id().to_string())
            }
            other => panic!("expected Held, got {:?}", other.err()),
        }
        drop(held);
        assert!(!sd.pid_lock_held());
        let t = sd.ensure_token().unwrap();
        assert_eq!(t.len(), 48);
        assert_eq!(sd.ensure_token().unwrap(), t, "the token is made once");
        assert_eq!(
            std::fs::metadata(sd.token_file())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
}
