//! The command-line surface: clap types only, no logic.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::runtime::Layer;

#[derive(Debug, Parser)]
#[command(
    name = "hal9ctl",
    version,
    about = "Check and repair a HAL9 neuron runtime, locally or in Kubernetes",
    long_about = "hal9ctl checks and repairs a HAL9 neuron runtime, whether it runs as a local \
process or as a Kubernetes Deployment. `hal9ctl serve` runs the runtime itself.",
    after_help = "Examples:\n  hal9ctl serve --detach\n  hal9ctl signal 'disk is filling up'\n  hal9ctl config -o json",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (ARCHITECTURE §3).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]
    #[arg(
        short = 'c',
        long,
        global = true,
        env = "HAL9_CONFIG",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Report format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Local runtime base URL [default: from config, http://127.0.0.1:8080]
    #[arg(long, global = true, env = "HAL9_URL", value_name = "URL")]
    pub url: Option<String>,

    /// Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]
    #[arg(long, global = true, env = "HAL9_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Assume yes; without it a destructive action needs a terminal prompt
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,

    /// Show the plan, change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// No colours (NO_COLOR and a non-terminal stdout also turn them off)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Only errors on stderr
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More logging on stderr (-v, -vv)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HAL9 neuron runtime (HTTP server)
    #[command(
        after_help = "Examples:\n  hal9ctl serve\n  hal9ctl serve --listen 127.0.0.1:9090 --detach\n  \
hal9ctl serve --drain-timeout 30s --admin-token-file /run/secrets/hal9-admin"
    )]
    Serve(ServeArgs),

    /// Send a signal to the runtime and show its output and hop-by-hop trace
    #[command(
        after_help = "Examples:\n  hal9ctl signal 'users report slow answers'\n  \
hal9ctl signal 'plan the migration' --layer L4\n  hal9ctl signal hello -o json"
    )]
    Signal(SignalArgs),

    /// Repair a local incident now: free the runtime's port
    #[command(
        after_help = "Examples:\n  hal9ctl emergency port-conflict --dry-run\n  \
hal9ctl emergency port-conflict --port 8080 --force --restart"
    )]
    Emergency(EmergencyArgs),

    /// Print the effective config and where each value came from
    #[command(after_help = "Examples:\n  hal9ctl config\n  hal9ctl -c ./hal9.toml config -o json")]
    Config(ConfigArgs),

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  hal9ctl completions bash > /etc/bash_completion.d/hal9ctl\n  \
hal9ctl completions zsh > \"${fpath[1]}/_hal9ctl\""
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: from config, 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// How long in-flight requests may run after SIGTERM [default: from config, 60s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub drain_timeout: Option<Duration>,

    /// Admin bearer token file [default: STATE_DIR/admin.token, made on first start]
    #[arg(long, value_name = "PATH")]
    pub admin_token_file: Option<PathBuf>,

    /// Run in the background, log to the state dir, return once /ready answers
    #[arg(long)]
    pub detach: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SignalArgs {
    /// The signal content
    pub text: String,

    /// Enter at the first neuron of this layer
    #[arg(long, value_name = "L1..L5", value_parser = parse_layer)]
    pub layer: Option<Layer>,

    /// Enter at this neuron
    #[arg(long, value_name = "ID")]
    pub neuron: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct EmergencyArgs {
    #[command(subcommand)]
    pub command: EmergencyCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum EmergencyCommand {
    /// Find who holds the runtime's port, stop them safely, and prove the port is free
    #[command(
        after_help = "Examples:\n  hal9ctl emergency port-conflict --dry-run\n  \
hal9ctl emergency port-conflict --port 8080 --force\n  \
hal9ctl emergency port-conflict --port 5353 --udp --signal INT --grace 10s\n  \
hal9ctl emergency port-conflict --force --restart"
    )]
    PortConflict(PortConflictArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PortConflictArgs {
    /// Port to free [default: the port of server.listen in config, 8080]
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Also look at UDP sockets bound to the port
    #[arg(long)]
    pub udp: bool,

    /// Stop processes other than the HAL9 runtime without asking (safety rules still hold)
    #[arg(long)]
    pub force: bool,

    /// First signal for processes other than the runtime; SIGKILL follows after --grace
    #[arg(long, value_name = "SIG", default_value = "TERM", value_parser = parse_signal)]
    pub signal: nix::sys::signal::Signal,

    /// How long a process may take to exit before SIGKILL
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_duration)]
    pub grace: Duration,

    /// Once the port is free, start the runtime (`hal9ctl serve --detach`) and wait for /ready
    #[arg(long)]
    pub restart: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Print the embedded default hal9.toml instead
    #[arg(long)]
    pub default: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// Shell to generate for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Durations are humantime: `30s`, `5m`, `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 500ms, 30s, 5m, 7d)"))
}

fn parse_signal(s: &str) -> Result<nix::sys::signal::Signal, String> {
    crate::system::signals::parse_signal(s)
}

fn parse_layer(s: &str) -> Result<Layer, String> {
    s.parse::<Layer>().map_err(|e| e.to_string())
}
