//! Which files processes hold open, from `/proc/*/fd`: the set a cleanup must
//! never unlink, and the deleted-but-open files behind "df says full, du says empty".

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use procfs::process::FDTarget;
use serde::Serialize;

/// `(st_dev, st_ino)`: a file's identity, whatever its name.
pub type FileId = (u64, u64);

/// A process holding a file through one of its descriptors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub pid: i32,
    pub comm: String,
    pub fd: i32,
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
    pub holders: Vec<Holder>,
}

#[derive(Debug, Clone, Default)]
pub struct OpenFiles {
    /// Every file some process holds open, with its first holder.
    pub held: HashMap<FileId, Holder>,
    /// Deleted-but-open files, each once with all its holders.
    pub deleted: Vec<DeletedOpen>,
    /// Processes whose descriptors could not be read (another user's, or gone).
    pub unreadable: usize,
}

const DELETED: &str = " (deleted)";

/// Read every process's descriptors. Descriptors of processes that exit
/// meanwhile are simply missing; those we may not read are counted.
pub fn gather() -> OpenFiles {
    let mut out = OpenFiles::default();
    let mut deleted: BTreeMap<FileId, DeletedOpen> = BTreeMap::new();
    let Ok(procs) = procfs::process::all_processes() else {
        out.unreadable = 1;
        return out;
    };
    for p in procs.flatten() {
        let fds = match p.fd() {
            Ok(fds) => fds,
            Err(_) => {
                out.unreadable += 1;
                continue;
            }
        };
        let mut comm: Option<String> = None;
        for fd in fds.flatten() {
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
            let comm = comm
                .get_or_insert_with(|| p.stat().map(|s| s.comm).unwrap_or_default())
                .clone();
            let holder = Holder {
                pid: p.pid,
                comm,
                fd: fd.fd,
            };
            let id = (meta.dev(), meta.ino());
            out.held.entry(id).or_insert_with(|| holder.clone());
            let text = target.to_string_lossy();
            if let Some(name) = text.strip_suffix(DELETED)
                && meta.nlink() == 0
            {
                deleted
                    .entry(id)
                    .or_insert_with(|| DeletedOpen {
                        device: id.0,
                        inode: id.1,
                        path: PathBuf::from(name),
                        size: meta.len(),
                        bytes: meta.blocks() * 512,
                        mtime: meta.mtime(),
                        holders: Vec::new(),
                    })
                    .holders
                    .push(holder);
            }
        }
    }
    out.deleted = deleted.into_values().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
