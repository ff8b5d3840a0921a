//! What `hal9ctl serve` runs with: flags over config, merged once before the
//! runtime starts, so the server never sees clap types.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::args::ServeArgs;
use crate::config::Config;
use crate::exit::Failure;
use crate::runtime::migration::Phase;

#[derive(Debug, Clone, PartialEq)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub drain_timeout: Duration,
    /// `--drain-timeout` as given: a successor is started with the flags
    /// this instance had, not with the config it read.
    pub drain_timeout_flag: Option<Duration>,
    pub admin_token_file: Option<PathBuf>,
    pub detach: bool,
    pub takeover: bool,
    /// `(namespace, name)` of the ConfigMap to follow instead of the state dir.
    pub migration_source: Option<(String, String)>,
    /// Where a state dir with no recorded migration starts.
    pub initial_phase: Option<Phase>,
    pub ready_timeout: Duration,
}

impl ServeSettings {
    /// `--listen` is checked here rather than by the parser: a bad address
    /// is one line naming it and the next command, exit 2, like a port in use.
    pub fn resolve(a: &ServeArgs, c: &Config) -> Result<ServeSettings, Failure> {
        let listen = match &a.listen {
            None => c.server.listen,
            Some(text) => text.parse().map_err(|_| {
                Failure::critical(format!("--listen {text:?} is not an IP:PORT address"))
                    .with_next("hal9ctl serve --listen 127.0.0.1:8080")
            })?,
        };
        Ok(ServeSettings {
            listen,
            drain_timeout: a.drain_timeout.unwrap_or(c.server.drain_timeout),
            drain_timeout_flag: a.drain_timeout,
            admin_token_file: a.admin_token_file.clone(),
            detach: a.detach,
            takeover: a.takeover,
            migration_source: a.migration_source.clone(),
            initial_phase: a.migration_phase.or(c.migration.initial_phase),
            ready_timeout: a.ready_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use crate::exit::Exit;
    use clap::Parser;

    fn resolve(argv: &[&str], c: &Config) -> Result<ServeSettings, Failure> {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Serve(a) = &cli.command else {
            panic!("not serve: {argv:?}")
        };
        ServeSettings::resolve(a, c)
    }

    #[test]
    fn flags_beat_the_config_and_the_config_beats_the_built_in_default() {
        let built_in = resolve(&["hal9ctl", "serve"], &Config::default()).unwrap();
        assert_eq!(built_in.listen, Config::default().server.listen);
        assert_eq!(built_in.ready_timeout, Duration::from_secs(20));
        assert_eq!(built_in.initial_phase, None);

        let mut c = Config::default();
        c.server.listen = "127.0.0.1:9123".parse().unwrap();
        c.server.drain_timeout = Duration::from_secs(11);
        c.migration.initial_phase = Some(Phase::Canary);
        let from_config = resolve(&["hal9ctl", "serve"], &c).unwrap();
        assert_eq!(from_config.listen.port(), 9123);
        assert_eq!(from_config.drain_timeout, Duration::from_secs(11));
        assert_eq!(from_config.drain_timeout_flag, None);
        assert_eq!(from_config.initial_phase, Some(Phase::Canary));

        let flagged = resolve(
            &[
                "hal9ctl",
                "serve",
                "--listen",
                "127.0.0.1:9200",
                "--drain-timeout",
                "3s",
                "--migration-phase",
                "flat",
                "--detach",
                "--ready-timeout",
                "1m",
            ],
            &c,
        )
        .unwrap();
        assert_eq!(flagged.listen.port(), 9200);
        assert_eq!(flagged.drain_timeout, Duration::from_secs(3));
        assert_eq!(flagged.drain_timeout_flag, Some(Duration::from_secs(3)));
        assert_eq!(flagged.initial_phase, Some(Phase::Flat));
        assert!(flagged.detach && !flagged.takeover);
        assert_eq!(flagged.ready_timeout, Duration::from_secs(60));
    }

    #[test]
    fn a_listen_address_that_is_not_ip_port_is_refused_naming_it() {
        let f = resolve(
            &["hal9ctl", "serve", "--listen", "localhost:80"],
            &Config::default(),
        )
        .unwrap_err();
        assert_eq!(f.exit, Exit::Critical);
        assert_eq!(
            f.message,
            "--listen \"localhost:80\" is not an IP:PORT address"
        );
        assert_eq!(
            f.next.as_deref(),
            Some("hal9ctl serve --listen 127.0.0.1:8080")
        );
    }

    #[test]
    fn a_configmap_source_is_kept_as_namespace_and_name() {
        let s = resolve(
            &[
                "hal9ctl",
                "serve",
                "--migration-source",
                "configmap:hal9/hal9-migration",
            ],
            &Config::default(),
        )
        .unwrap();
        assert_eq!(
            s.migration_source,
            Some(("hal9".to_string(), "hal9-migration".to_string()))
        );
    }
}
