//! What `hal9ctl health` runs with: flags over config, merged once before
//! the checks start, so they never see clap types.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::args::HealthArgs;
use crate::cluster::Target;
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct HealthSettings {
    /// The Deployment to check with `--cluster`; `None` checks the local runtime.
    pub cluster: Option<Target>,
    pub watch: Option<Duration>,
    pub wait: Option<Duration>,
    pub textfile: Option<PathBuf>,
}

impl HealthSettings {
    pub fn resolve(a: &HealthArgs, c: &Config) -> HealthSettings {
        HealthSettings {
            cluster: a.cluster.cluster.then(|| a.cluster.target(&c.cluster)),
            watch: a.watch,
            wait: a.wait,
            textfile: a.textfile.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        a: HealthArgs,
    }

    #[test]
    fn the_cluster_target_exists_only_with_cluster_and_fills_in_from_config() {
        let c = Config::default();
        let local = HealthSettings::resolve(&Cli::parse_from(["x"]).a, &c);
        assert!(local.cluster.is_none());
        let s = HealthSettings::resolve(&Cli::parse_from(["x", "--cluster", "-n", "prod"]).a, &c);
        let t = s.cluster.unwrap();
        assert_eq!(
            (t.namespace.as_str(), t.deployment.as_str()),
            ("prod", "hal9-server")
        );
    }
}
