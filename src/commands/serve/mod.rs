//! `hal9ctl serve`: run the runtime in the foreground, or `--detach`ed.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::output::{Report, Styles, to_value};
use crate::runtime::Runtime;
use crate::runtime::api::Limits;
use crate::runtime::client::RuntimeClient;
use crate::runtime::migration::store::MigrationStore;
use crate::runtime::server::{self, AppState, listener};
use crate::runtime::state::{RuntimeInfo, StateDir, StateLockError};
use crate::system::fsio::ensure_private_dir;

mod settings;
pub use settings::ServeSettings;

#[derive(Debug, Serialize)]
pub struct ServeReport {
    pub pid: u32,
    pub listen: String,
    pub url: String,
    pub state_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    pub detached: bool,
    /// Foreground: whether every in-flight request finished within the drain timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drained_cleanly: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_served: Option<u64>,
}

impl Report for ServeReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        if self.detached {
            format!(
                "{} runtime started: pid {}, {}\n  state dir {}\n  log {}\n  stop it with: kill -TERM {}   (it drains first)\n",
                st.mark(crate::output::Mark::Ok),
                self.pid,
                self.url,
                self.state_dir,
                self.log.as_deref().unwrap_or("-"),
                self.pid
            )
        } else {
            let clean = self.drained_cleanly.unwrap_or(true);
            format!(
                "{} runtime pid {} stopped after draining ({} requests served{})\n",
                st.mark(if clean {
                    crate::output::Mark::Ok
                } else {
                    crate::output::Mark::Warn
                }),
                self.pid,
                self.requests_served.unwrap_or(0),
                if clean {
                    ""
                } else {
                    "; some requests were cut off at the drain timeout"
                }
            )
        }
    }

    /// Requests cut off at the drain timeout are work left half done.
    fn exit(&self) -> Exit {
        match self.drained_cleanly {
            Some(false) => Exit::Warning,
            _ => Exit::Ok,
        }
    }
}

pub fn run(ctx: &Ctx, s: &ServeSettings) -> anyhow::Result<Box<dyn Report>> {
    if s.detach {
        return Ok(Box::new(detach(ctx, s)?));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    Ok(Box::new(rt.block_on(foreground(ctx, s))?))
}

fn bind_failure(addr: SocketAddr, e: &std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => Failure::critical(format!(
            "port {} on {} is in use by another process",
            addr.port(),
            addr.ip()
        ))
        .with_next(format!(
            "hal9ctl emergency port-conflict --port {}",
            addr.port()
        )),
        std::io::ErrorKind::PermissionDenied => Failure::critical(format!(
            "no permission to listen on {addr} (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        ))
        .with_next("hal9ctl serve --listen 127.0.0.1:8080"),
        std::io::ErrorKind::AddrNotAvailable => {
            Failure::critical(format!("{} is not an address of this host", addr.ip()))
                .with_next("hal9ctl serve --listen 127.0.0.1:8080")
        }
        _ => Failure::critical(format!("cannot listen on {addr}: {e}")),
    }
}

/// SO_REUSEPORT lets any listener of ours join a port that another one
/// serves, and then the kernel splits the traffic between them. Only a
/// `--takeover` successor may share, and only with the predecessor that this
/// state dir's runtime.json proves (pid, start time, socket).
fn refuse_a_shared_port(addr: SocketAddr, takeover: bool, sd: &StateDir) -> Result<(), Failure> {
    use crate::system::{process, runtime_identity, sockets};
    if addr.port() == 0 {
        return Ok(());
    }
    let Ok(socks) = sockets::bound_to(addr.port(), false) else {
        // Without the socket tables the bind itself is the only check left.
        return Ok(());
    };
    let mut sharing: std::collections::BTreeSet<u64> = socks
        .iter()
        .filter(|s| overlaps(s.local.ip(), addr.ip()))
        .map(|s| s.inode)
        .collect();
    if takeover
        && let Ok(Some(info)) = sd.read_runtime_info()
        && let Ok(predecessor) = runtime_identity::verify(&info)
    {
        sharing.retain(|i| !predecessor.inodes.contains(i));
    }
    if sharing.is_empty() {
        return Ok(());
    }
    let holders = sockets::holders(&sharing).unwrap_or_default();
    let mut who: Vec<String> = holders
        .keys()
        .map(|pid| match process::inspect(*pid, &[]) {
            Ok(i) => format!("pid {pid} ({}, user {})", i.command, i.user),
            Err(_) => format!("pid {pid}"),
        })
        .collect();
    if who.is_empty() {
        who.push("a process that is not visible to us".into());
    }
    let why = if takeover {
        "refused: it is not the runtime this state dir's runtime.json proves, so this is no takeover"
    } else {
        "refused: a second listener would split the port's connections with it"
    };
    Err(Failure::critical(format!(
        "port {} on {} is in use by {}; {why}",
        addr.port(),
        addr.ip(),
        who.join(", ")
    ))
    .with_next(format!(
        "hal9ctl emergency port-conflict --port {}",
        addr.port()
    )))
}

/// Pure: whether listeners on `a` and `b` (same port) take the same connections.
fn overlaps(a: std::net::IpAddr, b: std::net::IpAddr) -> bool {
    let v4 = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let (a, b) = (v4(a), v4(b));
    a == b || a.is_unspecified() || b.is_unspecified()
}

async fn foreground(ctx: &Ctx, s: &ServeSettings) -> anyhow::Result<ServeReport> {
    let sd = StateDir::new(&ctx.state_dir);
    ensure_private_dir(&sd.root)
        .with_context(|| format!("creating the state dir {}", sd.root.display()))?;
    let lock = if s.takeover {
        None
    } else {
        Some(sd.lock_pid().map_err(|e| {
            match e {
                StateLockError::Held { pid, dir } => Failure::critical(format!(
                    "refused: a runtime (pid {pid}) is already running with the state dir {}",
                    dir.display()
                ))
                .with_next("hal9ctl health   # or: hal9ctl restart"),
                other => Failure::critical(other.to_string()),
            }
        })?)
    };
    let token = match &s.admin_token_file {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading the admin token file {}", p.display()))?
            .trim()
            .to_string(),
        None => sd
            .ensure_token()
            .with_context(|| format!("creating {}", sd.token_file().display()))?,
    };
    if token.is_empty() {
        return Err(Failure::usage("the admin token file is empty")
            .with_next(
                "hal9ctl serve   # without --admin-token-file, a token is made in the state dir",
            )
            .into());
    }
    let cfg = ctx.config();
    let runtime = Runtime::new(&cfg.neurons, &cfg.runtime).map_err(|e| {
        Failure::usage(format!(
            "the [[neurons]] network in the config is not usable: {e}"
        ))
        .with_next("hal9ctl config   # shows which file it came from")
    })?;
    // Everything that can fail on bad input is checked before binding: a
    // successor that binds and then dies would reset connections steered to it.
    let migration = match &s.migration_source {
        None => {
            let opened = match s.initial_phase {
                None => MigrationStore::open(&sd.root),
                Some(p) => MigrationStore::open_starting_at(&sd.root, p).map(|(s, used)| {
                    if !used {
                        tracing::warn!(
                            "the migration starts where {} records it ({}), not at {p}: a recorded migration is never reset",
                            sd.root.join("migration.json").display(),
                            s.get().phase
                        );
                    }
                    s
                }),
            };
            opened.map_err(|e| {
                Failure::critical(e.to_string()).with_next(format!(
                    "inspect or move {}",
                    sd.root.join("migration.json").display()
                ))
            })?
        }
        Some((ns, name)) => follow_configmap(ns, name).await?,
    };
    let admin_limits = sd.read_admin_limits().map_err(|e| {
        Failure::critical(format!(
            "cannot read the limits last set through /admin/limits: {e}"
        ))
        .with_next(format!(
            "inspect or remove {}",
            sd.admin_limits_file().display()
        ))
    })?;
    let addr = s.listen;
    refuse_a_shared_port(addr, s.takeover, &sd)?;
    let std_listener = listener::bind(addr).map_err(|e| bind_failure(addr, &e))?;
    let bound = std_listener
        .local_addr()
        .context("reading the bound address")?;
    if s.takeover
        && let Err(e) = listener::steer_to_successor(&std_listener)
    {
        // Without steering the handover still works; a connection racing the
        // predecessor's close may be reset.
        tracing::warn!("cannot steer new connections to this instance: {e}");
    }
    let limits = match admin_limits {
        Some(l) => {
            tracing::info!(
                "limits from {} (last set through /admin/limits): {} in flight, {} req/s",
                sd.admin_limits_file().display(),
                l.max_in_flight,
                l.rate_limit_rps
            );
            l
        }
        None => Limits {
            max_in_flight: cfg.limits.max_in_flight,
            rate_limit_rps: cfg.limits.rate_limit_rps,
        },
    };
    let state = AppState::new(runtime, limits, migration, token, bound);
    // Only a runtime with a state dir persists what the admin API changes.
    let _ = state.admin_state.set(sd.clone());
    let info = RuntimeInfo {
        pid: std::process::id(),
        listen: bound.to_string(),
        version: crate::VERSION.to_string(),
        started_at: state.started_at.clone(),
        start_ticks: crate::system::process::own_start_ticks(),
        listen_inode: nix::sys::stat::fstat(std::os::fd::AsFd::as_fd(&std_listener))
            .ok()
            .map(|st| st.st_ino),
        serve_args: recorded_serve_args(s, bound),
        config: ctx
            .loaded
            .file
            .as_deref()
            .and_then(|f| std::path::absolute(f).ok())
            .filter(|f| f.to_str().is_some()),
        oom_baseline: crate::system::oom::baseline_of_self(),
    };
    spawn_signal_handler(state.clone());
    let lock = match lock {
        Some(l) => {
            sd.write_runtime_info(&info)
                .with_context(|| format!("writing {}", sd.runtime_json().display()))?;
            Some(l)
        }
        None => {
            // Takeover: the predecessor still holds the lock; claim it when it exits.
            let sd2 = sd.clone();
            let info2 = info.clone();
            tokio::task::spawn_blocking(move || match sd2.lock_pid_blocking() {
                Ok(l) => {
                    if let Err(e) = sd2.write_runtime_info(&info2) {
                        tracing::error!("cannot write runtime.json: {e}");
                    }
                    tracing::info!("took over the state dir from the previous instance");
                    std::mem::forget(l);
                }
                Err(e) => tracing::error!("cannot take over the pid lock: {e}"),
            });
            None
        }
    };
    if let Some((ns, name)) = &s.migration_source {
        let target = crate::cluster::Target {
            context: None,
            namespace: ns.clone(),
            deployment: String::new(),
        };
        let kube = crate::cluster::connect(&target).await?;
        let st = state.clone();
        tokio::spawn(crate::cluster::migration::follow(
            kube,
            name.clone(),
            move |doc| {
                tracing::info!(
                    "migration from the configmap: phase {} at {:.2} % (version {})",
                    doc.phase,
                    doc.hierarchical_percent,
                    doc.version
                );
                st.migration.replace(doc);
            },
        ));
    }
    tracing::info!(
        "hal9 runtime {} listening on http://{bound} (pid {})",
        crate::VERSION,
        std::process::id()
    );
    let drain_timeout = s.drain_timeout;
    let clean = server::run(std_listener, state.clone(), drain_timeout)
        .await
        .context("serving")?;
    sd.remove_runtime_info_of(std::process::id());
    drop(lock);
    Ok(ServeReport {
        pid: std::process::id(),
        listen: bound.to_string(),
        url: format!("http://{bound}"),
        state_dir: sd.root.display().to_string(),
        log: None,
        detached: false,
        drained_cleanly: Some(clean),
        requests_served: Some(state.served.load(std::sync::atomic::Ordering::Relaxed)),
    })
}

/// This instance's `serve` arguments as a successor must get them: the bound
/// address (not `:0`), absolute paths. `None` when a path is not UTF-8 and
/// cannot be written into runtime.json.
fn recorded_serve_args(s: &ServeSettings, bound: SocketAddr) -> Option<Vec<String>> {
    let mut v = vec!["--listen".to_string(), bound.to_string()];
    if let Some(d) = s.drain_timeout_flag {
        v.push("--drain-timeout".into());
        v.push(humantime::format_duration(d).to_string());
    }
    if let Some(p) = &s.admin_token_file {
        v.push("--admin-token-file".into());
        v.push(std::path::absolute(p).ok()?.to_str()?.to_string());
    }
    if let Some((ns, name)) = &s.migration_source {
        v.push("--migration-source".into());
        v.push(format!("configmap:{ns}/{name}"));
    }
    Some(v)
}

/// The initial migration state from the ConfigMap; the watcher keeps it current.
async fn follow_configmap(ns: &str, name: &str) -> Result<MigrationStore, Failure> {
    let target = crate::cluster::Target {
        context: None,
        namespace: ns.to_string(),
        deployment: String::new(),
    };
    let kube = crate::cluster::connect(&target).await?;
    let store = crate::cluster::migration::ConfigMapStore {
        kube,
        name: name.to_string(),
    };
    let (doc, _, _) = store.get().await?;
    Ok(MigrationStore::following(store.describe(), doc))
}

/// Registered before the caller returns, not inside the task: a SIGTERM
/// that arrives once runtime.json names this process must drain it, never
/// kill it by the default action.
fn spawn_signal_handler(state: Arc<AppState>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install SIGTERM/SIGINT handlers; drain with POST /admin/drain");
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = int.recv() => tracing::info!("SIGINT: draining"),
        }
        state.begin_drain();
    });
}

/// The arguments to re-run this process with, minus `--detach`.
fn child_args() -> Vec<std::ffi::OsString> {
    std::env::args_os()
        .skip(1)
        .filter(|a| a != "--detach")
        .collect()
}

fn log_tail(path: &Path, lines: usize) -> String {
    let s = crate::system::fsio::read_tail(path, 64 * 1024)
        .map(|(text, _)| text)
        .unwrap_or_default();
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Start `serve` in the background (own process group, log in the state
/// dir) and return once its `/ready` answers.
pub fn detach(ctx: &Ctx, s: &ServeSettings) -> anyhow::Result<ServeReport> {
    let sd = StateDir::new(&ctx.state_dir);
    ensure_private_dir(&sd.root)
        .with_context(|| format!("creating the state dir {}", sd.root.display()))?;
    if !s.takeover && sd.pid_lock_held() {
        let pid = sd
            .read_pid()
            .ok()
            .flatten()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into());
        return Err(Failure::critical(format!(
            "refused: a runtime (pid {pid}) is already running with the state dir {}",
            sd.root.display()
        ))
        .with_next("hal9ctl health   # or: hal9ctl restart")
        .into());
    }
    let log_path = sd.log_file();
    let log = sd
        .open_log()
        .with_context(|| format!("opening {}", log_path.display()))?;
    let log_err = log.try_clone().context("duplicating the log handle")?;
    let exe = std::env::current_exe().context("finding the hal9ctl binary")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(child_args())
        .env("HAL9_STATE_DIR", &sd.root)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    // Its own process group: a Ctrl-C in the operator's shell does not reach it.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().context("starting the runtime")?;
    let pid = child.id();
    let deadline = Instant::now() + s.ready_timeout;
    let fail = |why: String| -> anyhow::Error {
        let tail = log_tail(&log_path, 15);
        Failure::critical(format!(
            "{why}; the last lines of {}:\n{tail}",
            log_path.display()
        ))
        .with_next(format!("less {}", log_path.display()))
        .into()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    loop {
        if let Some(status) = child.try_wait().context("watching the runtime")? {
            return Err(fail(format!("the runtime exited at start ({status})")));
        }
        // A successor does not own runtime.json yet: find it on the shared port by its pid.
        let listen = match sd.read_runtime_info() {
            Ok(Some(info)) if info.pid == pid => Some(info.listen),
            _ if s.takeover => Some(s.listen.to_string()),
            _ => None,
        };
        if let Some(listen) = listen {
            let url = format!("http://{listen}");
            let ready = rt.block_on(async {
                match RuntimeClient::fresh_connections(&url, Duration::from_secs(1)) {
                    Ok(c) => {
                        c.health().await.map(|t| t.body.pid == pid).unwrap_or(false)
                            && (s.takeover
                                || c.ready().await.map(|t| t.body.ready).unwrap_or(false))
                    }
                    Err(_) => false,
                }
            });
            if ready {
                return Ok(ServeReport {
                    pid,
                    listen,
                    url,
                    state_dir: sd.root.display().to_string(),
                    log: Some(log_path.display().to_string()),
                    detached: true,
                    drained_cleanly: None,
                    requests_served: None,
                });
            }
        }
        if Instant::now() >= deadline {
            // Our own child, not yet reaped, so its pid cannot have been reused;
            // it still goes through the one checked, pidfd-based path.
            if let Some(ticks) = crate::system::process::start_ticks(pid as i32) {
                let e = crate::system::signals::Expected {
                    pid: pid as i32,
                    start_ticks: ticks,
                    inodes: Default::default(),
                };
                let _ = crate::system::signals::send_checked(&e, nix::sys::signal::Signal::SIGTERM);
            }
            return Err(fail(format!(
                "the runtime did not become ready within {}, so it was stopped",
                humantime::format_duration(s.ready_timeout)
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn listeners_overlap_on_the_same_or_a_wildcard_address() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(overlaps(ip("127.0.0.1"), ip("127.0.0.1")));
        assert!(overlaps(ip("0.0.0.0"), ip("127.0.0.1")));
        assert!(overlaps(ip("::"), ip("127.0.0.1")));
        assert!(overlaps(ip("::ffff:127.0.0.1"), ip("127.0.0.1")));
        assert!(!overlaps(ip("127.0.0.1"), ip("127.0.0.2")));
        assert!(!overlaps(ip("::1"), ip("127.0.0.1")));
    }
}
