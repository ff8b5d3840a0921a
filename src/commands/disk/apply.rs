//! Carry out a cleanup plan in batches, re-checking before every step.
//!
//! Before each batch the open files and the filesystems are measured again:
//! a file opened since the scan is skipped, and a filesystem that is already
//! below target gets no more deletions. Each batch is one audit entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::plan::{Candidate, CleanupPlan};
use crate::system::audit::{AuditLog, Entry};
use crate::system::disk;
use crate::system::interrupt;
use crate::system::open_files;
use crate::system::root_dir::RootDir;
use crate::system::safe_delete::{
    DeleteOutcome, Identity, rmdir_if_empty, truncate_deleted, unlink_under,
};
use crate::system::scan::Category;

const BATCH: usize = 256;

/// What happened to one planned action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "reason", rename_all = "snake_case")]
pub enum CleanupStep {
    Planned,
    Deleted,
    Truncated,
    /// The file changed or became open since the scan; left alone.
    Skipped(String),
    Failed(String),
    /// Its filesystem got below target before its turn.
    NotNeeded,
    /// Ctrl-C came first; running the same command again picks up from here.
    Interrupted,
}

pub struct Applied {
    /// One per plan action, in plan order.
    pub results: Vec<CleanupStep>,
    /// Audit entries that could not be written (a full disk can cause this).
    pub audit_errors: Vec<String>,
}

pub fn apply(
    plan: &CleanupPlan,
    roots: &[RootDir],
    target: f64,
    force: bool,
    audit: &AuditLog,
    progress: indicatif::ProgressDrawTarget,
) -> Applied {
    let mut results = vec![CleanupStep::Planned; plan.actions.len()];
    let mut audit_errors = Vec::new();
    let bar = crate::output::progress::bar_on(plan.actions.len() as u64, progress);
    bar.set_message("cleaning");
    let interrupted = interrupt::flag();
    let probe: HashMap<u64, &RootDir> = roots.iter().map(|r| (r.device, r)).collect();
    for (batch_no, start) in (0..plan.actions.len()).step_by(BATCH).enumerate() {
        let end = (start + BATCH).min(plan.actions.len());
        let open = open_files::gather();
        let below: Vec<u64> = probe
            .iter()
            .filter(|(_, r)| target > 0.0 && disk::usage_of(r).is_ok_and(|u| u.percent < target))
            .map(|(d, _)| *d)
            .collect();
        for (action, result) in plan.actions[start..end]
            .iter()
            .zip(&mut results[start..end])
        {
            *result = if interrupted.load(Ordering::SeqCst) {
                CleanupStep::Interrupted
            } else if below.contains(&action.device()) {
                CleanupStep::NotNeeded
            } else {
                step(action, roots, &open, force)
            };
            bar.inc(1);
        }
        let entry = batch_entry(
            batch_no + 1,
            &plan.actions[start..end],
            &results[start..end],
        );
        if let Err(e) = audit.record(&entry) {
            audit_errors.push(format!("{}: {e}", audit.path().display()));
        }
        if interrupted.load(Ordering::SeqCst) {
            for r in &mut results[end..] {
                *r = CleanupStep::Interrupted;
            }
            break;
        }
    }
    bar.finish_and_clear();
    remove_emptied_build_dirs(plan, roots, &results);
    Applied {
        results,
        audit_errors,
    }
}

/// A build dir whose files all went should not linger as a tree of empty
/// directories: remove those left empty, deepest first, up to `target/` itself.
fn remove_emptied_build_dirs(plan: &CleanupPlan, roots: &[RootDir], results: &[CleanupStep]) {
    let mut dirs: Vec<(&Path, PathBuf)> = Vec::new();
    for (action, result) in plan.actions.iter().zip(results) {
        let (Candidate::Unlink(f), CleanupStep::Deleted) = (action, result) else {
            continue;
        };
        if f.category != Category::BuildDir {
            continue;
        }
        for dir in f.path.ancestors().skip(1) {
            if dir == f.root || !dir.starts_with(&f.root) {
                break;
            }
            dirs.push((&f.root, dir.to_path_buf()));
            if dir.file_name().is_some_and(|n| n == "target") {
                break;
            }
        }
    }
    dirs.sort_by(|a, b| {
        let depth = |p: &Path| p.components().count();
        depth(&b.1).cmp(&depth(&a.1)).then(a.1.cmp(&b.1))
    });
    dirs.dedup_by(|a, b| a.1 == b.1);
    for (root, dir) in dirs {
        // Best effort: a directory that is not empty simply stays.
        if let Some(root) = roots.iter().find(|r| r.path == root) {
            let _ = rmdir_if_empty(root, &dir);
        }
    }
}

/// `force`: the operator accepted truncating although some processes' maps
/// cannot be read (a mapping we can see still refuses).
fn step(
    action: &Candidate,
    roots: &[RootDir],
    open: &open_files::OpenFiles,
    force: bool,
) -> CleanupStep {
    match action {
        Candidate::Unlink(f) => {
            if let Some(h) = open.held.get(&(f.device, f.inode)) {
                return CleanupStep::Skipped(format!(
                    "now held open by pid {} ({})",
                    h.pid, h.comm
                ));
            }
            if let Some(m) = open.mapped.find((f.device, f.inode), &f.path) {
                return CleanupStep::Skipped(format!("now mapped by pid {} ({})", m.pid, m.comm));
            }
            let expect = Identity {
                device: f.device,
                inode: f.inode,
                size: f.size,
                mtime: f.mtime,
                mtime_nsec: f.mtime_nsec,
            };
            let Some(root) = roots.iter().find(|r| r.path == f.root) else {
                return CleanupStep::Skipped(format!("{} is not a held root", f.root.display()));
            };
            match unlink_under(root, &f.path, &expect, open.unreadable) {
                Ok(DeleteOutcome::Done) => CleanupStep::Deleted,
                Ok(DeleteOutcome::Changed(why)) => CleanupStep::Skipped(why),
                Err(e) => CleanupStep::Failed(e.to_string()),
            }
        }
        Candidate::Truncate(d) => {
            if let Some(m) = open.mapped.find((d.device, d.inode), &d.path) {
                return CleanupStep::Skipped(format!(
                    "now mapped by pid {} ({}): truncating would kill it with SIGBUS",
                    m.pid, m.comm
                ));
            }
            match truncate_deleted(d, force) {
                Ok(DeleteOutcome::Done) => CleanupStep::Truncated,
                Ok(DeleteOutcome::Changed(why)) => CleanupStep::Skipped(why),
                Err(e) => CleanupStep::Failed(e.to_string()),
            }
        }
    }
}

const LISTED: usize = 20;

fn batch_entry(no: usize, actions: &[Candidate], results: &[CleanupStep]) -> Entry {
    let count = |want: fn(&CleanupStep) -> bool| results.iter().filter(|r| want(r)).count();
    let freed: u64 = actions
        .iter()
        .zip(results)
        .filter(|(_, r)| matches!(r, CleanupStep::Deleted | CleanupStep::Truncated))
        .map(|(a, _)| a.bytes())
        .sum();
    let mut paths: Vec<String> = actions
        .iter()
        .zip(results)
        .filter(|(_, r)| matches!(r, CleanupStep::Deleted | CleanupStep::Truncated))
        .map(|(a, r)| {
            let verb = if *r == CleanupStep::Truncated {
                "truncated "
            } else {
                ""
            };
            format!("{verb}{}", a.path().display())
        })
        .collect();
    if paths.len() > LISTED {
        let more = paths.len() - LISTED;
        paths.truncate(LISTED);
        paths.push(format!("… and {more} more"));
    }
    let failed = results.iter().any(|r| matches!(r, CleanupStep::Failed(_)));
    let result = format!(
        "{}: deleted {}, truncated {}, freed {freed} bytes, skipped {}, failed {}, not needed {}",
        if failed { "failed" } else { "ok" },
        count(|r| *r == CleanupStep::Deleted),
        count(|r| *r == CleanupStep::Truncated),
        count(|r| matches!(r, CleanupStep::Skipped(_))),
        count(|r| matches!(r, CleanupStep::Failed(_))),
        count(|r| *r == CleanupStep::NotNeeded),
    );
    let result = if results.contains(&CleanupStep::Interrupted) {
        format!("{result}; interrupted")
    } else {
        result
    };
    Entry::new(
        "disk-cleanup",
        if paths.is_empty() {
            format!("batch {no}: no file changed")
        } else {
            format!("batch {no}: {}", paths.join(", "))
        },
        result,
    )
}
