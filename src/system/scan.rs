//! Walk cleanup roots and sort the files found into cleanup categories.
//!
//! The walk never follows a symlink (entries are stat'ed with lstat semantics)
//! and never leaves the root's filesystem. It reports facts only; which files
//! are old enough to go is the plan's decision.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::glob::Glob;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Runtime logs (`*.log`), eligible once older than `--older-than`.
    Logs,
    /// Rotated and compressed logs: nobody writes them any more.
    Rotated,
    /// Crash dumps and core files, eligible once older than `crash_older_than`.
    Crash,
    /// Files inside a Rust `target/` build directory (opt-in).
    BuildDir,
    /// Deleted files still held open: freed by truncating, not unlinking.
    DeletedOpen,
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Logs => "runtime logs",
            Category::Rotated => "rotated/compressed logs",
            Category::Crash => "crash dumps and cores",
            Category::BuildDir => "Rust target/ dirs",
            Category::DeletedOpen => "deleted but open",
        }
    }
}

/// Which names fall into which category.
#[derive(Debug, Clone)]
pub struct Patterns {
    pub logs: Vec<Glob>,
    pub rotated: Vec<Glob>,
    pub crash: Vec<Glob>,
    /// Look into `target/` build dirs at all.
    pub target_dirs: bool,
    /// A dir named `target` holding one of these is a Rust build dir.
    pub target_markers: Vec<String>,
}

impl Patterns {
    /// Crash patterns first, so `hs_err_pid1.log` is a crash dump, not a log.
    pub fn category_of(&self, name: &str) -> Option<Category> {
        let any = |globs: &[Glob]| globs.iter().any(|g| g.matches(name));
        if any(&self.crash) {
            Some(Category::Crash)
        } else if any(&self.rotated) {
            Some(Category::Rotated)
        } else if any(&self.logs) {
            Some(Category::Logs)
        } else {
            None
        }
    }

    fn is_build_dir(&self, dir: &Path) -> bool {
        dir.file_name().is_some_and(|n| n == "target")
            && self
                .target_markers
                .iter()
                .any(|m| fs::symlink_metadata(dir.join(m)).is_ok_and(|md| md.is_file()))
    }
}

/// A file that matched a category, with the identity apply re-checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// The cleanup root it was found under (canonical).
    pub root: PathBuf,
    pub path: PathBuf,
    pub category: Category,
    pub device: u64,
    pub inode: u64,
    pub size: u64,
    /// Allocated bytes that unlinking gives back (0 when other hard links remain).
    pub bytes: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

/// What one walk saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    pub found: Vec<Found>,
    pub files_seen: u64,
    pub symlinks_skipped: u64,
    /// Directories on another filesystem below a root: not entered.
    pub mounts_skipped: Vec<PathBuf>,
    /// Directories that could not be read, with the reason.
    pub errors: Vec<String>,
}

const MAX_ERRORS: usize = 20;

impl Scan {
    fn error(&mut self, path: &Path, e: &std::io::Error) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(format!("{}: {e}", path.display()));
        }
    }
}

/// Walk every root (canonical directories). `progress` is called with the
/// count of entries seen so far, every few thousand entries.
pub fn scan(roots: &[PathBuf], patterns: &Patterns, progress: &mut dyn FnMut(u64)) -> Scan {
    let mut out = Scan::default();
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    for root in roots {
        let meta = match fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                out.error(root, &e);
                continue;
            }
        };
        let root_dev = meta.dev();
        // (dir, inside a build dir?)
        let mut stack: Vec<(PathBuf, bool)> = vec![(root.clone(), false)];
        while let Some((dir, in_build)) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) => {
                    out.error(&dir, &e);
                    continue;
                }
            };
            for entry in entries {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        out.error(&dir, &e);
                        continue;
                    }
                };
                out.files_seen += 1;
                if out.files_seen % 4096 == 0 {
                    progress(out.files_seen);
                }
                let path = entry.path();
                // DirEntry::metadata does not traverse symlinks.
                let md = match entry.metadata() {
                    Ok(m) => m,
                    Err(e) => {
                        out.error(&path, &e);
                        continue;
                    }
                };
                let ft = md.file_type();
                if ft.is_symlink() {
                    out.symlinks_skipped += 1;
                    continue;
                }
                if md.dev() != root_dev {
                    if ft.is_dir() {
                        out.mounts_skipped.push(path);
                    }
                    continue;
                }
                if ft.is_dir() {
                    let build = in_build || (patterns.target_dirs && patterns.is_build_dir(&path));
                    stack.push((path, build));
                    continue;
                }
                if !ft.is_file() {
                    continue;
                }
                let category = if in_build {
                    Some(Category::BuildDir)
                } else {
                    entry
                        .file_name()
                        .to_str()
                        .and_then(|n| patterns.category_of(n))
                };
                let Some(category) = category else { continue };
                if !seen.insert((md.dev(), md.ino())) {
                    continue;
                }
                out.found.push(Found {
                    root: root.clone(),
                    path,
                    category,
                    device: md.dev(),
                    inode: md.ino(),
                    size: md.len(),
                    bytes: if md.nlink() <= 1 {
                        md.blocks() * 512
                    } else {
                        0
                    },
                    mtime: md.mtime(),
                    mtime_nsec: md.mtime_nsec(),
                });
            }
        }
    }
    progress(out.files_seen);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(v: &[&str]) -> Vec<Glob> {
        v.iter().map(|p| Glob::new(p).unwrap()).collect()
    }

    fn patterns(target_dirs: bool) -> Patterns {
        Patterns {
            logs: globs(&["*.log"]),
            rotated: globs(&["*.log.[0-9]*", "*.gz"]),
            crash: globs(&["core", "core.[0-9]*", "hs_err_pid*.log"]),
            target_dirs,
            target_markers: vec!["CACHEDIR.TAG".into()],
        }
    }

    #[test]
    fn categories_take_crash_before_logs() {
        let p = patterns(false);
        assert_eq!(p.category_of("hs_err_pid9.log"), Some(Category::Crash));
        assert_eq!(p.category_of("a.log.3"), Some(Category::Rotated));
        assert_eq!(p.category_of("a.log"), Some(Category::Logs));
        assert_eq!(p.category_of("notes.txt"), None);
    }

    #[test]
    fn walk_skips_symlinks_and_finds_build_dirs_only_when_asked() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        fs::create_dir_all(root.join("a/target/debug")).unwrap();
        fs::write(root.join("a/target/CACHEDIR.TAG"), "Signature").unwrap();
        fs::write(root.join("a/target/debug/app"), "bin").unwrap();
        fs::write(root.join("a/x.log"), "log").unwrap();
        fs::write(root.join("a/x.log.1"), "old").unwrap();
        fs::write(root.join("keep.txt"), "keep").unwrap();
        std::os::unix::fs::symlink(root.join("a/x.log"), root.join("link.log")).unwrap();

        let s = scan(std::slice::from_ref(&root), &patterns(false), &mut |_| {});
        let mut names: Vec<_> = s
            .found
            .iter()
            .map(|f| f.path.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a/x.log", "a/x.log.1"]);
        assert_eq!(s.symlinks_skipped, 1);

        let s = scan(std::slice::from_ref(&root), &patterns(true), &mut |_| {});
        let build = s
            .found
            .iter()
            .filter(|f| f.category == Category::BuildDir)
            .count();
        assert_eq!(build, 2, "{:?}", s.found);
    }
}
