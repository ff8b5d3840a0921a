//! The bundle on disk: where it may go (a pure plan on plain facts), and the
//! one gate every part passes through on its way in (secrets out, size capped),
//! written to an exclusive temp file and renamed into place only when whole.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

/// What is at the destination path before we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    RegularFile,
    Symlink,
    Other,
}

/// Facts about the destination, gathered without following a symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestFacts {
    pub existing: Existing,
    /// Owner and mode of the directory the archive goes into.
    pub dir_uid: u32,
    pub dir_mode: u32,
    pub euid: u32,
}

/// Why the archive may not be written where asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestRefusal {
    pub why: String,
    pub next: String,
}

/// May the archive be written at `out`? A symlink could point the write at
/// someone else's file; a directory another user owns (or may write to
/// without the sticky bit) lets them swap or read the bundle, which holds
/// logs; an existing file is an earlier bundle the operator may still need.
pub fn plan_destination(out: &Path, f: &DestFacts, force: bool) -> Result<(), DestRefusal> {
    let shown = out.display();
    match f.existing {
        Existing::Symlink => {
            return Err(DestRefusal {
                why: format!("{shown} is a symlink; the bundle is never written through one"),
                next: "pass --out with a path that is not a symlink".into(),
            });
        }
        Existing::Other => {
            return Err(DestRefusal {
                why: format!("{shown} exists and is not a regular file"),
                next: "pass --out with a new file name".into(),
            });
        }
        Existing::RegularFile if !force => {
            return Err(DestRefusal {
                why: format!("{shown} already exists"),
                next: format!(
                    "pass --force to replace it, or --out with a new name (ls -l {shown})"
                ),
            });
        }
        _ => {}
    }
    if f.dir_uid != f.euid && f.dir_uid != 0 {
        return Err(DestRefusal {
            why: format!(
                "the directory of {shown} belongs to uid {}, not to this user (uid {})",
                f.dir_uid, f.euid
            ),
            next: "pass --out with a path in a directory you own".into(),
        });
    }
    let others_write = f.dir_mode & 0o022 != 0;
    let sticky = f.dir_mode & 0o1000 != 0;
    if others_write && !sticky {
        return Err(DestRefusal {
            why: format!(
                "the directory of {shown} is writable by others (mode {:04o}), who could replace the bundle",
                f.dir_mode & 0o7777
            ),
            next: "pass --out with a path in a directory only you can write to".into(),
        });
    }
    Ok(())
}

/// The directory a path's file goes into (`.` for a bare name).
pub fn dir_of(out: &Path) -> &Path {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Gather [`DestFacts`] for `out`.
pub fn dest_facts(out: &Path) -> io::Result<DestFacts> {
    let existing = match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => Existing::Symlink,
        Ok(m) if m.is_file() => Existing::RegularFile,
        Ok(_) => Existing::Other,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Existing::Nothing,
        Err(e) => return Err(e),
    };
    let dir = fs::metadata(dir_of(out))?;
    if !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir_of(out).display()),
        ));
    }
    Ok(DestFacts {
        existing,
        dir_uid: dir.uid(),
        dir_mode: dir.mode(),
        euid: nix::unistd::geteuid().as_raw(),
    })
}

/// Secrets shorter than this are not searched for: replacing every "ab" in
/// a log would hide the evidence and protect nothing.
const MIN_SECRET_LEN: usize = 8;
const REDACTED: &[u8] = b"[redacted by hal9ctl]";

/// Replace every occurrence of each secret, and cut a secret's beginning off
/// the end of the data (a size cap may have fallen inside one).
pub fn redact(mut data: Vec<u8>, secrets: &[String]) -> Vec<u8> {
    for s in secrets {
        let s = s.as_bytes();
        if s.len() < MIN_SECRET_LEN {
            continue;
        }
        data = replace_all(&data, s, REDACTED);
        for keep in (4..s.len()).rev() {
            if data.ends_with(s.get(..keep).unwrap_or_default()) {
                data.truncate(data.len() - keep);
                data.extend_from_slice(REDACTED);
                break;
            }
        }
    }
    data
}

fn replace_all(data: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(i) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(rest.get(..i).unwrap_or_default());
        out.extend_from_slice(with);
        rest = rest.get(i + needle.len()..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    out
}

/// What one part of the bundle became.
#[derive(Debug, Clone, Serialize)]
pub struct PartRecord {
    /// The file in the archive, relative to its top directory.
    pub file: String,
    pub bytes: u64,
    /// Cut at the part's size cap.
    pub truncated: bool,
    /// Why the part could not be read (the file is then `NAME.error.txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A part as gathered: the bytes, and whether the source had more than the cap.
pub struct Gathered {
    pub data: Vec<u8>,
    pub truncated: bool,
}

impl Gathered {
    pub fn whole(data: Vec<u8>) -> Gathered {
        Gathered {
            data,
            truncated: false,
        }
    }

    /// `data` cut to `cap` bytes.
    pub fn capped(mut data: Vec<u8>, cap: usize) -> Gathered {
        let truncated = data.len() > cap;
        data.truncate(cap);
        Gathered { data, truncated }
    }

    pub fn json(v: &serde_json::Value) -> Gathered {
        let mut data = serde_json::to_vec_pretty(v).unwrap_or_default();
        data.push(b'\n');
        Gathered::whole(data)
    }
}

/// The archive being written: a temp file beside the destination.
pub struct Bundle {
    tar: tar::Builder<GzEncoder<tempfile::NamedTempFile>>,
    top: String,
    secrets: Vec<String>,
    /// Hard cap for any part, whatever its gatherer did.
    part_cap: usize,
    mtime: u64,
    pub parts: Vec<PartRecord>,
}

impl Bundle {
    pub fn create(
        out: &Path,
        top: &str,
        secrets: Vec<String>,
        part_cap: usize,
    ) -> io::Result<Bundle> {
        let name = out.file_name().unwrap_or_default();
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        // Exclusive create with a random name: nothing planted beforehand can
        // be opened in its place. The bundle holds logs: owner only.
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(dir_of(out))?;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))?;
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Bundle {
            tar: tar::Builder::new(GzEncoder::new(tmp, Compression::default())),
            top: top.to_string(),
            secrets,
            part_cap,
            mtime,
            parts: Vec::new(),
        })
    }

    /// Where the half-written archive lives (for tests and messages).
    pub fn temp_path(&self) -> PathBuf {
        self.tar.get_ref().get_ref().path().to_path_buf()
    }

    /// Add `stem.ext`, or `stem.error.txt` saying why it could not be read.
    pub fn add(&mut self, stem: &str, ext: &str, part: Result<Gathered, String>) -> io::Result<()> {
        let (file, data, truncated, error) = match part {
            Ok(g) => {
                let g = if g.data.len() > self.part_cap {
                    Gathered::capped(g.data, self.part_cap)
                } else {
                    g
                };
                let truncated = g.truncated;
                (format!("{stem}.{ext}"), g.data, truncated, None)
            }
            Err(why) => {
                let why =
                    String::from_utf8_lossy(&redact(why.into_bytes(), &self.secrets)).into_owned();
                let text = format!("{why}\n").into_bytes();
                (format!("{stem}.error.txt"), text, false, Some(why))
            }
        };
        let data = redact(data, &self.secrets);
        self.append(&file, &data)?;
        self.parts.push(PartRecord {
            file,
            bytes: data.len() as u64,
            truncated,
            error,
        });
        Ok(())
    }

    fn append(&mut self, file: &str, data: &[u8]) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let path = format!("{}/{file}", self.top);
        self.tar.append_data(&mut h, path, data)
    }

    /// Write the manifest, finish the archive and move it to `out`. Without
    /// `force` an existing `out` is never replaced, even one that appeared
    /// while we gathered.
    pub fn finish(
        mut self,
        out: &Path,
        manifest: &serde_json::Value,
        force: bool,
    ) -> io::Result<()> {
        let mut m = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
        m.push(b'\n');
        let m = redact(m, &self.secrets);
        self.append("manifest.json", &m)?;
        let gz = self.tar.into_inner()?;
        let mut tmp = gz.finish()?;
        tmp.flush()?;
        tmp.as_file().sync_all()?;
        let persisted = if force {
            tmp.persist(out)
        } else {
            tmp.persist_noclobber(out)
        };
        persisted.map_err(|e| e.error)?;
        File::open(dir_of(out))?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(existing: Existing, dir_uid: u32, dir_mode: u32) -> DestFacts {
        DestFacts {
            existing,
            dir_uid,
            dir_mode,
            euid: 1000,
        }
    }

    #[test]
    fn a_symlink_is_refused_even_with_force() {
        let e = plan_destination(
            Path::new("b.tgz"),
            &facts(Existing::Symlink, 1000, 0o755),
            true,
        )
        .unwrap_err();
        assert!(e.why.contains("symlink"), "{e:?}");
    }

    #[test]
    fn an_existing_file_needs_force() {
        let f = facts(Existing::RegularFile, 1000, 0o755);
        let e = plan_destination(Path::new("b.tgz"), &f, false).unwrap_err();
        assert!(e.next.contains("--force"), "{e:?}");
        assert!(plan_destination(Path::new("b.tgz"), &f, true).is_ok());
    }

    #[test]
    fn another_users_dir_is_refused_and_tmp_is_fine() {
        let e = plan_destination(
            Path::new("/home/eve/b.tgz"),
            &facts(Existing::Nothing, 1001, 0o755),
            false,
        )
        .unwrap_err();
        assert!(e.why.contains("uid 1001"), "{e:?}");
        // /tmp: root's, writable by all, sticky.
        assert!(
            plan_destination(
                Path::new("/tmp/b.tgz"),
                &facts(Existing::Nothing, 0, 0o41777),
                false
            )
            .is_ok()
        );
        let e = plan_destination(
            Path::new("/srv/b.tgz"),
            &facts(Existing::Nothing, 1000, 0o777),
            false,
        )
        .unwrap_err();
        assert!(e.why.contains("writable by others"), "{e:?}");
    }

    #[test]
    fn secrets_are_replaced_and_a_cut_one_is_not_left_half_visible() {
        let secrets = vec!["s3cr3t-t0ken-value".to_string(), "short".to_string()];
        let out = redact(
            b"a s3cr3t-t0ken-value b s3cr3t-t0ken-value short".to_vec(),
            &secrets,
        );
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(
            out.contains("short"),
            "short strings are not searched: {out}"
        );
        assert_eq!(out.matches("[redacted by hal9ctl]").count(), 2, "{out}");
        let out = redact(b"log line Bearer s3cr3t-t0".to_vec(), &secrets);
        assert!(!String::from_utf8_lossy(&out).contains("s3cr3t"), "{out:?}");
    }

    #[test]
    fn a_capped_part_says_so() {
        let g = Gathered::capped(vec![b'x'; 10], 4);
        assert!(g.truncated);
        assert_eq!(g.data.len(), 4);
        assert!(!Gathered::capped(vec![b'x'; 4], 4).truncated);
    }
}
