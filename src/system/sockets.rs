//! Which processes hold a port: the kernel's socket tables (inet_diag, or
//! `/proc/net/*` where netlink is unavailable) give the socket inodes bound to the port, then `/proc/*/fd` links
//! (`socket:[inode]`) give every process sharing each socket — a pre-fork
//! parent and all its workers alike.
//!
//! Only listening sockets are asked for, and fd links are read only to compare
//! against a handful of inodes: this runs on every `port-conflict` and must be
//! as quick as `ss -p`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use procfs::net::TcpState;
use serde::Serialize;

use super::sock_diag;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// A socket bound to the port: a TCP listener, or any bound UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundSocket {
    pub proto: Proto,
    pub local: SocketAddr,
    pub inode: u64,
    /// Owner of the socket, as the kernel table records it.
    pub uid: u32,
}

/// Sockets bound to `port`. TCP listeners only (state LISTEN): a client
/// connection whose local port happens to match does not hold the port.
/// inet_diag first (cheap on a host full of TIME_WAIT); the procfs tables
/// when netlink is not available (seccomp, old kernels).
pub fn bound_to(port: u16, udp: bool) -> procfs::ProcResult<Vec<BoundSocket>> {
    let mut out = match from_diag(port, udp) {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!("sock_diag unavailable ({e}); reading /proc/net tables");
            from_proc_tables(port, udp)?
        }
    };
    // Inode 0 is a socket the kernel is tearing down: nobody holds it any more.
    out.retain(|s| s.inode != 0);
    Ok(out)
}

fn from_diag(port: u16, udp: bool) -> std::io::Result<Vec<BoundSocket>> {
    let mut queries = vec![(Proto::Tcp, sock_diag::IPPROTO_TCP, sock_diag::STATES_LISTEN)];
    if udp {
        queries.push((Proto::Udp, sock_diag::IPPROTO_UDP, sock_diag::STATES_ALL));
    }
    let mut out = Vec::new();
    for (proto, ipproto, states) in queries {
        for family in [sock_diag::AF_INET, sock_diag::AF_INET6] {
            let socks = match sock_diag::dump(family, ipproto, states) {
                // A host without IPv6 has no such table.
                Err(e) if family == sock_diag::AF_INET6 => {
                    tracing::debug!("no IPv6 sock_diag: {e}");
                    continue;
                }
                r => r?,
            };
            out.extend(
                socks
                    .into_iter()
                    .filter(|s| s.local.port() == port)
                    .map(|s| BoundSocket {
                        proto,
                        local: s.local,
                        inode: s.inode,
                        uid: s.uid,
                    }),
            );
        }
    }
    Ok(out)
}

fn from_proc_tables(port: u16, udp: bool) -> procfs::ProcResult<Vec<BoundSocket>> {
    let mut out = Vec::new();
    for table in [procfs::net::tcp, procfs::net::tcp6] {
        for e in optional(table())? {
            if e.state == TcpState::Listen && e.local_address.port() == port {
                out.push(BoundSocket {
                    proto: Proto::Tcp,
                    local: e.local_address,
                    inode: e.inode,
                    uid: e.uid,
                });
            }
        }
    }
    if udp {
        for table in [procfs::net::udp, procfs::net::udp6] {
            for e in optional(table())? {
                if e.local_address.port() == port {
                    out.push(BoundSocket {
                        proto: Proto::Udp,
                        local: e.local_address,
                        inode: e.inode,
                        uid: e.uid,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// TCP sockets using `port` locally that are not listeners (connections,
/// half-closed ones). They hold no service, but a plain bind of the port fails
/// while they exist, so they explain a port that is busy with no holder.
pub fn tcp_connections_on(port: u16) -> procfs::ProcResult<Vec<(SocketAddr, SocketAddr, String)>> {
    let mut out = Vec::new();
    for table in [procfs::net::tcp, procfs::net::tcp6] {
        for e in optional(table())? {
            if e.state != TcpState::Listen && e.local_address.port() == port {
                out.push((
                    e.local_address,
                    e.remote_address,
                    format!("{:?}", e.state).to_lowercase(),
                ));
            }
        }
    }
    Ok(out)
}

/// A missing table (IPv6 disabled) is an empty one, not an error.
fn optional<T>(r: procfs::ProcResult<Vec<T>>) -> procfs::ProcResult<Vec<T>> {
    match r {
        Err(procfs::ProcError::NotFound(_)) => Ok(Vec::new()),
        r => r,
    }
}

/// Every pid whose fd table holds one of `inodes`, with the inodes it holds.
/// Processes we may not inspect (another user's, when not root) are skipped;
/// the caller sees their sockets left without a holder.
pub fn holders(inodes: &BTreeSet<u64>) -> std::io::Result<BTreeMap<i32, BTreeSet<u64>>> {
    let mut found = BTreeMap::new();
    if inodes.is_empty() {
        return Ok(found);
    }
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let held = held_by_pid(pid, inodes);
        if !held.is_empty() {
            found.insert(pid, held);
        }
    }
    Ok(found)
}

/// The subset of `inodes` that `pid` holds now; empty when it holds none or is gone.
///
/// One readlink per fd. procfs's `Process::fd()` opens and stats every fd as
/// well (four syscalls each), which made this scan the slowest part of the lookup.
pub fn held_by_pid(pid: i32, inodes: &BTreeSet<u64>) -> BTreeSet<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return BTreeSet::new();
    };
    dir.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| socket_inode(target.as_os_str().as_encoded_bytes()))
        .filter(|ino| inodes.contains(ino))
        .collect()
}

/// `socket:[12345]` → 12345.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Where a client connects to reach a listener bound to `listen`: a wildcard
/// bind (`0.0.0.0`, `[::]`) answers on IPv4 loopback, which every host has.
pub fn dial_addr(listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen.port())
    } else {
        listen
    }
}

/// Bind the port as a new listener would: loopback and wildcard, IPv4 and
/// (when the host has it) IPv6. The error names the first bind that failed.
/// Retries for `settle`: a socket just closed can take a moment to go.
pub fn prove_free(port: u16, udp: bool, settle: Duration) -> Result<(), String> {
    let deadline = Instant::now() + settle;
    loop {
        match try_bind_all(port, udp) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// One attempt of [`prove_free`].
pub fn try_bind_all(port: u16, udp: bool) -> Result<(), String> {
    let addrs = [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    for ip in addrs {
        let addr = SocketAddr::new(ip, port);
        let mut binds = vec![(Proto::Tcp, TcpListener::bind(addr).map(drop))];
        if udp {
            binds.push((Proto::Udp, UdpSocket::bind(addr).map(drop)));
        }
        for (proto, r) in binds {
            match r {
                Ok(()) => {}
                // No IPv6 on this host: nothing can hold the port there either.
                Err(e) if ip.is_ipv6() && e.kind() != std::io::ErrorKind::AddrInUse => {}
                Err(e) => return Err(format!("binding {proto} {addr} failed: {e}")),
            }
        }
    }
    Ok(())
}

/// Everything still on the port, for a report that says why it is not free:
/// listeners by process, sockets whose process we cannot see, and
/// connections (which do not block a bind, but explain a busy port).
pub fn still_held_by(port: u16, udp: bool) -> Vec<String> {
    let Ok(socks) = bound_to(port, udp) else {
        return Vec::new();
    };
    let inodes: BTreeSet<u64> = socks.iter().map(|s| s.inode).collect();
    let by_pid = holders(&inodes).unwrap_or_default();
    let mut out: Vec<String> = by_pid
        .keys()
        .map(|pid| match super::process::inspect(*pid, &[]) {
            Ok(i) => format!("pid {pid} ({}, user {})", i.command, i.user),
            Err(_) => format!("pid {pid}"),
        })
        .collect();
    let seen: BTreeSet<u64> = by_pid.values().flatten().copied().collect();
    out.extend(socks.iter().filter(|s| !seen.contains(&s.inode)).map(|s| {
        format!(
            "{} {} (uid {}, process not visible)",
            s.proto, s.local, s.uid
        )
    }));
    out.extend(
        tcp_connections_on(port)
            .unwrap_or_default()
            .into_iter()
            .map(|(local, remote, state)| {
                format!("tcp connection {local} -> {remote} ({state}), not a listener")
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wildcard_listener_is_dialled_on_loopback_and_others_as_bound() {
        let dial = |s: &str| super::dial_addr(s.parse().unwrap()).to_string();
        assert_eq!(dial("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(dial("[::]:8080"), "127.0.0.1:8080");
        assert_eq!(dial("[::1]:8080"), "[::1]:8080");
        assert_eq!(dial("10.1.2.3:9"), "10.1.2.3:9");
    }

    use super::*;

    #[test]
    fn finds_our_own_listener_and_not_its_client() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let socks = bound_to(port, false).unwrap();
        assert_eq!(socks.len(), 1, "{socks:?}");
        assert_eq!(socks[0].proto, Proto::Tcp);
        let inodes: BTreeSet<u64> = socks.iter().map(|s| s.inode).collect();
        let h = holders(&inodes).unwrap();
        let me = std::process::id() as i32;
        assert!(h.contains_key(&me), "{h:?}");
        assert_eq!(held_by_pid(me, &inodes), inodes);
        assert_eq!(from_proc_tables(port, false).unwrap(), socks);
    }

    #[test]
    fn parses_socket_links_only() {
        assert_eq!(socket_inode(b"socket:[4242]"), Some(4242));
        assert_eq!(socket_inode(b"pipe:[4242]"), None);
        assert_eq!(socket_inode(b"/tmp/socket:[1]"), None);
    }

    #[test]
    fn udp_only_when_asked() {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        assert!(bound_to(port, false).unwrap().is_empty());
        let socks = bound_to(port, true).unwrap();
        assert_eq!(socks.len(), 1);
        assert_eq!(socks[0].proto, Proto::Udp);
    }
}
