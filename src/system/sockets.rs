//! Which processes hold a port: the kernel's socket tables (`/proc/net/*`) give
//! the socket inodes bound to the port, then `/proc/*/fd` links
//! (`socket:[inode]`) give every process sharing each socket — a pre-fork
//! parent and all its workers alike.
//!
//! Only the tables asked for are read, and fd links are read only to compare
//! against a handful of inodes: this runs on every `port-conflict` and must be
//! as quick as `ss -p`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use procfs::net::TcpState;
use procfs::process::{FDTarget, Process};
use serde::Serialize;

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
pub fn bound_to(port: u16, udp: bool) -> procfs::ProcResult<Vec<BoundSocket>> {
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
    // Inode 0 is a socket the kernel is tearing down: nobody holds it any more.
    out.retain(|s| s.inode != 0);
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
pub fn holders(inodes: &BTreeSet<u64>) -> procfs::ProcResult<BTreeMap<i32, BTreeSet<u64>>> {
    let mut found = BTreeMap::new();
    if inodes.is_empty() {
        return Ok(found);
    }
    for p in procfs::process::all_processes()?.flatten() {
        let held = held_by(&p, inodes);
        if !held.is_empty() {
            found.insert(p.pid, held);
        }
    }
    Ok(found)
}

/// The subset of `inodes` that `pid` holds now; empty when it holds none or is gone.
pub fn held_by_pid(pid: i32, inodes: &BTreeSet<u64>) -> BTreeSet<u64> {
    match Process::new(pid) {
        Ok(p) => held_by(&p, inodes),
        Err(_) => BTreeSet::new(),
    }
}

fn held_by(p: &Process, inodes: &BTreeSet<u64>) -> BTreeSet<u64> {
    let Ok(fds) = p.fd() else {
        return BTreeSet::new();
    };
    fds.flatten()
        .filter_map(|fd| match fd.target {
            FDTarget::Socket(ino) if inodes.contains(&ino) => Some(ino),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
