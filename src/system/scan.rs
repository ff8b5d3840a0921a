//! Walk cleanup roots and sort the files found into cleanup categories.
//!
//! The walk starts from the root's held directory fd and goes down with
//! `openat(O_NOFOLLOW)`, so it never follows a symlink, and it never leaves
//! the root's mount: a bind mount of the same filesystem is a mount too. It
//! reports facts only; which files are old enough to go is the plan's decision.

use std::collections::HashSet;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::glob::Glob;
use super::root_dir::{Kind, RootDir, open_dir_at, stat_at, stat_fd};

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

    fn is_build_dir(&self, name: &std::ffi::OsStr, dir: &OwnedFd) -> bool {
        name == "target"
            && self.target_markers.iter().any(|m| {
                stat_at(dir.as_fd(), std::ffi::OsStr::new(m)).is_ok_and(|st| st.kind == Kind::File)
            })
    }
}

/// A file that matched a category, with the identity apply re-checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundFile {
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
    pub found: Vec<FoundFile>,
    pub files_seen: u64,
    pub symlinks_skipped: u64,
    /// Entries below a root that are another mount (another filesystem, or a
    /// bind mount of this one): not entered, not touched.
    pub mounts_skipped: Vec<PathBuf>,
    /// Directories that could not be read, with the reason.
    pub errors: Vec<String>,
}

const MAX_ERRORS: usize = 20;

impl Scan {
    fn error(&mut self, path: &Path, e: &dyn std::fmt::Display) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(format!("{}: {e}", path.display()));
        }
    }
}

/// A directory still to walk: opened from its parent's fd when its turn
/// comes, so only the directories on the current branch hold an fd.
struct Pending {
    parent: Rc<OwnedFd>,
    name: OsString,
    path: PathBuf,
    in_build: bool,
}

/// The names in `dir`, read through a duplicate of its fd (reading moves the
/// fd's offset; the original stays for `openat`).
fn names_in(dir: &OwnedFd) -> std::io::Result<Vec<OsString>> {
    let dup = dir.try_clone()?;
    let mut d = rustix::fs::Dir::new(dup)?;
    let mut out = Vec::new();
    while let Some(entry) = d.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            out.push(
                <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name).to_os_string(),
            );
        }
    }
    Ok(out)
}

/// Walk every root. `progress` is called with the count of entries seen so
/// far, every few thousand entries.
pub fn scan(roots: &[RootDir], patterns: &Patterns, progress: &mut dyn FnMut(u64)) -> Scan {
    let mut w = Walker {
        patterns,
        out: Scan::default(),
        seen: HashSet::new(),
        progress,
        stack: Vec::new(),
    };
    for root in roots {
        match root.fd().try_clone_to_owned() {
            Ok(fd) => w.walk(root, fd),
            Err(e) => w.out.error(&root.path, &e),
        }
    }
    (w.progress)(w.out.files_seen);
    w.out
}

struct Walker<'a> {
    patterns: &'a Patterns,
    out: Scan,
    /// Hard links found twice are one file.
    seen: HashSet<(u64, u64)>,
    progress: &'a mut dyn FnMut(u64),
    stack: Vec<Pending>,
}

impl Walker<'_> {
    fn walk(&mut self, root: &RootDir, top: OwnedFd) {
        self.visit(root, Rc::new(top), &root.path.clone(), false);
        while let Some(p) = self.stack.pop() {
            let fd = match open_dir_at(p.parent.as_fd(), &p.name) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                    // Swapped for a symlink or a file since it was listed.
                    self.out.symlinks_skipped += 1;
                    continue;
                }
                Err(rustix::io::Errno::NOENT) => continue,
                Err(e) => {
                    self.out.error(&p.path, &e);
                    continue;
                }
            };
            // The fd is what gets walked: check the mount it is really on.
            match stat_fd(fd.as_fd()) {
                Ok(st) if st.mount == root.mount => {}
                Ok(_) => {
                    self.out.mounts_skipped.push(p.path);
                    continue;
                }
                Err(e) => {
                    self.out.error(&p.path, &e);
                    continue;
                }
            }
            let build = p.in_build
                || (self.patterns.target_dirs && self.patterns.is_build_dir(&p.name, &fd));
            self.visit(root, Rc::new(fd), &p.path, build);
        }
    }

    fn visit(&mut self, root: &RootDir, dir: Rc<OwnedFd>, dir_path: &Path, in_build: bool) {
        let names = match names_in(&dir) {
            Ok(n) => n,
            Err(e) => {
                self.out.error(dir_path, &e);
                return;
            }
        };
        for name in names {
            self.out.files_seen += 1;
            if self.out.files_seen.is_multiple_of(4096) {
                (self.progress)(self.out.files_seen);
            }
            let path = dir_path.join(&name);
            let st = match stat_at(dir.as_fd(), &name) {
                Ok(st) => st,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    self.out.error(&path, &e);
                    continue;
                }
            };
            if st.kind == Kind::Symlink {
                self.out.symlinks_skipped += 1;
                continue;
            }
            // A mount point (a directory, or a single bind-mounted file)
            // belongs to whatever is mounted there, not to this root.
            if st.mount != root.mount || st.device != root.device {
                self.out.mounts_skipped.push(path);
                continue;
            }
            match st.kind {
                Kind::Dir => {
                    self.stack.push(Pending {
                        parent: dir.clone(),
                        name,
                        path,
                        in_build,
                    });
                    continue;
                }
                Kind::File => {}
                Kind::Symlink | Kind::Other => continue,
            }
            let category = if in_build {
                Some(Category::BuildDir)
            } else {
                // A name that is not UTF-8 is matched by its readable form;
                // the file itself is always reached by its real bytes.
                self.patterns.category_of(&name.to_string_lossy())
            };
            let Some(category) = category else { continue };
            if !self.seen.insert((st.device, st.inode)) {
                continue;
            }
            self.out.found.push(FoundFile {
                root: root.path.clone(),
                path,
                category,
                device: st.device,
                inode: st.inode,
                size: st.size,
                bytes: if st.nlink <= 1 { st.bytes } else { 0 },
                mtime: st.mtime,
                mtime_nsec: st.mtime_nsec,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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

        let s = scan(
            &[RootDir::open(&root).unwrap()],
            &patterns(false),
            &mut |_| {},
        );
        let mut names: Vec<_> = s
            .found
            .iter()
            .map(|f| f.path.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a/x.log", "a/x.log.1"]);
        assert_eq!(s.symlinks_skipped, 1);

        let s = scan(
            &[RootDir::open(&root).unwrap()],
            &patterns(true),
            &mut |_| {},
        );
        let build = s
            .found
            .iter()
            .filter(|f| f.category == Category::BuildDir)
            .count();
        assert_eq!(build, 2, "{:?}", s.found);
    }
}
