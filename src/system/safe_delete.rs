//! Destructive file operations that re-check the world first.
//!
//! Unlinking walks down from the cleanup root one directory at a time with
//! `O_NOFOLLOW`, so a directory swapped for a symlink after the scan cannot
//! redirect the delete outside the root, and a mount that appeared on the way
//! is noticed. Truncating a deleted-but-open file goes through the holder's
//! `/proc/PID/fd/N`, the only name such a file still has.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstat, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};

use super::open_files::{DeletedOpen, Holder};

/// What the plan saw of a file; apply proceeds only if it still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub device: u64,
    pub inode: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

/// The result of one careful step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Not done, because the file is no longer what the plan saw.
    Changed(String),
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// Unlink `path`, which must lie under `root` (a canonical directory) and
/// still be the regular file `expect` describes.
pub fn unlink_under(root: &Path, path: &Path, expect: &Identity) -> io::Result<Outcome> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(Outcome::Changed(format!("not under {}", root.display())));
    };
    let parts: Vec<&std::ffi::OsStr> = match rel
        .components()
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(()),
        })
        .collect()
    {
        Ok(p) => p,
        Err(()) => return Ok(Outcome::Changed("path is not plain".into())),
    };
    let Some((name, dirs)) = parts.split_last() else {
        return Ok(Outcome::Changed("path is the root itself".into()));
    };
    let mut dir: OwnedFd = match openat(nix::fcntl::AT_FDCWD, root, dir_flags(), Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => return Ok(Outcome::Changed(format!("root not openable: {e}"))),
    };
    for part in dirs {
        dir = match openat(&dir, *part, dir_flags(), Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                return Ok(Outcome::Changed(format!(
                    "{} is no longer a directory (symlink?)",
                    part.to_string_lossy()
                )));
            }
            Err(Errno::ENOENT) => return Ok(Outcome::Changed("gone".into())),
            Err(e) => return Err(e.into()),
        };
        if fstat(&dir)?.st_dev as u64 != expect.device {
            return Ok(Outcome::Changed(
                "a directory on the way is another filesystem".into(),
            ));
        }
    }
    let st = match fstatat(&dir, *name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(Outcome::Changed("gone".into())),
        Err(e) => return Err(e.into()),
    };
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
        return Ok(Outcome::Changed("no longer a regular file".into()));
    }
    let now = Identity {
        device: st.st_dev as u64,
        inode: st.st_ino as u64,
        size: st.st_size as u64,
        mtime: st.st_mtime as i64,
        mtime_nsec: st.st_mtime_nsec as i64,
    };
    if now != *expect {
        return Ok(Outcome::Changed(describe_change(expect, &now)));
    }
    unlinkat(&dir, *name, UnlinkatFlags::NoRemoveDir)?;
    Ok(Outcome::Done)
}

fn describe_change(was: &Identity, now: &Identity) -> String {
    if (was.device, was.inode) != (now.device, now.inode) {
        "replaced by another file".into()
    } else if was.size != now.size {
        format!("size changed ({} → {} bytes)", was.size, now.size)
    } else {
        "modified since the scan".into()
    }
}

/// Truncate a deleted-but-open file to zero through one of its holders' descriptors.
/// `Changed` when no holder still has it (the space is then already free).
pub fn truncate_deleted(d: &DeletedOpen) -> io::Result<Outcome> {
    let mut last_err = None;
    for h in &d.holders {
        match truncate_via(h, d) {
            Ok(true) => return Ok(Outcome::Done),
            Ok(false) => {}
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => Err(e),
        None => Ok(Outcome::Changed("no process holds it any more".into())),
    }
}

fn truncate_via(h: &Holder, d: &DeletedOpen) -> io::Result<bool> {
    let link = format!("/proc/{}/fd/{}", h.pid, h.fd);
    match std::fs::read_link(&link) {
        Ok(t) if t.to_string_lossy().ends_with(" (deleted)") => {}
        _ => return Ok(false),
    }
    let f = match OpenOptions::new().write(true).open(&link) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    // Check the inode we opened, not the one the link named a moment before.
    let m = f.metadata()?;
    if (m.dev(), m.ino()) != (d.device, d.inode) || m.nlink() != 0 || !m.is_file() {
        return Ok(false);
    }
    f.set_len(0)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(p: &Path) -> Identity {
        let m = std::fs::symlink_metadata(p).unwrap();
        Identity {
            device: m.dev(),
            inode: m.ino(),
            size: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }

    #[test]
    fn unlinks_only_the_file_it_was_shown() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        let f = root.join("sub/a.log");
        std::fs::write(&f, "one").unwrap();
        let id = identity(&f);
        std::fs::write(&f, "changed").unwrap();
        assert!(matches!(
            unlink_under(&root, &f, &id).unwrap(),
            Outcome::Changed(_)
        ));
        assert!(f.exists());
        let id = identity(&f);
        assert_eq!(unlink_under(&root, &f, &id).unwrap(), Outcome::Done);
        assert!(!f.exists());
    }

    #[test]
    fn refuses_a_directory_swapped_for_a_symlink() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap().join("root");
        let outside = d.path().canonicalize().unwrap().join("outside");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let inside = root.join("sub/a.log");
        std::fs::write(&inside, "x").unwrap();
        std::fs::write(outside.join("a.log"), "x").unwrap();
        let id = identity(&outside.join("a.log"));
        std::fs::remove_dir_all(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap();
        let out = unlink_under(&root, &inside, &id).unwrap();
        assert!(matches!(out, Outcome::Changed(_)), "{out:?}");
        assert!(outside.join("a.log").exists());
    }
}
