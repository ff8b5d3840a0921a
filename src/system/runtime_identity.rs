//! Is the pid a state file names really the runtime that wrote it? A pid in
//! `runtime.json` outlives its process: after a crash the number goes to
//! somebody else, and anyone who can write the file can name any process.
//! It is trusted only once it is a `hal9ctl serve` with the recorded start
//! time, holding the recorded listening socket (ARCHITECTURE §5).

use std::collections::BTreeSet;
use std::net::SocketAddr;

use super::process::{self, ForeignProc};
use super::signals::Expected;
use super::sockets;
use crate::runtime::state::RuntimeInfo;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    ForeignNamespace(ForeignProc),
    #[error("runtime.json records the listen address {0:?}, which is not IP:PORT")]
    BadListen(String),
    #[error(
        "runtime.json names pid {0} without its start time and socket (an older hal9ctl wrote it), so it cannot be proved to be the runtime"
    )]
    Unrecorded(u32),
    #[error("pid {0} has exited")]
    Gone(u32),
    #[error("pid {pid} is not a hal9ctl serve (it runs: {command})")]
    NotServe { pid: u32, command: String },
    #[error(
        "pid {pid} is a hal9ctl serve with another start time than recorded (tick {actual}, not {recorded}): it is not the process that wrote runtime.json"
    )]
    StartTime {
        pid: u32,
        recorded: u64,
        actual: u64,
    },
    #[error("pid {pid} does not hold the recorded listening socket on {listen}")]
    NotListening { pid: u32, listen: SocketAddr },
}

/// The process `info` describes, checked now; the returned identity is what
/// every later signal re-checks (see `signals::check`).
pub fn verify(info: &RuntimeInfo) -> Result<Expected, IdentityError> {
    if let Some(view) = process::foreign_proc() {
        return Err(IdentityError::ForeignNamespace(view));
    }
    let listen: SocketAddr = info
        .listen
        .parse()
        .map_err(|_| IdentityError::BadListen(info.listen.clone()))?;
    let (Some(recorded), Some(inode)) = (info.start_ticks, info.listen_inode) else {
        return Err(IdentityError::Unrecorded(info.pid));
    };
    let pid = i32::try_from(info.pid).map_err(|_| IdentityError::Gone(info.pid))?;
    let actual = process::start_ticks(pid).ok_or(IdentityError::Gone(info.pid))?;
    process::hal9_serve_or_command(pid).map_err(|command| IdentityError::NotServe {
        pid: info.pid,
        command,
    })?;
    if actual != recorded {
        return Err(IdentityError::StartTime {
            pid: info.pid,
            recorded,
            actual,
        });
    }
    let inodes = BTreeSet::from([inode]);
    let listening = sockets::bound_to(listen.port(), false)
        .is_ok_and(|socks| socks.iter().any(|s| s.inode == inode));
    if !listening || sockets::held_by_pid(pid, &inodes).is_empty() {
        return Err(IdentityError::NotListening {
            pid: info.pid,
            listen,
        });
    }
    Ok(Expected {
        pid,
        start_ticks: actual,
        inodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info_of_self(listen: &std::net::TcpListener) -> RuntimeInfo {
        use std::os::fd::AsFd;
        RuntimeInfo {
            pid: std::process::id(),
            listen: listen.local_addr().unwrap().to_string(),
            version: "0".into(),
            started_at: String::new(),
            start_ticks: process::own_start_ticks(),
            listen_inode: nix::sys::stat::fstat(listen.as_fd()).ok().map(|s| s.st_ino),
            serve_args: None,
            config: None,
        }
    }

    #[test]
    fn a_test_binary_is_not_a_hal9ctl_serve_even_when_everything_else_matches() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let info = info_of_self(&l);
        assert!(matches!(verify(&info), Err(IdentityError::NotServe { .. })));
    }

    #[test]
    fn missing_start_time_or_socket_proves_nothing() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut info = info_of_self(&l);
        info.start_ticks = None;
        assert_eq!(
            verify(&info),
            Err(IdentityError::Unrecorded(std::process::id()))
        );
        let mut info = info_of_self(&l);
        info.listen = "nowhere".into();
        assert!(matches!(verify(&info), Err(IdentityError::BadListen(_))));
    }
}
