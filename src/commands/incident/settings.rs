//! What `hal9ctl incident bundle` runs with: flags over config, merged once
//! before anything is gathered, so the gatherers never see clap types.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::args::IncidentBundleArgs;
use crate::cluster::Target;
use crate::config::Config;

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct IncidentSettings {
    /// The Deployment whose objects join the bundle; `None` for this host only.
    pub cluster: Option<Target>,
    /// How far back logs, events and the audit timeline go.
    pub since: Duration,
    /// `None`: `./hal9-incident-HOST-TIME.tar.gz`, named when the run starts.
    pub out: Option<PathBuf>,
    /// Replace an existing file at `out`.
    pub force: bool,
    /// The last bytes kept of each log.
    pub log_cap: u64,
    /// How long one runtime answer may take: a hung runtime is what an
    /// incident often is, so a part gives up rather than the bundle.
    pub part_timeout: Duration,
}

impl IncidentSettings {
    pub fn resolve(a: &IncidentBundleArgs, c: &Config) -> IncidentSettings {
        IncidentSettings {
            cluster: a.cluster.cluster.then(|| a.cluster.target(&c.cluster)),
            since: a.since,
            out: a.out.clone(),
            force: a.force,
            log_cap: a.max_log_mib.saturating_mul(MIB),
            part_timeout: c.health.timeout.saturating_mul(3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command, IncidentCommand};
    use clap::Parser;

    fn resolve(argv: &[&str], c: &Config) -> IncidentSettings {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Incident(IncidentCommand::Bundle(a)) = &cli.command else {
            panic!("not incident bundle: {argv:?}")
        };
        IncidentSettings::resolve(a, c)
    }

    #[test]
    fn defaults_then_flags_and_the_part_timeout_follows_the_health_timeout() {
        let mut c = Config::default();
        c.health.timeout = Duration::from_secs(4);
        c.cluster.namespace = "from-config".into();
        let d = resolve(&["hal9ctl", "incident", "bundle"], &c);
        assert!(d.cluster.is_none() && d.out.is_none() && !d.force);
        assert_eq!(d.since, Duration::from_secs(3600));
        assert_eq!(d.log_cap, 8 * MIB);
        assert_eq!(d.part_timeout, Duration::from_secs(12));
        let s = resolve(
            &[
                "hal9ctl",
                "incident",
                "bundle",
                "--cluster",
                "--since",
                "30m",
                "--out",
                "/tmp/x.tar.gz",
                "--force",
                "--max-log-mib",
                "1",
            ],
            &c,
        );
        assert_eq!(s.cluster.unwrap().namespace, "from-config");
        assert_eq!(s.since, Duration::from_secs(1800));
        assert_eq!(s.out, Some(PathBuf::from("/tmp/x.tar.gz")));
        assert!(s.force);
        assert_eq!(s.log_cap, MIB);
    }

    #[test]
    fn a_log_cap_outside_one_to_1024_mib_is_a_usage_error_of_the_parser() {
        for bad in ["0", "1025"] {
            let e = Cli::try_parse_from(["hal9ctl", "incident", "bundle", "--max-log-mib", bad])
                .err()
                .unwrap();
            assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        }
    }
}
