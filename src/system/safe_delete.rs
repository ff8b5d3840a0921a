//! Destructive file operations that re-check the world first.
//!
//! Unlinking walks down from the cleanup root's held fd one directory at a
//! time with `O_NOFOLLOW`, so a directory swapped for a symlink after the
//! scan cannot redirect the delete outside the root, and a mount (a bind
//! mount of the same filesystem included) that appeared on the way is noticed. Truncating a deleted-but-open file goes through the holder's
//! `/proc/PID/fd/N`, the only name such a file still has.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::unistd::{UnlinkatFlags, unlinkat};

use super::open_files::{DeletedOpen, FileHolder, mappers_of};
use super::root_dir::{Kind, RootDir, stat_at, stat_fd};
use rustix::fs::{Mode, OFlags};

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
pub enum DeleteOutcome {
    Done,
    /// Not done, because the file is no longer what the plan saw.
    Changed(String),
}

/// Unlink `path`, which must lie under `root` and still be the regular file
/// `expect` describes, on the root's own mount.
/// `unseen` is how many processes' open files could not be read: where the
/// filesystem grants no lease, only a full view of /proc lets it go.
pub fn unlink_under(
    root: &RootDir,
    path: &Path,
    expect: &Identity,
    unseen: usize,
) -> io::Result<DeleteOutcome> {
    let (dir, name) = match root.parent_of(path)? {
        Ok(found) => found,
        Err(why) => return Ok(DeleteOutcome::Changed(why)),
    };
    let st = match stat_at(dir.as_fd(), &name) {
        Ok(st) => st,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(DeleteOutcome::Changed("gone".into()));
        }
        Err(e) => return Err(e),
    };
    if st.kind != Kind::File {
        return Ok(DeleteOutcome::Changed("no longer a regular file".into()));
    }
    if st.mount != root.mount {
        return Ok(DeleteOutcome::Changed("now a mount point".into()));
    }
    let now = Identity {
        device: st.device,
        inode: st.inode,
        size: st.size,
        mtime: st.mtime,
        mtime_nsec: st.mtime_nsec,
    };
    if now != *expect {
        return Ok(DeleteOutcome::Changed(describe_change(expect, &now)));
    }
    // Hold a write lease across the unlink: the kernel grants it only while
    // no other descriptor or mapping has the file open, in any process or
    // namespace, and an open() racing with us waits until we let go. This
    // is the proof /proc cannot give for processes we may not inspect.
    let file = match rustix::fs::openat(
        dir.as_fd(),
        &name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(f) => f,
        Err(rustix::io::Errno::NOENT) => return Ok(DeleteOutcome::Changed("gone".into())),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            return Ok(DeleteOutcome::Changed("leased by another process".into()));
        }
        Err(rustix::io::Errno::LOOP) => return Ok(DeleteOutcome::Changed("now a symlink".into())),
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => {
            return Ok(DeleteOutcome::Changed(
                "not readable by hal9ctl, so it cannot take the lease that proves nobody \
holds it open"
                    .into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let opened = stat_fd(file.as_fd())?;
    if (opened.device, opened.inode) != (expect.device, expect.inode) {
        return Ok(DeleteOutcome::Changed("replaced by another file".into()));
    }
    match write_lease(&file) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
            return Ok(DeleteOutcome::Changed(
                "open or mapped by another process (the kernel refused a write lease), \
even if /proc showed no holder"
                    .into(),
            ));
        }
        Err(e) if unseen > 0 => {
            return Ok(DeleteOutcome::Changed(format!(
                "cannot prove nobody holds it open: no lease on this filesystem ({e}) \
and {unseen} processes could not be inspected"
            )));
        }
        // No leases here (NFS, some FUSE): /proc, read in full, found no holder.
        Err(_) => {}
    }
    unlinkat(&dir, name.as_os_str(), UnlinkatFlags::NoRemoveDir)?;
    // Closing `file` drops the lease.
    Ok(DeleteOutcome::Done)
}

/// `F_SETSIG` from <linux/fcntl.h>; the libc crate does not export it.
const F_SETSIG: libc::c_int = 10;

/// `fcntl(F_SETLEASE, F_WRLCK)`, with the break signal set to one whose
/// default is to be ignored: an opener racing the unlink must not kill us
/// with SIGIO.
fn write_lease(file: &OwnedFd) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: F_SETSIG and F_SETLEASE take an int argument and touch no
    // memory; `fd` is a descriptor we own for the whole call.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::fcntl(fd, F_SETSIG, libc::SIGURG) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_WRLCK) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Remove `dir` under `root` if it is an empty directory; `false` when it is
/// not empty, not a directory, or no longer safely reachable.
pub fn rmdir_if_empty(root: &RootDir, dir: &Path) -> io::Result<bool> {
    let (parent, name) = match root.parent_of(dir)? {
        Ok(found) => found,
        Err(_) => return Ok(false),
    };
    match stat_at(parent.as_fd(), &name) {
        Ok(st) if st.kind == Kind::Dir && st.mount == root.mount => {}
        _ => return Ok(false),
    }
    match unlinkat(&parent, name.as_os_str(), UnlinkatFlags::RemoveDir) {
        Ok(()) => Ok(true),
        Err(Errno::ENOTEMPTY | Errno::EEXIST | Errno::ENOENT | Errno::EBUSY) => Ok(false),
        Err(e) => Err(e.into()),
    }
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
/// `Changed` when no holder still has it (the space is then already free),
/// or when some process maps it, or (unless `unseen_ok`, the operator's
/// `--force`) when some process's maps cannot be read.
pub fn truncate_deleted(d: &DeletedOpen, unseen_ok: bool) -> io::Result<DeleteOutcome> {
    let mut last_err = None;
    for h in &d.holders {
        match truncate_via(h, d, unseen_ok) {
            Ok(Via::Done) => return Ok(DeleteOutcome::Done),
            Ok(Via::NotHere) => {}
            Ok(Via::Refused(why)) => return Ok(DeleteOutcome::Changed(why)),
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => Err(e),
        None => Ok(DeleteOutcome::Changed(
            "no process holds it any more".into(),
        )),
    }
}

enum Via {
    Done,
    /// This holder no longer has that file.
    NotHere,
    /// It must not be truncated at all.
    Refused(String),
}

fn truncate_via(h: &FileHolder, d: &DeletedOpen, unseen_ok: bool) -> io::Result<Via> {
    let link = format!("/proc/{}/fd/{}", h.pid, h.fd);
    match std::fs::read_link(&link) {
        Ok(t) if t.as_os_str().as_bytes().ends_with(b" (deleted)") => {}
        _ => return Ok(Via::NotHere),
    }
    let f = match OpenOptions::new().write(true).open(&link) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Via::NotHere),
        Err(e) => return Err(e),
    };
    // Check the inode we opened, not the one the link named a moment before.
    let m = f.metadata()?;
    if (m.dev(), m.ino()) != (d.device, d.inode) || m.nlink() != 0 || !m.is_file() {
        return Ok(Via::NotHere);
    }
    // Last look before the cut: a process touching a mapping past the new
    // end of file dies of SIGBUS. (One that maps it in the instant between
    // this look and set_len is not caught; nothing can lock out mmap.)
    match mappers_of((d.device, d.inode), &d.path) {
        Ok(m) if m.is_empty() => {}
        Ok(m) => {
            let who: Vec<String> = m
                .iter()
                .map(|m| format!("pid {} ({})", m.pid, m.comm))
                .collect();
            return Ok(Via::Refused(format!(
                "now mapped into memory by {}: truncating would kill it with SIGBUS",
                who.join(", ")
            )));
        }
        Err(_) if unseen_ok => {}
        Err(n) => {
            return Ok(Via::Refused(format!(
                "{n} processes' maps cannot be read; one may have it mapped"
            )));
        }
    }
    f.set_len(0)?;
    Ok(Via::Done)
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
            unlink_under(&RootDir::open(&root).unwrap(), &f, &id, 0).unwrap(),
            DeleteOutcome::Changed(_)
        ));
        assert!(f.exists());
        let id = identity(&f);
        assert_eq!(
            unlink_under(&RootDir::open(&root).unwrap(), &f, &id, 0).unwrap(),
            DeleteOutcome::Done
        );
        assert!(!f.exists());
    }

    #[test]
    fn a_file_open_anywhere_is_not_unlinked_even_unseen() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        let f = root.join("busy.log");
        std::fs::write(&f, "x").unwrap();
        let id = identity(&f);
        let r = RootDir::open(&root).unwrap();
        // /proc is not consulted here at all: the kernel's lease is the proof.
        let open = std::fs::File::open(&f).unwrap();
        let out = unlink_under(&r, &f, &id, 0).unwrap();
        assert!(
            matches!(&out, DeleteOutcome::Changed(why) if why.contains("lease")),
            "{out:?}"
        );
        assert!(f.exists());
        drop(open);
        assert_eq!(unlink_under(&r, &f, &id, 0).unwrap(), DeleteOutcome::Done);
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
        let out = unlink_under(&RootDir::open(&root).unwrap(), &inside, &id, 0).unwrap();
        assert!(matches!(out, DeleteOutcome::Changed(_)), "{out:?}");
        assert!(outside.join("a.log").exists());
    }
}
