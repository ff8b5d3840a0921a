//! Parsing and dispatch: the one place argv becomes a command, and the one
//! error path that turns failures into exit codes.

pub mod args;
pub mod kubectl_plugin;
mod value_enums;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::commands;
use crate::commands::health::monitor_output;
use crate::config::{self, Explicit, Loaded, Source};
use crate::exit::{Exit, Failure};
use crate::output::{Printer, Report};
use crate::system::blocking::block_on;
use args::{Cli, Command, GlobalArgs};

/// Everything a command needs besides its own arguments.
pub struct Ctx {
    pub global: GlobalArgs,
    pub loaded: Loaded,
    pub printer: Printer,
    pub state_dir: PathBuf,
    pub url: String,
}

impl Ctx {
    pub fn config(&self) -> &config::Config {
        &self.loaded.config
    }

    /// Record an action in this state dir's audit log. A failed write is a
    /// warning, never the command's failure: the action already happened.
    pub fn audit(&self, action: &str, target: &str, result: &str) {
        crate::system::audit::record_or_warn(&self.state_dir, action, target, result);
    }
}

/// Entry point of the binary: parse, run, print, and map the outcome to an exit code.
pub fn main(argv: impl IntoIterator<Item = OsString>) -> std::process::ExitCode {
    let mut argv: Vec<OsString> = argv.into_iter().collect();
    if argv
        .first()
        .is_some_and(|a| kubectl_plugin::invoked_as_plugin(a))
    {
        argv = kubectl_plugin::rewrite(argv);
    }
    let matches = match Cli::command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Ok.into()
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return Exit::Usage.into();
        }
    };
    init_logging(&cli.global);
    match run(cli, &matches) {
        Ok(exit) => exit.into(),
        Err(err) => report_error(&err).into(),
    }
}

/// Print the whole cause chain and the next step; pick the exit code.
fn report_error(err: &anyhow::Error) -> Exit {
    if err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return Exit::Ok;
    }
    // A Failure may travel inside an io::Error (a state file that was refused):
    // io::Error hides its payload from `source()`, so look inside it too.
    let failure = err.chain().find_map(|c| {
        c.downcast_ref::<Failure>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|e| e.get_ref())
                .and_then(|inner| inner.downcast_ref::<Failure>())
        })
    });
    crate::output::write_stderr(&format!("error: {err:#}\n"));
    if let Some(next) = failure.and_then(|f| f.next.as_deref()) {
        crate::output::write_stderr(&format!("next: {next}\n"));
    }
    failure.map(|f| f.exit).unwrap_or(Exit::Critical)
}

fn init_logging(g: &GlobalArgs) {
    let level = if g.quiet {
        "error"
    } else {
        match g.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let from_env = std::env::var("HAL9_LOG").ok().filter(|v| !v.is_empty());
    let mut filter = from_env
        .as_deref()
        .and_then(|v| tracing_subscriber::EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(format!("hal9ctl={level},{level}")));
    // kube warns "Server cert bypassed" on every TLS handshake when the
    // kubeconfig skips verification; cluster::connect says it once instead.
    if !from_env.is_some_and(|v| v.contains("kube_client"))
        && let Ok(d) = "kube_client::client::tls=error".parse()
    {
        filter = filter.add_directive(d);
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::output::stderr_color(g.no_color))
        .try_init();
}

fn explicit_config(g: &GlobalArgs, m: &ArgMatches) -> Option<Explicit> {
    let p = g.config.clone()?;
    Some(match m.value_source("config") {
        Some(ValueSource::EnvVariable) => Explicit::Env(p),
        _ => Explicit::Flag(p),
    })
}

fn source_of(m: &ArgMatches, id: &str, flag: &str, env: &str) -> Source {
    match m.value_source(id) {
        Some(ValueSource::EnvVariable) => Source::Env(env.to_string()),
        _ => Source::Flag(flag.to_string()),
    }
}

/// The URL of the runtime recorded in the state dir's runtime.json, when
/// the URL came from the built-in default only and that runtime is alive.
fn runtime_url(loaded: &Loaded, state_dir: &std::path::Path) -> Option<(String, String)> {
    if loaded.sources.get("server.url") != Source::Default {
        return None;
    }
    let sd = crate::runtime::state::StateDir::new(state_dir);
    let info = sd.read_runtime_info().ok()??;
    // A runtime that is gone left a stale file: fall back to the config.
    crate::system::process::start_ticks(info.pid as i32)?;
    let addr: std::net::SocketAddr = info.listen.parse().ok()?;
    Some((
        format!("http://{}", crate::system::sockets::dial_addr(addr)),
        sd.runtime_json().display().to_string(),
    ))
}

fn untrusted_state_dir(e: &crate::system::fsio::UntrustedDir) -> Failure {
    let me = nix::unistd::geteuid();
    let who = nix::unistd::User::from_uid(me)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| me.to_string());
    Failure::critical(format!("refused: the state dir {e}")).with_next(format!(
        "chown {who} {c} && chmod go-w {c}   # if it is yours; else pass --state-dir DIR",
        c = e.culprit.display()
    ))
}

/// Build the context: load config, then apply env and flag overrides, noting their source.
fn context(global: GlobalArgs, m: &ArgMatches, needs_state: bool) -> Result<Ctx, Failure> {
    let mut loaded = config::load(explicit_config(&global, m))?;
    let state_dir = match &global.state_dir {
        Some(d) => {
            loaded.sources.set(
                "state_dir",
                source_of(m, "state_dir", "--state-dir", "HAL9_STATE_DIR"),
            );
            d.clone()
        }
        None => config::default_state_dir().ok_or_else(|| {
            Failure::usage(
                "no state dir: HOME is not set, and there is no XDG_STATE_HOME, HAL9_STATE_DIR or --state-dir",
            )
            .with_next("hal9ctl --state-dir ~/.local/state/hal9 …   # or export HOME")
        })?,
    };
    // A state dir another user owns or can write to could hold a planted
    // runtime.json (steering our admin token to their server) or pid file.
    let trusted = match crate::system::fsio::check_private_dir(&state_dir) {
        Ok(()) => true,
        Err(_) if !state_dir.exists() => true,
        Err(e) if needs_state => return Err(untrusted_state_dir(&e)),
        Err(_) => false,
    };
    let url = match &global.url {
        Some(u) => {
            loaded
                .sources
                .set("server.url", source_of(m, "url", "--url", "HAL9_URL"));
            loaded.config.server.url = u.trim_end_matches('/').to_string();
            loaded.config.server.url.clone()
        }
        None => match runtime_url(&loaded, &state_dir).filter(|_| trusted) {
            // Nobody chose a URL: follow the runtime this state dir records
            // (a `serve --detach --listen` on another port is found without --url).
            Some((u, path)) => {
                loaded.sources.set("server.url", Source::File(path));
                loaded.config.server.url = u.clone();
                u
            }
            None => loaded.config.server.url.trim_end_matches('/').to_string(),
        },
    };
    let printer = Printer::new(global.output, global.no_color, global.quiet);
    Ok(Ctx {
        global,
        loaded,
        printer,
        state_dir,
        url,
    })
}

fn run(cli: Cli, m: &ArgMatches) -> anyhow::Result<Exit> {
    // Completions need no config: they must work even when the config is broken.
    if let Command::Completions(a) = &cli.command {
        commands::completions::run(a.shell)?;
        return Ok(Exit::Ok);
    }
    // Only these never read or write the state dir.
    let needs_state = !matches!(cli.command, Command::Config(_) | Command::Runbook(_));
    monitor_output::refuse_elsewhere(cli.global.output, format_requester(&cli.command))?;
    let ctx = context(cli.global, m, needs_state)?;
    let label = notify_label(&cli.command);
    let outcome = dispatch(&ctx, cli.command);
    // Also after a failure: what was done before it must still be told.
    crate::notify::after_command(&ctx, label);
    let report = outcome?;
    ctx.printer.print(report.as_ref())?;
    Ok(report.exit())
}

fn dispatch(ctx: &Ctx, command: Command) -> anyhow::Result<Box<dyn Report>> {
    Ok(match command {
        Command::Completions(_) => anyhow::bail!("completions are printed before dispatch"),
        Command::Config(a) => Box::new(commands::config::run(ctx, a.default)?),
        Command::Health(a) => {
            let s = commands::health::HealthSettings::resolve(&a, ctx.config());
            let r = block_on(commands::health::run(ctx, &s))??;
            crate::notify::after_health(ctx, &r);
            Box::new(r)
        }
        Command::Scale(a) => {
            let s = commands::scale::ScaleSettings::resolve(&a, &ctx.global, ctx.config())?;
            Box::new(block_on(commands::scale::run(ctx, &s))??)
        }
        Command::Restart(a) => {
            let s = commands::restart::RestartSettings::resolve(&a, ctx.config());
            Box::new(block_on(commands::restart::run(ctx, &s))??)
        }
        Command::Rollback(a) => match a.sub {
            Some(args::RollbackSub::Status { ref cluster }) => {
                let s = commands::rollback::StatusSettings::resolve(cluster, ctx.config());
                Box::new(block_on(commands::rollback::detach::status(ctx, &s))??)
            }
            None => {
                let s = commands::rollback::RollbackSettings::resolve(&a, ctx.config())?;
                if s.detach {
                    Box::new(block_on(commands::rollback::detach::run_rollback(
                        ctx, &s,
                    ))??)
                } else {
                    Box::new(block_on(commands::rollback::run::rollback(ctx, &s))??)
                }
            }
        },
        Command::Migrate(a) => match a.sub {
            Some(args::MigrateSub::Status { ref cluster }) => {
                let s = commands::rollback::StatusSettings::resolve(cluster, ctx.config());
                Box::new(block_on(commands::rollback::detach::status(ctx, &s))??)
            }
            None => {
                let s = commands::rollback::MigrateSettings::resolve(&a, ctx.config());
                if s.engine.detach {
                    Box::new(block_on(commands::migrate::detach(ctx, &s))??)
                } else {
                    Box::new(block_on(commands::migrate::run(ctx, &s))??)
                }
            }
        },
        Command::Disk(args::DiskCommand::Usage(a)) => {
            let s = commands::disk::DiskUsageSettings::resolve(&a, ctx.config());
            Box::new(commands::disk::usage(ctx, &s)?)
        }
        Command::Disk(args::DiskCommand::Cleanup(a)) => {
            let s = commands::disk::DiskCleanupSettings::resolve(&a, ctx.config());
            Box::new(commands::disk::cleanup(ctx, &s)?)
        }
        Command::Audit(a) => {
            let s = commands::audit::AuditSettings::resolve(&a, ctx.config());
            Box::new(block_on(commands::audit::run(ctx, &s))??)
        }
        Command::Incident(args::IncidentCommand::Bundle(a)) => {
            let s = commands::incident::IncidentSettings::resolve(&a, ctx.config());
            Box::new(block_on(commands::incident::run(ctx, &s))??)
        }
        Command::Runbook(a) => Box::new(commands::runbook::run(a.name.as_deref())?),
        Command::Serve(a) => commands::serve::run(
            ctx,
            &commands::serve::ServeSettings::resolve(&a, ctx.config())?,
        )?,
        Command::Emergency(a) => match &a.command {
            args::EmergencyCommand::PortConflict(pc) => {
                let s = commands::port_conflict::PortConflictSettings::resolve(pc, ctx.config());
                Box::new(commands::port_conflict::run(ctx, &s)?)
            }
        },
        Command::Signal(a) => {
            let s = commands::signal::SignalSettings::resolve(&a);
            Box::new(block_on(commands::signal::run(ctx, &s))??)
        }
    })
}

fn format_requester(c: &Command) -> monitor_output::FormatRequester {
    match c {
        Command::Health(a) => monitor_output::FormatRequester::Health {
            textfile: a.textfile.is_some(),
        },
        _ => monitor_output::FormatRequester::OtherCommand,
    }
}

/// How a notification names the command that acted.
fn notify_label(c: &Command) -> &'static str {
    match c {
        Command::Disk(args::DiskCommand::Cleanup(_)) => "disk cleanup",
        Command::Emergency(_) => "emergency port-conflict",
        Command::Restart(_) => "restart",
        Command::Scale(_) => "scale",
        Command::Rollback(_) => "rollback",
        Command::Migrate(_) => "migrate",
        _ => "hal9ctl",
    }
}
