//! How full a filesystem is (statvfs) and where it is mounted (mountinfo).

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::root_dir::RootDir;

/// One filesystem's space as `df` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsUsage {
    /// `st_dev` of the filesystem: the key that ties files to it.
    pub device: u64,
    #[serde(serialize_with = "crate::output::os_text::path")]
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub total: u64,
    pub used: u64,
    /// Space an unprivileged user may still write.
    pub avail: u64,
    pub percent: f64,
}

/// The used share as `df` computes it: blocks reserved for root count as
/// neither used nor available, so 100 % means "ordinary users cannot write".
pub fn percent(used: u64, avail: u64) -> f64 {
    let denom = used.saturating_add(avail);
    if denom == 0 {
        0.0
    } else {
        used as f64 * 100.0 / denom as f64
    }
}

/// Measure the filesystem that holds `path`.
pub fn usage(path: &Path) -> io::Result<FsUsage> {
    let device = std::fs::metadata(path)?.dev();
    let st = nix::sys::statvfs::statvfs(path).map_err(io::Error::from)?;
    Ok(from_statvfs(&st, path, device))
}

/// Measure the filesystem of a held cleanup root, through its fd: the
/// numbers belong to the directory cleaned, whatever its path means now.
pub fn usage_of(root: &RootDir) -> io::Result<FsUsage> {
    let st = nix::sys::statvfs::fstatvfs(root.fd()).map_err(io::Error::from)?;
    Ok(from_statvfs(&st, &root.path, root.device))
}

fn from_statvfs(st: &nix::sys::statvfs::Statvfs, path: &Path, device: u64) -> FsUsage {
    let frsize = st.fragment_size();
    let total = st.blocks() * frsize;
    let used = st.blocks().saturating_sub(st.blocks_free()) * frsize;
    let avail = st.blocks_available() * frsize;
    let (mount_point, fs_type) =
        mount_of(path, device).unwrap_or_else(|| (PathBuf::from("?"), "?".into()));
    FsUsage {
        device,
        mount_point,
        fs_type,
        total,
        used,
        avail,
        percent: percent(used, avail),
    }
}

/// The mount point and type of the filesystem with device `dev` that holds
/// `path`: the longest mount point above the path with that device number.
fn mount_of(path: &Path, dev: u64) -> Option<(PathBuf, String)> {
    let canonical = std::fs::canonicalize(path).ok()?;
    let majmin = format!(
        "{}:{}",
        nix::sys::stat::major(dev),
        nix::sys::stat::minor(dev)
    );
    let infos = procfs::process::Process::myself().ok()?.mountinfo().ok()?;
    infos
        .iter()
        .filter(|m| m.majmin == majmin && canonical.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.as_os_str().len())
        .map(|m| (m.mount_point.clone(), m.fs_type.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_ignores_reserved_blocks() {
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(50, 50), 50.0);
        assert!((percent(92, 8) - 92.0).abs() < 1e-9);
    }

    #[test]
    fn measures_the_temp_filesystem() {
        let d = tempfile::tempdir().unwrap();
        let u = usage(d.path()).unwrap();
        assert!(u.total > 0);
        assert!(u.used <= u.total);
        assert!((0.0..=100.0).contains(&u.percent));
        assert!(d.path().canonicalize().unwrap().starts_with(&u.mount_point));
    }
}
