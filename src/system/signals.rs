//! Signals that re-check their target first: between gather and apply a pid
//! can exit and be reused by an unrelated process, or let go of the socket.
//!
//! Every signal goes by pidfd: the pidfd is opened first and the identity is
//! checked after, so the checked process is the one the signal reaches even
//! if its pid is reused in between (ARCHITECTURE §5).

use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

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
pub enum KillError {
    #[error("pid {0} has already exited")]
    Gone(i32),
    #[error("pid {0} is now a different process (pid reused); not signalled")]
    Reused(i32),
    #[error("pid {0} no longer holds the socket; not signalled")]
    LetGo(i32),
    #[error("pid {pid} not signalled: {view}")]
    ForeignNamespace {
        pid: i32,
        view: process::ForeignProc,
    },
    #[error(
        "cannot open a pidfd for pid {pid} ({errno}); not signalled, because without one a reused pid could be hit"
    )]
    Pidfd { pid: i32, errno: nix::Error },
    #[error("sending {signal} to pid {pid} failed: {errno}")]
    Kill {
        pid: i32,
        signal: Signal,
        errno: nix::Error,
    },
}

/// A process whose identity was checked while a pidfd to it was open: the
/// pidfd names that process for as long as it lives, whatever its pid becomes.
#[derive(Debug)]
pub struct Checked {
    pub expected: Expected,
    fd: OwnedFd,
}

/// Open a pidfd to `e.pid`, then check it is still the same process holding
/// the same sockets. Checking after the open is what makes the check hold.
pub fn check(e: &Expected) -> Result<Checked, KillError> {
    if let Some(view) = process::foreign_proc() {
        return Err(KillError::ForeignNamespace { pid: e.pid, view });
    }
    let fd = pidfd_open(e.pid).map_err(|errno| match errno {
        nix::Error::ESRCH => KillError::Gone(e.pid),
        errno => KillError::Pidfd { pid: e.pid, errno },
    })?;
    match process::start_ticks(e.pid) {
        None => return Err(KillError::Gone(e.pid)),
        Some(t) if t != e.start_ticks => return Err(KillError::Reused(e.pid)),
        Some(_) => {}
    }
    if !e.inodes.is_empty() && sockets::held_by_pid(e.pid, &e.inodes).is_empty() {
        return Err(KillError::LetGo(e.pid));
    }
    Ok(Checked {
        expected: e.clone(),
        fd,
    })
}

impl Checked {
    /// Signal the checked process; a pid reused since cannot receive it.
    pub fn send(&self, signal: Signal) -> Result<(), KillError> {
        let pid = self.expected.pid;
        // SAFETY: pidfd_send_signal(2) reads only the fd and the signal number;
        // a null siginfo means "as kill(2) would send it".
        #[allow(unsafe_code)]
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        Err(match nix::Error::last() {
            nix::Error::ESRCH => KillError::Gone(pid),
            errno => KillError::Kill { pid, signal, errno },
        })
    }

    /// Whether the process has exited (a zombie counts: it holds nothing).
    pub fn exited(&self) -> bool {
        exited(&self.expected)
    }
}

fn pidfd_open(pid: i32) -> Result<OwnedFd, nix::Error> {
    if pid <= 0 {
        // 0 and negative pids name process groups in kill(2); never a target here.
        return Err(nix::Error::ESRCH);
    }
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if rc < 0 {
        return Err(nix::Error::last());
    }
    // SAFETY: the kernel just made this fd for us; nothing else owns it.
    #[allow(unsafe_code)]
    let fd = unsafe { OwnedFd::from_raw_fd(rc as RawFd) };
    Ok(fd)
}

/// Send `signal` to `e.pid` only if it is still the same process holding the same socket.
pub fn send_checked(e: &Expected, signal: Signal) -> Result<(), KillError> {
    check(e)?.send(signal)
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
            Err(KillError::Reused(me))
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
            Err(KillError::Gone(_) | KillError::Reused(_))
        ));
    }

    #[test]
    fn signals_go_by_pidfd_to_the_checked_process_only() {
        use std::os::unix::process::ExitStatusExt;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let e = Expected {
            pid,
            start_ticks: process::start_ticks(pid).unwrap(),
            inodes: BTreeSet::new(),
        };
        let c = check(&e).unwrap();
        c.send(Signal::SIGTERM).unwrap();
        assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
        // Reaped, its pid is free for reuse; the pidfd still names the dead process.
        assert_eq!(c.send(Signal::SIGTERM), Err(KillError::Gone(pid)));
        assert!(c.exited());
    }

    #[test]
    fn refuses_a_process_that_let_go_of_the_socket() {
        let me = std::process::id() as i32;
        let e = Expected {
            pid: me,
            start_ticks: process::start_ticks(me).unwrap(),
            inodes: BTreeSet::from([u64::MAX]),
        };
        assert_eq!(send_checked(&e, Signal::SIGTERM), Err(KillError::LetGo(me)));
    }
}
