//! `hal9ctl restart` (local): zero downtime when the runtime is healthy —
//! start a successor on the same port (SO_REUSEPORT), wait until it is
//! ready, then SIGTERM the old one, which drains and exits. Otherwise a
//! checked cold start. The old pid comes from runtime.json, so it is signalled
//! only once it is proved to be the runtime that file recorded (§5).

use std::net::SocketAddr;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::report::RestartReport;
use super::settings::RestartSettings;
use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::output::changes::Change;
use crate::runtime::api::HealthStatus;
use crate::runtime::client::RuntimeClient;
use crate::runtime::state::{RuntimeInfo, StateDir};
use crate::system::runtime_identity;
use crate::system::serve_detached::start_detached;
use crate::system::signals::{self, Expected};

/// What was found before acting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundRuntime {
    pub listen: SocketAddr,
    /// The runtime recorded in runtime.json, and whether it is proved to be that process.
    pub recorded: Recorded,
    pub healthy: bool,
    /// The pid lock is held (a runtime of this state dir is running).
    pub lock_held: bool,
    /// A pid file or runtime.json is left by a runtime that is gone.
    pub stale_files: bool,
    /// Something else listens on the port.
    pub port_taken: bool,
}

/// What runtime.json's pid turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recorded {
    /// No runtime.json, or its process is gone.
    Nothing,
    /// A `hal9ctl serve` with the recorded start time, holding the recorded socket.
    Proved { pid: u32 },
    /// Alive, but not provably the runtime: never signalled.
    Unproved { pid: u32, why: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum HandoverPlan {
    /// Start a successor beside the running instance, then retire it.
    Handover { old_pid: u32, old_healthy: bool },
    /// Nothing of ours runs: clear stale files and start.
    ColdStart { clear_stale: bool },
    /// A foreign process holds the port and --force was not given, or
    /// runtime.json names a pid that is not provably the runtime.
    Refuse { reason: String, next: String },
}

/// Pure: facts in, decision out.
pub fn plan(f: &FoundRuntime, force: bool) -> HandoverPlan {
    match &f.recorded {
        Recorded::Proved { pid } if f.lock_held => HandoverPlan::Handover {
            old_pid: *pid,
            old_healthy: f.healthy,
        },
        // --force does not reach here: it clears the port, never a pid nobody could vouch for.
        Recorded::Unproved { pid, why } if f.lock_held => HandoverPlan::Refuse {
            reason: format!("runtime.json names pid {pid}, but {why}; nothing was signalled"),
            next: format!(
                "hal9ctl emergency port-conflict --port {} --restart   # stops what really holds the port, then starts the runtime",
                f.listen.port()
            ),
        },
        _ if f.port_taken && !force => HandoverPlan::Refuse {
            reason: format!(
                "port {} is held by a process that is not this runtime",
                f.listen.port()
            ),
            next: format!(
                "hal9ctl emergency port-conflict --port {} --restart   # frees the port and starts the runtime; or: hal9ctl restart --force",
                f.listen.port()
            ),
        },
        _ => HandoverPlan::ColdStart {
            clear_stale: f.stale_files,
        },
    }
}

fn port_free(addr: SocketAddr) -> bool {
    std::net::TcpListener::bind(addr).is_ok()
}

/// What gather found, with what apply needs beyond the plan's facts.
struct GatheredRestart {
    found: FoundRuntime,
    info: Option<RuntimeInfo>,
    old: Option<Expected>,
}

async fn gather(ctx: &Ctx) -> Result<GatheredRestart, Failure> {
    let sd = StateDir::new(&ctx.state_dir);
    let info = sd.read_runtime_info().map_err(|e| {
        Failure::critical(format!("cannot read {}: {e}", sd.runtime_json().display()))
    })?;
    let lock_held = sd.pid_lock_held();
    let listen: SocketAddr = match &info {
        Some(i) => i.listen.parse().unwrap_or(ctx.config().server.listen),
        None => ctx.config().server.listen,
    };
    let (recorded, old) = match info.as_ref().map(|i| (i.pid, runtime_identity::verify(i))) {
        None | Some((_, Err(runtime_identity::IdentityError::Gone(_)))) => {
            (Recorded::Nothing, None)
        }
        Some((pid, Ok(e))) => (Recorded::Proved { pid }, Some(e)),
        Some((pid, Err(why))) => (
            Recorded::Unproved {
                pid,
                why: why.to_string(),
            },
            None,
        ),
    };
    let healthy = match &recorded {
        Recorded::Proved { pid } => match RuntimeClient::fresh_connections(
            &format!("http://{listen}"),
            Duration::from_secs(2),
        ) {
            Ok(c) => c
                .health()
                .await
                .is_ok_and(|h| h.body.pid == *pid && h.body.status != HealthStatus::Unhealthy),
            Err(_) => false,
        },
        _ => false,
    };
    let stale_files = !lock_held && (sd.pid_file().exists() || sd.runtime_json().exists());
    let port_taken = !lock_held && !port_free(listen);
    Ok(GatheredRestart {
        found: FoundRuntime {
            listen,
            recorded,
            healthy,
            lock_held,
            stale_files,
            port_taken,
        },
        info,
        old,
    })
}

/// SIGTERM the proved old instance (it drains exactly as `/admin/drain`
/// would, and a drain request could not reach it: new connections go to the
/// successor), wait for it to exit, SIGKILL it when it will not.
async fn retire(old: &signals::Checked, drain_timeout: Duration) -> Result<&'static str, String> {
    use nix::sys::signal::Signal;
    match old.send(Signal::SIGTERM) {
        Ok(()) => {}
        Err(signals::KillError::Gone(_)) => return Ok("had already exited"),
        Err(e) => return Err(e.to_string()),
    }
    if wait_exit(old, drain_timeout + Duration::from_secs(2)).await {
        return Ok("drained and exited");
    }
    match old.send(Signal::SIGKILL) {
        Ok(()) | Err(signals::KillError::Gone(_)) => {}
        Err(e) => return Err(e.to_string()),
    }
    if wait_exit(old, Duration::from_secs(2)).await {
        Ok("killed (SIGKILL) after the drain timeout")
    } else {
        Err("it survived SIGKILL".into())
    }
}

async fn wait_exit(p: &signals::Checked, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while !p.exited() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
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

pub async fn restart(ctx: &Ctx, a: &RestartSettings) -> anyhow::Result<RestartReport> {
    let GatheredRestart {
        found: f,
        info,
        old,
    } = gather(ctx).await?;
    let sd = StateDir::new(&ctx.state_dir);
    let target = format!("local runtime {}", f.listen);
    let p = plan(&f, a.force);
    // The old instance drains for as long as it was told to, whatever our config says.
    let recorded_drain = info
        .as_ref()
        .and_then(|i| i.serve_arg("--drain-timeout"))
        .and_then(|d| humantime::parse_duration(d).ok());
    let drain_timeout = a
        .drain_timeout
        .or(recorded_drain)
        .unwrap_or(a.configured_drain_timeout);
    let wait = a.wait;
    // A runtime that is a systemd service may be systemd's to restart.
    let unit_note = match &p {
        HandoverPlan::Handover {
            old_pid,
            old_healthy,
        } => match super::via_systemd::route(
            ctx,
            *old_pid,
            *old_healthy,
            &format!("http://{}", f.listen),
            wait,
        )
        .await?
        {
            super::via_systemd::Routed::Report(r) => return Ok(r),
            super::via_systemd::Routed::Handover(note) => note,
        },
        _ => None,
    };
    let changes = match &p {
        HandoverPlan::Handover { old_pid, .. } => vec![Change::new("pid", old_pid, "new instance")],
        HandoverPlan::ColdStart { .. } => vec![Change::new("pid", "none", "new instance")],
        HandoverPlan::Refuse { .. } => vec![],
    };
    if let HandoverPlan::Refuse { reason, next } = &p {
        ctx.audit("restart", &target, &format!("refused: {reason}"));
        return Err(
            Failure::critical(format!("refused: {reason}; it is not restarted blindly"))
                .with_next(next.clone())
                .into(),
        );
    }
    if ctx.global.dry_run {
        let summary = match &p {
            HandoverPlan::Handover {
                old_pid,
                old_healthy: true,
            } => format!(
                "would start a successor on {}, then drain and stop pid {old_pid} (zero downtime)",
                f.listen
            ),
            HandoverPlan::Handover { old_pid, .. } => {
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
        return Ok(RestartReport {
            target,
            action: "restart".into(),
            dry_run: true,
            changes,
            warnings: unit_note.into_iter().collect(),
            undo: None,
            summary,
            status: Exit::Ok,
        });
    }
    match p {
        HandoverPlan::Handover {
            old_pid,
            old_healthy,
        } => {
            // The pidfd is opened and the identity checked before the successor
            // exists: from here on only this process can get the SIGTERM.
            let checked = old
                .as_ref()
                .ok_or_else(|| Failure::critical("the old instance was not proved"))
                .and_then(|e| {
                    signals::check(e).map_err(|e| {
                        Failure::critical(format!(
                            "refused: the old instance changed since it was checked: {e}"
                        ))
                        .with_next("hal9ctl restart")
                    })
                })?;
            let new_pid =
                match start_detached(
                    &ctx.state_dir,
                    ctx.loaded.file.as_deref(),
                    f.listen,
                    true,
                    wait,
                    info.as_ref(),
                ) {
                    Ok(pid) => pid,
                    Err(e) => {
                        ctx.audit("restart", &target,
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
            let mut warnings: Vec<String> = unit_note.into_iter().collect();
            let how = match retire(&checked, drain_timeout).await {
                Ok(how) => how,
                Err(e) => {
                    warnings.push(format!(
                        "the old instance (pid {old_pid}) could not be stopped: {e}"
                    ));
                    "is still running"
                }
            };
            // The successor claims the pid lock and runtime.json once the old one is gone.
            let t0 = Instant::now();
            while !matches!(sd.read_runtime_info(), Ok(Some(i)) if i.pid == new_pid)
                && t0.elapsed() < Duration::from_secs(5)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let owned = matches!(sd.read_runtime_info(), Ok(Some(i)) if i.pid == new_pid);
            if !old_healthy {
                warnings.push(format!(
                    "the old instance (pid {old_pid}) was unhealthy before the restart"
                ));
            }
            if info.as_ref().is_some_and(|i| i.serve_args.is_none()) {
                warnings.push(
                    "runtime.json did not record the serve arguments, so the new instance has only --listen"
                        .into(),
                );
            }
            if !owned {
                warnings.push(format!(
                    "pid {new_pid} serves, but has not taken over runtime.json yet"
                ));
            }
            let status = if owned && checked.exited() {
                Exit::Ok
            } else {
                Exit::Warning
            };
            ctx.audit(
                "restart",
                &target,
                &format!("ok: pid {old_pid} → {new_pid}; old {how}"),
            );
            Ok(RestartReport {
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
        HandoverPlan::ColdStart { clear_stale: stale } => {
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
            let pid = start_detached(
                &ctx.state_dir,
                ctx.loaded.file.as_deref(),
                f.listen,
                false,
                wait,
                info.as_ref(),
            )
            .map_err(|e| e.with_next(format!("less {}", log_path(&sd))))?;
            ctx.audit("restart", &target, &format!("ok: cold start, pid {pid}"));
            Ok(RestartReport {
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
        HandoverPlan::Refuse { .. } => Ok(RestartReport {
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

    fn found() -> FoundRuntime {
        FoundRuntime {
            listen: "127.0.0.1:8080".parse().unwrap(),
            recorded: Recorded::Proved { pid: 42 },
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
            HandoverPlan::Handover {
                old_pid: 42,
                old_healthy: true
            }
        );
        let mut f = found();
        f.healthy = false;
        assert_eq!(
            plan(&f, false),
            HandoverPlan::Handover {
                old_pid: 42,
                old_healthy: false
            }
        );
    }

    #[test]
    fn nothing_running_is_a_cold_start_that_clears_stale_files() {
        let f = FoundRuntime {
            recorded: Recorded::Nothing,
            healthy: false,
            lock_held: false,
            stale_files: true,
            ..found()
        };
        assert_eq!(
            plan(&f, false),
            HandoverPlan::ColdStart { clear_stale: true }
        );
    }

    #[test]
    fn a_foreign_holder_is_refused_without_force() {
        let f = FoundRuntime {
            recorded: Recorded::Nothing,
            healthy: false,
            lock_held: false,
            port_taken: true,
            ..found()
        };
        match plan(&f, false) {
            // The one command that heals it: free the port and start the runtime.
            HandoverPlan::Refuse { next, .. } => assert!(
                next.starts_with("hal9ctl emergency port-conflict --port 8080 --restart"),
                "{next}"
            ),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            plan(&f, true),
            HandoverPlan::ColdStart { clear_stale: false }
        );
    }

    #[test]
    fn an_unproved_pid_is_refused_even_with_force() {
        let f = FoundRuntime {
            recorded: Recorded::Unproved {
                pid: 42,
                why: "pid 42 is not a hal9ctl serve (it runs: sleep 600)".into(),
            },
            ..found()
        };
        for force in [false, true] {
            match plan(&f, force) {
                HandoverPlan::Refuse { reason, .. } => {
                    assert!(reason.contains("pid 42 is not a hal9ctl serve"), "{reason}")
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }
}
