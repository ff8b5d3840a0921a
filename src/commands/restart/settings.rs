//! What `hal9ctl restart` runs with: flags over config, merged once before
//! the restart starts, so it never sees clap types.

use std::time::Duration;

use crate::cli::args::RestartArgs;
use crate::cluster::Target;
use crate::config::Config;

/// How long a restart waits for its successor by default: a local handover
/// is one process, a rolling restart is every pod.
const LOCAL_WAIT: Duration = Duration::from_secs(30);
const CLUSTER_WAIT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct RestartSettings {
    /// The Deployment for `--cluster`; `None` restarts the local runtime.
    pub cluster: Option<Target>,
    /// `--drain-timeout` as given: the old instance's own recorded timeout
    /// comes before the config's, and only gather can read it.
    pub drain_timeout: Option<Duration>,
    pub configured_drain_timeout: Duration,
    pub wait: Duration,
    pub force: bool,
}

impl RestartSettings {
    pub fn resolve(a: &RestartArgs, c: &Config) -> RestartSettings {
        let cluster = a.cluster.cluster.then(|| a.cluster.target(&c.cluster));
        let default_wait = if cluster.is_some() {
            CLUSTER_WAIT
        } else {
            LOCAL_WAIT
        };
        RestartSettings {
            cluster,
            drain_timeout: a.drain_timeout,
            configured_drain_timeout: c.server.drain_timeout,
            wait: a.wait.unwrap_or(default_wait),
            force: a.force,
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
        a: RestartArgs,
    }

    #[test]
    fn a_rolling_restart_waits_longer_than_a_local_handover_unless_told() {
        let c = Config::default();
        let local = RestartSettings::resolve(&Cli::parse_from(["x"]).a, &c);
        assert_eq!(local.wait, LOCAL_WAIT);
        assert!(local.cluster.is_none());
        assert_eq!(local.configured_drain_timeout, c.server.drain_timeout);
        let cluster = RestartSettings::resolve(&Cli::parse_from(["x", "--cluster"]).a, &c);
        assert_eq!(cluster.wait, CLUSTER_WAIT);
        let told = RestartSettings::resolve(&Cli::parse_from(["x", "--wait", "7s"]).a, &c);
        assert_eq!(told.wait, Duration::from_secs(7));
    }
}
