//! Carry out a cleanup plan in batches, re-checking before every step.
//!
//! Before each batch the open files and the filesystems are measured again:
//! a file opened since the scan is skipped, and a filesystem that is already
//! below target gets no more deletions. Each batch is one audit entry.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::plan::{Candidate, Plan, Root};
use crate::system::audit::{AuditLog, Entry};
use crate::system::disk;
use crate::system::open_files;
use crate::system::safe_delete::{Identity, Outcome, truncate_deleted, unlink_under};

const BATCH: usize = 256;

/// What happened to one planned action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "reason", rename_all = "snake_case")]
pub enum Done {
    Planned,
    Deleted,
    Truncated,
    /// The file changed or became open since the scan; left alone.
    Skipped(String),
    Failed(String),
    /// Its filesystem got below target before its turn.
    NotNeeded,
}

pub struct Applied {
    /// One per plan action, in plan order.
    pub results: Vec<Done>,
    /// Audit entries that could not be written (a full disk can cause this).
    pub audit_errors: Vec<String>,
}

pub fn apply(plan: &Plan, roots: &[Root], target: f64, audit: &AuditLog, quiet: bool) -> Applied {
    let mut results = vec![Done::Planned; plan.actions.len()];
    let mut audit_errors = Vec::new();
    let bar = crate::output::progress::bar(plan.actions.len() as u64, quiet);
    bar.set_message("cleaning");
    let probe: HashMap<u64, &Path> = roots.iter().map(|r| (r.device, r.path.as_path())).collect();
    for (batch_no, start) in (0..plan.actions.len()).step_by(BATCH).enumerate() {
        let end = (start + BATCH).min(plan.actions.len());
        let held = open_files::gather().held;
        let below: Vec<u64> = probe
            .iter()
            .filter(|(_, p)| target > 0.0 && disk::usage(p).is_ok_and(|u| u.percent < target))
            .map(|(d, _)| *d)
            .collect();
        for (action, result) in plan.actions[start..end]
            .iter()
            .zip(&mut results[start..end])
        {
            *result = if below.contains(&action.device()) {
                Done::NotNeeded
            } else {
                step(action, &held)
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
    }
    bar.finish_and_clear();
    Applied {
        results,
        audit_errors,
    }
}

fn step(action: &Candidate, held: &HashMap<open_files::FileId, open_files::Holder>) -> Done {
    match action {
        Candidate::Unlink(f) => {
            if let Some(h) = held.get(&(f.device, f.inode)) {
                return Done::Skipped(format!("now held open by pid {} ({})", h.pid, h.comm));
            }
            let expect = Identity {
                device: f.device,
                inode: f.inode,
                size: f.size,
                mtime: f.mtime,
                mtime_nsec: f.mtime_nsec,
            };
            match unlink_under(&f.root, &f.path, &expect) {
                Ok(Outcome::Done) => Done::Deleted,
                Ok(Outcome::Changed(why)) => Done::Skipped(why),
                Err(e) => Done::Failed(e.to_string()),
            }
        }
        Candidate::Truncate(d) => match truncate_deleted(d) {
            Ok(Outcome::Done) => Done::Truncated,
            Ok(Outcome::Changed(why)) => Done::Skipped(why),
            Err(e) => Done::Failed(e.to_string()),
        },
    }
}

const LISTED: usize = 20;

fn batch_entry(no: usize, actions: &[Candidate], results: &[Done]) -> Entry {
    let count = |want: fn(&Done) -> bool| results.iter().filter(|r| want(r)).count();
    let freed: u64 = actions
        .iter()
        .zip(results)
        .filter(|(_, r)| matches!(r, Done::Deleted | Done::Truncated))
        .map(|(a, _)| a.bytes())
        .sum();
    let mut paths: Vec<String> = actions
        .iter()
        .zip(results)
        .filter(|(_, r)| matches!(r, Done::Deleted | Done::Truncated))
        .map(|(a, r)| {
            let verb = if *r == Done::Truncated {
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
    let failed = results.iter().any(|r| matches!(r, Done::Failed(_)));
    let result = format!(
        "{}: deleted {}, truncated {}, freed {freed} bytes, skipped {}, failed {}, not needed {}",
        if failed { "failed" } else { "ok" },
        count(|r| *r == Done::Deleted),
        count(|r| *r == Done::Truncated),
        count(|r| matches!(r, Done::Skipped(_))),
        count(|r| matches!(r, Done::Failed(_))),
        count(|r| *r == Done::NotNeeded),
    );
    Entry::new(
        "disk-cleanup",
        format!("batch {no}: {}", paths.join(", ")),
        result,
    )
}
