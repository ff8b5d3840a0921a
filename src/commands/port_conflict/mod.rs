//! `hal9ctl emergency port-conflict`: find who holds the runtime's port, stop
//! them safely, and prove the port is free by binding it.
//!
//! gather (procfs, here) → plan (pure, `plan.rs`) → apply (re-checked signals,
//! audit log, `apply.rs`) → verify (bind, watch for a respawn) → report (`report.rs`).

mod apply;
pub mod plan;
mod report;
mod settings;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::runtime::state::{RuntimeInfo, StateDir};
use crate::system::audit::AuditLog;
use crate::system::owner;
use crate::system::process;
use crate::system::runtime_identity;
use crate::system::safety::Caller;
use crate::system::sockets::{self, Proto};
use plan::{PortFacts, PortHolder, Proved, dry_run_ending, plan, retry_hint};
pub use report::{PortConflictReport, PortOutcome, PortStep, RestartResult};
pub use settings::PortConflictSettings;

pub fn run(ctx: &Ctx, opts: &PortConflictSettings) -> anyhow::Result<PortConflictReport> {
    if opts.port == 0 {
        return Err(Failure::usage("port 0 is not a port anyone can hold")
            .with_next("hal9ctl emergency port-conflict --port 8080")
            .into());
    }
    let state = StateDir::new(&ctx.state_dir);
    // Read before apply: a runtime stopped here removes its runtime.json, and
    // `--restart` starts its successor with the arguments it recorded.
    let predecessor = recorded(&state);
    let facts = gather(opts, &state)?;
    let plan = plan(&facts, opts);
    let mut report = PortConflictReport {
        port: opts.port,
        protocols: protocols(opts.udp),
        dry_run: ctx.global.dry_run,
        sockets: facts.sockets.clone(),
        holders: facts.holders.clone(),
        plan,
        done: Vec::new(),
        outcome: PortOutcome::Planned,
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
            dry_run_ending(opts, &report.plan)
        };
        report.next = (!report.plan.is_empty()).then(|| retry_hint(opts, opts.force));
        return Ok(report);
    }
    let audit = AuditLog::new(&ctx.state_dir);
    apply::apply(ctx, opts, &facts, &audit, &mut report);
    if report.outcome == PortOutcome::Free && opts.restart {
        let r = apply::restart(ctx, opts.port, predecessor.as_ref());
        apply::record(&audit, "restart", "hal9ctl serve --detach", r.ok, &r.detail);
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

fn gather(opts: &PortConflictSettings, state: &StateDir) -> anyhow::Result<PortFacts> {
    let sockets = sockets::bound_to(opts.port, opts.udp).map_err(|e| {
        Failure::unknown(format!("cannot read the socket tables in /proc/net: {e}"))
    })?;
    let inodes: BTreeSet<u64> = sockets.iter().map(|s| s.inode).collect();
    let by_pid = sockets::holders(&inodes)
        .map_err(|e| Failure::unknown(format!("cannot list processes in /proc: {e}")))?;
    let mut holders: Vec<PortHolder> = by_pid
        .into_iter()
        // A holder that exited since the scan holds nothing any more. No pid
        // from a state file makes a holder "the runtime": its exe and argv do.
        .filter_map(|(pid, inodes)| {
            process::inspect(pid, &[])
                .ok()
                .map(|info| PortHolder { info, inodes })
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
    Ok(PortFacts {
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
    Some(Proved {
        pid: e.pid,
        url: format!("http://{}", sockets::dial_addr(listen)),
        token_file: state.admin_token_file(),
    })
}
