//! The command-line surface: clap types only, no logic.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::commands::rollback::settings::{ForwardOnFailure, OnFailure};
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

pub use crate::output::OutputFormat;

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
    /// Check the runtime (local, or the Deployment with --cluster) and say what to do next
    #[command(
        after_help = "Exit codes: 0 healthy, 1 degraded, 2 unhealthy, 3 the check could not run.\n\n\
Examples:\n  hal9ctl health\n  hal9ctl health --wait 30s\n  hal9ctl health --cluster -n hal9 --deployment hal9-server\n  \
hal9ctl health --cluster --watch 5s\n  hal9ctl health -o nagios\n  \
hal9ctl health -o prometheus --textfile /var/lib/prometheus/node-exporter/hal9.prom"
    )]
    Health(HealthArgs),

    /// Add capacity fast (--emergency), undo it (--restore), or scale to N replicas
    #[command(
        after_help = "Locally, --emergency raises the runtime's admission limits; with --cluster it scales the \
Deployment, raising the HPA floor so the HPA does not undo it. It never scales down.\n\n\
Examples:\n  hal9ctl scale --emergency\n  hal9ctl scale --emergency --cluster -n hal9\n  \
hal9ctl scale --emergency --replicas 40 --cluster --wait 5m\n  hal9ctl scale --restore --cluster\n  \
hal9ctl scale --replicas 6 --cluster --force"
    )]
    Scale(ScaleArgs),

    /// Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)
    #[command(
        after_help = "Examples:\n  hal9ctl restart\n  hal9ctl restart --wait 1m\n  \
hal9ctl restart --cluster -n hal9 --yes\n  hal9ctl restart --cluster --wait 10m --yes"
    )]
    Restart(RestartArgs),

    /// Roll the flat → hierarchical migration back, step by step, resumably
    #[command(
        after_help = "Examples:\n  hal9ctl rollback --strategy immediate\n  hal9ctl rollback --strategy immediate --to-phase flat\n  \
hal9ctl rollback --strategy gradual --steps 5 --interval 30s\n  \
hal9ctl rollback --strategy gradual --allow-no-traffic   # no users: probe signals feed the gates\n  \
hal9ctl rollback --strategy partial --components routing,features\n  hal9ctl rollback --resume\n  hal9ctl rollback status\n  \
hal9ctl rollback --cluster --strategy gradual --steps 5 --interval 1m --detach   # runs as a Job in the cluster"
    )]
    Rollback(RollbackArgs),

    /// Move the flat → hierarchical migration forward, phase by phase, gated and resumable
    #[command(
        after_help = "Examples:\n  hal9ctl migrate --to-phase canary\n  hal9ctl migrate --to-phase full --steps 3 --interval 30s\n  \
hal9ctl migrate --to-phase ramp_up --on-failure rollback\n  hal9ctl migrate --pause\n  hal9ctl migrate --continue\n  \
hal9ctl migrate --resume\n  hal9ctl migrate --abort\n  hal9ctl migrate status\n  \
hal9ctl migrate --cluster --to-phase full --steps 3 --interval 1m --detach   # runs as a Job in the cluster\n  \
hal9ctl migrate --cluster --pause   # reaches a run on any machine, or its Job"
    )]
    Migrate(MigrateArgs),

    /// Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs
    #[command(
        subcommand,
        after_help = "Examples:\n  hal9ctl disk usage /var/log/hal9\n  hal9ctl disk cleanup /var/log/hal9 --dry-run\n  \
hal9ctl disk cleanup /var/log/hal9 --target 70 --yes"
    )]
    Disk(DiskCommand),

    /// Print the effective config and where each value came from
    #[command(after_help = "Examples:\n  hal9ctl config\n  hal9ctl -c ./hal9.toml config -o json")]
    Config(ConfigArgs),

    /// Show what hal9ctl did: the audit log timeline
    #[command(
        after_help = "Examples:\n  hal9ctl audit\n  hal9ctl audit --since 2h -o json\n  \
hal9ctl audit --since 24h --export csv > actions.csv\n  hal9ctl audit --since 2h --cluster -n hal9"
    )]
    Audit(AuditArgs),

    /// Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts
    #[command(
        subcommand,
        after_help = "Examples:\n  hal9ctl incident bundle\n  hal9ctl incident bundle --since 2h --out /tmp/hal9-incident.tar.gz\n  \
hal9ctl incident bundle --cluster -n hal9 --since 30m"
    )]
    Incident(IncidentCommand),

    /// List the runbooks, or print one
    #[command(after_help = "Examples:\n  hal9ctl runbook\n  hal9ctl runbook port-conflict")]
    Runbook(RunbookArgs),

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  hal9ctl completions bash > /etc/bash_completion.d/hal9ctl\n  \
hal9ctl completions zsh > \"${fpath[1]}/_hal9ctl\""
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on, IP:PORT [default: from config, 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// How long in-flight requests may run after SIGTERM [default: from config, 60s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub drain_timeout: Option<Duration>,

    /// Admin bearer token file [default: STATE_DIR/admin.token, made on first start]
    #[arg(long, value_name = "PATH")]
    pub admin_token_file: Option<PathBuf>,

    /// Run in the background, log to the state dir, return once /ready answers
    #[arg(long)]
    pub detach: bool,

    /// Start beside a running instance of the same state dir and take over its
    /// pid lock when it exits (used by `hal9ctl restart`)
    #[arg(long, hide = true)]
    pub takeover: bool,

    /// Follow the migration state in a Kubernetes ConfigMap instead of the
    /// state dir, e.g. configmap:hal9/hal9-migration (in-cluster config works)
    #[arg(long, value_name = "configmap:NS/NAME", value_parser = parse_migration_source)]
    pub migration_source: Option<(String, String)>,

    /// Where a state dir with no recorded migration starts, e.g. `flat` for a
    /// fresh install that will walk forward with `hal9ctl migrate` [default:
    /// from config [migration] initial_phase, else full]
    #[arg(long, value_name = "PHASE", value_parser = parse_phase, conflicts_with = "migration_source")]
    pub migration_phase: Option<crate::runtime::migration::Phase>,

    /// With --detach: how long to wait for /ready before giving up
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "20s")]
    pub ready_timeout: Duration,
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

/// Options of commands that can act on the Kubernetes Deployment.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Act on the Kubernetes Deployment instead of the local runtime
    #[arg(long)]
    pub cluster: bool,

    /// kubeconfig context [default: the current context, else in-cluster config]
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,

    /// Namespace [default: from config, hal9]
    #[arg(short = 'n', long, value_name = "NS", requires = "cluster")]
    pub namespace: Option<String>,

    /// Deployment [default: from config, hal9-server]
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub deployment: Option<String>,
}

impl ClusterArgs {
    /// The flags resolved against `[cluster]`, so commands never see clap's options.
    pub fn target(&self, cfg: &crate::config::ClusterConfig) -> crate::cluster::Target {
        crate::cluster::Target::resolve(
            self.context.clone(),
            self.namespace.clone(),
            self.deployment.clone(),
            cfg,
        )
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct LockArgs {
    /// --cluster: take over the Lease hal9-migration-lock once it has expired
    /// (its holder died or was cut off); a lease still being renewed is never taken
    #[arg(long, requires = "cluster")]
    pub steal_expired_lock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Redraw the report every DUR until interrupted
    #[arg(long, value_name = "DUR", value_parser = parse_duration, conflicts_with = "wait")]
    pub watch: Option<Duration>,

    /// Return 0 as soon as healthy; 2 when DUR runs out
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub wait: Option<Duration>,

    /// With -o prometheus: replace PATH atomically (node_exporter textfile dir) instead of stdout
    #[arg(long, value_name = "PATH", conflicts_with = "watch")]
    pub textfile: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["emergency", "restore", "replicas"]).multiple(true)))]
pub struct ScaleArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// Emergency capacity: never scales down; raises an HPA's bounds to match
    #[arg(long, conflicts_with = "restore")]
    pub emergency: bool,

    /// Put back what the last emergency scale recorded
    #[arg(long, conflicts_with = "replicas")]
    pub restore: bool,

    /// Replica count (with --emergency: the floor; the target is never below 2 x current)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    pub replicas: Option<i32>,

    /// How long to watch for the new replicas to become ready
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "2m")]
    pub wait: Duration,

    /// Scale even though an HPA manages the Deployment
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// How long the old instance may finish in-flight requests [default: from config, 60s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub drain_timeout: Option<Duration>,

    /// How long to wait for the new instance or rollout [default: 30s local, 5m cluster]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub wait: Option<Duration>,

    /// Locally: take the port from a foreign process (with the port-conflict safety rules).
    /// --cluster: roll even when no node has room for the surge pod
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RollbackArgs {
    #[command(subcommand)]
    pub sub: Option<RollbackSub>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// How to roll back
    #[arg(long, value_enum, required_unless_present_any = ["resume", "abort"])]
    pub strategy: Option<crate::commands::rollback::plan::RollbackStrategy>,

    /// Phase to roll back to [default: the previous phase]; `flat` turns everything off
    #[arg(long, value_name = "PHASE", value_parser = parse_phase)]
    pub to_phase: Option<crate::runtime::migration::Phase>,

    /// Gradual: number of steps [default: from config, 5]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,

    /// Gradual: wait after each step before judging its gates [default: from config, 30s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub interval: Option<Duration>,

    /// Partial: components to roll back
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub components: Vec<crate::commands::rollback::plan::Component>,

    /// Continue the unfinished rollback from its journal
    #[arg(long, conflicts_with_all = ["strategy", "abort"])]
    pub resume: bool,

    /// Abandon the unfinished rollback, leaving the state where it is
    #[arg(long, conflicts_with = "strategy")]
    pub abort: bool,

    /// Gradual: what a failed gate does
    #[arg(long, value_enum, default_value_t = OnFailure::Abort)]
    pub on_failure: OnFailure,

    /// With --cluster and --strategy immediate: also roll the Deployment back to its
    /// previous ReplicaSet template (like `kubectl rollout undo`) and wait for it
    #[arg(long, requires = "cluster")]
    pub revision: bool,

    /// Gate: highest error rate per path, in percent [default: from config, 1]
    #[arg(long, value_name = "PCT")]
    pub max_error_percent: Option<f64>,

    /// Gate: highest p99 latency [default: from config, 500ms]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_p99: Option<Duration>,

    /// Gradual: a gate window with fewer than [rollback] min_requests requests is
    /// filled with synthetic probe signals (recorded as such) instead of pausing
    #[arg(long)]
    pub allow_no_traffic: bool,

    #[command(flatten)]
    pub detach: DetachArgs,
}

/// `--detach`: the engine runs in the cluster as a Job, not on this machine.
#[derive(Debug, Clone, Default, Args)]
pub struct DetachArgs {
    /// With --cluster: run the engine in the cluster as a Job (it survives this
    /// machine); prints the Job's name once its pod has started
    #[arg(long, requires = "cluster", conflicts_with = "abort")]
    pub detach: bool,

    /// With --detach: the image the Job runs [default: the Deployment's runtime image]
    #[arg(long, value_name = "IMAGE", requires = "detach")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub sub: Option<MigrateSub>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    /// Phase to walk forward to: shadow, canary, state_migration, ramp_up, full
    #[arg(
        long,
        value_name = "PHASE",
        value_parser = parse_phase,
        required_unless_present_any = ["resume", "abort", "pause", "continue_"]
    )]
    pub to_phase: Option<crate::runtime::migration::Phase>,

    /// Steps in which the share rises into each phase that raises it [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,

    /// Wait after each step before judging its gates [default: from config, 30s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub interval: Option<Duration>,

    /// Continue the unfinished migration (or rollback) from its journal
    #[arg(long, conflicts_with_all = ["to_phase", "abort", "pause"])]
    pub resume: bool,

    /// Abandon the unfinished migration, leaving the state where it is
    #[arg(long, conflicts_with_all = ["to_phase", "pause"])]
    pub abort: bool,

    /// Ask the running migration to stop after its current step (resumable)
    #[arg(long, conflicts_with_all = ["to_phase", "continue_"])]
    pub pause: bool,

    /// Continue a paused migration (as --resume)
    #[arg(long = "continue", conflicts_with_all = ["to_phase", "abort"])]
    pub continue_: bool,

    /// What a failed gate does: stop there, or roll back to the last good phase
    #[arg(long, value_enum, default_value_t = ForwardOnFailure::Stop)]
    pub on_failure: ForwardOnFailure,

    /// Gate: highest error rate per path, in percent [default: from config, 1]
    #[arg(long, value_name = "PCT")]
    pub max_error_percent: Option<f64>,

    /// Gate: highest p99 latency [default: from config, 500ms]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_p99: Option<Duration>,

    /// A gate window with fewer than [rollback] min_requests requests is
    /// filled with synthetic probe signals (recorded as such) instead of pausing
    #[arg(long)]
    pub allow_no_traffic: bool,

    #[command(flatten)]
    pub detach: DetachArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MigrateSub {
    /// The migration state, and the running or last migration or rollback with its steps
    #[command(after_help = "Examples:\n  hal9ctl migrate status\n  hal9ctl migrate status -o json")]
    Status {
        #[command(flatten)]
        cluster: ClusterArgs,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum RollbackSub {
    /// The migration state, and the running or last rollback with its steps
    #[command(
        after_help = "Examples:\n  hal9ctl rollback status\n  hal9ctl rollback status -o json"
    )]
    Status {
        #[command(flatten)]
        cluster: ClusterArgs,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum DiskCommand {
    /// Filesystems of the cleanup roots, with the reclaimable space per category
    #[command(
        after_help = "Roots are PATHs, `cleanup.roots` in hal9.toml and the state dir.\n\n\
Examples:\n  hal9ctl disk usage\n  hal9ctl disk usage /var/log/hal9 /srv/hal9/crash\n  hal9ctl disk usage -o json"
    )]
    Usage(DiskUsageArgs),

    /// Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target
    #[command(
        after_help = "Never outside the roots, never through a symlink, never across a filesystem boundary, \
never a file a process holds open. Deleted-but-open files under a root are truncated to zero.\n\
Exit codes: 0 below target (or nothing needed), 1 still above target after everything eligible, \
2 refused or failed, 64 bad PATH, 130 interrupted (run it again to continue); \
with --dry-run, the projected outcome.\n\n\
Examples:\n  hal9ctl disk cleanup /var/log/hal9 --dry-run\n  hal9ctl disk cleanup /var/log/hal9 --yes\n  \
hal9ctl disk cleanup /var/log/hal9 --target 70 --older-than 3d --yes\n  \
hal9ctl disk cleanup /srv/build --include-target-dirs --target 0 --yes"
    )]
    Cleanup(DiskCleanupArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DiskUsageArgs {
    /// Cleanup roots to look at, besides those in config
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Count runtime logs older than this as reclaimable [default: from config, 7d]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub older_than: Option<Duration>,

    /// Count Rust target/ build dirs as reclaimable
    #[arg(long)]
    pub include_target_dirs: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DiskCleanupArgs {
    /// Cleanup roots, besides those in config
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Disk-use percentage to get below; 0 removes everything eligible [default: from config, 80]
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub target: Option<u8>,

    /// Delete runtime logs older than this [default: from config, 7d]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub older_than: Option<Duration>,

    /// Also delete inside Rust target/ build dirs
    #[arg(long)]
    pub include_target_dirs: bool,

    /// Truncate deleted-but-open files anywhere on a cleaned filesystem, not only under a root
    #[arg(long)]
    pub force: bool,
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
pub struct AuditArgs {
    /// Only entries from this long ago until now (e.g. 30m, 2h, 7d)
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub since: Option<Duration>,

    /// Print the entries as a JSON array or CSV (RFC 4180) instead of the report
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub export: Option<AuditExport>,

    /// Also read the rollback and migration journal kept in the cluster (ConfigMap hal9-migration)
    #[arg(long)]
    pub cluster: bool,

    /// kubeconfig context [default: the current context, else in-cluster config]
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,

    /// Namespace [default: from config, hal9]
    #[arg(short = 'n', long, value_name = "NS", requires = "cluster")]
    pub namespace: Option<String>,
}

pub use crate::commands::audit::AuditExport;

#[derive(Debug, Clone, Subcommand)]
pub enum IncidentCommand {
    /// Write one .tar.gz for the postmortem and print its path
    #[command(
        after_help = "Every part that cannot be read becomes NAME.error.txt in the archive and the exit code \
is 1. The admin token, Secret data and kubeconfig credentials are never included.\n\n\
Examples:\n  hal9ctl incident bundle\n  hal9ctl incident bundle --since 2h --out /tmp/hal9-incident.tar.gz\n  \
hal9ctl incident bundle --cluster -n hal9 --since 30m -o json"
    )]
    Bundle(IncidentBundleArgs),
}

#[derive(Debug, Clone, Args)]
pub struct IncidentBundleArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// How far back logs, events and the audit timeline go
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "1h")]
    pub since: Duration,

    /// Where to write the archive (-o is the report format) [default: ./hal9-incident-HOST-TIME.tar.gz]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Replace an existing file at --out
    #[arg(long)]
    pub force: bool,

    /// Keep the last MIB mebibytes of each log
    #[arg(long, value_name = "MIB", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_log_mib: u64,
}

#[derive(Debug, Clone, Args)]
pub struct RunbookArgs {
    /// Runbook to print (without .md)
    pub name: Option<String>,
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

fn parse_phase(s: &str) -> Result<crate::runtime::migration::Phase, String> {
    s.parse()
        .map_err(|e: crate::runtime::migration::state::UnknownPhase| e.to_string())
}

fn parse_migration_source(s: &str) -> Result<(String, String), String> {
    let rest = s
        .strip_prefix("configmap:")
        .ok_or("expected configmap:NAMESPACE/NAME")?;
    match rest.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err("expected configmap:NAMESPACE/NAME".into()),
    }
}

fn parse_layer(s: &str) -> Result<Layer, String> {
    s.parse::<Layer>().map_err(|e| e.to_string())
}
