//! The cleanup policy: a pure function from what was found to what to do.
//!
//! Every safety rule that depends on facts lives here, so it is tested on
//! plain data: files held open are never unlinked, deleted-but-open files are
//! truncated only under a root (or with `--force` on a cleaned filesystem),
//! oldest go first, and each filesystem stops once projected below target.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::system::disk::{FsUsage, percent};
use crate::system::open_files::{DeletedOpen, FileHolder, FileId, Mapped};
use crate::system::scan::{Category, FoundFile};

/// A cleanup root: a canonical directory and its filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Root {
    pub path: PathBuf,
    pub device: u64,
    pub mount: u64,
}

/// Trees that belong to the system: no root may be one of them, nor lie
/// below one unless the config names it (HAL9 may own `/var/log/hal9`, but
/// a PATH typed at 3am must not turn `/usr/share` into a cleanup root).
const SYSTEM_TREES: [&str; 14] = [
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/sys", "/usr", "/var",
];

/// Refused as roots themselves; what lies below (a user's home, a temp dir,
/// an application's tree) may be a root.
const SHARED_TOPS: [&str; 8] = [
    "/", "/home", "/root", "/tmp", "/opt", "/srv", "/mnt", "/media",
];

/// Why `root` (canonical) may not be a cleanup root, if it may not.
/// `named` is true when the config (or HAL9's own state dir) names it.
pub fn system_dir_refusal(root: &Path, named: bool) -> Option<String> {
    if let Some(s) = SHARED_TOPS
        .iter()
        .chain(SYSTEM_TREES.iter())
        .find(|s| root == Path::new(s))
    {
        return Some(format!(
            "refusing {s} as a cleanup root: it is a system directory"
        ));
    }
    if named {
        return None;
    }
    SYSTEM_TREES.iter().find(|s| root.starts_with(s)).map(|s| {
        format!(
            "refusing {} as a cleanup root: it is below the system directory {s}, \
and cleanup.roots in hal9.toml does not name it",
            root.display()
        )
    })
}

/// Where a root comes from decides how much the system-directory rule lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSource {
    /// A PATH argument: must exist (a typo is a usage error).
    Argument,
    /// `cleanup.roots`: named on purpose by whoever owns the config.
    Config,
    /// The state dir: HAL9's own directory wherever it lives.
    StateDir,
}

/// Why an opened root (canonical `path`, also visible at `aliases` through
/// bind mounts) may not be cleaned, if it may not. A PATH argument counts as
/// named when it lies under a `configured` root (canonical forms). A bind
/// mount shows another directory under a harmless name, so every place the
/// same directory is visible is judged.
pub fn root_refusal(
    path: &Path,
    aliases: &[PathBuf],
    source: RootSource,
    configured: &[PathBuf],
) -> Option<String> {
    let named = match source {
        RootSource::Argument => configured.iter().any(|c| path.starts_with(c)),
        RootSource::Config | RootSource::StateDir => true,
    };
    system_dir_refusal(path, named).or_else(|| {
        aliases.iter().find_map(|alias| {
            let why = system_dir_refusal(alias, named)?;
            Some(format!(
                "{} is {} through a bind mount; {why}",
                path.display(),
                alias.display()
            ))
        })
    })
}

/// Everything gather learned.
#[derive(Debug, Clone, Default)]
pub struct DiskFacts {
    pub roots: Vec<Root>,
    pub filesystems: Vec<FsUsage>,
    pub found: Vec<FoundFile>,
    pub deleted: Vec<DeletedOpen>,
    pub held: HashMap<FileId, FileHolder>,
    pub mapped: Mapped,
    /// Processes whose open files and maps could not be read: while this is
    /// not 0, "no holder seen" does not mean "not open".
    pub blind: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Percentage to get below; 0 takes everything eligible.
    pub target: f64,
    pub older_than: Duration,
    pub crash_older_than: Duration,
    /// Truncate deleted-but-open files anywhere on a cleaned filesystem.
    pub force: bool,
    /// Unix seconds, the clock ages are measured against.
    pub now: i64,
}

/// One thing cleanup may do.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidate {
    Unlink(FoundFile),
    Truncate(DeletedOpen),
}

impl Candidate {
    pub fn device(&self) -> u64 {
        match self {
            Candidate::Unlink(f) => f.device,
            Candidate::Truncate(d) => d.device,
        }
    }

    pub fn bytes(&self) -> u64 {
        match self {
            Candidate::Unlink(f) => f.bytes,
            Candidate::Truncate(d) => d.bytes,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Candidate::Unlink(f) => &f.path,
            Candidate::Truncate(d) => &d.path,
        }
    }

    pub fn category(&self) -> Category {
        match self {
            Candidate::Unlink(f) => f.category,
            Candidate::Truncate(_) => Category::DeletedOpen,
        }
    }

    pub fn mtime(&self) -> i64 {
        match self {
            Candidate::Unlink(f) => f.mtime,
            Candidate::Truncate(d) => d.mtime,
        }
    }

    fn age_key(&self) -> (i64, i64, &Path) {
        match self {
            Candidate::Unlink(f) => (f.mtime, f.mtime_nsec, &f.path),
            Candidate::Truncate(d) => (d.mtime, 0, &d.path),
        }
    }
}

/// A file that matched a category but must stay, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kept {
    #[serde(serialize_with = "crate::output::os_text::path")]
    pub path: PathBuf,
    pub category: Category,
    pub bytes: u64,
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<FileHolder>,
    /// Under a cleanup root, so the operator asked for it; a deleted-but-open
    /// file elsewhere on the disk is only shown.
    #[serde(skip)]
    pub under_root: bool,
}

/// Candidates that may go, and files that matched but must stay.
#[derive(Debug, Clone, Default)]
pub struct Eligible {
    pub candidates: Vec<Candidate>,
    pub kept: Vec<Kept>,
    /// Files of an age-limited category that are not old enough yet.
    pub too_young: u64,
}

/// Apply the per-file rules, independent of how full the disk is.
pub fn eligible(facts: &DiskFacts, opts: &Options) -> Eligible {
    let mut out = Eligible::default();
    for f in &facts.found {
        let min_age = match f.category {
            Category::Logs => opts.older_than,
            Category::Crash => opts.crash_older_than,
            Category::Rotated | Category::BuildDir | Category::DeletedOpen => Duration::ZERO,
        };
        if opts.now.saturating_sub(f.mtime) < min_age.as_secs() as i64 {
            out.too_young += 1;
            continue;
        }
        let keep = |reason: String, holders: Vec<FileHolder>| Kept {
            path: f.path.clone(),
            category: f.category,
            bytes: f.bytes,
            reason,
            holders,
            under_root: true,
        };
        if let Some(h) = facts.held.get(&(f.device, f.inode)) {
            let why = format!("held open by pid {} ({})", h.pid, h.comm);
            out.kept.push(keep(why, vec![h.clone()]));
            continue;
        }
        if let Some(m) = facts.mapped.find((f.device, f.inode), &f.path) {
            let why = format!("mapped into memory by pid {} ({})", m.pid, m.comm);
            out.kept.push(keep(why, Vec::new()));
            continue;
        }
        // Holders /proc could not show are caught at apply time: the unlink
        // happens under a write lease the kernel grants only to a file
        // nobody else has open or mapped.
        out.candidates.push(Candidate::Unlink(f.clone()));
    }
    for d in &facts.deleted {
        let cleaned_fs = facts.roots.iter().any(|r| r.device == d.device);
        if !cleaned_fs {
            continue;
        }
        let under_root = facts.roots.iter().any(|r| {
            r.device == d.device && d.mount == Some(r.mount) && d.path.starts_with(&r.path)
        });
        let keep = |reason: String| Kept {
            path: d.path.clone(),
            category: Category::DeletedOpen,
            bytes: d.bytes,
            reason,
            holders: d.holders.clone(),
            under_root,
        };
        if let Some(m) = facts.mapped.find((d.device, d.inode), &d.path) {
            out.kept.push(keep(format!(
                "mapped into memory by pid {} ({}): truncating would kill it with SIGBUS; \
restart it to free the space",
                m.pid, m.comm
            )));
        } else if facts.blind > 0 && under_root && !opts.force {
            // No lease can prove a deleted file unmapped: its holder has it
            // open by definition. Unseen processes may map it.
            out.kept.push(keep(format!(
                "{} processes' memory maps could not be read, and one of them may have it \
mapped (truncating would kill it with SIGBUS); run as root, or --force to truncate anyway",
                facts.blind
            )));
        } else if under_root || opts.force {
            out.candidates.push(Candidate::Truncate(d.clone()));
        } else {
            out.kept.push(keep(
                "deleted but open outside the cleanup roots (--force truncates it)".into(),
            ));
        }
    }
    out
}

/// One filesystem before and (projected) after the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsPlan {
    pub device: u64,
    pub mount_point: PathBuf,
    pub percent_before: f64,
    /// Whether it was at or above target, so cleanup had work to do.
    pub needed: bool,
    pub planned_bytes: u64,
    pub percent_projected: f64,
}

#[derive(Debug, Clone, Default)]
pub struct CleanupPlan {
    /// In the order to apply them: oldest first.
    pub actions: Vec<Candidate>,
    pub kept: Vec<Kept>,
    pub filesystems: Vec<FsPlan>,
    /// Eligible files left alone because their filesystem reaches target without them.
    pub not_needed: u64,
    pub too_young: u64,
}

/// Choose, per filesystem, the oldest eligible candidates until the projected
/// use is below target.
pub fn plan(facts: &DiskFacts, opts: &Options) -> CleanupPlan {
    let el = eligible(facts, opts);
    let mut by_fs: BTreeMap<u64, Vec<Candidate>> = BTreeMap::new();
    for c in el.candidates {
        by_fs.entry(c.device()).or_default().push(c);
    }
    let mut out = CleanupPlan {
        kept: el.kept,
        too_young: el.too_young,
        ..CleanupPlan::default()
    };
    for fs in &facts.filesystems {
        let mut cands = by_fs.remove(&fs.device).unwrap_or_default();
        cands.sort_by(|a, b| a.age_key().cmp(&b.age_key()));
        let needed = fs.percent >= opts.target;
        let mut used = fs.used;
        let mut planned = 0;
        for c in cands {
            if !needed || percent(used, fs.avail + (fs.used - used)) < opts.target {
                out.not_needed += 1;
                continue;
            }
            used = used.saturating_sub(c.bytes());
            planned += c.bytes();
            out.actions.push(c);
        }
        out.filesystems.push(FsPlan {
            device: fs.device,
            mount_point: fs.mount_point.clone(),
            percent_before: fs.percent,
            needed,
            planned_bytes: planned,
            percent_projected: percent(used, fs.avail + (fs.used - used)),
        });
    }
    // Candidates on a filesystem that could not be measured are not touched.
    for (_, cands) in by_fs {
        out.not_needed += cands.len() as u64;
    }
    out.actions.sort_by(|a, b| a.age_key().cmp(&b.age_key()));
    out
}

#[cfg(test)]
mod root_refusal_tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn a_path_below_a_system_tree_is_refused_unless_the_config_names_it() {
        let arg = RootSource::Argument;
        assert!(root_refusal(&p("/usr/lib/app"), &[], arg, &[]).is_some());
        assert!(root_refusal(&p("/usr/lib/app"), &[], arg, &[p("/usr/lib")]).is_none());
        assert!(root_refusal(&p("/usr/lib/app"), &[], RootSource::Config, &[]).is_none());
        assert!(root_refusal(&p("/usr/lib/app"), &[], RootSource::StateDir, &[]).is_none());
    }

    #[test]
    fn a_system_directory_itself_is_refused_whoever_names_it() {
        for source in [
            RootSource::Argument,
            RootSource::Config,
            RootSource::StateDir,
        ] {
            assert!(root_refusal(&p("/usr"), &[], source, &[p("/usr")]).is_some());
        }
    }

    #[test]
    fn a_harmless_name_bind_mounted_onto_a_system_tree_is_refused_by_its_alias() {
        let why = root_refusal(&p("/srv/logs"), &[p("/usr/lib")], RootSource::Argument, &[]);
        let why = why.unwrap_or_default();
        assert!(
            why.contains("/srv/logs is /usr/lib through a bind mount"),
            "{why}"
        );
        assert!(
            root_refusal(
                &p("/srv/logs"),
                &[p("/home/me/logs")],
                RootSource::Argument,
                &[]
            )
            .is_none()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::open_files::Mapper;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    fn opts(target: f64) -> Options {
        Options {
            target,
            older_than: Duration::from_secs(7 * DAY as u64),
            crash_older_than: Duration::from_secs(DAY as u64),
            force: false,
            now: NOW,
        }
    }

    fn fs(device: u64, used: u64, avail: u64) -> FsUsage {
        FsUsage {
            device,
            mount_point: PathBuf::from(format!("/mnt/{device}")),
            fs_type: "ext4".into(),
            total: used + avail,
            used,
            avail,
            percent: percent(used, avail),
        }
    }

    fn file(name: &str, category: Category, age_days: i64, bytes: u64) -> FoundFile {
        FoundFile {
            root: PathBuf::from("/var/log/hal9"),
            path: PathBuf::from("/var/log/hal9").join(name),
            category,
            device: 1,
            inode: name.bytes().map(u64::from).sum::<u64>() + bytes,
            size: bytes,
            bytes,
            mtime: NOW - age_days * DAY,
            mtime_nsec: 0,
        }
    }

    fn facts(found: Vec<FoundFile>, used: u64, avail: u64) -> DiskFacts {
        DiskFacts {
            roots: vec![Root {
                path: PathBuf::from("/var/log/hal9"),
                device: 1,
                mount: 21,
            }],
            filesystems: vec![fs(1, used, avail)],
            found,
            ..DiskFacts::default()
        }
    }

    fn names(p: &CleanupPlan) -> Vec<String> {
        p.actions
            .iter()
            .map(|c| c.path().file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn oldest_first_and_stops_once_below_target() {
        // 92 of 100 used; target 80 needs 12+ freed: the 10-day (10) and 9-day (10) logs.
        let f = facts(
            vec![
                file("c.log", Category::Logs, 8, 10),
                file("a.log", Category::Logs, 10, 10),
                file("b.log", Category::Logs, 9, 10),
            ],
            92,
            8,
        );
        let p = plan(&f, &opts(80.0));
        assert_eq!(names(&p), vec!["a.log", "b.log"]);
        assert_eq!(p.not_needed, 1);
        assert_eq!(p.filesystems[0].planned_bytes, 20);
        assert!((p.filesystems[0].percent_projected - 72.0).abs() < 1e-9);
    }

    #[test]
    fn nothing_when_already_below_target_and_everything_at_zero() {
        let found = vec![
            file("a.log", Category::Logs, 10, 10),
            file("b.log.1", Category::Rotated, 0, 5),
        ];
        let p = plan(&facts(found.clone(), 50, 50), &opts(80.0));
        assert!(p.actions.is_empty());
        assert!(!p.filesystems[0].needed);
        let p = plan(&facts(found, 50, 50), &opts(0.0));
        assert_eq!(names(&p), vec!["a.log", "b.log.1"]);
    }

    #[test]
    fn ages_per_category() {
        let f = facts(
            vec![
                file("young.log", Category::Logs, 3, 10),
                file("core.12", Category::Crash, 2, 10),
                file("fresh.dmp", Category::Crash, 0, 10),
                file("x.log.1", Category::Rotated, 0, 10),
            ],
            99,
            1,
        );
        let p = plan(&f, &opts(0.0));
        assert_eq!(names(&p), vec!["core.12", "x.log.1"]);
        assert_eq!(p.too_young, 2);
    }

    #[test]
    fn a_file_held_open_is_never_unlinked() {
        let held = file("busy.log", Category::Logs, 30, 10);
        let mut f = facts(
            vec![held.clone(), file("idle.log", Category::Logs, 20, 10)],
            99,
            1,
        );
        f.held.insert(
            (held.device, held.inode),
            FileHolder {
                pid: 4242,
                comm: "hal9ctl".into(),
                fd: 3,
            },
        );
        let p = plan(&f, &opts(0.0));
        assert_eq!(names(&p), vec!["idle.log"]);
        assert_eq!(p.kept.len(), 1);
        assert!(p.kept[0].reason.contains("4242"), "{}", p.kept[0].reason);
        assert!(
            p.kept[0].under_root,
            "a file the operator asked for, left in place"
        );
    }

    fn deleted(path: &str, device: u64) -> DeletedOpen {
        DeletedOpen {
            device,
            inode: 99,
            path: PathBuf::from(path),
            size: 1000,
            bytes: 1000,
            mtime: NOW,
            mount: Some(21),
            holders: vec![FileHolder {
                pid: 7,
                comm: "writer".into(),
                fd: 4,
            }],
        }
    }

    #[test]
    fn a_mapped_file_is_neither_unlinked_nor_truncated() {
        let mapped = file("mapped.log", Category::Logs, 30, 10);
        let mut f = facts(vec![mapped.clone()], 99, 1);
        f.deleted = vec![deleted("/var/log/hal9/gone.log", 1)];
        let writer = Mapper {
            pid: 31,
            comm: "reader".into(),
        };
        f.mapped.insert(
            (mapped.device, mapped.inode),
            PathBuf::from("/x"),
            writer.clone(),
        );
        // Found by name: the maps' device may differ from st_dev (btrfs, overlayfs).
        f.mapped
            .insert((7, 7), PathBuf::from("/var/log/hal9/gone.log"), writer);
        let p = plan(&f, &opts(0.0));
        assert!(p.actions.is_empty(), "{:?}", names(&p));
        assert_eq!(p.kept.len(), 2);
        assert!(p.kept.iter().all(|k| k.reason.contains("pid 31")));
        assert!(p.kept[1].reason.contains("SIGBUS"), "{}", p.kept[1].reason);
    }

    #[test]
    fn unseen_processes_keep_truncations_unless_forced() {
        let mut f = facts(vec![file("old.log", Category::Logs, 30, 10)], 99, 1);
        f.deleted = vec![deleted("/var/log/hal9/gone.log", 1)];
        f.blind = 3;
        let p = plan(&f, &opts(0.0));
        // The unlink is planned: apply proves it unheld with a lease.
        assert_eq!(names(&p), vec!["old.log"]);
        assert_eq!(p.kept.len(), 1);
        assert!(
            p.kept[0].reason.contains("3 processes"),
            "{}",
            p.kept[0].reason
        );
        let forced = Options {
            force: true,
            ..opts(0.0)
        };
        assert_eq!(plan(&f, &forced).actions.len(), 2);
        f.blind = 0;
        assert_eq!(plan(&f, &opts(0.0)).actions.len(), 2);
    }

    #[test]
    fn deleted_open_files_are_truncated_only_under_a_root_or_with_force() {
        let mut f = facts(vec![], 99, 1);
        f.deleted = vec![
            deleted("/var/log/hal9/old.log", 1),
            deleted("/home/app/big.tmp", 1),
            deleted("/other-fs/x", 2),
        ];
        let p = plan(&f, &opts(0.0));
        assert_eq!(names(&p), vec!["old.log"]);
        assert!(matches!(p.actions[0], Candidate::Truncate(_)));
        assert_eq!(p.kept.len(), 1, "the other filesystem is not reported");
        assert_eq!(p.kept[0].path, PathBuf::from("/home/app/big.tmp"));
        assert!(
            !p.kept[0].under_root,
            "only shown: not something cleanup was asked for"
        );

        let forced = plan(
            &f,
            &Options {
                force: true,
                ..opts(0.0)
            },
        );
        assert_eq!(names(&forced), vec!["big.tmp", "old.log"]);
    }

    #[test]
    fn a_name_under_the_root_through_another_mount_is_not_under_it() {
        let mut f = facts(vec![], 99, 1);
        let mut elsewhere = deleted("/var/log/hal9/bound/x.bin", 1);
        elsewhere.mount = Some(99);
        let mut unknown = deleted("/var/log/hal9/y.bin", 1);
        unknown.mount = None;
        f.deleted = vec![elsewhere, unknown];
        let p = plan(&f, &opts(0.0));
        assert!(p.actions.is_empty());
        assert_eq!(p.kept.len(), 2);
        assert!(
            p.kept
                .iter()
                .all(|k| k.reason.contains("outside the cleanup roots"))
        );
    }

    #[test]
    fn a_root_prefix_is_not_a_parent() {
        let mut f = facts(vec![], 99, 1);
        f.deleted = vec![deleted("/var/log/hal9-other/x.log", 1)];
        let p = plan(&f, &opts(0.0));
        assert!(p.actions.is_empty());
    }

    #[test]
    fn system_directories_and_what_lies_below_them() {
        let refused = |p: &str, named| system_dir_refusal(Path::new(p), named);
        for p in ["/", "/usr", "/home", "/tmp", "/var"] {
            assert!(refused(p, true).is_some(), "{p} even when named");
        }
        for p in ["/usr/share", "/etc/ssl/private", "/var/lib", "/boot/grub"] {
            let why = refused(p, false).unwrap_or_default();
            assert!(why.contains("below the system directory"), "{p}: {why}");
            assert!(refused(p, true).is_none(), "{p} named by the config");
        }
        for p in [
            "/home/app/logs",
            "/tmp/hal9-x",
            "/srv/hal9",
            "/usr2",
            "/variable",
        ] {
            assert!(refused(p, false).is_none(), "{p}");
        }
    }

    #[test]
    fn each_filesystem_stops_on_its_own() {
        let mut other = file("z.log", Category::Logs, 30, 10);
        other.device = 2;
        let mut f = facts(vec![file("a.log", Category::Logs, 10, 10), other], 95, 5);
        f.filesystems.push(fs(2, 10, 90));
        let p = plan(&f, &opts(80.0));
        assert_eq!(names(&p), vec!["a.log"]);
        assert_eq!(p.not_needed, 1);
    }
}
