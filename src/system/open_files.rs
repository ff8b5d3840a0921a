//! Which files processes hold open or map into memory, from `/proc/*/fd` and
//! `/proc/*/maps`: the set a cleanup must never unlink, the deleted-but-open
//! files behind "df says full, du says empty", and the mapped files that must
//! never be truncated (a process touching a truncated mapping dies of SIGBUS).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use procfs::ProcError;
use procfs::process::FDTarget;
use serde::Serialize;

/// `(st_dev, st_ino)`: a file's identity, whatever its name.
pub type FileId = (u64, u64);

/// A process holding a file through one of its descriptors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileHolder {
    pub pid: i32,
    pub comm: String,
    pub fd: i32,
}

/// A process with a file mapped into its memory (with or without an fd).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapper {
    pub pid: i32,
    pub comm: String,
}

/// A file that was unlinked while a process still holds it: its space stays
/// allocated until the last descriptor closes (or the file is truncated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedOpen {
    pub device: u64,
    pub inode: u64,
    /// The name it had, as the kernel remembers it (without " (deleted)").
    pub path: PathBuf,
    pub size: u64,
    /// Allocated bytes: what truncating it gives back.
    pub bytes: u64,
    pub mtime: i64,
    /// The mount the remembered name was taken through (`mnt_id` in the
    /// holder's fdinfo): the name means "under the root" only on the root's
    /// own mount, not through a bind mount in another namespace.
    pub mount: Option<u64>,
    pub holders: Vec<FileHolder>,
}

/// Every file-backed mapping seen, by identity and by the name the kernel
/// shows. The name matters where `st_dev` and the maps' device differ
/// (btrfs subvolumes, overlayfs): a false match only keeps a file.
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    by_id: HashMap<FileId, Mapper>,
    by_path: HashMap<PathBuf, Mapper>,
}

impl Mapped {
    /// Who maps the file with identity `id`, known by `path` (a deleted
    /// file's remembered name, or its path in the tree).
    pub fn find(&self, id: FileId, path: &Path) -> Option<&Mapper> {
        self.by_id.get(&id).or_else(|| self.by_path.get(path))
    }

    pub fn insert(&mut self, id: FileId, path: PathBuf, m: Mapper) {
        self.by_id.entry(id).or_insert_with(|| m.clone());
        self.by_path.entry(path).or_insert(m);
    }
}

#[derive(Debug, Clone, Default)]
pub struct OpenFiles {
    /// Every file some process holds open, with its first holder.
    pub held: HashMap<FileId, FileHolder>,
    /// Every file some process maps into memory.
    pub mapped: Mapped,
    /// Deleted-but-open files, each once with all its holders.
    pub deleted: Vec<DeletedOpen>,
    /// Processes whose descriptors or maps could not be read (another
    /// user's without root, or one with capabilities we lack): what they
    /// hold is unknown, not "nothing".
    pub unreadable: usize,
    /// The first few of them, to name in the report.
    pub unseen: Vec<Mapper>,
}

const UNSEEN_LISTED: usize = 5;

impl OpenFiles {
    fn unseen(&mut self, pid: i32, comm: String) {
        self.unreadable += 1;
        if self.unseen.len() < UNSEEN_LISTED {
            self.unseen.push(Mapper { pid, comm });
        }
    }
}

const DELETED: &str = " (deleted)";

/// A /proc read that failed because we may not look, as opposed to the
/// process having exited meanwhile.
fn denied(e: &ProcError) -> bool {
    !matches!(e, ProcError::NotFound(_))
}

/// Read every process's descriptors and maps. Processes that exit meanwhile
/// are simply missing; those we may not read are counted.
pub fn gather() -> OpenFiles {
    let mut out = OpenFiles::default();
    let mut deleted: BTreeMap<FileId, DeletedOpen> = BTreeMap::new();
    let Ok(procs) = procfs::process::all_processes() else {
        out.unreadable = 1;
        return out;
    };
    for p in procs.flatten() {
        let mut comm: Option<String> = None;
        let mut comm_of = |p: &procfs::process::Process| {
            comm.get_or_insert_with(|| p.stat().map(|s| s.comm).unwrap_or_default())
                .clone()
        };
        let mut blind = false;
        match std::fs::read(format!("/proc/{}/maps", p.pid)) {
            Ok(text) => {
                for (id, path) in parse_maps(&text) {
                    let m = Mapper {
                        pid: p.pid,
                        comm: comm_of(&p),
                    };
                    out.mapped.insert(id, path, m);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => blind = true,
        }
        let fds = match p.fd() {
            Ok(fds) => fds.collect::<Vec<_>>(),
            Err(e) => {
                blind |= denied(&e);
                Vec::new()
            }
        };
        for fd in fds {
            // The fd list may be readable while each link is not (a target
            // with capabilities we lack): that process is unseen too.
            let fd = match fd {
                Ok(fd) => fd,
                Err(e) => {
                    blind |= denied(&e);
                    continue;
                }
            };
            let FDTarget::Path(target) = &fd.target else {
                continue;
            };
            // stat through the magic link: it reaches the inode even after unlink.
            let Ok(meta) = std::fs::metadata(format!("/proc/{}/fd/{}", p.pid, fd.fd)) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let holder = FileHolder {
                pid: p.pid,
                comm: comm_of(&p),
                fd: fd.fd,
            };
            let id = (meta.dev(), meta.ino());
            out.held.entry(id).or_insert_with(|| holder.clone());
            let text = target.as_os_str().as_bytes();
            if let Some(name) = text.strip_suffix(DELETED.as_bytes())
                && meta.nlink() == 0
            {
                deleted
                    .entry(id)
                    .or_insert_with(|| DeletedOpen {
                        device: id.0,
                        inode: id.1,
                        path: PathBuf::from(OsStr::from_bytes(name)),
                        size: meta.len(),
                        bytes: meta.blocks() * 512,
                        mtime: meta.mtime(),
                        mount: fd_mount(p.pid, fd.fd),
                        holders: Vec::new(),
                    })
                    .holders
                    .push(holder);
            }
        }
        if blind {
            out.unseen(p.pid, comm_of(&p));
        }
    }
    out.deleted = deleted.into_values().collect();
    out
}

/// The `mnt_id:` of `/proc/PID/fdinfo/FD`.
fn fd_mount(pid: i32, fd: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Who maps the file `id` (known as `path`) right now. `Err(n)` when `n`
/// processes' maps could not be read, so "nobody" cannot be claimed.
pub fn mappers_of(id: FileId, path: &Path) -> Result<Vec<Mapper>, usize> {
    let Ok(procs) = procfs::process::all_processes() else {
        return Err(1);
    };
    let mut found = Vec::new();
    let mut unreadable = 0;
    for p in procs.flatten() {
        match std::fs::read(format!("/proc/{}/maps", p.pid)) {
            Ok(text) => {
                if parse_maps(&text)
                    .into_iter()
                    .any(|(i, name)| i == id || name == path)
                {
                    found.push(Mapper {
                        pid: p.pid,
                        comm: p.stat().map(|s| s.comm).unwrap_or_default(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        Err(unreadable)
    } else {
        Ok(found)
    }
}

/// The file-backed mappings in one `/proc/PID/maps` text: identity (the
/// device as `st_dev` encodes it) and the path without " (deleted)".
/// Lines that do not parse are skipped: maps is kernel-written, but a path
/// may hold any byte except a newline.
fn parse_maps(text: &[u8]) -> Vec<(FileId, PathBuf)> {
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let mut fields = line.splitn(6, |&b| b == b' ');
        let (Some(_range), Some(_perms), Some(_offset), Some(dev), Some(inode), Some(rest)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let parse = |b: &[u8], radix| {
            std::str::from_utf8(b)
                .ok()
                .and_then(|s| u64::from_str_radix(s, radix).ok())
        };
        let Some(inode) = parse(inode, 10).filter(|&i| i != 0) else {
            continue;
        };
        let Some((major, minor)) = dev.iter().position(|&b| b == b':').and_then(|i| {
            let major = parse(&dev[..i], 16)?;
            let minor = parse(dev.get(i + 1..)?, 16)?;
            Some((u32::try_from(major).ok()?, u32::try_from(minor).ok()?))
        }) else {
            continue;
        };
        let path = rest.trim_ascii_start();
        if path.first() != Some(&b'/') {
            continue;
        }
        let path = path.strip_suffix(DELETED.as_bytes()).unwrap_or(path);
        out.push((
            (libc::makedev(major, minor), inode),
            PathBuf::from(OsStr::from_bytes(path)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn maps_lines_give_identity_and_name() {
        let text =
            b"7f00-7f10 r--s 00000000 00:2f 1234                       /tmp/x/a.log (deleted)\n\
7f10-7f20 rw-p 00000000 00:00 0 \n\
7f20-7f30 r-xp 00000000 fd:01 99  /usr/lib/libc.so.6\n\
garbage\n\
7f30-7f40 r--p 00000000 08:10 77 /odd/\xff name\n";
        let m = parse_maps(text);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(
            m[0],
            (
                (libc::makedev(0, 0x2f), 1234),
                PathBuf::from("/tmp/x/a.log")
            )
        );
        assert_eq!(m[1].0, (libc::makedev(0xfd, 1), 99));
        assert_eq!(m[2].1.as_os_str().as_bytes(), b"/odd/\xff name");
    }

    #[test]
    fn sees_our_own_deleted_but_open_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("gone.log");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&[7u8; 8192]).unwrap();
        f.sync_all().unwrap();
        let id = {
            let m = f.metadata().unwrap();
            (m.dev(), m.ino())
        };
        let before = gather();
        assert!(before.held.contains_key(&id));
        assert!(before.deleted.iter().all(|x| (x.device, x.inode) != id));
        std::fs::remove_file(&path).unwrap();
        let after = gather();
        let found = after
            .deleted
            .iter()
            .find(|x| (x.device, x.inode) == id)
            .expect("deleted file listed");
        assert_eq!(found.path, path);
        assert_eq!(found.size, 8192);
        assert!(
            found
                .holders
                .iter()
                .any(|h| h.pid == std::process::id() as i32)
        );
    }
}
