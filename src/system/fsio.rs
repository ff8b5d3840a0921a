//! Files in a directory hal9ctl trusts (the state dir): atomic writes through
//! exclusively created temp files, opens that never follow a symlink, and the
//! ownership check that decides whether a directory may be trusted at all.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replace `path` with `data` so that a reader (or a crash) sees the old
/// content or the new, never a mix. `mode` sets the permission bits.
///
/// The temp file has a random name and is created with `O_EXCL`, so nothing
/// planted in the directory beforehand (a symlink named like our temp file)
/// can be opened in its place.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    // The mode passed to open is filtered by the umask; set it exactly.
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    // On failure the temp file is removed when `tmp` drops.
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

/// Why a directory is not trusted with state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} is {why}")]
pub struct UntrustedDir {
    pub path: PathBuf,
    pub why: String,
    /// The directory the complaint is about: `path` itself or one of its parents.
    pub culprit: PathBuf,
}

/// Is `dir` safe to keep state in, like ssh's StrictModes: it and every
/// parent are owned by us or root, it is writable by nobody else, and a
/// parent others can write to has the sticky bit (as /tmp does), so nobody
/// else can swap the directory out from under us.
pub fn check_private_dir(dir: &Path) -> Result<(), UntrustedDir> {
    let me = nix::unistd::geteuid().as_raw();
    let fail = |culprit: &Path, why: String| UntrustedDir {
        path: dir.to_path_buf(),
        why,
        culprit: culprit.to_path_buf(),
    };
    let real = fs::canonicalize(dir).map_err(|e| fail(dir, format!("not readable: {e}")))?;
    let mut first = true;
    for p in real.ancestors() {
        let m = fs::metadata(p).map_err(|e| fail(p, format!("not readable: {e}")))?;
        let whose = if p == real {
            "it is".to_string()
        } else {
            format!("its parent {} is", p.display())
        };
        if first && !m.is_dir() {
            return Err(fail(p, "not a directory".into()));
        }
        if m.uid() != me && m.uid() != 0 {
            return Err(fail(
                p,
                format!("not to be trusted: {whose} owned by {}", user_name(m.uid())),
            ));
        }
        let others_write = m.mode() & 0o022 != 0;
        let sticky = m.mode() & 0o1000 != 0;
        if others_write && (first || !sticky) {
            return Err(fail(
                p,
                format!(
                    "not to be trusted: {whose} writable by {} (mode {:04o})",
                    if m.mode() & 0o002 != 0 {
                        "everyone"
                    } else {
                        "its group"
                    },
                    m.mode() & 0o7777
                ),
            ));
        }
        first = false;
    }
    Ok(())
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

/// Create `dir` (and parents) with mode 0700 if it does not exist, then make
/// sure it can be trusted ([`check_private_dir`]).
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    check_private_dir(dir).map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e))
}

/// Flags for every open of a state file: never through a symlink, never
/// inherited by a child, never blocking on a planted FIFO.
const STATE_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK;

/// Open a state file with `opts`, refusing a symlink or anything that is not
/// a regular file, with a message that says so.
pub fn open_state_file(path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
    let f = opts.custom_flags(STATE_FLAGS).open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is a symlink; state files are never opened through one",
                    path.display()
                ),
            )
        } else {
            e
        }
    })?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(f)
}

/// The largest state file read whole (runtime.json, the pid file, the token
/// are a few hundred bytes): a bigger one is damage, not state, and must not
/// be read into memory.
pub const MAX_STATE_FILE: u64 = 1024 * 1024;

/// Read a whole state file (without following a symlink); `None` if it does not exist.
pub fn read_state_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    match open_state_file(path, OpenOptions::new().read(true)) {
        Ok(f) => {
            let mut buf = Vec::new();
            f.take(MAX_STATE_FILE + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > MAX_STATE_FILE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is larger than {} KiB; it is not a state file hal9ctl wrote",
                        path.display(),
                        MAX_STATE_FILE / 1024
                    ),
                ));
            }
            Ok(Some(buf))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The last `max` bytes of a state file as text, starting at a whole line
/// (the first one is dropped when the cut fell inside it), with stray bytes
/// replaced so one bad byte cannot hide the lines around it. A huge file
/// costs neither time nor memory. Also the file's metadata, read from the
/// same open file.
pub fn read_tail(path: &Path, max: u64) -> io::Result<(String, fs::Metadata)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = open_state_file(path, OpenOptions::new().read(true))?;
    let meta = f.metadata()?;
    let start = meta.len().saturating_sub(max);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    let from = if start > 0 {
        buf.iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1)
    } else {
        0
    };
    let text = String::from_utf8_lossy(buf.get(from..).unwrap_or_default()).into_owned();
    Ok((text, meta))
}

/// Open a state file for appending (a log), creating it with `mode`.
pub fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    open_state_file(
        path,
        OpenOptions::new().create(true).append(true).mode(mode),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_sets_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn a_symlink_is_not_opened_and_says_so() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        fs::write(&victim, "x").unwrap();
        let link = d.path().join("hal9.log");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = open_append(&link, 0o600).unwrap_err();
        assert!(e.to_string().contains("is a symlink"), "{e}");
        assert!(read_state_file(&link).is_err());
        assert_eq!(read_state_file(&d.path().join("none")).unwrap(), None);
    }

    #[test]
    fn a_huge_state_file_is_refused_not_read() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("runtime.json");
        File::create(&p).unwrap().set_len(1 << 30).unwrap();
        let e = read_state_file(&p).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[test]
    fn a_private_dir_passes_and_a_shared_one_does_not() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("s");
        ensure_private_dir(&s).unwrap();
        assert_eq!(
            fs::metadata(&s).unwrap().permissions().mode() & 0o777,
            0o700
        );
        fs::set_permissions(&s, fs::Permissions::from_mode(0o770)).unwrap();
        let e = check_private_dir(&s).unwrap_err();
        assert!(e.why.contains("writable by its group"), "{e}");
        assert_eq!(e.culprit, s.canonicalize().unwrap());
        fs::set_permissions(&s, fs::Permissions::from_mode(0o755)).unwrap();
        check_private_dir(&s).unwrap();
        // A parent anyone may write to, without the sticky bit.
        let inner = s.join("inner");
        fs::create_dir(&inner).unwrap();
        fs::set_permissions(&s, fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_private_dir(&inner).unwrap_err();
        assert!(e.why.contains("its parent"), "{e}");
        fs::set_permissions(&s, fs::Permissions::from_mode(0o1777)).unwrap();
        check_private_dir(&inner).unwrap();
    }
}
