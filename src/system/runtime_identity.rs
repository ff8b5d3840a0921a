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

/// Why "the runtime" a command means cannot be spoken to as the operator's
/// runtime: the admin token and any claim about it wait until it can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamedError {
    #[error("there is no runtime.json: no runtime was started with this --state-dir")]
    NotRecorded,
    #[error("cannot read runtime.json: {0}")]
    Unreadable(String),
    #[error("runtime.json does not prove its runtime: {0}")]
    Identity(IdentityError),
    #[error(
        "the URL {url} is not the address this state dir's runtime (pid {pid}) listens on, {listen}"
    )]
    OtherAddress {
        url: String,
        pid: u32,
        listen: SocketAddr,
    },
    #[error(
        "port {port} is split: {sockets} listening sockets (pids {pids:?}) share it, so an answer on it may come from any of them"
    )]
    Split {
        port: u16,
        sockets: usize,
        pids: Vec<i32>,
    },
}

/// The runtime this state dir records and `url` addresses, proved to be one
/// and the same process, and the only listener on its port.
#[derive(Debug, Clone)]
pub struct Named {
    pub info: RuntimeInfo,
    pub expected: Expected,
    pub listen: SocketAddr,
}

/// Does `url` reach the recorded listener? Same port, and a host that is that
/// address (or loopback, when it listens on loopback or every address).
pub fn url_reaches(url: &str, listen: SocketAddr) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    if u.port_or_known_default() != Some(listen.port()) {
        return false;
    }
    let host = u.host_str().unwrap_or_default();
    let host_ip: Option<std::net::IpAddr> = if host.eq_ignore_ascii_case("localhost") {
        Some(std::net::Ipv4Addr::LOCALHOST.into())
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    };
    host_ip.is_some_and(|ip| {
        ip == listen.ip()
            || (ip.is_loopback() && (listen.ip().is_loopback() || listen.ip().is_unspecified()))
    })
}

/// Listening sockets on `port` and the pids that hold them; more than one
/// socket is a split (SO_REUSEPORT shares the traffic between them).
pub fn split_of(port: u16) -> Result<(), NamedError> {
    let Ok(socks) = sockets::bound_to(port, false) else {
        return Ok(());
    };
    let inodes: BTreeSet<u64> = socks.iter().map(|s| s.inode).collect();
    if inodes.len() <= 1 {
        return Ok(());
    }
    let pids = sockets::holders(&inodes)
        .map(|h| h.keys().copied().collect())
        .unwrap_or_default();
    Err(NamedError::Split {
        port,
        sockets: inodes.len(),
        pids,
    })
}

/// A split of the local port `url` names, if it names one of this host's
/// loopback ports (a remote port's listeners are not ours to see).
pub fn split_at(url: &str) -> Result<(), NamedError> {
    let Ok(u) = reqwest::Url::parse(url) else {
        return Ok(());
    };
    let host = u.host_str().unwrap_or_default();
    let local = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match u.port_or_known_default() {
        Some(port) if local => split_of(port),
        _ => Ok(()),
    }
}

/// The one runtime a client command may trust with the admin token and
/// vouch for: recorded by `state`, proved by `verify`, addressed by `url`,
/// and alone on its port.
pub fn named(state: &crate::runtime::state::StateDir, url: &str) -> Result<Named, NamedError> {
    let info = match state.read_runtime_info() {
        Ok(Some(i)) => i,
        Ok(None) => return Err(NamedError::NotRecorded),
        Err(e) => return Err(NamedError::Unreadable(e.to_string())),
    };
    let expected = verify(&info).map_err(NamedError::Identity)?;
    let listen: SocketAddr = info
        .listen
        .parse()
        .map_err(|_| NamedError::Identity(IdentityError::BadListen(info.listen.clone())))?;
    if !url_reaches(url, listen) {
        return Err(NamedError::OtherAddress {
            url: url.to_string(),
            pid: info.pid,
            listen,
        });
    }
    split_of(listen.port())?;
    Ok(Named {
        info,
        expected,
        listen,
    })
}

/// The admin token goes only to the runtime this state dir proves to be
/// serving `url`, alone on its port: a forged runtime.json would otherwise
/// send it wherever it likes, and a split port answers for whichever
/// instance the kernel picked.
pub fn prove_for_admin(
    state: &crate::runtime::state::StateDir,
    url: &str,
) -> Result<(), crate::exit::Failure> {
    named(state, url).map(|_| ()).map_err(|e| {
        let next = match &e {
            NamedError::NotRecorded => {
                "hal9ctl health   # is the runtime running with this --state-dir?".to_string()
            }
            NamedError::Split { port, .. } => {
                format!("hal9ctl health   # then: hal9ctl emergency port-conflict --port {port}")
            }
            NamedError::OtherAddress { .. } => {
                "pass the --state-dir of the runtime at that URL, or drop --url".to_string()
            }
            NamedError::Unreadable(_) | NamedError::Identity(_) => "hal9ctl health".to_string(),
        };
        crate::exit::Failure::critical(format!("refusing to send the admin token to {url}: {e}"))
            .with_next(next)
    })
}

/// The token of the runtime `prove_for_admin` proved, for every command
/// that calls its admin API.
pub fn proved_admin_token(
    state: &crate::runtime::state::StateDir,
    url: &str,
) -> Result<String, crate::exit::Failure> {
    prove_for_admin(state, url)?;
    state.read_admin_token().map_err(|e| {
        crate::exit::Failure::critical(format!(
            "cannot read the admin token {}: {e}",
            state.admin_token_file().display()
        ))
        .with_next("hal9ctl health   # is the runtime running with this --state-dir?")
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
            oom_baseline: None,
        }
    }

    #[test]
    fn a_test_binary_is_not_a_hal9ctl_serve_even_when_everything_else_matches() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let info = info_of_self(&l);
        assert!(matches!(verify(&info), Err(IdentityError::NotServe { .. })));
    }

    #[test]
    fn a_url_reaches_only_the_recorded_port_and_address() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(url_reaches("http://127.0.0.1:8080", lo));
        assert!(url_reaches("http://localhost:8080/", lo));
        assert!(url_reaches("http://127.0.0.1:8080", any));
        assert!(!url_reaches("http://127.0.0.1:8081", lo));
        assert!(!url_reaches("http://203.0.113.9:8080", lo));
        assert!(!url_reaches("http://evil.example:8080", any));
        assert!(!url_reaches("not a url", lo));
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
