//! `hal9ctl emergency port-conflict`: find who holds the runtime's port, stop
//! them safely, and prove the port is free by binding it.
//!
//! gather (procfs) → plan (pure, below) → apply (re-checked signals, audit log).

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::Serialize;

use crate::cli::Ctx;
use crate::cli::args::PortConflictArgs;
use crate::exit::{Exit, Failure};
use crate::output::{Mark, Report, Styles, prompt, table, to_value};
use crate::runtime::client::{ClientError, RuntimeClient};
use crate::runtime::state::{RuntimeInfo, StateDir};
use crate::system::audit::{AuditLog, Entry};
use crate::system::docker;
use crate::system::owner::{self, Owner, Verdict};
use crate::system::process::{self, ProcInfo, Supervisor};
use crate::system::runtime_identity;
use crate::system::safety::{self, Caller, Refusal};
use crate::system::signals::{self, Expected};
use crate::system::sockets::{self, BoundSocket, Proto};
use crate::system::systemctl;
use crate::system::systemd::Unit;

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

/// The options that shape the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub port: u16,
    pub udp: bool,
    pub force: bool,
    pub signal: Signal,
    pub grace: Duration,
    /// Start the runtime once the port is free; carried into every retry command.
    pub restart: bool,
}

/// A process holding one or more of the port's sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    #[serde(flatten)]
    pub info: ProcInfo,
    pub inodes: BTreeSet<u64>,
}

/// What gather found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub sockets: Vec<BoundSocket>,
    pub holders: Vec<Holder>,
    pub caller: Caller,
    /// The runtime of `--state-dir`, when its runtime.json is proved to
    /// describe a live process: only that process may get this dir's token.
    pub proved: Option<Proved>,
}

/// A runtime proved to be the one runtime.json recorded, and how to reach its admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proved {
    pub pid: i32,
    pub url: String,
    pub token_file: std::path::PathBuf,
}

/// How one holder is to be stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// The HAL9 runtime: admin drain, SIGTERM, SIGKILL after grace.
    Drain,
    /// Another process: the chosen signal, SIGKILL after grace.
    Signal {
        #[serde(serialize_with = "ser_signal")]
        signal: Signal,
    },
    Refuse {
        reason: Refusal,
    },
    /// A container's holder (its own process, or the docker-proxy of its
    /// published port): stopped through the Docker Engine API, never signalled.
    StopContainer {
        id: String,
        name: String,
        socket: String,
    },
    /// A holder in a systemd service: `systemctl stop UNIT`, never a signal.
    StopUnit {
        unit: Unit,
        command: String,
    },
    /// A holder whose owner (a pod, pm2, an engine hal9ctl cannot drive) would
    /// undo a signal: refused, with the owner's own command.
    RefuseOwned {
        why: String,
        next: String,
    },
}

fn ser_signal<S: serde::Serializer>(s: &Signal, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub pid: i32,
    pub action: Action,
}

/// The whole decision, made from facts alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Parents before their workers, so a pre-fork master is not asked to respawn them.
    pub steps: Vec<Planned>,
    /// Sockets on the port whose holder we cannot see (another user's, another namespace).
    pub unresolved: Vec<BoundSocket>,
    /// Any other process than the runtime is to be stopped: needs `--force` or a yes.
    pub needs_confirmation: bool,
    /// Why nothing may be done, if so. One refused holder keeps the port busy
    /// whatever happens to the others, so then nobody is signalled.
    pub refused: Option<String>,
    /// Supervisors that will bring a holder back.
    pub respawn_warnings: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.unresolved.is_empty()
    }
}

/// Pure policy: what to do with each holder.
pub fn plan(facts: &Facts, opts: &Options) -> Plan {
    let pids: BTreeSet<i32> = facts.holders.iter().map(|h| h.info.pid).collect();
    let mut ordered: Vec<&Holder> = facts.holders.iter().collect();
    ordered.sort_by_key(|h| (pids.contains(&h.info.ppid), h.info.pid));

    let mut steps = Vec::new();
    let mut refusals = Vec::new();
    let mut respawn_warnings = Vec::new();
    for h in ordered {
        let exe_name = h
            .info
            .exe
            .as_deref()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str());
        let target = safety::Target {
            pid: h.info.pid,
            uid: h.info.uid,
            comm: &h.info.comm,
            exe_name,
            kernel_thread: h.info.kernel_thread,
        };
        let verdict = h.info.owner.as_ref().map(|o| owner::verdict(o, opts.port));
        let action = match (safety::check(&target, &facts.caller), verdict) {
            (Err(reason), _) => {
                refusals.push(format!("pid {} ({}): {reason}", h.info.pid, h.info.comm));
                Action::Refuse { reason }
            }
            (Ok(()), Some(Verdict::StopContainer { id, name, socket })) => {
                Action::StopContainer { id, name, socket }
            }
            (Ok(()), Some(Verdict::StopUnit { unit })) => Action::StopUnit {
                command: systemctl::command_line(&unit.systemctl("stop")),
                unit,
            },
            (Ok(()), Some(Verdict::Refuse { why, next })) => {
                refusals.push(format!("pid {} ({}): {why}", h.info.pid, h.info.comm));
                Action::RefuseOwned { why, next }
            }
            // A supervisor starts what we kill again, and fights us for the
            // port: it has to do the stopping (§5), whatever --force says.
            (Ok(()), None) if h.info.supervisor.is_some() => {
                let s = h
                    .info
                    .supervisor
                    .as_ref()
                    .map(|s| (s.name.clone(), s.stop.clone()));
                let (name, stop) = s.unwrap_or_default();
                let why = format!("run by {name}, which would start it again");
                refusals.push(format!("pid {} ({}): {why}", h.info.pid, h.info.comm));
                Action::RefuseOwned { why, next: stop }
            }
            (Ok(()), None) if h.info.hal9_runtime => Action::Drain,
            (Ok(()), None) => Action::Signal {
                signal: opts.signal,
            },
        };
        // `systemctl stop` is the supervisor's own stop: nothing comes back.
        if let Some(s) = &h.info.supervisor
            && !matches!(action, Action::StopUnit { .. })
        {
            respawn_warnings.push(format!(
                "pid {} ({}) is run by {}: it will be started again; stop it there instead: {}",
                h.info.pid, h.info.comm, s.name, s.stop
            ));
        }
        steps.push(Planned {
            pid: h.info.pid,
            action,
        });
    }
    let held: BTreeSet<u64> = facts
        .holders
        .iter()
        .flat_map(|h| h.inodes.iter().copied())
        .collect();
    let unresolved: Vec<BoundSocket> = facts
        .sockets
        .iter()
        .filter(|s| !held.contains(&s.inode))
        .cloned()
        .collect();
    for s in &unresolved {
        refusals.push(format!(
            "{} socket {} (inode {}, uid {}): its process is not visible to us",
            s.proto, s.local, s.inode, s.uid
        ));
    }
    let needs_confirmation = !opts.force
        && steps.iter().any(|s| {
            matches!(
                s.action,
                Action::Signal { .. } | Action::StopContainer { .. } | Action::StopUnit { .. }
            )
        });
    Plan {
        steps,
        unresolved,
        needs_confirmation,
        refused: (!refusals.is_empty()).then(|| refusals.join("; ")),
        respawn_warnings,
    }
}

/// One thing apply did, for the report and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Done {
    pub pid: Option<i32>,
    pub step: String,
    pub ok: bool,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `--dry-run`: the plan only.
    Planned,
    Free,
    /// Free for a moment, then held again: something respawned a holder.
    Retaken,
    StillHeld,
    Refused,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestartResult {
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortConflictReport {
    pub port: u16,
    pub protocols: Vec<Proto>,
    pub dry_run: bool,
    pub sockets: Vec<BoundSocket>,
    pub holders: Vec<Holder>,
    pub plan: Plan,
    pub done: Vec<Done>,
    pub outcome: Outcome,
    /// Who holds the port after apply, when it is not free.
    pub still_held_by: Vec<String>,
    pub restart: Option<RestartResult>,
    pub message: String,
    pub next: Option<String>,
    #[serde(skip)]
    pub exit: Exit,
    /// The plan went to the terminal before the question, so the report need not repeat it.
    #[serde(skip)]
    pub plan_shown: bool,
}

pub fn run(ctx: &Ctx, args: &PortConflictArgs) -> anyhow::Result<PortConflictReport> {
    let opts = Options {
        port: args
            .port
            .unwrap_or_else(|| ctx.config().server.listen.port()),
        udp: args.udp,
        force: args.force,
        signal: args.signal,
        grace: args.grace,
        restart: args.restart,
    };
    if opts.port == 0 {
        return Err(Failure::usage("port 0 is not a port anyone can hold")
            .with_next("hal9ctl emergency port-conflict --port 8080")
            .into());
    }
    let state = StateDir::new(&ctx.state_dir);
    // Read before apply: a runtime stopped here removes its runtime.json, and
    // `--restart` starts its successor with the arguments it recorded.
    let predecessor = recorded(&state);
    let facts = gather(&opts, &state)?;
    let plan = plan(&facts, &opts);
    let mut report = PortConflictReport {
        port: opts.port,
        protocols: protocols(opts.udp),
        dry_run: ctx.global.dry_run,
        sockets: facts.sockets.clone(),
        holders: facts.holders.clone(),
        plan,
        done: Vec::new(),
        outcome: Outcome::Planned,
        still_held_by: Vec::new(),
        restart: None,
        message: String::new(),
        next: None,
        exit: Exit::Ok,
        plan_shown: false,
    };
    if ctx.global.dry_run {
        report.message = if report.plan.is_empty() {
            format!("dry run: nothing holds port {}", opts.port)
        } else {
            dry_run_ending(&opts, &report.plan)
        };
        report.next = (!report.plan.is_empty()).then(|| retry_hint(&opts, opts.force));
        return Ok(report);
    }
    let audit = AuditLog::new(&ctx.state_dir);
    apply(ctx, &opts, &facts, &audit, &mut report);
    if report.outcome == Outcome::Free && args.restart {
        let r = restart(ctx, opts.port, predecessor.as_ref());
        record(&audit, "restart", "hal9ctl serve --detach", r.ok, &r.detail);
        if !r.ok {
            report.exit = Exit::Warning;
            report.next = Some(format!(
                "hal9ctl serve --detach --listen {}",
                SocketAddr::new(ctx.config().server.listen.ip(), opts.port)
            ));
        }
        report.restart = Some(r);
    }
    Ok(report)
}

fn protocols(udp: bool) -> Vec<Proto> {
    if udp {
        vec![Proto::Tcp, Proto::Udp]
    } else {
        vec![Proto::Tcp]
    }
}

fn gather(opts: &Options, state: &StateDir) -> anyhow::Result<Facts> {
    let sockets = sockets::bound_to(opts.port, opts.udp).map_err(|e| {
        Failure::unknown(format!("cannot read the socket tables in /proc/net: {e}"))
    })?;
    let inodes: BTreeSet<u64> = sockets.iter().map(|s| s.inode).collect();
    let by_pid = sockets::holders(&inodes)
        .map_err(|e| Failure::unknown(format!("cannot list processes in /proc: {e}")))?;
    let mut holders: Vec<Holder> = by_pid
        .into_iter()
        // A holder that exited since the scan holds nothing any more. No pid
        // from a state file makes a holder "the runtime": its exe and argv do.
        .filter_map(|(pid, inodes)| {
            process::inspect(pid, &[])
                .ok()
                .map(|info| Holder { info, inodes })
        })
        .collect();
    for h in holders.iter_mut() {
        let bound: Vec<IpAddr> = sockets
            .iter()
            .filter(|s| h.inodes.contains(&s.inode))
            .map(|s| s.local.ip())
            .collect();
        if let Some(o) = h.info.owner.as_mut() {
            owner::resolve(o, opts.port, &bound);
        }
    }
    Ok(Facts {
        sockets,
        holders,
        caller: Caller::current(),
        proved: recorded(state).and_then(|info| prove(state, &info)),
    })
}

/// runtime.json of the state dir, if readable.
fn recorded(state: &StateDir) -> Option<RuntimeInfo> {
    state.read_runtime_info().ok().flatten()
}

fn prove(state: &StateDir, info: &RuntimeInfo) -> Option<Proved> {
    let e = runtime_identity::verify(info).ok()?;
    let listen: SocketAddr = info.listen.parse().ok()?;
    let ip = sockets::dial_addr(listen).ip();
    Some(Proved {
        pid: e.pid,
        url: format!("http://{}", SocketAddr::new(ip, listen.port())),
        token_file: state.admin_token_file(),
    })
}

/// The command with the same arguments as this one (`--force` as asked).
fn retry_hint(opts: &Options, force: bool) -> String {
    let mut s = format!("hal9ctl emergency port-conflict --port {}", opts.port);
    if opts.udp {
        s.push_str(" --udp");
    }
    if opts.signal != Signal::SIGTERM {
        s.push_str(&format!(
            " --signal {}",
            opts.signal.as_str().trim_start_matches("SIG")
        ));
    }
    if opts.grace != Duration::from_secs(5) {
        s.push_str(&format!(
            " --grace {}",
            humantime::format_duration(opts.grace)
        ));
    }
    if opts.restart {
        s.push_str(" --restart");
    }
    if force {
        s.push_str(" --force");
    }
    s
}

/// Pure: how a dry run ends: the exact command that applies the plan, and
/// whether it would refuse without `--force` (or a yes at a terminal).
fn dry_run_ending(opts: &Options, plan: &Plan) -> String {
    if plan.refused.is_some() {
        return format!(
            "dry run: nothing was changed; applying it would refuse, even with --force (see the plan): {}",
            retry_hint(opts, opts.force)
        );
    }
    if plan.needs_confirmation && !opts.force {
        return format!(
            "dry run: nothing was changed; it stops a process that is not the runtime, so without a terminal it refuses unless given --yes or --force; to apply: {}",
            retry_hint(opts, false)
        );
    }
    format!(
        "dry run: nothing was changed; to apply: {}",
        retry_hint(opts, opts.force)
    )
}

fn apply(
    ctx: &Ctx,
    opts: &Options,
    facts: &Facts,
    audit: &AuditLog,
    report: &mut PortConflictReport,
) {
    let plan = report.plan.clone();
    let holders: BTreeMap<i32, &Holder> = facts.holders.iter().map(|h| (h.info.pid, h)).collect();
    let describe = |pid: i32| {
        holders
            .get(&pid)
            .map(|h| format!("pid {pid} ({})", h.info.comm))
            .unwrap_or_else(|| format!("pid {pid}"))
    };

    if let Some(why) = &plan.refused {
        for p in &plan.steps {
            let why = match &p.action {
                Action::Refuse { reason } => reason.to_string(),
                Action::RefuseOwned { why, .. } => why.clone(),
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
        report.outcome = Outcome::Refused;
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
                Action::Signal { .. } => describe(p.pid),
                Action::StopContainer { id, name, .. } => {
                    own_commands.push(format!("docker stop {}", owner::shell_word(name)));
                    container_label(id, name)
                }
                Action::StopUnit { unit, command } => {
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
            report.outcome = Outcome::Refused;
            report.exit = Exit::Critical;
            report.message = message;
            report.next = Some(next);
            return;
        }
    }

    let mut sent = Vec::new();
    let mut stopped: BTreeSet<String> = BTreeSet::new();
    for p in &plan.steps {
        if let Action::StopContainer { id, name, socket } = &p.action {
            if stopped.insert(id.clone()) {
                report
                    .done
                    .push(stop_container(facts, p.pid, id, name, socket, opts, audit));
            }
            continue;
        }
        if let Action::StopUnit { unit, command } = &p.action {
            if stopped.insert(command.clone()) {
                let (ok, result) = match systemctl::stop_verified(unit) {
                    Ok(r) => (true, r),
                    Err(e) => (false, format!("failed: {e}")),
                };
                record(audit, "systemctl stop", &unit.name, ok, &result);
                report.done.push(Done {
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
            Action::Drain => {
                let d = drain(facts.proved.as_ref(), p.pid, &ctx.state_dir);
                record(audit, "drain", &describe(p.pid), d.ok, &d.result);
                report.done.push(Done {
                    pid: Some(p.pid),
                    ..d
                });
                Signal::SIGTERM
            }
            Action::Signal { signal } => *signal,
            Action::Refuse { .. }
            | Action::RefuseOwned { .. }
            | Action::StopContainer { .. }
            | Action::StopUnit { .. } => continue,
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
            report.outcome = Outcome::Free;
            report.exit = Exit::Ok;
            report.message = format!("port {} is free", opts.port);
        }
        Ok(Settled::Retaken { holders, respawner }) => {
            // The holders we stopped are gone, the port is not free: partly done.
            report.outcome = Outcome::Retaken;
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
            report.outcome = Outcome::StillHeld;
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

fn refusal_next(opts: &Options, facts: &Facts, plan: &Plan) -> String {
    if facts.caller.foreign_proc.is_some() {
        return format!(
            "run it in the pid namespace that /proc belongs to (e.g. on the host), or give this namespace its own /proc (unshare --pid --fork --mount-proc): {}",
            retry_hint(opts, false)
        );
    }
    // The owner's own command is the way out, whoever runs hal9ctl.
    if let Some(next) = plan.steps.iter().find_map(|p| match &p.action {
        Action::RefuseOwned { next, .. } => Some(next.clone()),
        _ => None,
    }) {
        return next;
    }
    let caller_is_root = facts.caller.uid == 0;
    let other_user = plan.steps.iter().any(|p| {
        matches!(
            p.action,
            Action::Refuse {
                reason: Refusal::OtherUser { .. }
            }
        )
    });
    if !caller_is_root && (other_user || !plan.unresolved.is_empty()) {
        return format!("sudo {}", retry_hint(opts, false));
    }
    if let Some(s) = facts
        .holders
        .iter()
        .find_map(|h| h.info.supervisor.as_ref())
    {
        return s.stop.clone();
    }
    // The port cannot be taken back: run the runtime on another one.
    format!(
        "hal9ctl serve --listen 127.0.0.1:{}",
        opts.port.checked_add(1).unwrap_or(8081)
    )
}

fn container_label(id: &str, name: &str) -> String {
    let short: String = id.chars().take(12).collect();
    format!("container {name} ({short})")
}

/// The engine stops the container (and with it the docker-proxy); hal9ctl
/// signals nothing. The port itself is proven free afterwards by binding it.
fn stop_container(
    facts: &Facts,
    pid: i32,
    id: &str,
    name: &str,
    socket: &str,
    opts: &Options,
    audit: &AuditLog,
) -> Done {
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
    Done {
        pid: Some(pid),
        step: format!("docker stop {name}"),
        ok,
        result,
    }
}

fn signal_step(e: &Expected, sig: Signal, who: &str, audit: &AuditLog) -> Done {
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
    Done {
        pid: Some(e.pid),
        step: sig.as_str().to_string(),
        ok,
        result,
    }
}

/// Best effort, and only with a token proved to be the holder's: the
/// runtime recorded in the state dir, proved by pid, start time and socket.
/// Any other runtime is left to SIGTERM, which drains it the same way.
fn drain(proved: Option<&Proved>, pid: i32, state_dir: &std::path::Path) -> Done {
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
    Done {
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
    crate::cli::block_on(async move {
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

fn record(audit: &AuditLog, action: &str, target: &str, ok: bool, result: &str) {
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
fn settle(opts: &Options) -> Result<Settled, String> {
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

fn retaken(opts: &Options) -> Option<Settled> {
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
fn restart(ctx: &Ctx, port: u16, predecessor: Option<&RuntimeInfo>) -> RestartResult {
    let listen = SocketAddr::new(ctx.config().server.listen.ip(), port);
    let pid = match crate::commands::restart::local::start_detached(
        ctx,
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
    let ready_ip = sockets::dial_addr(listen).ip();
    let url = format!("http://{}", SocketAddr::new(ready_ip, port));
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
    crate::cli::block_on(async move {
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

impl PortConflictReport {
    /// The holders and what is planned for each: shown before any question.
    pub fn render_plan(&self, st: &Styles) -> String {
        let mut out = String::new();
        let protos: Vec<String> = self.protocols.iter().map(|p| p.to_string()).collect();
        if self.holders.is_empty() && self.sockets.is_empty() {
            out.push_str(&format!(
                "nothing listens on port {} ({})\n",
                self.port,
                protos.join(", ")
            ));
        } else {
            out.push_str(&st.bold(&format!(
                "port {} ({}) is held by:\n",
                self.port,
                protos.join(", ")
            )));
            let mut t = table(&[
                "pid",
                "ppid",
                "user",
                "started",
                "hal9",
                "supervisor",
                "plan",
                "command",
            ]);
            for h in &self.holders {
                let plan = self
                    .plan
                    .steps
                    .iter()
                    .find(|p| p.pid == h.info.pid)
                    .map(|p| match &p.action {
                        Action::Drain => "drain, TERM, then KILL".to_string(),
                        Action::Signal { signal } => format!("{}, then KILL", signal.as_str()),
                        Action::Refuse { reason } => format!("refused: {reason}"),
                        Action::StopContainer { name, .. } => {
                            format!("docker stop {name} (Engine API)")
                        }
                        Action::RefuseOwned { why, .. } => format!("refused: {why}"),
                        Action::StopUnit { command, .. } => command.clone(),
                    })
                    .unwrap_or_default();
                t.add_row(vec![
                    h.info.pid.to_string(),
                    h.info.ppid.to_string(),
                    h.info.user.clone(),
                    h.info.started_at.clone().unwrap_or_else(|| "?".into()),
                    if h.info.hal9_runtime { "yes" } else { "no" }.to_string(),
                    h.info
                        .owner
                        .as_ref()
                        .map(Owner::describe)
                        .or_else(|| {
                            h.info
                                .supervisor
                                .as_ref()
                                .map(|s: &Supervisor| s.name.clone())
                        })
                        .unwrap_or_else(|| "-".into()),
                    plan,
                    // One row per holder, even for `python3 -c` with a multi-line script.
                    h.info.command.replace(char::is_control, " "),
                ]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
            for s in &self.plan.unresolved {
                out.push_str(&format!(
                    "{} {} {} socket inode {} (uid {}): holder not visible\n",
                    st.mark(Mark::Warn),
                    s.proto,
                    s.local,
                    s.inode,
                    s.uid
                ));
            }
            for w in &self.plan.respawn_warnings {
                out.push_str(&format!("{} {w}\n", st.mark(Mark::Warn)));
            }
        }
        out
    }
}

impl Report for PortConflictReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = if self.plan_shown {
            String::new()
        } else {
            self.render_plan(st)
        };
        for d in &self.done {
            let who = d.pid.map(|p| format!("pid {p}: ")).unwrap_or_default();
            let mark = st.mark(if d.ok { Mark::Ok } else { Mark::Warn });
            out.push_str(&format!("{mark} {who}{}: {}\n", d.step, d.result));
        }
        if let Some(r) = &self.restart {
            let mark = st.mark(if r.ok { Mark::Ok } else { Mark::Fail });
            out.push_str(&format!("{mark} restart: {}\n", r.detail));
        }
        let mark = match self.outcome {
            Outcome::Free => Mark::Ok,
            Outcome::Planned => Mark::Unknown,
            Outcome::Retaken => Mark::Warn,
            Outcome::StillHeld | Outcome::Refused => Mark::Fail,
        };
        if self.outcome == Outcome::Planned {
            out.push_str(&format!("{}\n", self.message));
        } else {
            out.push_str(&format!("{} {}\n", st.mark(mark), self.message));
        }
        if let Some(n) = &self.next {
            out.push_str(&format!("next: {n}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.exit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn info(pid: i32, ppid: i32, comm: &str) -> ProcInfo {
        ProcInfo {
            pid,
            ppid,
            uid: 1000,
            user: "op".into(),
            command: comm.into(),
            exe: None,
            comm: comm.into(),
            start_ticks: 100,
            started_at: None,
            kernel_thread: false,
            hal9_runtime: false,
            supervisor: None,
            owner: None,
        }
    }

    fn sock(inode: u64) -> BoundSocket {
        BoundSocket {
            proto: Proto::Tcp,
            local: "127.0.0.1:8080".parse::<SocketAddr>().unwrap(),
            inode,
            uid: 1000,
        }
    }

    fn facts(holders: Vec<ProcInfo>) -> Facts {
        Facts {
            sockets: vec![sock(7)],
            holders: holders
                .into_iter()
                .map(|info| Holder {
                    info,
                    inodes: BTreeSet::from([7]),
                })
                .collect(),
            caller: Caller {
                pid: 500,
                ancestors: vec![400, 1],
                uid: 1000,
                foreign_proc: None,
            },
            proved: None,
        }
    }

    fn opts(force: bool) -> Options {
        Options {
            port: 8080,
            udp: false,
            force,
            signal: Signal::SIGTERM,
            grace: Duration::from_secs(5),
            restart: false,
        }
    }

    #[test]
    fn a_dry_run_ends_with_the_command_that_applies_it_with_the_same_args() {
        let o = Options {
            restart: true,
            signal: Signal::SIGINT,
            ..opts(false)
        };
        let p = plan(&facts(vec![info(701, 1, "python3")]), &o);
        let end = dry_run_ending(&o, &p);
        assert!(
            end.ends_with("hal9ctl emergency port-conflict --port 8080 --signal INT --restart"),
            "{end}"
        );
        assert!(end.contains("unless given --yes or --force"), "{end}");
        let forced = Options { force: true, ..o };
        let end = dry_run_ending(
            &forced,
            &plan(&facts(vec![info(701, 1, "python3")]), &forced),
        );
        assert!(end.ends_with("--restart --force"), "{end}");
        assert!(!end.contains("refuses"), "{end}");
    }

    #[test]
    fn nothing_held_is_an_empty_plan() {
        let mut f = facts(vec![]);
        f.sockets.clear();
        let p = plan(&f, &opts(false));
        assert!(p.is_empty());
        assert!(p.refused.is_none());
        assert!(!p.needs_confirmation);
    }

    #[test]
    fn a_squatter_needs_confirmation_unless_forced() {
        let f = facts(vec![info(700, 400, "python3")]);
        let p = plan(&f, &opts(false));
        assert!(p.needs_confirmation);
        assert_eq!(
            p.steps,
            vec![Planned {
                pid: 700,
                action: Action::Signal {
                    signal: Signal::SIGTERM
                }
            }]
        );
        assert!(!plan(&f, &opts(true)).needs_confirmation);
    }

    #[test]
    fn the_runtime_is_drained_without_confirmation() {
        let mut rt = info(700, 1, "hal9ctl");
        rt.hal9_runtime = true;
        let p = plan(&facts(vec![rt]), &opts(false));
        assert!(!p.needs_confirmation);
        assert_eq!(p.steps[0].action, Action::Drain);
    }

    #[test]
    fn prefork_parent_comes_before_its_workers() {
        let f = facts(vec![info(702, 701, "python3"), info(701, 400, "python3")]);
        let p = plan(&f, &opts(true));
        let order: Vec<i32> = p.steps.iter().map(|s| s.pid).collect();
        assert_eq!(order, vec![701, 702]);
    }

    #[test]
    fn one_protected_holder_refuses_everything_even_forced() {
        let f = facts(vec![info(700, 400, "python3"), info(400, 1, "bash")]);
        let p = plan(&f, &opts(true));
        let why = p.refused.unwrap();
        assert!(why.contains("ancestor"), "{why}");
        let f = facts(vec![info(800, 1, "sshd")]);
        assert!(plan(&f, &opts(true)).refused.unwrap().contains("sshd"));
        let f = facts(vec![info(500, 400, "hal9ctl")]);
        assert!(
            plan(&f, &opts(true))
                .refused
                .unwrap()
                .contains("hal9ctl itself")
        );
    }

    #[test]
    fn invisible_holders_are_refused() {
        let mut f = facts(vec![]);
        f.sockets = vec![sock(9)];
        let p = plan(&f, &opts(true));
        assert_eq!(p.unresolved.len(), 1);
        assert!(p.refused.unwrap().contains("not visible"));
    }

    #[test]
    fn supervised_holders_are_refused_with_their_supervisors_stop_command() {
        let mut h = info(700, 1, "python3");
        h.supervisor = Some(Supervisor {
            name: "systemd (unit web.service)".into(),
            stop: "systemctl stop web.service".into(),
        });
        let p = plan(&facts(vec![h]), &opts(true));
        assert_eq!(p.respawn_warnings.len(), 1);
        assert!(p.respawn_warnings[0].contains("systemctl stop web.service"));
        // Even forced: killing it would only make systemd start it again.
        assert!(
            p.refused
                .as_deref()
                .unwrap_or("")
                .contains("run by systemd")
        );
        assert_eq!(
            p.steps[0].action,
            Action::RefuseOwned {
                why: "run by systemd (unit web.service), which would start it again".into(),
                next: "systemctl stop web.service".into(),
            }
        );
    }

    #[test]
    fn chosen_signal_applies_to_others_only() {
        let mut rt = info(700, 1, "hal9ctl");
        rt.hal9_runtime = true;
        let o = Options {
            signal: Signal::SIGINT,
            ..opts(true)
        };
        let p = plan(&facts(vec![rt, info(701, 1, "python3")]), &o);
        assert_eq!(p.steps[0].action, Action::Drain);
        assert_eq!(
            p.steps[1].action,
            Action::Signal {
                signal: Signal::SIGINT
            }
        );
    }

    #[test]
    fn owned_holders_go_through_their_owner_or_refuse_everything() {
        let pm2 = Owner::Pm2 {
            daemon_pid: 300,
            home: None,
            app: Some("web".into()),
            pm_id: None,
        };
        let mut app = info(700, 300, "node");
        app.owner = Some(pm2);
        let p = plan(&facts(vec![app, info(701, 400, "python3")]), &opts(true));
        assert!(p.refused.unwrap().contains("pm2 app web"));
        assert_eq!(
            p.steps[0].action,
            Action::RefuseOwned {
                why: "it is pm2 app web (God Daemon pid 300); pm2 would start it again".into(),
                next: "pm2 stop web".into()
            }
        );
        let mut proxy = info(800, 50, "docker-proxy");
        proxy.owner = Some(Owner::Docker {
            cgroup_id: None,
            proxy: None,
            daemon_socket: None,
            container: Some(Box::new(crate::system::docker::ContainerInfo {
                id: "abcdef0123456789".into(),
                name: "web".into(),
                image: "busybox".into(),
                running: true,
                restart_policy: None,
                published: vec![8080],
                labels: Default::default(),
            })),
            engine: Some("/run/docker.sock".into()),
            lookup_error: None,
        });
        let p = plan(&facts(vec![proxy]), &opts(false));
        assert!(p.refused.is_none());
        assert!(p.needs_confirmation, "stopping a container needs a yes");
        assert!(matches!(&p.steps[0].action, Action::StopContainer { name, .. } if name == "web"));
    }

    #[test]
    fn a_unit_owned_holder_is_stopped_by_systemctl_after_a_yes_and_never_signalled() {
        let mut holder = info(900, 1, "python3");
        holder.supervisor = Some(Supervisor {
            name: "systemd (unit web.service)".into(),
            stop: "systemctl stop web.service".into(),
        });
        holder.owner = Some(Owner::Systemd {
            unit: Unit {
                name: "web.service".into(),
                user: None,
            },
            manager: systemctl::Manager::Reachable {
                state: systemctl::UnitProps::default(),
            },
        });
        let p = plan(&facts(vec![holder]), &opts(false));
        assert!(p.refused.is_none(), "{p:?}");
        assert!(p.needs_confirmation, "stopping a unit needs a yes");
        assert!(p.respawn_warnings.is_empty(), "{:?}", p.respawn_warnings);
        assert!(matches!(
            &p.steps[0].action,
            Action::StopUnit { command, .. } if command == "systemctl stop web.service"
        ));
    }
}
