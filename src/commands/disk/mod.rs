//! `hal9ctl disk usage` and `hal9ctl disk cleanup`: gather → plan → apply.

mod apply;
pub mod plan;
mod report;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cli::Ctx;
use crate::cli::args::{DiskCleanupArgs, DiskUsageArgs};
use crate::exit::Failure;
use crate::output::prompt::confirm;
use crate::system::audit::{AuditLog, Entry};
use crate::system::{disk, open_files, scan};
use plan::{Facts, Options, Root};
pub use report::{CleanupReport, UsageReport};

/// Directories no cleanup may take as a root: everything below them belongs
/// to the system, not to HAL9.
const SYSTEM_DIRS: [&str; 14] = [
    "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/run", "/sbin", "/sys",
    "/usr", "/var", "/home",
];

const NEXT_ROOT: &str = "hal9ctl disk usage /var/log/hal9   # give an existing directory";

/// The roots: PATH arguments (must exist: a typo is a usage error), then
/// `cleanup.roots` and the state dir (skipped with a note when missing).
fn roots(ctx: &Ctx, paths: &[PathBuf], notes: &mut Vec<String>) -> Result<Vec<Root>, Failure> {
    let cfg = &ctx.config().cleanup;
    let mut out: Vec<Root> = Vec::new();
    let mut add = |p: &Path, explicit: bool, notes: &mut Vec<String>| -> Result<(), Failure> {
        let canonical = match std::fs::canonicalize(p) {
            Ok(c) if c.is_dir() => c,
            Ok(_) if explicit => {
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
            _ => {
                notes.push(format!(
                    "cleanup root {} does not exist; skipped",
                    p.display()
                ));
                return Ok(());
            }
        };
        if SYSTEM_DIRS.iter().any(|s| canonical == Path::new(s)) {
            return Err(Failure::usage(format!(
                "refusing {} as a cleanup root: it is a system directory",
                canonical.display()
            ))
            .with_next(
                "hal9ctl disk cleanup /var/log/hal9   # name the application's own directory",
            ));
        }
        let device = std::fs::metadata(&canonical)
            .map_err(|e| Failure::usage(format!("cannot stat {}: {e}", canonical.display())))?
            .dev();
        if !out.iter().any(|r| r.path == canonical) {
            out.push(Root {
                path: canonical,
                device,
            });
        }
        Ok(())
    };
    for p in paths {
        add(p, true, notes)?;
    }
    for p in &cfg.roots {
        add(p, false, notes)?;
    }
    if cfg.include_state_dir && ctx.state_dir.is_dir() {
        add(&ctx.state_dir, false, notes)?;
    }
    if out.is_empty() {
        return Err(Failure::usage(
            "no cleanup roots: give a PATH or set cleanup.roots in hal9.toml",
        )
        .with_next(NEXT_ROOT));
    }
    Ok(out)
}

struct Gathered {
    facts: Facts,
    scan: scan::Scan,
    unreadable_procs: usize,
}

/// Scan the roots, read every process's open files, measure the filesystems.
fn gather(ctx: &Ctx, roots: Vec<Root>, target_dirs: bool) -> Result<Gathered, Failure> {
    let mut patterns = ctx
        .config()
        .cleanup
        .patterns()
        .map_err(|e| Failure::usage(format!("invalid config: {e}")))?;
    patterns.target_dirs |= target_dirs;
    let spinner = crate::output::progress::spinner("scanning cleanup roots", ctx.global.quiet);
    let root_paths: Vec<PathBuf> = roots.iter().map(|r| r.path.clone()).collect();
    let scan = scan::scan(&root_paths, &patterns, &mut |n| {
        spinner.set_message(format!("scanned {n} entries"))
    });
    spinner.set_message("reading open files from /proc");
    let open = open_files::gather();
    spinner.finish_and_clear();
    let devices: BTreeSet<u64> = roots.iter().map(|r| r.device).collect();
    let mut filesystems = Vec::new();
    for dev in devices {
        let Some(root) = roots.iter().find(|r| r.device == dev) else {
            continue;
        };
        let u = disk::usage(&root.path).map_err(|e| {
            Failure::unknown(format!(
                "cannot measure the filesystem of {}: {e}",
                root.path.display()
            ))
        })?;
        filesystems.push(u);
    }
    Ok(Gathered {
        facts: Facts {
            roots,
            filesystems,
            found: scan.found.clone(),
            deleted: open.deleted,
            held: open.held,
        },
        scan,
        unreadable_procs: open.unreadable,
    })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn scan_notes(g: &Gathered, notes: &mut Vec<String>) {
    if g.scan.symlinks_skipped > 0 {
        notes.push(format!("{} symlinks not followed", g.scan.symlinks_skipped));
    }
    for m in &g.scan.mounts_skipped {
        notes.push(format!(
            "{} is another filesystem; not entered",
            m.display()
        ));
    }
    for e in &g.scan.errors {
        notes.push(format!("unreadable: {e}"));
    }
    if g.unreadable_procs > 0 && !nix::unistd::geteuid().is_root() {
        notes.push(format!(
            "{} processes' open files could not be read (not root); their files count as not open",
            g.unreadable_procs
        ));
    }
}

pub fn usage(ctx: &Ctx, args: &DiskUsageArgs) -> anyhow::Result<UsageReport> {
    let cfg = &ctx.config().cleanup;
    let mut notes = Vec::new();
    let roots = roots(ctx, &args.paths, &mut notes)?;
    let g = gather(ctx, roots, args.include_target_dirs)?;
    scan_notes(&g, &mut notes);
    let opts = Options {
        target: 0.0,
        older_than: args.older_than.unwrap_or(cfg.older_than),
        crash_older_than: cfg.crash_older_than,
        force: false,
        now: now(),
    };
    let el = plan::eligible(&g.facts, &opts);
    Ok(UsageReport::new(&g.facts, &el, g.scan.files_seen, notes))
}

pub fn cleanup(ctx: &Ctx, args: &DiskCleanupArgs) -> anyhow::Result<CleanupReport> {
    let cfg = &ctx.config().cleanup;
    let mut notes = Vec::new();
    let roots = roots(ctx, &args.paths, &mut notes)?;
    let target = args.target.unwrap_or(cfg.target);
    let opts = Options {
        target: f64::from(target),
        older_than: args.older_than.unwrap_or(cfg.older_than),
        crash_older_than: cfg.crash_older_than,
        force: args.force,
        now: now(),
    };
    let g = gather(ctx, roots, args.include_target_dirs)?;
    scan_notes(&g, &mut notes);
    let plan = plan::plan(&g.facts, &opts);
    let mut report = CleanupReport::planned(&g.facts, &plan, target, ctx.global.dry_run, notes);
    if ctx.global.dry_run || plan.actions.is_empty() {
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
    let applied = apply::apply(&plan, &g.facts.roots, opts.target, &audit, ctx.global.quiet);
    let after = g
        .facts
        .roots
        .iter()
        .filter_map(|r| disk::usage(&r.path).ok())
        .collect::<Vec<_>>();
    report.applied(&applied, &after);
    Ok(report)
}

/// The command to retry with, for a refusal's `next:` line.
fn retry_command(args: &DiskCleanupArgs, target: u8, older_than: Duration) -> String {
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
    if args.force {
        cmd.push_str(" --force");
    }
    cmd.push_str(" --yes   # or --dry-run to see the plan first");
    cmd
}

fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
