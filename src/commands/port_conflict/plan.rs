//! The pure half of port-conflict: from what gather found to what is to be
//! done, and the commands a report tells the operator to run next.

use std::collections::BTreeSet;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::Serialize;

use crate::system::owner::{self, OwnerVerdict};
use crate::system::process::ProcInfo;
use crate::system::safety::{self, Caller, SignalRefusal};
use crate::system::sockets::BoundSocket;
use crate::system::systemctl;
use crate::system::systemd::Unit;

pub use super::settings::PortConflictSettings;

/// A process holding one or more of the port's sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortHolder {
    #[serde(flatten)]
    pub info: ProcInfo,
    pub inodes: BTreeSet<u64>,
}

/// What gather found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortFacts {
    pub sockets: Vec<BoundSocket>,
    pub holders: Vec<PortHolder>,
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
pub enum StopAction {
    /// The HAL9 runtime: admin drain, SIGTERM, SIGKILL after grace.
    Drain,
    /// Another process: the chosen signal, SIGKILL after grace.
    Signal {
        #[serde(serialize_with = "ser_signal")]
        signal: Signal,
    },
    Refuse {
        reason: SignalRefusal,
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
    pub action: StopAction,
}

/// The whole decision, made from facts alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortConflictPlan {
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

impl PortConflictPlan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.unresolved.is_empty()
    }
}

/// Pure policy: what to do with each holder.
pub fn plan(facts: &PortFacts, opts: &PortConflictSettings) -> PortConflictPlan {
    let pids: BTreeSet<i32> = facts.holders.iter().map(|h| h.info.pid).collect();
    let mut ordered: Vec<&PortHolder> = facts.holders.iter().collect();
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
        let target = safety::SignalTarget {
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
                StopAction::Refuse { reason }
            }
            (Ok(()), Some(OwnerVerdict::StopContainer { id, name, socket })) => {
                StopAction::StopContainer { id, name, socket }
            }
            (Ok(()), Some(OwnerVerdict::StopUnit { unit })) => StopAction::StopUnit {
                command: systemctl::command_line(&unit.systemctl("stop")),
                unit,
            },
            (Ok(()), Some(OwnerVerdict::Refuse { why, next })) => {
                refusals.push(format!("pid {} ({}): {why}", h.info.pid, h.info.comm));
                StopAction::RefuseOwned { why, next }
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
                StopAction::RefuseOwned { why, next: stop }
            }
            (Ok(()), None) if h.info.hal9_runtime => StopAction::Drain,
            (Ok(()), None) => StopAction::Signal {
                signal: opts.signal,
            },
        };
        // `systemctl stop` is the supervisor's own stop: nothing comes back.
        if let Some(s) = &h.info.supervisor
            && !matches!(action, StopAction::StopUnit { .. })
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
                StopAction::Signal { .. }
                    | StopAction::StopContainer { .. }
                    | StopAction::StopUnit { .. }
            )
        });
    PortConflictPlan {
        steps,
        unresolved,
        needs_confirmation,
        refused: (!refusals.is_empty()).then(|| refusals.join("; ")),
        respawn_warnings,
    }
}

/// The command with the same arguments as this one (`--force` as asked).
pub(super) fn retry_hint(opts: &PortConflictSettings, force: bool) -> String {
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
pub(super) fn dry_run_ending(opts: &PortConflictSettings, plan: &PortConflictPlan) -> String {
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

pub(super) fn refusal_next(
    opts: &PortConflictSettings,
    facts: &PortFacts,
    plan: &PortConflictPlan,
) -> String {
    if facts.caller.foreign_proc.is_some() {
        return format!(
            "run it in the pid namespace that /proc belongs to (e.g. on the host), or give this namespace its own /proc (unshare --pid --fork --mount-proc): {}",
            retry_hint(opts, false)
        );
    }
    // The owner's own command is the way out, whoever runs hal9ctl.
    if let Some(next) = plan.steps.iter().find_map(|p| match &p.action {
        StopAction::RefuseOwned { next, .. } => Some(next.clone()),
        _ => None,
    }) {
        return next;
    }
    let caller_is_root = facts.caller.uid == 0;
    let other_user = plan.steps.iter().any(|p| {
        matches!(
            p.action,
            StopAction::Refuse {
                reason: SignalRefusal::OtherUser { .. }
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

pub(super) fn container_label(id: &str, name: &str) -> String {
    let short: String = id.chars().take(12).collect();
    format!("container {name} ({short})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::owner::Owner;
    use crate::system::process::Supervisor;
    use crate::system::sockets::Proto;
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

    fn facts(holders: Vec<ProcInfo>) -> PortFacts {
        PortFacts {
            sockets: vec![sock(7)],
            holders: holders
                .into_iter()
                .map(|info| PortHolder {
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

    fn opts(force: bool) -> PortConflictSettings {
        PortConflictSettings {
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
        let o = PortConflictSettings {
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
        let forced = PortConflictSettings { force: true, ..o };
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
                action: StopAction::Signal {
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
        assert_eq!(p.steps[0].action, StopAction::Drain);
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
            StopAction::RefuseOwned {
                why: "run by systemd (unit web.service), which would start it again".into(),
                next: "systemctl stop web.service".into(),
            }
        );
    }

    #[test]
    fn chosen_signal_applies_to_others_only() {
        let mut rt = info(700, 1, "hal9ctl");
        rt.hal9_runtime = true;
        let o = PortConflictSettings {
            signal: Signal::SIGINT,
            ..opts(true)
        };
        let p = plan(&facts(vec![rt, info(701, 1, "python3")]), &o);
        assert_eq!(p.steps[0].action, StopAction::Drain);
        assert_eq!(
            p.steps[1].action,
            StopAction::Signal {
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
            StopAction::RefuseOwned {
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
        assert!(
            matches!(&p.steps[0].action, StopAction::StopContainer { name, .. } if name == "web")
        );
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
            StopAction::StopUnit { command, .. } if command == "systemctl stop web.service"
        ));
    }
}
