//! `hal9ctl restart` for a runtime that is a systemd service. The handover
//! starts its successor outside the unit: systemd then sees its main process
//! exit, and with `Restart=` set starts a rival on the port (or, after the
//! clean exit of a drain, calls the unit stopped while the runtime runs
//! unsupervised). So a unit with `Restart=` is restarted by systemd itself;
//! the handover is kept for `Restart=no`, where nothing fights the successor
//! and zero downtime is worth it. Without a systemd to ask, nothing is done.

use std::time::Duration;

use serde::Serialize;

use super::report::RestartReport;
use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::output::changes::Change;
use crate::runtime::client::RuntimeClient;
use crate::system::systemctl::{self, Manager, UnitProps};
use crate::system::systemd::{self, Unit};

/// Which way the restart goes, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum UnitRestart {
    /// Start a successor, retire the old instance (the local handover).
    Handover {
        why: String,
    },
    /// `systemctl restart UNIT`.
    Systemctl {
        argv: Vec<String>,
        why: String,
    },
    Refuse {
        reason: String,
        next: String,
    },
}

/// Pure: how to restart pid `pid`, which runs in `unit`, from what its
/// manager said and whether the runtime answers healthy.
pub fn decide(pid: u32, unit: &Unit, manager: &Manager, healthy: bool) -> UnitRestart {
    let restart_cmd = systemctl::command_line(&unit.systemctl("restart"));
    let state = match manager {
        Manager::Reachable { state } => state,
        Manager::Unreachable { why } => {
            return UnitRestart::Refuse {
                reason: format!(
                    "pid {pid} runs in systemd unit {}, but systemctl cannot reach systemd ({why}); a restart behind systemd's back would be undone by its Restart= or leave the unit failed, so nothing was signalled",
                    unit.name
                ),
                next: format!("{restart_cmd}   # where systemd runs the unit (on the host)"),
            };
        }
        Manager::Unasked => {
            return UnitRestart::Refuse {
                reason: format!(
                    "pid {pid} runs in systemd unit {}, whose state was not read; nothing was signalled",
                    unit.name
                ),
                next: restart_cmd,
            };
        }
    };
    let systemctl = |why: String| UnitRestart::Systemctl {
        argv: unit.systemctl("restart"),
        why,
    };
    let restart = restart_setting(state);
    if restart != "no" {
        return systemctl(format!(
            "{} has Restart={restart}: a handover's successor would run outside the unit, and systemd would start a rival or call the unit stopped",
            unit.name
        ));
    }
    if healthy && state.active_state == "active" {
        return UnitRestart::Handover {
            why: format!(
                "{} has Restart=no, so nothing fights a successor: the handover keeps the port answering; the successor runs outside the unit ({restart_cmd} puts it back)",
                unit.name
            ),
        };
    }
    systemctl(format!(
        "{} has Restart=no and the runtime is {}: there is nothing to hand over, the unit starts it",
        unit.name,
        if healthy {
            format!("healthy but the unit is {}", state.describe())
        } else {
            "not healthy".to_string()
        }
    ))
}

/// An empty `Restart` (an old systemd that did not say) is taken as set: the
/// handover is only safe when systemd is known not to restart.
fn restart_setting(state: &UnitProps) -> &str {
    match state.restart.as_str() {
        "" => "unknown",
        r => r,
    }
}

/// What `restart` does next for a runtime in a unit.
pub enum Routed {
    /// systemctl restarted it, or the dry run says it would.
    Report(RestartReport),
    /// Go on with the handover; the note says why, when it is a unit.
    Handover(Option<String>),
}

/// The unit of the proved runtime `pid` (none: the handover), and the
/// decision applied: `systemctl restart` then systemd and the runtime asked
/// again, or a refusal (exit 2).
pub async fn route(
    ctx: &Ctx,
    pid: u32,
    healthy: bool,
    url: &str,
    wait: Duration,
) -> Result<Routed, Failure> {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let Some(unit) = systemd::unit_of_cgroup(&cgroup) else {
        return Ok(Routed::Handover(None));
    };
    let manager = Manager::ask(&unit);
    let target = format!("systemd unit {}", unit.name);
    let audit = |result: &str| {
        crate::system::audit::record_or_warn(&ctx.state_dir, "restart", &target, result)
    };
    let (argv, why) = match decide(pid, &unit, &manager, healthy) {
        UnitRestart::Handover { why } => return Ok(Routed::Handover(Some(why))),
        UnitRestart::Refuse { reason, next } => {
            audit(&format!("refused: {reason}"));
            return Err(Failure::critical(format!("refused: {reason}")).with_next(next));
        }
        UnitRestart::Systemctl { argv, why } => (argv, why),
    };
    let command = systemctl::command_line(&argv);
    let mut report = RestartReport {
        target: target.clone(),
        action: "restart".into(),
        dry_run: ctx.global.dry_run,
        changes: vec![Change::new("pid", pid, "new instance")],
        warnings: vec![],
        undo: None,
        summary: format!("would run `{command}`, because {why}"),
        status: Exit::Ok,
    };
    if ctx.global.dry_run {
        return Ok(Routed::Report(report));
    }
    // Type=notify: systemctl returns once the new instance sent READY=1.
    if let Err(e) = systemctl::act(&unit, "restart", wait + Duration::from_secs(5)) {
        audit(&format!("failed: {e}"));
        let next = match &e {
            systemctl::SystemctlError::Failed { message, .. }
                if message.contains("authentication") =>
            {
                format!("sudo {command}")
            }
            _ => format!("systemctl status {}", unit.name),
        };
        return Err(Failure::critical(format!("{e}")).with_next(next));
    }
    let (status, summary, read_back) = verify(&unit, pid, url).await;
    audit(&format!(
        "{}: {summary}",
        if status == Exit::Ok {
            "ok"
        } else {
            "unverified"
        }
    ));
    report.status = status;
    report.summary = format!("ran `{command}` because {why}; {summary}");
    report.changes = vec![Change {
        read_back,
        ..Change::new(
            "pid",
            pid,
            systemctl::show(&unit)
                .ok()
                .and_then(|s| s.main_pid)
                .map_or("unknown".into(), |p| p.to_string()),
        )
    }];
    Ok(Routed::Report(report))
}

/// After the restart: systemd must report the unit active with a new main
/// pid, and that pid must answer /health. Anything less is unverified.
async fn verify(unit: &Unit, old: u32, url: &str) -> (Exit, String, Option<String>) {
    let state = match systemctl::show(unit) {
        Ok(s) => s,
        Err(e) => return (Exit::Warning, format!("unverified: {e}"), None),
    };
    let Some(new) = state
        .main_pid
        .filter(|p| *p != old && state.active_state == "active")
    else {
        return (
            Exit::Warning,
            format!(
                "unverified: systemd reports the unit {} with main pid {}",
                state.describe(),
                state.main_pid.map_or("none".into(), |p| p.to_string())
            ),
            None,
        );
    };
    let answered = match RuntimeClient::fresh_connections(url, Duration::from_secs(2)) {
        Ok(c) => c.health().await.ok().map(|h| h.body.pid),
        Err(_) => None,
    };
    match answered {
        Some(p) if p == new => (
            Exit::Ok,
            format!(
                "systemd reports it {}, and pid {new} answers /health",
                state.describe()
            ),
            Some(format!("MainPID={new}")),
        ),
        other => (
            Exit::Warning,
            format!(
                "systemd reports it {} with pid {new}, but /health at {url} {}",
                state.describe(),
                other.map_or("did not answer".into(), |p| format!(
                    "answered from pid {p}"
                ))
            ),
            Some(format!("MainPID={new}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> Unit {
        Unit {
            name: "hal9.service".into(),
            user: None,
        }
    }

    fn reachable(restart: &str, active: &str) -> Manager {
        Manager::Reachable {
            state: UnitProps {
                load_state: "loaded".into(),
                active_state: active.into(),
                sub_state: "running".into(),
                n_restarts: Some(0),
                restart: restart.into(),
                main_pid: Some(10),
            },
        }
    }

    #[test]
    fn a_unit_that_restarts_itself_is_restarted_by_systemctl() {
        for r in ["on-failure", "always", "on-abnormal", ""] {
            match decide(10, &unit(), &reachable(r, "active"), true) {
                UnitRestart::Systemctl { argv, why } => {
                    assert_eq!(argv, ["systemctl", "restart", "hal9.service"]);
                    assert!(why.contains("Restart="), "{why}");
                }
                d => panic!("Restart={r}: {d:?}"),
            }
        }
    }

    #[test]
    fn restart_no_and_healthy_keeps_the_zero_downtime_handover() {
        match decide(10, &unit(), &reachable("no", "active"), true) {
            UnitRestart::Handover { why } => {
                assert!(why.contains("Restart=no"), "{why}");
                assert!(why.contains("systemctl restart hal9.service"), "{why}");
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn restart_no_with_nothing_healthy_to_hand_over_goes_through_the_unit() {
        for (healthy, active) in [(false, "active"), (true, "deactivating")] {
            assert!(matches!(
                decide(10, &unit(), &reachable("no", active), healthy),
                UnitRestart::Systemctl { .. }
            ));
        }
    }

    #[test]
    fn no_systemd_to_ask_is_a_refusal_naming_the_command() {
        let m = Manager::Unreachable {
            why: "System has not been booted with systemd".into(),
        };
        for healthy in [true, false] {
            match decide(10, &unit(), &m, healthy) {
                UnitRestart::Refuse { reason, next } => {
                    assert!(reason.contains("pid 10 runs in systemd unit hal9.service"));
                    assert!(reason.contains("cannot reach systemd"), "{reason}");
                    assert!(next.starts_with("systemctl restart hal9.service"), "{next}");
                }
                d => panic!("{d:?}"),
            }
        }
        assert!(matches!(
            decide(10, &unit(), &Manager::Unasked, true),
            UnitRestart::Refuse { .. }
        ));
    }

    #[test]
    fn a_user_unit_is_restarted_through_its_own_manager() {
        let u = Unit {
            name: "hal9.service".into(),
            user: Some(1000),
        };
        match decide(10, &u, &reachable("on-failure", "active"), true) {
            UnitRestart::Systemctl { argv, .. } => assert_eq!(
                argv,
                [
                    "systemctl",
                    "--machine=1000@",
                    "--user",
                    "restart",
                    "hal9.service"
                ]
            ),
            d => panic!("{d:?}"),
        }
    }
}
