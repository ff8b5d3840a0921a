//! What `disk usage` and `disk cleanup` run with: flags over config, merged
//! once before the command starts, so the command never sees clap types.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::args::{DiskCleanupArgs, DiskUsageArgs};
use crate::config::Config;

#[derive(Debug, Clone, PartialEq)]
pub struct DiskUsageSettings {
    pub paths: Vec<PathBuf>,
    pub include_target_dirs: bool,
    pub older_than: Duration,
}

impl DiskUsageSettings {
    pub fn resolve(a: &DiskUsageArgs, c: &Config) -> DiskUsageSettings {
        DiskUsageSettings {
            paths: a.paths.clone(),
            include_target_dirs: a.include_target_dirs,
            older_than: a.older_than.unwrap_or(c.cleanup.older_than),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiskCleanupSettings {
    pub paths: Vec<PathBuf>,
    pub include_target_dirs: bool,
    pub older_than: Duration,
    /// Percent used to clean down to.
    pub target: u8,
    pub force: bool,
}

impl DiskCleanupSettings {
    pub fn resolve(a: &DiskCleanupArgs, c: &Config) -> DiskCleanupSettings {
        DiskCleanupSettings {
            paths: a.paths.clone(),
            include_target_dirs: a.include_target_dirs,
            older_than: a.older_than.unwrap_or(c.cleanup.older_than),
            target: a.target.unwrap_or(c.cleanup.target),
            force: a.force,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::default()
    }

    #[test]
    fn a_flag_wins_over_the_config_and_its_absence_takes_the_config() {
        let c = config();
        let unset = DiskCleanupArgs {
            paths: vec![],
            target: None,
            older_than: None,
            include_target_dirs: false,
            force: false,
        };
        let s = DiskCleanupSettings::resolve(&unset, &c);
        assert_eq!(
            (s.target, s.older_than),
            (c.cleanup.target, c.cleanup.older_than)
        );
        let set = DiskCleanupArgs {
            target: Some(c.cleanup.target.wrapping_add(1)),
            older_than: Some(Duration::from_secs(7)),
            ..unset
        };
        let s = DiskCleanupSettings::resolve(&set, &c);
        assert_eq!(s.target, c.cleanup.target.wrapping_add(1));
        assert_eq!(s.older_than, Duration::from_secs(7));
    }
}
