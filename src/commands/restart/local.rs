//! `hal9ctl restart` (local): zero downtime when the runtime is healthy —
//! start a successor on the same port (SO_REUSEPORT), wait until it is
//! ready, drain the old one, stop it. Otherwise a checked cold start.

use std::net::SocketAddr;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::Ctx;
use crate::cli::args::RestartArgs;
use crate::commands::scale::report::{Change, ScaleReport};
use crate::exit::{Exit, Failure};
use crate::runtime::api::HealthStatus;
use crate::runtime::client::{ClientError, RuntimeClient};
use crate::runtime::state::StateDir;

use crate::system::process;

/// What was found before acting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    pub listen: SocketAddr,
    /// The runtime recorded in runtime.json whose process is alive.
    pub pid: Option<u32>,
    pub healthy: bool,
    /// The pid lock is held (a runtime of this state dir is running).
    pub lock_held: bool,
    /// A pid file or runtime.json is left by a runtime that is gone.
    pub stale_files: bool,
    /// Something else listens on the port.
    pub port_taken: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Plan {
    /// Start a successor beside the running instance, then retire it.
    Handover { old_pid: u32, old_healthy: bool },
    /// Nothing of ours runs: clear stale files and start.
    ColdStart { clear_stale: bool },
    /// A foreign process holds the port and --force was not given.
    Refuse { reason: String },
}

/// Pure: facts in, decision out.
pub fn plan(f: &Found, force: bool) -> Plan {
    match f.pid {
        Some(pid) if f.lock_held => Plan::Handover {
            old_pid: pid,
            old_healthy: f.healthy,
        },
        _ if f.port_taken && !force => Plan::Refuse {
            reason: format!(
                "port {} is held by a process that is not this runtime",
                f.listen.port()
            ),
        },
        _ => Plan::ColdStart {
            clear_stale: f.stale_files,
        },
    }
}

fn alive(pid: u32) -> bool {
    process::start_ticks(pid as i32).is_some()
}

fn start_time(pid: u32) -> Option<u64> {
    process::start_ticks(pid as i32)
}

fn port_free(addr: SocketAddr) -> bool {
    std::net::TcpListener::bind(addr).is_ok()
}

async fn gather(ctx: &Ctx) -> Result<Found, Failure> {
    let sd = StateDir::new(&ctx.state_dir);
    let info = sd.read_runtime_info().map_err(|e| {
        Failure::critical(format!("cannot read {}: {e}", sd.runtime_json().display()))
    })?;
    let lock_held = sd.pid_lock_held();
    let listen: SocketAddr = match &info {
        Some(i) => i.listen.parse().unwrap_or(ctx.config().server.listen),
        None => ctx.config().server.listen,
    };
    let pid = info.as_ref().map(|i| i.pid).filter(|p| alive(*p));
    let healthy = match pid {
        Some(p) => match RuntimeClient::fresh_connections(
            &format!("http://{listen}"),
            Duration::from_secs(2),
        ) {
            Ok(c) => c
                .health()
                .await
                .is_ok_and(|h| h.body.pid == p && h.body.status != HealthStatus::Unhealthy),
            Err(_) => false,
        },
        None => false,
    };
    let stale_files = !lock_held && (sd.pid_file().exists() || sd.runtime_json().exists());
    let port_taken = !lock_held && !port_free(listen);
    Ok(Found {
        listen,
        pid,
        healthy,
        lock_held,
        stale_files,
        port_taken,
    })
}

fn audit(ctx: &Ctx, target: &str, result: &str) {
    crate::system::audit::record_or_warn(&ctx.state_dir, "restart", target, result);
}

/// Run `hal9ctl serve --detach` (as a successor when `takeover`); it returns
/// once the new instance answers, or fails with its log tail.
pub(crate) fn start_detached(
    ctx: &Ctx,
    listen: SocketAddr,
    takeover: bool,
    wait: Duration,
) -> Result<u32, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::critical(format!("cannot find the hal9ctl binary: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    if let Some(file) = &ctx.loaded.file {
        cmd.arg("--config").arg(file);
    }
    cmd.args(["--state-dir"]).arg(&ctx.state_dir).args([
        "serve",
        "--detach",
        "--listen",
        &listen.to_string(),
        "-o",
        "json",
    ]);
    cmd.arg("--ready-timeout")
        .arg(humantime::format_duration(wait).to_string());
    if takeover {
        cmd.arg("--takeover");
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::critical(format!("cannot start the runtime: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(Failure::critical(format!(
            "the new instance did not become ready:\n{why}"
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::critical(format!("unexpected answer from serve --detach: {e}")))?;
    v["pid"]
        .as_u64()
        .map(|p| p as u32)
        .ok_or_else(|| Failure::critical("serve --detach did not report a pid"))
}

/// Ask the old instance (by pid) to drain through the admin API. With two
/// instances on one port each attempt reaches one of them at random.
async fn drain_old(url: &str, token: &str, pid: u32) -> bool {
    let Ok(c) = RuntimeClient::fresh_connections(url, Duration::from_secs(2)) else {
        return false;
    };
    for _ in 0..64 {
        match c.drain_pid(token, pid).await {
            Ok(_) => return true,
            Err(ClientError::Status { status: 409, .. }) => continue,
            Err(_) => return false,
        }
    }
    false
}

/// Wait for `pid` (started at `started`) to exit; TERM, then KILL, when it will not.
async fn retire(pid: u32, started: Option<u64>, drain_timeout: Duration) -> &'static str {
    let same = || alive(pid) && start_time(pid) == started;
    let deadline = Instant::now() + drain_timeout + Duration::from_secs(2);
    while same() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !same() {
        return "drained and exited";
    }
    let p = nix::unistd::Pid::from_raw(pid as i32);
    let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while same() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !same() {
        return "stopped by SIGTERM";
    }
    let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
    "killed (SIGKILL) after the drain timeout"
}

fn clear_stale(sd: &StateDir) {
    for p in [sd.pid_file(), sd.runtime_json()] {
        if let Err(e) = std::fs::remove_file(&p)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {e}", p.display());
        }
    }
}

fn log_path(sd: &StateDir) -> String {
    sd.log_file().display().to_string()
}

pub async fn restart(ctx: &Ctx, a: &RestartArgs) -> anyhow::Result<ScaleReport> {
    let f = gather(ctx).await?;
    let sd = StateDir::new(&ctx.state_dir);
    let target = format!("local runtime {}", f.listen);
    let p = plan(&f, a.force);
    let drain_timeout = a.drain_timeout.unwrap_or(ctx.config().server.drain_timeout);
    let wait = a.wait.unwrap_or(Duration::from_secs(30));
    let changes = match &p {
        Plan::Handover { old_pid, .. } => vec![Change::new("pid", old_pid, "new instance")],
        Plan::ColdStart { .. } => vec![Change::new("pid", "none", "new instance")],
        Plan::Refuse { .. } => vec![],
    };
    if let Plan::Refuse { reason } = &p {
        audit(ctx, &target, &format!("refused: {reason}"));
        return Err(
            Failure::critical(format!("refused: {reason}; it is not restarted blindly"))
                .with_next(format!(
                    "hal9ctl emergency port-conflict --port {}   # or: hal9ctl restart --force",
                    f.listen.port()
                ))
                .into(),
        );
    }
    if ctx.global.dry_run {
        let summary = match &p {
            Plan::Handover {
                old_pid,
                old_healthy: true,
            } => format!(
                "would start a successor on {}, then drain and stop pid {old_pid} (zero downtime)",
                f.listen
            ),
            Plan::Handover { old_pid, .. } => {
                format!("pid {old_pid} is unhealthy: would start a successor, then stop it")
            }
            _ => format!(
                "nothing healthy runs: would {}start the runtime on {}",
                if f.stale_files {
                    "clear the stale pid file and "
                } else {
                    ""
                },
                f.listen
            ),
        };
        return Ok(ScaleReport {
            target,
            action: "restart".into(),
            dry_run: true,
            changes,
            warnings: vec![],
            undo: None,
            summary,
            status: Exit::Ok,
        });
    }
    match p {
        Plan::Handover {
            old_pid,
            old_healthy,
        } => {
            let started = start_time(old_pid);
            let new_pid = match start_detached(ctx, f.listen, true, wait) {
                Ok(pid) => pid,
                Err(e) => {
                    audit(
                        ctx,
                        &target,
                        &format!(
                            "failed: the new instance did not start; pid {old_pid} keeps serving"
                        ),
                    );
                    return Err(Failure::critical(format!(
                        "{}\nthe old instance (pid {old_pid}) keeps serving",
                        e.message
                    ))
                    .with_next(format!("less {}", log_path(&sd)))
                    .into());
                }
            };
            let token = sd.read_token().unwrap_or_default();
            let url = format!("http://{}", f.listen);
            let drained = drain_old(&url, &token, old_pid).await;
            if !drained {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(old_pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let how = retire(old_pid, started, drain_timeout).await;
            // The successor claims the pid lock and runtime.json once the old one is gone.
            let t0 = Instant::now();
            while !matches!(sd.read_runtime_info(), Ok(Some(i)) if i.pid == new_pid)
                && t0.elapsed() < Duration::from_secs(5)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let owned = matches!(sd.read_runtime_info(), Ok(Some(i)) if i.pid == new_pid);
            let mut warnings = Vec::new();
            if !old_healthy {
                warnings.push(format!(
                    "the old instance (pid {old_pid}) was unhealthy before the restart"
                ));
            }
            if !drained {
                warnings.push("the admin API did not take the drain request, so SIGTERM was sent (it drains the same way)".into());
            }
            let status = if owned { Exit::Ok } else { Exit::Warning };
            if !owned {
                warnings.push(format!(
                    "pid {new_pid} serves, but has not taken over runtime.json yet"
                ));
            }
            audit(
                ctx,
                &target,
                &format!("ok: pid {old_pid} → {new_pid}; old {how}"),
            );
            Ok(ScaleReport {
                target,
                action: "restart".into(),
                dry_run: false,
                changes: vec![Change::new("pid", old_pid, new_pid)],
                warnings,
                undo: None,
                summary: format!("pid {new_pid} serves on {}; pid {old_pid} {how}", f.listen),
                status,
            })
        }
        Plan::ColdStart { clear_stale: stale } => {
            if f.port_taken {
                // --force: the port-conflict command's rules decide what may be stopped.
                let out = port_conflict_force(ctx, f.listen.port())?;
                if !port_free(f.listen) {
                    return Err(Failure::critical(format!(
                        "port {} is still taken after the port-conflict step:\n{out}",
                        f.listen.port()
                    ))
                    .with_next(format!(
                        "hal9ctl emergency port-conflict --port {}",
                        f.listen.port()
                    ))
                    .into());
                }
            }
            if stale {
                clear_stale(&sd);
            }
            let pid = start_detached(ctx, f.listen, false, wait)
                .map_err(|e| e.with_next(format!("less {}", log_path(&sd))))?;
            audit(ctx, &target, &format!("ok: cold start, pid {pid}"));
            Ok(ScaleReport {
                target,
                action: "restart".into(),
                dry_run: false,
                changes: vec![Change::new("pid", "none", pid)],
                warnings: if stale {
                    vec!["a stale pid file of a runtime that is gone was cleared".into()]
                } else {
                    vec![]
                },
                undo: None,
                summary: format!(
                    "nothing healthy was running; started pid {pid}, ready on {}",
                    f.listen
                ),
                status: Exit::Ok,
            })
        }
        Plan::Refuse { .. } => Ok(ScaleReport {
            target,
            action: "restart".into(),
            dry_run: false,
            changes,
            warnings: vec![],
            undo: None,
            summary: String::new(),
            status: Exit::Critical,
        }),
    }
}

/// Hand the port to `hal9ctl emergency port-conflict --force` as a child, so
/// its safety rules (protected processes, supervisors, audit) apply unchanged.
fn port_conflict_force(ctx: &Ctx, port: u16) -> Result<String, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::critical(format!("cannot find the hal9ctl binary: {e}")))?;
    let out = std::process::Command::new(exe)
        .arg("--state-dir")
        .arg(&ctx.state_dir)
        .args([
            "emergency",
            "port-conflict",
            "--port",
            &port.to_string(),
            "--force",
            "--yes",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::critical(format!("cannot run the port-conflict step: {e}")))?;
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> Found {
        Found {
            listen: "127.0.0.1:8080".parse().unwrap(),
            pid: Some(42),
            healthy: true,
            lock_held: true,
            stale_files: false,
            port_taken: false,
        }
    }

    #[test]
    fn a_running_runtime_is_handed_over() {
        assert_eq!(
            plan(&found(), false),
            Plan::Handover {
                old_pid: 42,
                old_healthy: true
            }
        );
        let mut f = found();
        f.healthy = false;
        assert_eq!(
            plan(&f, false),
            Plan::Handover {
                old_pid: 42,
                old_healthy: false
            }
        );
    }

    #[test]
    fn nothing_running_is_a_cold_start_that_clears_stale_files() {
        let f = Found {
            pid: None,
            healthy: false,
            lock_held: false,
            stale_files: true,
            ..found()
        };
        assert_eq!(plan(&f, false), Plan::ColdStart { clear_stale: true });
    }

    #[test]
    fn a_foreign_holder_is_refused_without_force() {
        let f = Found {
            pid: None,
            healthy: false,
            lock_held: false,
            port_taken: true,
            ..found()
        };
        assert!(matches!(plan(&f, false), Plan::Refuse { .. }));
        assert_eq!(plan(&f, true), Plan::ColdStart { clear_stale: false });
    }
}
