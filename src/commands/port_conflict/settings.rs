//! What `emergency port-conflict` runs with: flags over config, merged once
//! before the command starts, so the plan never sees clap types.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::cli::args::PortConflictArgs;
use crate::config::Config;

/// The settings that shape the plan and every retry command it hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConflictSettings {
    pub port: u16,
    pub udp: bool,
    pub force: bool,
    pub signal: Signal,
    pub grace: Duration,
    /// Start the runtime once the port is free; carried into every retry command.
    pub restart: bool,
}

impl PortConflictSettings {
    /// `--port` or the port of `[server] listen`.
    pub fn resolve(a: &PortConflictArgs, c: &Config) -> PortConflictSettings {
        PortConflictSettings {
            port: a.port.unwrap_or_else(|| c.server.listen.port()),
            udp: a.udp,
            force: a.force,
            signal: a.signal,
            grace: a.grace,
            restart: a.restart,
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
        a: PortConflictArgs,
    }

    #[test]
    fn the_port_comes_from_the_flag_else_from_the_configured_listen_address() {
        let mut c = Config::default();
        c.server.listen = "127.0.0.1:9123".parse().unwrap();
        let none = Cli::parse_from(["x"]).a;
        assert_eq!(PortConflictSettings::resolve(&none, &c).port, 9123);
        let given = Cli::parse_from(["x", "--port", "8081", "--signal", "INT", "--udp"]).a;
        let s = PortConflictSettings::resolve(&given, &c);
        assert_eq!((s.port, s.udp, s.signal), (8081, true, Signal::SIGINT));
        assert_eq!(s.grace, Duration::from_secs(5));
    }
}
