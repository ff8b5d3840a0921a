//! What `disk usage` and `disk cleanup` print, as tables and as JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::apply::{Applied, CleanupStep};
use super::plan::{Candidate, CleanupPlan, DiskFacts, Eligible, FsPlan, Kept};
use crate::exit::Exit;
use crate::output::{Mark, Report, Styles, keep_whole, table, to_value};
use crate::system::disk::FsUsage;
use crate::system::open_files::FileHolder;
use crate::system::scan::Category;

pub use crate::output::human_bytes as human;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryTotal {
    pub category: Category,
    pub label: &'static str,
    pub files: u64,
    pub bytes: u64,
}

/// Totals per category, largest first.
fn totals<'a>(items: impl Iterator<Item = (Category, u64)> + 'a) -> Vec<CategoryTotal> {
    let mut m: BTreeMap<Category, (u64, u64)> = BTreeMap::new();
    for (c, b) in items {
        let e = m.entry(c).or_default();
        e.0 += 1;
        e.1 += b;
    }
    let mut v: Vec<CategoryTotal> = m
        .into_iter()
        .map(|(category, (files, bytes))| CategoryTotal {
            category,
            label: category.label(),
            files,
            bytes,
        })
        .collect();
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.category.cmp(&b.category)));
    v
}

fn render_notes(out: &mut String, notes: &[String], st: &Styles) {
    for n in notes {
        out.push_str(&st.dim(&format!("note: {n}")));
        out.push('\n');
    }
}

fn holders_text(h: &[FileHolder]) -> String {
    h.iter()
        .map(|h| format!("pid {} ({}) fd {}", h.pid, h.comm, h.fd))
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_kept(out: &mut String, kept: &[Kept]) {
    if kept.is_empty() {
        return;
    }
    let mut t = table(&["kept", "size", "why"]);
    keep_whole(&mut t, 0);
    for k in kept {
        t.add_row(vec![
            k.path.display().to_string(),
            human(k.bytes),
            k.reason.clone(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
}

// ---------------------------------------------------------------- usage

#[derive(Debug, Clone, Serialize)]
pub struct FsReport {
    #[serde(flatten)]
    pub usage: FsUsage,
    #[serde(serialize_with = "crate::output::os_text::paths")]
    pub roots: Vec<PathBuf>,
    /// Bytes cleanup could free here with `--target 0`.
    pub reclaimable: u64,
    /// Largest first.
    pub categories: Vec<CategoryTotal>,
    /// Matching files that must stay (held open, deleted-but-open outside the roots).
    pub kept: Vec<Kept>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub filesystems: Vec<FsReport>,
    pub entries_scanned: u64,
    pub notes: Vec<String>,
}

impl UsageReport {
    pub fn new(facts: &DiskFacts, el: &Eligible, entries_scanned: u64, notes: Vec<String>) -> Self {
        let filesystems = facts
            .filesystems
            .iter()
            .map(|fs| {
                let here = el.candidates.iter().filter(|c| c.device() == fs.device);
                let categories = totals(here.clone().map(|c| (c.category(), c.bytes())));
                FsReport {
                    usage: fs.clone(),
                    roots: facts
                        .roots
                        .iter()
                        .filter(|r| r.device == fs.device)
                        .map(|r| r.path.clone())
                        .collect(),
                    reclaimable: here.map(Candidate::bytes).sum(),
                    categories,
                    kept: el
                        .kept
                        .iter()
                        .filter(|k| kept_device(facts, k) == Some(fs.device))
                        .cloned()
                        .collect(),
                }
            })
            .collect();
        UsageReport {
            filesystems,
            entries_scanned,
            notes,
        }
    }
}

/// The filesystem a kept file is on: found by its path among the facts.
fn kept_device(facts: &DiskFacts, k: &Kept) -> Option<u64> {
    facts
        .found
        .iter()
        .find(|f| f.path == k.path)
        .map(|f| f.device)
        .or_else(|| {
            facts
                .deleted
                .iter()
                .find(|d| d.path == k.path)
                .map(|d| d.device)
        })
}

impl Report for UsageReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        let mut t = table(&[
            "mount",
            "type",
            "size",
            "used",
            "avail",
            "use%",
            "reclaimable",
        ]);
        keep_whole(&mut t, 0);
        for f in &self.filesystems {
            t.add_row(vec![
                f.usage.mount_point.display().to_string(),
                f.usage.fs_type.clone(),
                human(f.usage.total),
                human(f.usage.used),
                human(f.usage.avail),
                format!("{:.1}%", f.usage.percent),
                human(f.reclaimable),
            ]);
        }
        out.push_str(&format!("{t}\n"));
        for f in &self.filesystems {
            let roots: Vec<String> = f.roots.iter().map(|r| r.display().to_string()).collect();
            out.push_str(&format!(
                "\n{} {}\n",
                st.bold(&f.usage.mount_point.display().to_string()),
                st.dim(&format!("(roots: {})", roots.join(", ")))
            ));
            if f.categories.is_empty() {
                out.push_str("  nothing reclaimable\n");
            } else {
                let mut c = table(&["category", "files", "reclaimable"]);
                for cat in &f.categories {
                    c.add_row(vec![
                        cat.label.to_string(),
                        cat.files.to_string(),
                        human(cat.bytes),
                    ]);
                }
                out.push_str(&format!("{c}\n"));
            }
            render_kept(&mut out, &f.kept);
        }
        render_notes(&mut out, &self.notes, st);
        out
    }
}

// ---------------------------------------------------------------- cleanup

#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    #[serde(skip)]
    pub device: u64,
    pub op: &'static str,
    pub category: Category,
    #[serde(serialize_with = "crate::output::os_text::path")]
    pub path: PathBuf,
    pub bytes: u64,
    /// RFC 3339 modification time.
    pub modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<FileHolder>,
    #[serde(flatten)]
    pub done: CleanupStep,
}

#[derive(Debug, Clone, Serialize)]
pub struct FsOutcome {
    #[serde(flatten)]
    pub plan: FsPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_after: Option<f64>,
    /// statvfs used bytes right before the first action and after the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_before: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_after: Option<u64>,
    /// `used_before - used_after`: negative when others wrote more meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freed_measured: Option<i64>,
    /// What the actions done here should have given back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freed_planned: Option<u64>,
}

/// Below this, other writers' noise outweighs a shortfall.
const SHORTFALL_MIN: u64 = 1 << 20;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Freed {
    /// What statvfs says came back (the sum over filesystems that shrank);
    /// `null` when it could not be measured.
    pub bytes: Option<u64>,
    pub measured_bytes: Option<u64>,
    /// What the done actions should have given back, by the files' sizes.
    pub planned_bytes: u64,
    pub deleted: u64,
    pub truncated: u64,
    pub by_category: Vec<CategoryTotal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CleanupReport {
    pub dry_run: bool,
    pub target: u8,
    #[serde(serialize_with = "crate::output::os_text::paths")]
    pub roots: Vec<PathBuf>,
    pub filesystems: Vec<FsOutcome>,
    /// Oldest first, in the order they were (or would be) applied.
    pub actions: Vec<ActionView>,
    pub kept: Vec<Kept>,
    pub freed: Freed,
    /// Eligible files left because their filesystem reached target without them.
    pub not_needed: u64,
    /// Matching files not old enough yet.
    pub too_young: u64,
    pub notes: Vec<String>,
    pub status: Exit,
    /// A dry run's applying command (same arguments), when it would change anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Set when files were kept that `--force` would take: the forced command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_forced: Option<String>,
}

fn modified(mtime: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

impl CleanupReport {
    pub fn planned(
        facts: &DiskFacts,
        plan: &CleanupPlan,
        target: u8,
        dry_run: bool,
        notes: Vec<String>,
    ) -> Self {
        let actions = plan
            .actions
            .iter()
            .map(|c| ActionView {
                device: c.device(),
                op: match c {
                    Candidate::Unlink(_) => "delete",
                    Candidate::Truncate(_) => "truncate",
                },
                category: c.category(),
                path: c.path().to_path_buf(),
                bytes: c.bytes(),
                modified: modified(c.mtime()),
                holders: match c {
                    Candidate::Truncate(d) => d.holders.clone(),
                    Candidate::Unlink(_) => Vec::new(),
                },
                done: CleanupStep::Planned,
            })
            .collect();
        let mut r = CleanupReport {
            dry_run,
            target,
            roots: facts.roots.iter().map(|r| r.path.clone()).collect(),
            filesystems: plan
                .filesystems
                .iter()
                .map(|p| FsOutcome {
                    plan: p.clone(),
                    percent_after: None,
                    used_before: None,
                    used_after: None,
                    freed_measured: None,
                    freed_planned: None,
                })
                .collect(),
            actions,
            kept: plan.kept.clone(),
            freed: Freed::default(),
            not_needed: plan.not_needed,
            too_young: plan.too_young,
            notes,
            status: Exit::Ok,
            next: None,
            next_forced: None,
        };
        r.status = r.verdict(|f| f.plan.percent_projected, false);
        r
    }

    /// 0 when every filesystem that needed it is below target (with target 0:
    /// when everything eligible went), 2 when nothing could be done because
    /// of failures, 1 otherwise: partly done.
    fn verdict(&self, percent: impl Fn(&FsOutcome) -> f64, failures: bool) -> Exit {
        let reached = self.filesystems.iter().filter(|f| f.plan.needed).all(|f| {
            if self.target == 0 {
                !failures
            } else {
                percent(f) < f64::from(self.target)
            }
        });
        let progressed = self.freed.deleted + self.freed.truncated > 0;
        if reached {
            Exit::Ok
        } else if failures && !progressed {
            Exit::Critical
        } else {
            Exit::Warning
        }
    }

    /// Fold in what apply did, and what statvfs measured `before` the first
    /// action and `after` the last: only the measurement says "freed".
    pub fn applied(&mut self, applied: &Applied, before: &[FsUsage], after: &[FsUsage]) {
        let mut freed = Freed::default();
        let mut done_items = Vec::new();
        let mut planned_on: BTreeMap<u64, u64> = BTreeMap::new();
        for (a, d) in self.actions.iter_mut().zip(&applied.results) {
            a.done = d.clone();
            match d {
                CleanupStep::Deleted => freed.deleted += 1,
                CleanupStep::Truncated => freed.truncated += 1,
                _ => continue,
            }
            freed.planned_bytes += a.bytes;
            *planned_on.entry(a.device).or_default() += a.bytes;
            done_items.push((a.category, a.bytes));
        }
        freed.by_category = totals(done_items.into_iter());
        let mut measured: Option<u64> = Some(0);
        let mut shortfalls = Vec::new();
        for f in &mut self.filesystems {
            let dev = f.plan.device;
            let was = before.iter().find(|u| u.device == dev);
            let now = after.iter().find(|u| u.device == dev);
            f.percent_after = now.map(|u| u.percent);
            f.used_before = was.map(|u| u.used);
            f.used_after = now.map(|u| u.used);
            let planned = planned_on.get(&dev).copied().unwrap_or(0);
            f.freed_planned = Some(planned);
            f.freed_measured = match (was, now) {
                (Some(w), Some(n)) => Some(w.used as i64 - n.used as i64),
                _ => None,
            };
            match f.freed_measured {
                Some(m) => measured = measured.map(|t| t + m.max(0) as u64),
                None if planned > 0 => measured = None,
                None => {}
            }
            let got = f.freed_measured.unwrap_or(0).max(0) as u64;
            if planned >= SHORTFALL_MIN && got < planned / 2 {
                shortfalls.push(format!(
                    "space not returned on {}: statvfs shows {} freed of {} planned \
(used {} → {}); a process hal9ctl could not see may still hold deleted files open — \
run `hal9ctl disk usage` as root to find it",
                    f.plan.mount_point.display(),
                    human(got),
                    human(planned),
                    f.used_before.map(human).unwrap_or_else(|| "?".into()),
                    f.used_after.map(human).unwrap_or_else(|| "?".into()),
                ));
            }
        }
        freed.measured_bytes = measured;
        freed.bytes = measured;
        self.freed = freed;
        self.notes.extend(
            applied
                .audit_errors
                .iter()
                .map(|e| format!("audit log not written: {e}")),
        );
        let failures = applied
            .results
            .iter()
            .any(|d| matches!(d, CleanupStep::Failed(_)));
        self.status = self.verdict(
            |f| f.percent_after.unwrap_or(f.plan.percent_before),
            failures,
        );
        // A planned file left in place (held, changed) is work not done; with
        // --target 0 (everything that matches) so is a file kept at planning
        // (held open, mapped): the operator asked for it and did not get it.
        let skipped = applied
            .results
            .iter()
            .any(|d| matches!(d, CleanupStep::Skipped(_)));
        let left_in_place = skipped || self.kept.iter().any(|k| k.under_root);
        if (left_in_place && self.target == 0 || !shortfalls.is_empty()) && self.status == Exit::Ok
        {
            self.status = Exit::Warning;
        }
        self.notes.extend(shortfalls);
        if applied.results.contains(&CleanupStep::Interrupted) {
            self.status = Exit::Interrupted;
        }
    }

    pub fn deletes(&self) -> usize {
        self.actions.iter().filter(|a| a.op == "delete").count()
    }

    pub fn truncates(&self) -> usize {
        self.actions.iter().filter(|a| a.op == "truncate").count()
    }

    pub fn planned_bytes(&self) -> u64 {
        self.actions.iter().map(|a| a.bytes).sum()
    }

    /// Pure: how a dry run ends. `apply` is the command with the same
    /// arguments; `forced` its `--force` form, named only when some kept file
    /// says `--force` would take it (the plain command leaves those alone).
    pub fn dry_run_ending(&mut self, apply: String, forced: Option<String>) {
        let force_would_take = self.kept.iter().any(|k| k.reason.contains("--force"));
        if !self.actions.is_empty() || force_would_take {
            self.next = Some(apply);
        }
        if force_would_take {
            self.next_forced = forced;
        }
    }

    pub fn root_list(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Report for CleanupReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        let head = if self.dry_run {
            "plan (dry run, nothing changed)"
        } else {
            "cleanup"
        };
        let goal = if self.target == 0 {
            "everything eligible".to_string()
        } else {
            format!("until below {}%", self.target)
        };
        out.push_str(&format!(
            "{}: {goal} under {}\n",
            st.bold(head),
            self.root_list()
        ));
        if self.actions.is_empty() {
            out.push_str("nothing to delete\n");
        } else {
            let mut t = table(&["", "action", "category", "size", "modified", "path"]);
            keep_whole(&mut t, 5);
            for a in &self.actions {
                let (mark, what) = match &a.done {
                    CleanupStep::Planned => (st.dim("·"), a.op.to_string()),
                    CleanupStep::Deleted => (st.mark(Mark::Ok), "deleted".into()),
                    CleanupStep::Truncated => (st.mark(Mark::Ok), "truncated".into()),
                    CleanupStep::NotNeeded => (st.dim("·"), "not needed".into()),
                    CleanupStep::Interrupted => (st.mark(Mark::Warn), "interrupted".into()),
                    CleanupStep::Skipped(why) => (st.mark(Mark::Warn), format!("skipped: {why}")),
                    CleanupStep::Failed(why) => (st.mark(Mark::Fail), format!("failed: {why}")),
                };
                let mut path = a.path.display().to_string();
                if !a.holders.is_empty() {
                    path.push_str(&format!(" (held by {})", holders_text(&a.holders)));
                }
                t.add_row(vec![
                    mark,
                    what,
                    a.category.label().into(),
                    human(a.bytes),
                    a.modified.clone(),
                    path,
                ]);
            }
            out.push_str(&format!("{t}\n"));
        }
        render_kept(&mut out, &self.kept);
        let mut t = table(&["mount", "use% before", "projected", "after"]);
        keep_whole(&mut t, 0);
        for f in &self.filesystems {
            t.add_row(vec![
                f.plan.mount_point.display().to_string(),
                format!("{:.1}%", f.plan.percent_before),
                format!("{:.1}%", f.plan.percent_projected),
                f.percent_after
                    .map(|p| format!("{p:.1}%"))
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&format!("{t}\n"));
        if !self.dry_run {
            let measured = match self.freed.bytes {
                Some(b) => format!("freed {} (statvfs, before → after)", human(b)),
                None => "freed: unknown (the filesystem could not be measured)".into(),
            };
            out.push_str(&format!(
                "{measured}; the {} deleted and {} truncated files held {}\n",
                self.freed.deleted,
                self.freed.truncated,
                human(self.freed.planned_bytes),
            ));
            for c in &self.freed.by_category {
                out.push_str(&format!(
                    "  {}: {} in {} files\n",
                    c.label,
                    human(c.bytes),
                    c.files
                ));
            }
        }
        if self.too_young + self.not_needed > 0 {
            out.push_str(&st.dim(&format!(
                "left alone: {} not old enough, {} not needed to reach target\n",
                self.too_young, self.not_needed
            )));
        }
        render_notes(&mut out, &self.notes, st);
        if let Some(next) = &self.next {
            out.push_str(&format!(
                "to apply: {next}   # shows this plan and asks at a terminal; add --yes without one\n"
            ));
        }
        if let Some(forced) = &self.next_forced {
            out.push_str(&format!(
                "{} some files are kept unless forced (see kept): {forced}\n",
                st.mark(Mark::Warn)
            ));
        }
        if self.status == Exit::Interrupted {
            out.push_str(&format!(
                "{} interrupted: what was done is above and in the audit log; \
run the same command again to continue\n",
                st.mark(Mark::Warn)
            ));
        } else if self.status != Exit::Ok {
            let what = if self.target == 0 {
                "some matching files were left in place (see kept and the notes)".to_string()
            } else {
                format!(
                    "still at or above {}% after everything eligible",
                    self.target
                )
            };
            out.push_str(&format!(
                "{} {what}\nnext: hal9ctl disk usage -o json   # see what else uses the space\n",
                st.mark(Mark::Warn)
            ));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::plan::{CleanupPlan, FsPlan};
    use crate::system::scan::FoundFile;

    fn usage(used: u64) -> FsUsage {
        FsUsage {
            device: 1,
            mount_point: PathBuf::from("/srv"),
            fs_type: "ext4".into(),
            total: 100 << 20,
            used,
            avail: (100 << 20) - used,
            percent: crate::system::disk::percent(used, (100 << 20) - used),
        }
    }

    /// A report for one 8 MiB log, deleted by apply.
    fn deleted_8mib() -> (CleanupReport, Applied) {
        let f = FoundFile {
            root: PathBuf::from("/srv/logs"),
            path: PathBuf::from("/srv/logs/a.log"),
            category: Category::Logs,
            device: 1,
            inode: 5,
            size: 8 << 20,
            bytes: 8 << 20,
            mtime: 0,
            mtime_nsec: 0,
        };
        let plan = CleanupPlan {
            actions: vec![Candidate::Unlink(f)],
            filesystems: vec![FsPlan {
                device: 1,
                mount_point: PathBuf::from("/srv"),
                percent_before: 50.0,
                needed: true,
                planned_bytes: 8 << 20,
                percent_projected: 42.0,
            }],
            ..CleanupPlan::default()
        };
        let r = CleanupReport::planned(&DiskFacts::default(), &plan, 0, false, Vec::new());
        let applied = Applied {
            results: vec![CleanupStep::Deleted],
            audit_errors: Vec::new(),
        };
        (r, applied)
    }

    #[test]
    fn freed_is_what_statvfs_measured_not_what_was_planned() {
        let (mut r, applied) = deleted_8mib();
        r.applied(&applied, &[usage(50 << 20)], &[usage(42 << 20)]);
        assert_eq!(r.freed.bytes, Some(8 << 20));
        assert_eq!(r.freed.planned_bytes, 8 << 20);
        assert_eq!(r.filesystems[0].freed_measured, Some(8 << 20));
        assert_eq!(r.status, Exit::Ok);
        assert!(r.notes.is_empty(), "{:?}", r.notes);

        // Deleted, but a holder nobody could see keeps the blocks.
        let (mut r, applied) = deleted_8mib();
        r.applied(&applied, &[usage(50 << 20)], &[usage(50 << 20)]);
        assert_eq!(r.freed.bytes, Some(0));
        assert_eq!(r.freed.planned_bytes, 8 << 20);
        assert_eq!(r.status, Exit::Warning);
        assert!(r.notes[0].contains("space not returned"), "{:?}", r.notes);
        let text = r.render(&Styles { color: false });
        assert!(text.contains("freed 0 B (statvfs"), "{text}");

        // Not measured: unknown, never a number.
        let (mut r, applied) = deleted_8mib();
        r.applied(&applied, &[], &[]);
        assert_eq!(r.freed.bytes, None);
        assert!(
            r.render(&Styles { color: false })
                .contains("freed: unknown")
        );
    }

    #[test]
    fn a_dry_run_ends_with_the_applying_command_and_names_force_when_it_matters() {
        let (mut r, _) = deleted_8mib();
        r.dry_run = true;
        r.dry_run_ending(
            "hal9ctl disk cleanup /srv --target 80".into(),
            Some("hal9ctl disk cleanup /srv --target 80 --force".into()),
        );
        let text = r.render(&Styles { color: false });
        assert!(
            text.contains("to apply: hal9ctl disk cleanup /srv --target 80   #"),
            "{text}"
        );
        assert_eq!(r.next_forced, None, "nothing kept: --force changes nothing");

        r.kept.push(Kept {
            path: PathBuf::from("/srv/open.log"),
            category: Category::DeletedOpen,
            bytes: 1,
            reason: "deleted but open outside the cleanup roots (--force truncates it)".into(),
            holders: Vec::new(),
            under_root: false,
        });
        r.dry_run_ending("a".into(), Some("a --force".into()));
        assert_eq!(r.next_forced.as_deref(), Some("a --force"));
        assert!(
            r.render(&Styles { color: false })
                .contains("kept unless forced (see kept): a --force")
        );

        let mut empty = CleanupReport::planned(
            &DiskFacts::default(),
            &CleanupPlan::default(),
            80,
            true,
            vec![],
        );
        empty.dry_run_ending("a".into(), Some("a --force".into()));
        assert_eq!(empty.next, None, "nothing to apply: no command to apply it");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn totals_are_largest_first() {
        let t = totals(
            vec![
                (Category::Logs, 10),
                (Category::Crash, 500),
                (Category::Logs, 20),
                (Category::Rotated, 100),
            ]
            .into_iter(),
        );
        let order: Vec<Category> = t.iter().map(|c| c.category).collect();
        assert_eq!(
            order,
            vec![Category::Crash, Category::Rotated, Category::Logs]
        );
        assert_eq!(t[2].files, 2);
        assert_eq!(t[2].bytes, 30);
    }
}
