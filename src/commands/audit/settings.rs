//! What `hal9ctl audit` reads: flags over config, merged once before the
//! log is read, so the command never sees clap types.

use std::time::Duration;

use super::AuditExport;
use crate::cli::args::AuditArgs;
use crate::cluster::Target;
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Only entries from this long ago until now.
    pub since: Option<Duration>,
    pub export: Option<AuditExport>,
    /// With `--cluster`: where the ConfigMap hal9-migration is read. Only its
    /// namespace and context matter; the Deployment is the configured one.
    pub cluster: Option<Target>,
}

impl AuditSettings {
    pub fn resolve(a: &AuditArgs, c: &Config) -> AuditSettings {
        AuditSettings {
            since: a.since,
            export: a.export,
            cluster: a
                .cluster
                .then(|| Target::resolve(a.context.clone(), a.namespace.clone(), None, &c.cluster)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use clap::Parser;

    fn resolve(argv: &[&str], c: &Config) -> AuditSettings {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Audit(a) = &cli.command else {
            panic!("not audit: {argv:?}")
        };
        AuditSettings::resolve(a, c)
    }

    #[test]
    fn the_journals_namespace_is_the_flag_else_the_configured_one() {
        let mut c = Config::default();
        c.cluster.namespace = "from-config".into();
        let local = resolve(&["hal9ctl", "audit", "--since", "2h"], &c);
        assert!(local.cluster.is_none());
        assert_eq!(local.since, Some(Duration::from_secs(7200)));
        assert_eq!(local.export, None);
        let t = resolve(&["hal9ctl", "audit", "--cluster"], &c)
            .cluster
            .unwrap();
        assert_eq!((t.namespace.as_str(), t.context), ("from-config", None));
        assert_eq!(t.deployment, c.cluster.deployment);
        let s = resolve(
            &[
                "hal9ctl",
                "audit",
                "--cluster",
                "-n",
                "prod",
                "--context",
                "kind",
                "--export",
                "csv",
            ],
            &c,
        );
        let t = s.cluster.unwrap();
        assert_eq!(t.namespace, "prod");
        assert_eq!(t.context.as_deref(), Some("kind"));
        assert_eq!(s.export, Some(AuditExport::Csv));
    }
}
