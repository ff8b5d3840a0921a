//! `hal9ctl disk usage` and `hal9ctl disk cleanup`: gather → plan → apply.

mod apply;
pub mod plan;
mod report;
mod settings;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cli::Ctx;
use crate::exit::Failure;
use crate::output::prompt::confirm;
use crate::output::shell_word::shell_word;
use crate::system::audit::{AuditLog, Entry};
use crate::system::root_dir::RootDir;
use crate::system::{disk, open_files, scan};
use plan::{DiskFacts, Options, Root};
pub use report::{CleanupReport, UsageReport};
pub use settings::{DiskCleanupSettings, DiskUsageSettings};

const NEXT_ROOT: &str = "hal9ctl disk usage ./logs   # give an existing directory";

use plan::RootSource as Source;

/// The roots, each opened once and held: PATH arguments, then
/// `cleanup.roots` and the state dir (skipped with a note when missing).
fn roots(ctx: &Ctx, paths: &[PathBuf], notes: &mut Vec<String>) -> Result<Vec<RootDir>, Failure> {
    let cfg = &ctx.config().cleanup;
    // Canonical forms of the configured roots, for the system-directory rule.
    let configured: Vec<PathBuf> = cfg
        .roots
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut out: Vec<RootDir> = Vec::new();
    let mut add = |p: &Path, source: Source, notes: &mut Vec<String>| -> Result<(), Failure> {
        let explicit = source == Source::Argument;
        let root = match RootDir::open(p) {
            Ok(r) => r,
            Err(e) if explicit && e.raw_os_error() == Some(libc::ENOTDIR) => {
                return Err(Failure::usage(format!(
                    "cleanup root {} is not a directory",
                    p.display()
                ))
                .with_next(NEXT_ROOT));
            }
            Err(e) if explicit => {
                return Err(Failure::usage(format!(
                    "cleanup root {} does not exist or is unreadable: {e}",
                    p.display()
                ))
                .with_next(NEXT_ROOT));
            }
            Err(e) => {
                notes.push(format!("cleanup root {} skipped: {e}", p.display()));
                return Ok(());
            }
        };
        let refusal = plan::root_refusal(&root.path, &root.also_visible_at(), source, &configured);
        if let Some(why) = refusal {
            return Err(Failure::usage(why).with_next(format!(
                "add roots = [\"{}\"] under [cleanup] in hal9.toml if HAL9 owns it, \
or name the application's own directory",
                root.path.display()
            )));
        }
        if !out.iter().any(|r| r.path == root.path) {
            out.push(root);
        }
        Ok(())
    };
    for p in paths {
        add(p, Source::Argument, notes)?;
    }
    for p in &cfg.roots {
        add(p, Source::Config, notes)?;
    }
    if cfg.include_state_dir && ctx.state_dir.is_dir() {
        add(&ctx.state_dir, Source::StateDir, notes)?;
    }
    if out.is_empty() {
        return Err(Failure::usage(
            "no cleanup roots: give a PATH or set cleanup.roots in hal9.toml",
        )
        .with_next(NEXT_ROOT));
    }
    Ok(out)
}

struct GatheredDisk {
    facts: DiskFacts,
    scan: scan::Scan,
    unseen: Vec<open_files::Mapper>,
}

/// Scan the roots, read every process's open files, measure the filesystems.
fn gather(ctx: &Ctx, held: &[RootDir], target_dirs: bool) -> Result<GatheredDisk, Failure> {
    let mut patterns = ctx
        .config()
        .cleanup
        .patterns()
        .map_err(|e| Failure::usage(format!("invalid config: {e}")))?;
    patterns.target_dirs |= target_dirs;
    let spinner = crate::output::progress::spinner_on(
        "scanning cleanup roots",
        ctx.printer.progress_target(),
    );
    let scan = scan::scan(held, &patterns, &mut |n| {
        spinner.set_message(format!("scanned {n} entries"))
    });
    spinner.set_message("reading open files from /proc");
    let open = open_files::gather();
    spinner.finish_and_clear();
    let roots: Vec<Root> = held
        .iter()
        .map(|r| Root {
            path: r.path.clone(),
            device: r.device,
            mount: r.mount,
        })
        .collect();
    let devices: BTreeSet<u64> = roots.iter().map(|r| r.device).collect();
    let mut filesystems = Vec::new();
    for dev in devices {
        let Some(root) = held.iter().find(|r| r.device == dev) else {
            continue;
        };
        let u = disk::usage_of(root).map_err(|e| {
            Failure::unknown(format!(
                "cannot measure the filesystem of {}: {e}",
                root.path.display()
            ))
        })?;
        filesystems.push(u);
    }
    Ok(GatheredDisk {
        facts: DiskFacts {
            roots,
            filesystems,
            found: scan.found.clone(),
            deleted: open.deleted,
            held: open.held,
            mapped: open.mapped,
            blind: open.unreadable,
        },
        scan,
        unseen: open.unseen,
    })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn scan_notes(g: &GatheredDisk, notes: &mut Vec<String>) {
    if g.scan.symlinks_skipped > 0 {
        notes.push(format!("{} symlinks not followed", g.scan.symlinks_skipped));
    }
    for m in &g.scan.mounts_skipped {
        notes.push(format!("{} is another mount; not entered", m.display()));
    }
    for e in &g.scan.errors {
        notes.push(format!("unreadable: {e}"));
    }
    if g.facts.blind > 0 {
        let who: Vec<String> = g
            .unseen
            .iter()
            .map(|m| format!("pid {} ({})", m.pid, m.comm))
            .collect();
        notes.push(format!(
            "WARNING: the open files or memory maps of {} processes could not be read ({}{}): \
the files they hold are not listed here. Each delete is made under a kernel write lease, \
so a file they hold open is skipped, not deleted; deleted-but-open files are not truncated \
without --force. {}",
            g.facts.blind,
            who.join(", "),
            if g.facts.blind > who.len() {
                ", …"
            } else {
                ""
            },
            if nix::unistd::geteuid().is_root() {
                "They run with privileges hal9ctl lacks (another user namespace, or \
capabilities it does not have)."
            } else {
                "Run as root to see them."
            }
        ));
    }
}

pub fn usage(ctx: &Ctx, args: &DiskUsageSettings) -> anyhow::Result<UsageReport> {
    let cfg = &ctx.config().cleanup;
    let mut notes = Vec::new();
    let held = roots(ctx, &args.paths, &mut notes)?;
    let g = gather(ctx, &held, args.include_target_dirs)?;
    scan_notes(&g, &mut notes);
    let opts = Options {
        target: 0.0,
        older_than: args.older_than,
        crash_older_than: cfg.crash_older_than,
        force: false,
        now: now(),
    };
    let el = plan::eligible(&g.facts, &opts);
    Ok(UsageReport::new(&g.facts, &el, g.scan.files_seen, notes))
}

pub fn cleanup(ctx: &Ctx, args: &DiskCleanupSettings) -> anyhow::Result<CleanupReport> {
    let cfg = &ctx.config().cleanup;
    let mut notes = Vec::new();
    let held = roots(ctx, &args.paths, &mut notes)?;
    let target = args.target;
    let opts = Options {
        target: f64::from(target),
        older_than: args.older_than,
        crash_older_than: cfg.crash_older_than,
        force: args.force,
        now: now(),
    };
    let g = gather(ctx, &held, args.include_target_dirs)?;
    scan_notes(&g, &mut notes);
    let plan = plan::plan(&g.facts, &opts);
    let mut report = CleanupReport::planned(&g.facts, &plan, target, ctx.global.dry_run, notes);
    if ctx.global.dry_run {
        report.dry_run_ending(
            apply_command(args, target, opts.older_than, args.force),
            (!args.force).then(|| apply_command(args, target, opts.older_than, true)),
        );
        return Ok(report);
    }
    if plan.actions.is_empty() {
        return Ok(report);
    }

    let audit = AuditLog::new(&ctx.state_dir);
    let question = format!(
        "delete {} files and truncate {} deleted-but-open files ({}) under {}",
        report.deletes(),
        report.truncates(),
        report::human(report.planned_bytes()),
        report.root_list()
    );
    let retry = retry_command(args, target, opts.older_than);
    match confirm(&question, ctx.global.yes, &retry) {
        Ok(true) => {}
        Ok(false) => {
            let _ = audit.record(&Entry::new(
                "disk-cleanup",
                report.root_list(),
                "refused: answered no",
            ));
            return Err(Failure::critical("cleanup cancelled: nothing was deleted")
                .with_next(retry)
                .into());
        }
        Err(f) => {
            let _ = audit.record(&Entry::new(
                "disk-cleanup",
                report.root_list(),
                "refused: no terminal and no --yes",
            ));
            return Err(f.into());
        }
    }
    let before = measure(&held);
    let applied = apply::apply(
        &plan,
        &held,
        opts.target,
        opts.force,
        &audit,
        ctx.printer.progress_target(),
    );
    let after = measure(&held);
    report.applied(&applied, &before, &after);
    Ok(report)
}

/// Each cleaned filesystem once, measured through a root's held fd.
fn measure(held: &[RootDir]) -> Vec<disk::FsUsage> {
    let mut out: Vec<disk::FsUsage> = Vec::new();
    for r in held {
        if out.iter().any(|u| u.device == r.device) {
            continue;
        }
        if let Ok(u) = disk::usage_of(r) {
            out.push(u);
        }
    }
    out
}

/// The command to retry with, for a refusal's `next:` line.
fn retry_command(args: &DiskCleanupSettings, target: u8, older_than: Duration) -> String {
    let mut cmd = apply_command(args, target, older_than, args.force);
    cmd.push_str(" --yes   # or --dry-run to see the plan first");
    cmd
}

/// Pure: the command that applies this cleanup, with the same arguments
/// (the defaults spelled out, so a changed config cannot change the plan).
fn apply_command(
    args: &DiskCleanupSettings,
    target: u8,
    older_than: Duration,
    force: bool,
) -> String {
    let mut cmd = String::from("hal9ctl disk cleanup");
    for p in &args.paths {
        cmd.push(' ');
        cmd.push_str(&shell_word(&p.display().to_string()));
    }
    cmd.push_str(&format!(
        " --target {target} --older-than {}",
        humantime::format_duration(older_than)
    ));
    if args.include_target_dirs {
        cmd.push_str(" --include-target-dirs");
    }
    if force {
        cmd.push_str(" --force");
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggested_command_keeps_an_empty_or_odd_path_one_word() {
        let s = DiskCleanupSettings {
            paths: vec![
                PathBuf::from(""),
                PathBuf::from("/var/log/a b"),
                PathBuf::from("/srv/x@1"),
            ],
            include_target_dirs: false,
            older_than: Duration::from_secs(3600),
            target: 80,
            force: false,
        };
        assert_eq!(
            apply_command(&s, 80, Duration::from_secs(3600), false),
            "hal9ctl disk cleanup '' '/var/log/a b' /srv/x@1 --target 80 --older-than 1h"
        );
    }
}
