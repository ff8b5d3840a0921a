//! Asking systemd about a unit, and acting on it, through systemctl(1).
//! A process in a service's cgroup is systemd's to stop or restart: a raw
//! signal is undone by `Restart=`, or leaves the unit failed. When systemctl
//! cannot reach a systemd (not PID 1, as in containers, or no D-Bus for a
//! non-root caller), callers refuse rather than fall back to a signal.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::systemd::Unit;
use crate::output::shell_word::shell_word;

/// How long a `systemctl show` may take: it only reads the manager's state.
pub const SHOW_TIMEOUT: Duration = Duration::from_secs(5);

/// The properties hal9ctl reads, from `systemctl show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct UnitProps {
    /// `loaded`, `not-found`, …: a unit systemd does not know has no state.
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    /// How often systemd restarted it since it was last started by hand.
    pub n_restarts: Option<u32>,
    /// `Restart=`: `no`, `on-failure`, `always`, …
    pub restart: String,
    pub main_pid: Option<u32>,
}

impl UnitProps {
    /// `active (running)`, `activating (start)`, `not-found`.
    pub fn describe(&self) -> String {
        if self.load_state != "loaded" && !self.load_state.is_empty() {
            return format!("{} ({})", self.load_state, self.active_state);
        }
        format!("{} ({})", self.active_state, self.sub_state)
    }
}

/// The unit a process runs in, and its state or why it is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitStatus {
    pub unit: Unit,
    /// `None` when systemctl could not say.
    pub state: Option<UnitProps>,
    /// `active (running), restarted 0 times`, or `unknown (systemd not reachable: …)`.
    pub summary: String,
}

impl UnitStatus {
    /// Pure: the status from what `show` returned.
    pub fn new(unit: Unit, shown: Result<UnitProps, SystemctlError>) -> UnitStatus {
        let summary = match &shown {
            Ok(p) => match p.n_restarts {
                Some(n) => format!("{}, restarted by systemd {n} times", p.describe()),
                None => p.describe(),
            },
            Err(SystemctlError::Unreachable(why)) => {
                format!("unknown (systemd not reachable: {why})")
            }
            Err(e @ SystemctlError::Missing) => format!("unknown (systemd not reachable: {e})"),
            Err(e) => format!("unknown ({e})"),
        };
        UnitStatus {
            unit,
            state: shown.ok(),
            summary,
        }
    }

    /// `hal9.service (active (running), …)`, for a check's detail.
    pub fn describe(&self) -> String {
        let whose = self
            .unit
            .user
            .map(|uid| format!(" of user {uid}'s manager"))
            .unwrap_or_default();
        format!("{}{whose}: {}", self.unit.name, self.summary)
    }
}

/// The service unit `pid` runs in (from its cgroup) and its state; `None`
/// when it is in no service.
pub fn status_of_pid(pid: i32) -> Option<UnitStatus> {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let unit = super::systemd::unit_of_cgroup(&cgroup)?;
    let shown = show(&unit);
    Some(UnitStatus::new(unit, shown))
}

/// Whether the systemd running a unit can be asked to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Manager {
    /// Not asked yet: nothing may be done through it.
    Unasked,
    Reachable {
        state: UnitProps,
    },
    Unreachable {
        why: String,
    },
}

impl Manager {
    /// `systemctl show`: reachable with the unit's state, or why not. Any
    /// other failure is no proof that a stop would work, so it counts too.
    pub fn ask(unit: &Unit) -> Manager {
        match show(unit) {
            Ok(state) => Manager::Reachable { state },
            Err(SystemctlError::Unreachable(why)) => Manager::Unreachable { why },
            Err(e) => Manager::Unreachable { why: e.to_string() },
        }
    }
}

/// Why systemctl did not do what was asked; callers branch on the first two.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SystemctlError {
    #[error("systemctl is not installed")]
    Missing,
    #[error("systemctl cannot reach systemd ({0})")]
    Unreachable(String),
    #[error("`{command}` failed: {message}")]
    Failed { command: String, message: String },
    #[error("`{command}` did not finish within {}", humantime::format_duration(*.within))]
    TimedOut { command: String, within: Duration },
}

impl SystemctlError {
    /// systemd is not there to ask: nothing may be done to its units.
    pub fn unreachable(&self) -> bool {
        matches!(
            self,
            SystemctlError::Missing | SystemctlError::Unreachable(_)
        )
    }
}

/// The argv of `systemctl [--user …] VERB UNIT [extra…]`.
pub fn argv(unit: &Unit, verb: &str, extra: &[&str]) -> Vec<String> {
    let mut v = unit.systemctl(verb);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// A command line to print or paste: every word shell-quoted.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|w| shell_word(w).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pure: the properties from `systemctl show -p …` output (`Key=value` lines).
pub fn parse_show(text: &str) -> UnitProps {
    let mut p = UnitProps::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k {
            "LoadState" => p.load_state = v.to_string(),
            "ActiveState" => p.active_state = v.to_string(),
            "SubState" => p.sub_state = v.to_string(),
            "NRestarts" => p.n_restarts = v.parse().ok(),
            "Restart" => p.restart = v.to_string(),
            // 0 is systemd's "no main process".
            "MainPID" => p.main_pid = v.parse().ok().filter(|p| *p != 0),
            _ => {}
        }
    }
    p
}

/// The unit's state, as systemd reports it now.
pub fn show(unit: &Unit) -> Result<UnitProps, SystemctlError> {
    let argv = argv(
        unit,
        "show",
        &[
            "--no-pager",
            "-p",
            "LoadState,ActiveState,SubState,NRestarts,Restart,MainPID",
        ],
    );
    let out = run(&argv, SHOW_TIMEOUT)?;
    Ok(parse_show(&out))
}

/// `systemctl VERB UNIT`, waiting up to `within` (a start waits for the
/// unit's READY=1). `--no-ask-password`: a polkit prompt would hang a script,
/// so a caller without the right gets an error naming `sudo` instead.
pub fn act(unit: &Unit, verb: &str, within: Duration) -> Result<(), SystemctlError> {
    run(&argv(unit, verb, &["--no-ask-password"]), within).map(|_| ())
}

/// How long `systemctl stop` may wait: the unit's own TimeoutStopSec ends a
/// stop that hangs (hal9.service: 90 s); this only bounds a stuck manager.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(300);

/// `systemctl stop UNIT`, then systemd asked again: only a unit it reports
/// inactive or failed counts as stopped.
pub fn stop_verified(unit: &Unit) -> Result<String, SystemctlError> {
    act(unit, "stop", STOP_TIMEOUT)?;
    let after = show(unit)?;
    match after.active_state.as_str() {
        "inactive" | "failed" => Ok(format!("stopped: systemd reports it {}", after.describe())),
        _ => Err(SystemctlError::Failed {
            command: command_line(&argv(unit, "stop", &[])),
            message: format!(
                "it returned, but systemd reports the unit {}",
                after.describe()
            ),
        }),
    }
}

/// Run systemctl, return its stdout. A nonzero exit with systemd's "not
/// booted" or "connect to bus" message means no systemd to talk to.
fn run(argv: &[String], within: Duration) -> Result<String, SystemctlError> {
    let command = command_line(argv);
    let (prog, args) = argv.split_first().ok_or(SystemctlError::Missing)?;
    let mut child = Command::new(prog)
        .args(args)
        .env("SYSTEMD_PAGER", "")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SystemctlError::Missing,
            _ => SystemctlError::Failed {
                command: command.clone(),
                message: e.to_string(),
            },
        })?;
    let deadline = Instant::now() + within;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                // Our own child, by its handle: nothing else can be hit.
                let _ = child.kill();
                let _ = child.wait();
                return Err(SystemctlError::TimedOut { command, within });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                return Err(SystemctlError::Failed {
                    command,
                    message: e.to_string(),
                });
            }
        }
    };
    let read = |r: Option<&mut dyn Read>| {
        let mut s = String::new();
        if let Some(r) = r {
            let _ = r.read_to_string(&mut s);
        }
        s
    };
    let stdout = read(child.stdout.as_mut().map(|r| r as &mut dyn Read));
    let stderr = read(child.stderr.as_mut().map(|r| r as &mut dyn Read));
    if status.success() {
        return Ok(stdout);
    }
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if no_manager(&message) {
        return Err(SystemctlError::Unreachable(message));
    }
    Err(SystemctlError::Failed {
        command,
        message: if message.is_empty() {
            status.to_string()
        } else {
            message
        },
    })
}

/// Pure: does systemctl's error say there is no manager to talk to?
pub fn no_manager(stderr: &str) -> bool {
    [
        "has not been booted with systemd",
        "Failed to connect to bus",
        "Failed to connect to user scope bus",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_output_is_read_by_key() {
        let p = parse_show(
            "LoadState=loaded\nActiveState=active\nSubState=running\nNRestarts=3\n\
             Restart=on-failure\nMainPID=4242\nIgnored=x\nnot a pair\n",
        );
        assert_eq!(
            p,
            UnitProps {
                load_state: "loaded".into(),
                active_state: "active".into(),
                sub_state: "running".into(),
                n_restarts: Some(3),
                restart: "on-failure".into(),
                main_pid: Some(4242),
            }
        );
        assert_eq!(p.describe(), "active (running)");
    }

    #[test]
    fn no_main_process_and_unknown_units_are_said_so() {
        let p = parse_show("LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n");
        assert_eq!(p.main_pid, None);
        assert_eq!(p.n_restarts, None);
        assert_eq!(p.describe(), "not-found (inactive)");
    }

    #[test]
    fn a_machine_without_systemd_is_unreachable_not_a_failure() {
        assert!(no_manager(
            "System has not been booted with systemd as init system (PID 1). Can't operate.; Failed to connect to bus: Host is down"
        ));
        assert!(!no_manager("Failed to restart hal9.service: Access denied"));
        assert!(SystemctlError::Missing.unreachable());
        assert!(
            !SystemctlError::TimedOut {
                command: "systemctl restart x".into(),
                within: Duration::from_secs(1)
            }
            .unreachable()
        );
    }

    #[test]
    fn a_status_says_unknown_when_systemd_cannot_be_asked() {
        let u = || Unit {
            name: "hal9.service".into(),
            user: None,
        };
        let s = UnitStatus::new(u(), Err(SystemctlError::Unreachable("Host is down".into())));
        assert_eq!(s.state, None);
        assert_eq!(
            s.describe(),
            "hal9.service: unknown (systemd not reachable: Host is down)"
        );
        let s = UnitStatus::new(
            u(),
            Ok(parse_show(
                "LoadState=loaded\nActiveState=active\nSubState=running\nNRestarts=2\n",
            )),
        );
        assert_eq!(
            s.describe(),
            "hal9.service: active (running), restarted by systemd 2 times"
        );
    }

    #[test]
    fn the_command_line_quotes_what_a_shell_would_split() {
        let u = Unit {
            name: "a b.service".into(),
            user: None,
        };
        assert_eq!(
            command_line(&argv(&u, "stop", &[])),
            "systemctl stop 'a b.service'"
        );
    }
}
