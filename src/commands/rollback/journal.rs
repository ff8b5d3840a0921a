//! The rollback journal: every step is written (and fsynced) before and after
//! it is applied, so a rollback interrupted anywhere — Ctrl-C or `kill -9` —
//! can be resumed to the same final state. A flock on `rollback/lock` makes a
//! second concurrent rollback fail fast, and the kernel releases it when the
//! holder dies, so a killed rollback never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::plan::{Component, RollbackStrategy, StepTarget};
use crate::system::fsio::{ensure_private_dir, write_atomic};

pub const DIR: &str = "rollback";
const CURRENT: &str = "journal.json";
const LOCK: &str = "lock";
const PAUSE: &str = "pause-request";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    /// Written before the PUT: on resume, the runtime's state says whether it landed.
    Applying,
    Applied,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub passed: bool,
    pub detail: Vec<String>,
    /// Too few requests to judge: neither passed nor failed.
    #[serde(default)]
    pub inconclusive: bool,
    /// Probe signals hal9ctl sent into the window itself (--allow-no-traffic).
    #[serde(default)]
    pub synthetic_probes: u64,
    /// In the cluster: what each ready pod reported back about the step's write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<crate::cluster::pod_confirm::Confirmation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalStep {
    pub index: usize,
    pub target: StepTarget,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStatus {
    Running,
    /// Interrupted (Ctrl-C, a killed process, a paused gate): `--resume` continues.
    Interrupted,
    Completed,
    /// A gate failed and the rollback jumped straight to its target.
    AbortedToTarget,
    /// The operator chose to abandon it.
    Abandoned,
    Failed,
}

impl RollbackStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RollbackStatus::Completed
                | RollbackStatus::AbortedToTarget
                | RollbackStatus::Abandoned
                | RollbackStatus::Failed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub id: String,
    pub strategy: RollbackStrategy,
    #[serde(default)]
    pub components: Vec<Component>,
    /// What is rolled back: a runtime URL or `configmap NS/NAME`.
    pub target: String,
    /// The ConfigMap's uid, so a resume in another cluster (same namespace
    /// and name) or against a re-created ConfigMap is told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_uid: Option<String>,
    pub started_at: String,
    pub started_by: String,
    pub status: RollbackStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Gradual: how long to wait after each step before the gates, in milliseconds.
    #[serde(default)]
    pub interval_ms: u64,
    /// Back (`rollback`) or forward (`migrate`); journals from before are rollbacks.
    #[serde(default)]
    pub direction: super::direction::Direction,
    /// A gate failed after this step and the rest of the plan was replaced by
    /// one step to the target (rollback) or back to the last good phase
    /// (migrate --on-failure rollback). A field, not words in `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_after: Option<usize>,
    /// The phase the run started from: where `--on-failure rollback` goes
    /// back to when no later phase passed its gates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_phase: Option<crate::runtime::migration::Phase>,
    pub steps: Vec<JournalStep>,
}

impl Journal {
    /// The first step not yet applied.
    pub fn next_step(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.status != StepStatus::Applied)
    }

    pub fn applied(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.status == StepStatus::Applied)
            .count()
    }
}

/// The journal files of one state dir.
#[derive(Debug, Clone)]
pub struct JournalDir {
    dir: PathBuf,
}

/// Held while a rollback runs; dropping it releases the lock.
pub struct RollbackLock {
    _lock: Flock<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalLockError {
    #[error("another rollback is running (it holds {0})")]
    Busy(PathBuf),
    #[error("cannot open the rollback lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl JournalDir {
    pub fn new(state_dir: &Path) -> JournalDir {
        JournalDir {
            dir: state_dir.join(DIR),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(CURRENT)
    }

    pub fn lock(&self) -> Result<RollbackLock, JournalLockError> {
        let path = self.dir.join(LOCK);
        ensure_private_dir(&self.dir).map_err(|source| JournalLockError::Io {
            path: path.clone(),
            source,
        })?;
        let f = open_nofollow(
            &path,
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600),
        )
        .map_err(|source| JournalLockError::Io {
            path: path.clone(),
            source,
        })?;
        match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(RollbackLock { _lock: l }),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(JournalLockError::Busy(path)),
            Err((_, e)) => Err(JournalLockError::Io {
                path,
                source: io::Error::from(e),
            }),
        }
    }

    pub fn load(&self) -> io::Result<Option<Journal>> {
        let read = open_nofollow(&self.path(), OpenOptions::new().read(true)).and_then(|mut f| {
            let mut b = Vec::new();
            f.read_to_end(&mut b).map(|_| b)
        });
        match read {
            Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", self.path().display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn pause_path(&self) -> PathBuf {
        self.dir.join(PAUSE)
    }

    /// `migrate --pause`: the running loop stops after its current step.
    pub fn request_pause(&self, by: &str) -> io::Result<()> {
        ensure_private_dir(&self.dir)?;
        write_atomic(&self.pause_path(), by.as_bytes(), 0o600)
    }

    /// Who asked the running loop to pause, if anyone did.
    pub fn pause_requested(&self) -> Option<String> {
        let mut b = Vec::new();
        open_nofollow(&self.pause_path(), OpenOptions::new().read(true))
            .and_then(|mut f| f.read_to_end(&mut b))
            .ok()?;
        Some(String::from_utf8_lossy(&b).trim().to_string())
    }

    pub fn clear_pause(&self) -> io::Result<()> {
        match std::fs::remove_file(self.pause_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Write atomically and fsync: after this returns the journal survives a crash.
    pub fn save(&self, j: &Journal) -> io::Result<()> {
        ensure_private_dir(&self.dir)?;
        let body = serde_json::to_vec_pretty(j).map_err(io::Error::other)?;
        write_atomic(&self.path(), &body, 0o600)
    }
}

/// A journal is replayed as written, so a symlink planted in the state dir
/// would make hal9ctl step the migration through someone else's file (§5).
fn open_nofollow(path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
    opts.custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symbolic link; refusing to follow it",
                    path.display()
                ),
            ),
            _ => e,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::migration::state::{MigrationDoc, Phase};

    fn journal() -> Journal {
        let t = StepTarget::of(&MigrationDoc::at_phase(Phase::Canary, 0));
        Journal {
            id: "r1".into(),
            strategy: RollbackStrategy::Gradual,
            components: vec![],
            target: "http://127.0.0.1:8080".into(),
            target_uid: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            started_by: "op".into(),
            status: RollbackStatus::Running,
            reason: None,
            interval_ms: 1000,
            direction: Default::default(),
            aborted_after: None,
            from_phase: None,
            steps: (0..3)
                .map(|i| JournalStep {
                    index: i,
                    target: t.clone(),
                    status: StepStatus::Pending,
                    applied_at: None,
                    version_after: None,
                    gate: None,
                })
                .collect(),
        }
    }

    #[test]
    fn saves_loads_and_finds_the_next_step() {
        let d = tempfile::tempdir().unwrap();
        let jd = JournalDir::new(d.path());
        assert!(jd.load().unwrap().is_none());
        let mut j = journal();
        j.steps[0].status = StepStatus::Applied;
        j.steps[1].status = StepStatus::Applying;
        jd.save(&j).unwrap();
        let back = jd.load().unwrap().unwrap();
        assert_eq!(back, j);
        assert_eq!(back.next_step(), Some(1));
        assert_eq!(back.applied(), 1);
    }

    #[test]
    fn the_journal_of_the_longest_plan_fits_a_configmap_annotation() {
        use crate::commands::rollback::plan::{MAX_STEPS, gradual};
        let mut from = MigrationDoc::at_phase(Phase::Full, 0);
        from.snapshots = vec![Phase::StateMigration];
        let mut j = journal();
        j.steps = gradual(&from, Some(Phase::Flat), MAX_STEPS)
            .unwrap()
            .into_iter()
            .enumerate()
            .map(|(index, target)| JournalStep {
                index,
                target,
                status: StepStatus::Applied,
                applied_at: Some("2026-01-01T00:00:00Z".into()),
                version_after: Some(u64::MAX),
                gate: Some(GateResult {
                    passed: false,
                    detail: vec![
                        "hierarchical error rate: 12.34 % of 123456 requests (max 1.00 %)"
                            .into();
                        2
                    ],
                    inconclusive: false,
                    synthetic_probes: 0,
                    pods: None,
                }),
            })
            .collect();
        // The API server caps all of a ConfigMap's annotations at 256 KiB.
        let len = serde_json::to_string(&j).unwrap().len();
        assert!(len < 256 * 1024, "{len} bytes");
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let jd = JournalDir::new(d.path());
        let first = jd.lock().unwrap();
        assert!(matches!(jd.lock(), Err(JournalLockError::Busy(_))));
        drop(first);
        assert!(jd.lock().is_ok());
    }
}
