//! The acting half of port-conflict: drain, signal (re-checked against the
//! holder gather saw), stop containers through their engine, audit every
//! step, then verify the port by binding it and watching for a respawn.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::plan::{
    PortConflictSettings, PortFacts, PortHolder, Proved, StopAction, container_label, refusal_next,
    retry_hint,
};
use super::report::{PortConflictReport, PortOutcome, PortStep, RestartResult};
use crate::cli::Ctx;
use crate::exit::Exit;
use crate::output::shell_word::shell_word;
use crate::output::{Styles, prompt};
use crate::runtime::client::{ClientError, RuntimeClient};
use crate::runtime::state::RuntimeInfo;
use crate::system::audit::{AuditLog, Entry};
use crate::system::docker;
use crate::system::owner::Owner;
use crate::system::process::{self, ProcInfo};
use crate::system::signals::{self, Expected};
use crate::system::sockets;
use crate::system::systemctl;

/// How long to keep trying to bind after the holders exited: the kernel
/// releases a listener's port a moment after the last fd closes.
const BIND_SETTLE: Duration = Duration::from_secs(2);
/// How long a freed port is watched before it is called free: runit, a
/// systemd `Restart=` and a shell loop bring a holder back within a second
/// or so, and a port that is taken again was never freed.
const RESPAWN_SETTLE: Duration = Duration::from_millis(2500);
/// How long SIGKILL gets before we call a process unkillable.
const KILL_WAIT: Duration = Duration::from_secs(2);
const READY_WAIT: Duration = Duration::from_secs(30);

pub(super) fn apply(
    ctx: &Ctx,
    opts: &PortConflictSettings,
    facts: &PortFacts,
    audit: &AuditLog,
    report: &mut PortConflictReport,
) {
    let plan = report.plan.clone();
    let holders: BTreeMap<i32, &PortHolder> =
        facts.holders.iter().map(|h| (h.info.pid, h)).collect();
    let describe = |pid: i32| {
        holders
            .get(&pid)
            .map(|h| format!("pid {pid} ({})", h.info.comm))
            .unwrap_or_else(|| format!("pid {pid}"))
    };

    if let Some(why) = &plan.refused {
        for p in &plan.steps {
            let why = match &p.action {
                StopAction::Refuse { reason } => reason.to_string(),
                StopAction::RefuseOwned { why, .. } => why.clone(),
                _ => continue,
            };
            record(
                audit,
                "kill",
                &describe(p.pid),
                false,
                &format!("refused: {why}"),
            );
        }
        if !plan.unresolved.is_empty() {
            record(
                audit,
                "kill",
                &format!("port {}", opts.port),
                false,
                &format!("refused: {why}"),
            );
        }
        report.outcome = PortOutcome::Refused;
        report.exit = Exit::Critical;
        report.message = format!("refused: nothing was signalled, because {why}");
        report.next = Some(refusal_next(opts, facts, &plan));
        return;
    }

    let asking = plan.needs_confirmation && !ctx.global.yes && std::io::stdin().is_terminal();
    if asking {
        // Whoever answers must see what the yes stops: holders, users, supervisors, signals.
        ctx.printer
            .before_prompt(&report.render_plan(&Styles { color: false }));
        report.plan_shown = std::io::stdout().is_terminal();
    } else {
        for w in &plan.respawn_warnings {
            ctx.printer.warn(w);
        }
    }
    if plan.needs_confirmation {
        let mut who: Vec<String> = Vec::new();
        let mut own_commands: Vec<String> = Vec::new();
        for p in &plan.steps {
            let w = match &p.action {
                StopAction::Signal { .. } => describe(p.pid),
                StopAction::StopContainer { id, name, .. } => {
                    own_commands.push(format!("docker stop {}", shell_word(name)));
                    container_label(id, name)
                }
                StopAction::StopUnit { unit, command } => {
                    own_commands.push(command.clone());
                    format!("systemd unit {}", unit.name)
                }
                _ => continue,
            };
            if !who.contains(&w) {
                who.push(w);
            }
        }
        own_commands.dedup();
        let yourself = if own_commands.is_empty() {
            String::new()
        } else {
            format!("; or stop it yourself: {}", own_commands.join("; "))
        };
        let question = format!(
            "stop {} holding port {} (not the HAL9 runtime)?",
            who.join(", "),
            opts.port
        );
        let answer = prompt::confirm(&question, ctx.global.yes, &retry_hint(opts, true));
        let refusal = match answer {
            Ok(true) => None,
            Ok(false) => Some((
                "refused: the operator answered no".to_string(),
                retry_hint(opts, false),
            )),
            Err(f) => Some((
                format!(
                    "refused: {} is not the HAL9 runtime; stopping it needs --force or a yes at a terminal prompt, and stdin is not a terminal{yourself}",
                    who.join(", ")
                ),
                f.next.unwrap_or_else(|| retry_hint(opts, true)),
            )),
        };
        if let Some((message, next)) = refusal {
            for w in &who {
                record(audit, "kill", w, false, &message);
            }
            report.outcome = PortOutcome::Refused;
            report.exit = Exit::Critical;
            report.message = message;
            report.next = Some(next);
            return;
        }
    }

    let mut sent = Vec::new();
    let mut stopped: BTreeSet<String> = BTreeSet::new();
    for p in &plan.steps {
        if let StopAction::StopContainer { id, name, socket } = &p.action {
            if stopped.insert(id.clone()) {
                report
                    .done
                    .push(stop_container(facts, p.pid, id, name, socket, opts, audit));
            }
            continue;
        }
        if let StopAction::StopUnit { unit, command } = &p.action {
            if stopped.insert(command.clone()) {
                let (ok, result) = match systemctl::stop_verified(unit) {
                    Ok(r) => (true, r),
                    Err(e) => (false, format!("failed: {e}")),
                };
                record(audit, "systemctl stop", &unit.name, ok, &result);
                report.done.push(PortStep {
                    pid: Some(p.pid),
                    step: command.clone(),
                    ok,
                    result,
                });
            }
            continue;
        }
        let Some(h) = holders.get(&p.pid) else {
            continue;
        };
        let expected = Expected {
            pid: p.pid,
            start_ticks: h.info.start_ticks,
            inodes: h.inodes.clone(),
        };
        let first = match &p.action {
            StopAction::Drain => {
                let d = drain(facts.proved.as_ref(), p.pid, &ctx.state_dir);
                record(audit, "drain", &describe(p.pid), d.ok, &d.result);
                report.done.push(PortStep {
                    pid: Some(p.pid),
                    ..d
                });
                Signal::SIGTERM
            }
            StopAction::Signal { signal } => *signal,
            StopAction::Refuse { .. }
            | StopAction::RefuseOwned { .. }
            | StopAction::StopContainer { .. }
            | StopAction::StopUnit { .. } => continue,
        };
        let d = signal_step(&expected, first, &describe(p.pid), audit);
        if d.ok {
            sent.push(expected);
        }
        report.done.push(d);
    }

    let survivors = signals::wait_exit(&sent, opts.grace);
    for e in &survivors {
        let d = signal_step(e, Signal::SIGKILL, &describe(e.pid), audit);
        report.done.push(d);
    }
    let unkillable = signals::wait_exit(&survivors, KILL_WAIT);

    match sockets::prove_free(opts.port, opts.udp, BIND_SETTLE).and_then(|()| settle(opts)) {
        Ok(Settled::Free) => {
            report.outcome = PortOutcome::Free;
            report.exit = Exit::Ok;
            report.message = format!("port {} is free", opts.port);
        }
        Ok(Settled::Retaken { holders, respawner }) => {
            // The holders we stopped are gone, the port is not free: partly done.
            report.outcome = PortOutcome::Retaken;
            report.exit = Exit::Warning;
            report.still_held_by = sockets::still_held_by(opts.port, opts.udp);
            let by = respawner
                .as_ref()
                .map(|r| format!(", brought back by {}", r.who))
                .unwrap_or_default();
            report.message = format!(
                "port {} was free, then taken again within {}: {}{by}",
                opts.port,
                crate::output::human_duration(RESPAWN_SETTLE),
                holders.join(", ")
            );
            report.next = Some(match respawner {
                Some(r) => format!("{}, then: {}", r.stop, retry_hint(opts, true)),
                None => retry_hint(opts, true),
            });
        }
        Err(busy) => {
            report.outcome = PortOutcome::StillHeld;
            report.exit = Exit::Critical;
            report.still_held_by = sockets::still_held_by(opts.port, opts.udp);
            let who = if report.still_held_by.is_empty() {
                busy
            } else {
                report.still_held_by.join(", ")
            };
            report.message = format!("port {} is still held: {who}", opts.port);
            if !unkillable.is_empty() {
                report.message.push_str(&format!(
                    " ({} process(es) survived SIGKILL)",
                    unkillable.len()
                ));
            }
            // A supervisor that brought the holder back is the thing to stop next.
            let supervisor_stop = facts
                .holders
                .iter()
                .find_map(|h| h.info.supervisor.as_ref().map(|s| s.stop.clone()));
            report.next = Some(supervisor_stop.unwrap_or_else(|| retry_hint(opts, true)));
        }
    }
}

/// The engine stops the container (and with it the docker-proxy); hal9ctl
/// signals nothing. The port itself is proven free afterwards by binding it.
fn stop_container(
    facts: &PortFacts,
    pid: i32,
    id: &str,
    name: &str,
    socket: &str,
    opts: &PortConflictSettings,
    audit: &AuditLog,
) -> PortStep {
    // A docker-proxy holder means the container publishes the port: re-check that.
    let via_proxy = facts.holders.iter().any(|h| {
        h.info.pid == pid && matches!(&h.info.owner, Some(Owner::Docker { proxy: Some(_), .. }))
    });
    let port = via_proxy.then_some(opts.port);
    let target = container_label(id, name);
    let (ok, result) =
        match docker::stop_verified(std::path::Path::new(socket), id, port, opts.grace) {
            Ok(r) => (true, r),
            Err(e) => (false, format!("failed: {e}")),
        };
    record(audit, "docker stop", &target, ok, &result);
    PortStep {
        pid: Some(pid),
        step: format!("docker stop {name}"),
        ok,
        result,
    }
}

fn signal_step(e: &Expected, sig: Signal, who: &str, audit: &AuditLog) -> PortStep {
    let (ok, result) = match signals::send_checked(e, sig) {
        Ok(()) => (true, "sent".to_string()),
        Err(err) => (false, format!("failed: {err}")),
    };
    record(
        audit,
        "kill",
        who,
        ok,
        &format!("{} {result}", sig.as_str()),
    );
    PortStep {
        pid: Some(e.pid),
        step: sig.as_str().to_string(),
        ok,
        result,
    }
}

/// Best effort, and only with a token proved to be the holder's: the
/// runtime recorded in the state dir, proved by pid, start time and socket.
/// Any other runtime is left to SIGTERM, which drains it the same way.
fn drain(proved: Option<&Proved>, pid: i32, state_dir: &std::path::Path) -> PortStep {
    let result = match proved.filter(|p| p.pid == pid) {
        None => Err(format!(
            "skipped: pid {pid} is not the runtime recorded in {}, so no admin token is known to be its; SIGTERM drains it the same way",
            state_dir
                .join(crate::runtime::state::RUNTIME_JSON)
                .display()
        )),
        Some(p) => drain_pid(p).map_err(|e| format!("failed: {e}; continuing with SIGTERM")),
    };
    let (ok, result) = match result {
        Ok(()) => (true, "ok".to_string()),
        Err(e) => (false, e),
    };
    PortStep {
        pid: None,
        step: "drain".into(),
        ok,
        result,
    }
}

/// `POST /admin/drain?pid=N` until the holder itself answers: another instance
/// sharing the port answers 409 (same token) or 401 (another token).
fn drain_pid(p: &Proved) -> Result<(), String> {
    let token = std::fs::read_to_string(&p.token_file)
        .map_err(|e| {
            format!(
                "cannot read the admin token {}: {e}",
                p.token_file.display()
            )
        })?
        .trim()
        .to_string();
    let pid = u32::try_from(p.pid).map_err(|e| e.to_string())?;
    let client = RuntimeClient::fresh_connections(&p.url, Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    crate::system::blocking::block_on(async move {
        let mut last = String::new();
        for _ in 0..16 {
            match client.drain_pid(&token, pid).await {
                Ok(_) => return Ok(()),
                Err(
                    e @ ClientError::Status {
                        status: 401 | 409, ..
                    },
                ) => last = e.to_string(),
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!("pid {pid} was not reached: {last}"))
    })
    .map_err(|e| e.to_string())?
}

pub(super) fn record(audit: &AuditLog, action: &str, target: &str, ok: bool, result: &str) {
    let result = match (ok, result.strip_prefix("ok")) {
        (true, None) => format!("ok: {result}"),
        (false, _)
            if !["refused", "failed", "skipped"]
                .iter()
                .any(|p| result.starts_with(p)) =>
        {
            format!("failed: {result}")
        }
        _ => result.to_string(),
    };
    if let Err(e) = audit.record(&Entry::new(action, target, result)) {
        tracing::warn!(
            "could not write the audit log {}: {e}",
            audit.path().display()
        );
    }
}

/// What the port looked like once it had time to be taken again.
enum Settled {
    Free,
    Retaken {
        holders: Vec<String>,
        respawner: Option<Respawner>,
    },
}

/// Who brings a holder back, and how to make it stop.
struct Respawner {
    who: String,
    stop: String,
}

/// The verify step: watch the freed port without binding it (a bind of ours
/// would make the respawned holder fail and hide its respawner), then bind
/// once more.
fn settle(opts: &PortConflictSettings) -> Result<Settled, String> {
    let deadline = Instant::now() + RESPAWN_SETTLE;
    loop {
        if let Some(retaken) = retaken(opts) {
            return Ok(retaken);
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    sockets::try_bind_all(opts.port, opts.udp).map(|()| Settled::Free)
}

fn retaken(opts: &PortConflictSettings) -> Option<Settled> {
    let socks = sockets::bound_to(opts.port, opts.udp).ok()?;
    if socks.is_empty() {
        return None;
    }
    let inodes: BTreeSet<u64> = socks.iter().map(|s| s.inode).collect();
    let by_pid = sockets::holders(&inodes).unwrap_or_default();
    let infos: Vec<ProcInfo> = by_pid
        .keys()
        .filter_map(|pid| process::inspect(*pid, &[]).ok())
        .collect();
    let mut holders: Vec<String> = infos
        .iter()
        .map(|i| format!("pid {} ({}, user {})", i.pid, i.command, i.user))
        .collect();
    if holders.is_empty() {
        holders = socks
            .iter()
            .map(|s| {
                format!(
                    "{} {} (uid {}, process not visible)",
                    s.proto, s.local, s.uid
                )
            })
            .collect();
    }
    Some(Settled::Retaken {
        holders,
        respawner: infos.iter().find_map(respawner_of),
    })
}

/// A known supervisor names its own stop command; otherwise the parent that
/// started the new holder is the respawner (a shell loop, a cron job).
fn respawner_of(holder: &ProcInfo) -> Option<Respawner> {
    if let Some(s) = &holder.supervisor {
        return Some(Respawner {
            who: s.name.clone(),
            stop: s.stop.clone(),
        });
    }
    if holder.ppid <= 1 {
        return None;
    }
    let parent = process::inspect(holder.ppid, &[]).ok()?;
    Some(Respawner {
        who: format!(
            "pid {} ({}, user {})",
            parent.pid, parent.command, parent.user
        ),
        stop: format!("stop pid {} ({}), its respawner", parent.pid, parent.comm),
    })
}

/// Start the runtime detached on the freed port, with the same state dir and
/// config, then wait for `/ready`.
pub(super) fn restart(ctx: &Ctx, port: u16, predecessor: Option<&RuntimeInfo>) -> RestartResult {
    let listen = SocketAddr::new(ctx.config().server.listen.ip(), port);
    let pid = match crate::system::serve_detached::start_detached(
        &ctx.state_dir,
        ctx.loaded.file.as_deref(),
        listen,
        false,
        std::time::Duration::from_secs(30),
        predecessor,
    ) {
        Ok(pid) => pid,
        Err(e) => {
            return RestartResult {
                ok: false,
                detail: format!("hal9ctl serve --detach failed: {e}"),
            };
        }
    };
    let url = format!("http://{}", sockets::dial_addr(listen));
    match wait_ready(&url) {
        Ok(after) => RestartResult {
            ok: true,
            detail: format!(
                "runtime pid {pid} is ready at {url} (after {})",
                crate::output::human_duration(after)
            ),
        },
        Err(e) => RestartResult {
            ok: false,
            detail: format!("runtime pid {pid} started, but {url}/ready did not answer ready: {e}"),
        },
    }
}

fn wait_ready(url: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let client = RuntimeClient::new(url, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    crate::system::blocking::block_on(async move {
        let mut last = String::from("no answer");
        while started.elapsed() < READY_WAIT {
            match client.ready().await {
                Ok(r) if r.body.ready => return Ok(started.elapsed()),
                Ok(r) => last = r.body.reason.unwrap_or_else(|| "not ready".into()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "{last} after {}",
            crate::output::human_duration(READY_WAIT)
        ))
    })
    .map_err(|e| e.to_string())?
}
