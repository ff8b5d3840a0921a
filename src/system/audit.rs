//! `audit.jsonl`: one line per action hal9ctl took (time, user, host, argv, target, result).

use std::fs::OpenOptions;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const FILE: &str = "audit.jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    pub user: String,
    pub host: String,
    /// The command line, one string per argument: UTF-8 as is; an argument that
    /// is not UTF-8 has each stray byte as `\xNN` and each backslash doubled, so
    /// the record names the real file even when its name is not text.
    pub argv: Vec<String>,
    /// What was acted on: `pid 1234 (python3)`, `/var/log/hal9/old.log`, `deployment hal9/hal9-server`.
    pub target: String,
    /// The action: `kill`, `delete`, `truncate`, `scale`, `restart`, `rollback-step` …
    pub action: String,
    /// `ok`, `failed: …`, `refused: …`, `dry-run`.
    pub result: String,
}

impl Entry {
    pub fn new(action: &str, target: impl Into<String>, result: impl Into<String>) -> Entry {
        Entry {
            time: super::clock::now_rfc3339(),
            user: current_user(),
            host: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            argv: std::env::args_os()
                .map(|a| crate::output::os_text::os_text(&a))
                .collect(),
            target: target.into(),
            action: action.to_string(),
            result: result.into(),
        }
    }
}

pub fn current_user() -> String {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(u)) => u.name,
        _ => format!("uid {uid}"),
    }
}

/// The audit log of a state dir.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(state_dir: &Path) -> AuditLog {
        AuditLog {
            path: state_dir.join(FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry with a single `write` so concurrent writers never interleave lines.
    pub fn record(&self, entry: &Entry) -> io::Result<()> {
        // Every action passes here, so here is where notifications learn of it.
        crate::notify::note_action(&entry.action, &entry.target, &entry.result);
        if let Some(dir) = self.path.parent() {
            super::fsio::ensure_private_dir(dir)?;
        }
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut f = super::fsio::open_append(&self.path, 0o600)?;
        f.write_all(&line)?;
        f.sync_data()
    }

    /// Every entry, oldest first; unreadable lines are skipped and counted.
    pub fn read(&self) -> io::Result<(Vec<Entry>, usize)> {
        let f = match super::fsio::open_state_file(&self.path, OpenOptions::new().read(true)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        let mut bad = 0;
        // By bytes: one line that is not UTF-8 (a torn write, a hand edit)
        // must not hide the rest of the timeline.
        for line in io::BufReader::new(f).split(b'\n') {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(&line) {
                Ok(e) => entries.push(e),
                Err(_) => bad += 1,
            }
        }
        Ok((entries, bad))
    }
}

/// Record an action in the state dir's audit log. A failure to write it is
/// logged, not fatal: the action itself already happened (or was refused),
/// and the operator must still get its report.
pub fn record_or_warn(state_dir: &Path, action: &str, target: &str, result: &str) {
    if let Err(e) = AuditLog::new(state_dir).record(&Entry::new(action, target, result)) {
        tracing::warn!(
            "could not write the audit log in {}: {e}",
            state_dir.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_reads_back_in_order() {
        let d = tempfile::tempdir().unwrap();
        let log = AuditLog::new(&d.path().join("state"));
        log.record(&Entry::new("kill", "pid 42 (python3)", "ok"))
            .unwrap();
        log.record(&Entry::new("delete", "/tmp/x.log", "dry-run"))
            .unwrap();
        let (entries, bad) = log.read().unwrap();
        assert_eq!(bad, 0);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].action, "kill");
        assert_eq!(entries[1].target, "/tmp/x.log");
        assert!(humantime::parse_rfc3339(&entries[0].time).is_ok());
    }

    #[test]
    fn a_line_that_is_not_utf8_is_counted_not_fatal() {
        let d = tempfile::tempdir().unwrap();
        let log = AuditLog::new(d.path());
        log.record(&Entry::new("kill", "pid 1", "ok")).unwrap();
        let mut raw = std::fs::read(log.path()).unwrap();
        raw.extend_from_slice(b"{\"time\":\"\xff\"}\n");
        std::fs::write(log.path(), &raw).unwrap();
        log.record(&Entry::new("delete", "/x", "ok")).unwrap();
        let (entries, bad) = log.read().unwrap();
        assert_eq!((entries.len(), bad), (2, 1));
    }
}
