//! What `hal9ctl scale` runs with: flags over config, merged once before the
//! scale starts, so neither the local nor the cluster half sees clap types.

use std::time::Duration;

use crate::cli::args::{GlobalArgs, ScaleArgs};
use crate::cluster::Target;
use crate::config::Config;
use crate::exit::Failure;
use crate::runtime::api::Limits;

/// Which of the three scales was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleMode {
    /// `--emergency [--replicas N]`: N is a floor, never a ceiling.
    Emergency {
        replicas: Option<i32>,
    },
    Restore,
    /// `--replicas N` alone: exactly N (cluster only).
    Replicas(i32),
}

#[derive(Debug, Clone)]
pub struct ScaleSettings {
    pub mode: ScaleMode,
    /// `None` scales the local runtime's admission limits.
    pub cluster: Option<ClusterScaleSettings>,
    pub local: LocalScaleSettings,
}

/// What the local emergency and restore run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalScaleSettings {
    /// `[emergency]` in the config: the floor the limits are raised to.
    pub emergency: Limits,
    pub dry_run: bool,
}

/// What a scale of the Deployment runs with.
#[derive(Debug, Clone)]
pub struct ClusterScaleSettings {
    pub target: Target,
    pub steal_expired_lock: bool,
    /// How long to watch for the new replicas to become ready.
    pub wait: Duration,
    /// Scale even though an HPA manages the Deployment.
    pub force: bool,
    /// `[emergency] replicas`: the emergency's floor when `--replicas` is not given.
    pub emergency_replicas: i32,
}

impl ScaleSettings {
    /// Refuses, before anything is read, the one combination the parser lets
    /// through: `--replicas N` alone means a Deployment, and needs `--cluster`.
    pub fn resolve(a: &ScaleArgs, g: &GlobalArgs, c: &Config) -> Result<ScaleSettings, Failure> {
        let mode = if a.restore {
            ScaleMode::Restore
        } else if a.emergency {
            ScaleMode::Emergency {
                replicas: a.replicas,
            }
        } else {
            match a.replicas {
                Some(n) => ScaleMode::Replicas(n),
                None => {
                    return Err(Failure::usage(
                        "give --emergency, --restore or --replicas N",
                    ));
                }
            }
        };
        if let (ScaleMode::Replicas(n), false) = (mode, a.cluster.cluster) {
            return Err(Failure::usage(
                "--replicas without --emergency scales a Deployment; add --cluster",
            )
            .with_next(format!("hal9ctl scale --replicas {n} --cluster")));
        }
        let cluster = a.cluster.cluster.then(|| ClusterScaleSettings {
            target: a.cluster.target(&c.cluster),
            steal_expired_lock: a.lock.steal_expired_lock,
            wait: a.wait,
            force: a.force,
            emergency_replicas: c.emergency.replicas,
        });
        Ok(ScaleSettings {
            mode,
            cluster,
            local: LocalScaleSettings {
                emergency: Limits {
                    max_in_flight: c.emergency.max_in_flight,
                    rate_limit_rps: c.emergency.rate_limit_rps,
                },
                dry_run: g.dry_run,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use crate::exit::Exit;
    use clap::Parser;

    fn resolve(argv: &[&str], c: &Config) -> Result<ScaleSettings, Failure> {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Scale(a) = &cli.command else {
            panic!("not a scale: {argv:?}")
        };
        ScaleSettings::resolve(a, &cli.global, c)
    }

    #[test]
    fn the_emergency_floor_and_limits_come_from_config_and_the_flag_wins() {
        let mut c = Config::default();
        c.emergency.replicas = 9;
        c.emergency.max_in_flight = 777;
        let s = resolve(&["hal9ctl", "scale", "--emergency", "--cluster"], &c).unwrap();
        assert_eq!(s.mode, ScaleMode::Emergency { replicas: None });
        let k = s.cluster.unwrap();
        assert_eq!(k.emergency_replicas, 9);
        assert_eq!(k.wait, Duration::from_secs(120));
        assert_eq!(
            (k.target.namespace.as_str(), k.target.deployment.as_str()),
            (c.cluster.namespace.as_str(), c.cluster.deployment.as_str())
        );
        assert_eq!(s.local.emergency.max_in_flight, 777);
        let s = resolve(
            &[
                "hal9ctl",
                "--dry-run",
                "scale",
                "--emergency",
                "--replicas",
                "40",
                "--cluster",
                "-n",
                "prod",
                "--wait",
                "5m",
                "--steal-expired-lock",
            ],
            &c,
        )
        .unwrap();
        assert_eq!(s.mode, ScaleMode::Emergency { replicas: Some(40) });
        assert!(s.local.dry_run);
        let k = s.cluster.unwrap();
        assert_eq!(k.target.namespace, "prod");
        assert_eq!(k.wait, Duration::from_secs(300));
        assert!(k.steal_expired_lock && !k.force);
    }

    #[test]
    fn local_scales_have_no_cluster_half_and_restore_wins_the_mode() {
        let c = Config::default();
        let s = resolve(&["hal9ctl", "scale", "--emergency"], &c).unwrap();
        assert!(s.cluster.is_none());
        assert!(!s.local.dry_run);
        let s = resolve(&["hal9ctl", "scale", "--restore"], &c).unwrap();
        assert_eq!(s.mode, ScaleMode::Restore);
        let s = resolve(
            &[
                "hal9ctl",
                "scale",
                "--replicas",
                "6",
                "--cluster",
                "--force",
            ],
            &c,
        )
        .unwrap();
        assert_eq!(s.mode, ScaleMode::Replicas(6));
        assert!(s.cluster.unwrap().force);
    }

    #[test]
    fn replicas_alone_without_cluster_is_refused_with_the_command_that_works() {
        let f = resolve(&["hal9ctl", "scale", "--replicas", "6"], &Config::default()).unwrap_err();
        assert_eq!(f.exit, Exit::Usage);
        assert_eq!(
            f.message,
            "--replicas without --emergency scales a Deployment; add --cluster"
        );
        assert_eq!(
            f.next.as_deref(),
            Some("hal9ctl scale --replicas 6 --cluster")
        );
    }
}
