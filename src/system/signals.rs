//! Signals that re-check their target first: between gather and apply a pid
//! can exit and be reused by an unrelated process, or let go of the socket.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{process, sockets};

/// The process a signal is meant for: pid plus start time (pid reuse) plus
/// the sockets that made it a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub pid: i32,
    pub start_ticks: u64,
    pub inodes: BTreeSet<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("pid {0} has already exited")]
    Gone(i32),
    #[error("pid {0} is now a different process (pid reused); not signalled")]
    Reused(i32),
    #[error("pid {0} no longer holds the socket; not signalled")]
    LetGo(i32),
    #[error("sending {signal} to pid {pid} failed: {errno}")]
    Kill {
        pid: i32,
        signal: Signal,
        errno: nix::Error,
    },
}

/// Send `signal` to `e.pid` only if it is still the same process holding the same socket.
pub fn send_checked(e: &Expected, signal: Signal) -> Result<(), SignalError> {
    match process::start_ticks(e.pid) {
        None => return Err(SignalError::Gone(e.pid)),
        Some(t) if t != e.start_ticks => return Err(SignalError::Reused(e.pid)),
        Some(_) => {}
    }
    if !e.inodes.is_empty() && sockets::held_by_pid(e.pid, &e.inodes).is_empty() {
        return Err(SignalError::LetGo(e.pid));
    }
    kill(Pid::from_raw(e.pid), signal).map_err(|errno| match errno {
        nix::Error::ESRCH => SignalError::Gone(e.pid),
        errno => SignalError::Kill {
            pid: e.pid,
            signal,
            errno,
        },
    })
}

/// Whether the process is gone (exited, a zombie, or its pid now names another process).
pub fn exited(e: &Expected) -> bool {
    process::start_ticks(e.pid) != Some(e.start_ticks)
}

/// Wait until every process in `set` is gone or `deadline` passes; returns those still alive.
pub fn wait_exit(set: &[Expected], within: Duration) -> Vec<Expected> {
    let deadline = Instant::now() + within;
    loop {
        let alive: Vec<Expected> = set.iter().filter(|e| !exited(e)).cloned().collect();
        if alive.is_empty() || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Parse `TERM`, `SIGTERM`, `term` or a number like `15`.
pub fn parse_signal(s: &str) -> Result<Signal, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("{n} is not a signal number"));
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>()
        .map_err(|_| format!("unknown signal {s:?} (examples: TERM, INT, HUP, KILL)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!(parse_signal("TERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("sigint"), Ok(Signal::SIGINT));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert!(parse_signal("BOGUS").is_err());
    }

    #[test]
    fn refuses_a_reused_pid_and_a_gone_one() {
        let me = std::process::id() as i32;
        let ticks = process::start_ticks(me).unwrap();
        let wrong = Expected {
            pid: me,
            start_ticks: ticks + 1,
            inodes: BTreeSet::new(),
        };
        // Signal 0 would be harmless, but the check must stop it before kill().
        assert_eq!(
            send_checked(&wrong, Signal::SIGTERM),
            Err(SignalError::Reused(me))
        );
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        let gone = Expected {
            pid,
            start_ticks: 1,
            inodes: BTreeSet::new(),
        };
        assert!(matches!(
            send_checked(&gone, Signal::SIGTERM),
            Err(SignalError::Gone(_) | SignalError::Reused(_))
        ));
    }

    #[test]
    fn refuses_a_process_that_let_go_of_the_socket() {
        let me = std::process::id() as i32;
        let e = Expected {
            pid: me,
            start_ticks: process::start_ticks(me).unwrap(),
            inodes: BTreeSet::from([u64::MAX]),
        };
        assert_eq!(
            send_checked(&e, Signal::SIGTERM),
            Err(SignalError::LetGo(me))
        );
    }
}
