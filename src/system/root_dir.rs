//! A cleanup root held open as a directory fd, and the stat/open steps
//! beneath it that never leave the root's mount.
//!
//! `st_dev` names a filesystem, not a mount: a bind mount of another part of
//! the same filesystem has the same `st_dev`, so only the mount id (statx
//! `STATX_MNT_ID`) tells "still inside the root" from "elsewhere on this
//! disk". The root is opened once and every later step starts from that fd,
//! so renaming or re-mounting the root's path after the scan cannot redirect
//! the cleanup.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};

/// What a directory entry is, as far as cleanup cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// One `statx` answer, mount id included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    pub device: u64,
    pub inode: u64,
    pub mount: u64,
    pub size: u64,
    /// Allocated bytes.
    pub bytes: u64,
    pub nlink: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

fn stat_of(st: &rustix::fs::Statx) -> io::Result<Stat> {
    if st.stx_mask & StatxFlags::MNT_ID.bits() == 0 {
        // Without mount ids a bind mount looks like the root itself.
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel reports no mount ids (statx STATX_MNT_ID needs Linux 5.8)",
        ));
    }
    let kind = match u32::from(st.stx_mode) & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    };
    Ok(Stat {
        kind,
        device: libc::makedev(st.stx_dev_major, st.stx_dev_minor),
        inode: st.stx_ino,
        mount: st.stx_mnt_id,
        size: st.stx_size,
        bytes: st.stx_blocks.saturating_mul(512),
        nlink: u64::from(st.stx_nlink),
        mtime: st.stx_mtime.tv_sec,
        mtime_nsec: i64::from(st.stx_mtime.tv_nsec),
    })
}

fn mask() -> StatxFlags {
    StatxFlags::BASIC_STATS | StatxFlags::MNT_ID
}

/// `name` inside `dir`, not following a final symlink. A mount point
/// reports the mounted root, so its mount id differs from `dir`'s.
pub fn stat_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Stat> {
    let st = rustix::fs::statx(dir, name, AtFlags::SYMLINK_NOFOLLOW, mask())?;
    stat_of(&st)
}

/// The file `fd` itself refers to.
pub fn stat_fd(fd: BorrowedFd<'_>) -> io::Result<Stat> {
    let st = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, mask())?;
    stat_of(&st)
}

/// Open the directory `name` inside `dir` without following a symlink.
pub fn open_dir_at(dir: BorrowedFd<'_>, name: &OsStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// A cleanup root: the open directory, the canonical path it had when
/// opened, and the filesystem and mount it is on.
#[derive(Debug)]
pub struct RootDir {
    fd: OwnedFd,
    pub path: PathBuf,
    pub device: u64,
    pub mount: u64,
}

impl RootDir {
    /// Open `path` (symlinks in the operator's own argument are followed
    /// once, here) and name it by where the fd really points.
    pub fn open(path: &Path) -> io::Result<RootDir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let st = stat_fd(fd.as_fd())?;
        let link = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&fd)
        ))?;
        // A directory unlinked meanwhile (or out of our mount namespace) has
        // no usable name; nothing under it could be reported honestly.
        if !link.is_absolute() || link.as_os_str().as_bytes().ends_with(b" (deleted)") {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has no reachable path", path.display()),
            ));
        }
        Ok(RootDir {
            fd,
            path: link,
            device: st.device,
            mount: st.mount,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The other paths, through this namespace's mounts of the same
    /// filesystem, at which the root's directory is visible: a bind mount of
    /// `/usr/share` at `/srv/x` is `/usr/share` too. Empty when mountinfo
    /// cannot be read or parsed.
    pub fn also_visible_at(&self) -> Vec<PathBuf> {
        let Ok(infos) = procfs::process::Process::myself().and_then(|p| p.mountinfo()) else {
            return Vec::new();
        };
        let Some(mine) = infos
            .iter()
            .find(|m| u64::try_from(m.mnt_id).ok() == Some(self.mount))
        else {
            return Vec::new();
        };
        let Ok(rel) = self.path.strip_prefix(&mine.mount_point) else {
            return Vec::new();
        };
        // Where the directory lies inside its filesystem, whatever it is mounted as.
        let in_fs = Path::new(&mine.root).join(rel);
        let mut out: Vec<PathBuf> = infos
            .iter()
            .filter(|m| m.majmin == mine.majmin)
            .filter_map(|m| {
                let below = in_fs.strip_prefix(&m.root).ok()?;
                Some(m.mount_point.join(below))
            })
            .filter(|p| p.components().ne(self.path.components()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The directory holding `path` (which must lie strictly below the
    /// root), reached from the held root fd one component at a time without
    /// following symlinks or leaving the root's mount, and the last
    /// component's name. `Err(reason)` inside when it can no longer be
    /// reached that way.
    pub fn parent_of(&self, path: &Path) -> io::Result<Result<(OwnedFd, OsString), String>> {
        let Ok(rel) = path.strip_prefix(&self.path) else {
            return Ok(Err(format!("not under {}", self.path.display())));
        };
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(n) => parts.push(n),
                _ => return Ok(Err("path is not plain".into())),
            }
        }
        let Some((name, dirs)) = parts.split_last() else {
            return Ok(Err("path is the root itself".into()));
        };
        let mut dir = self.fd.try_clone()?;
        for part in dirs {
            dir = match open_dir_at(dir.as_fd(), part) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                    return Ok(Err(format!(
                        "{} is no longer a directory (symlink?)",
                        part.to_string_lossy()
                    )));
                }
                Err(rustix::io::Errno::NOENT) => return Ok(Err("gone".into())),
                Err(e) => return Err(e.into()),
            };
            let st = stat_fd(dir.as_fd())?;
            if st.mount != self.mount {
                return Ok(Err(format!(
                    "{} is now another mount",
                    part.to_string_lossy()
                )));
            }
        }
        Ok(Ok((dir, name.to_os_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_named_by_where_its_fd_points() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().canonicalize().unwrap().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let r = RootDir::open(&link).unwrap();
        assert_eq!(r.path, real);
        let st = stat_fd(r.fd()).unwrap();
        assert_eq!(st.kind, Kind::Dir);
        assert_eq!(st.mount, r.mount);
    }

    #[test]
    fn parent_of_refuses_paths_outside_and_symlinked_dirs() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("root/sub")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), base.join("root/link")).unwrap();
        let r = RootDir::open(&base.join("root")).unwrap();
        assert!(r.parent_of(&base.join("other/x")).unwrap().is_err());
        assert!(r.parent_of(&base.join("root")).unwrap().is_err());
        assert!(r.parent_of(&base.join("root/link/x")).unwrap().is_err());
        let (_, name) = r.parent_of(&base.join("root/sub/x.log")).unwrap().unwrap();
        assert_eq!(name, "x.log");
    }
}
