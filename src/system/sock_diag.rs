//! The kernel's socket tables through NETLINK_SOCK_DIAG (inet_diag), the
//! interface `ss` uses.
//!
//! Why not only `/proc/net/tcp`: the kernel formats one text line per socket,
//! TIME_WAIT included, and a busy host has tens of thousands of those; reading
//! the file then costs tens of milliseconds of system time. Asking inet_diag
//! for LISTEN sockets only makes the kernel walk just the listening hash.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

const AF_NETLINK: i32 = 16;
const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
/// `struct inet_diag_req_v2`.
const REQ_LEN: usize = 56;
/// `struct inet_diag_msg`.
const MSG_LEN: usize = 72;

pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
/// `1 << TCP_LISTEN`.
pub const STATES_LISTEN: u32 = 1 << 10;
pub const STATES_ALL: u32 = u32::MAX;

/// One socket as inet_diag reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagSocket {
    pub state: u8,
    pub local: SocketAddr,
    pub uid: u32,
    pub inode: u64,
}

/// Dump the sockets of one family and protocol in the given states (a bit mask of `1 << state`).
pub fn dump(family: u8, protocol: u8, states: u32) -> io::Result<Vec<DiagSocket>> {
    let sock = Socket::new(
        Domain::from(AF_NETLINK),
        Type::RAW,
        Some(Protocol::from(NETLINK_SOCK_DIAG)),
    )?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    sock.send(&request(family, protocol, states))?;

    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = (&sock).read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "sock_diag closed",
            ));
        }
        let mut off = 0;
        while off + NLMSG_HDRLEN <= n {
            let len = u32_at(&buf, off) as usize;
            let kind = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
            if len < NLMSG_HDRLEN || off + len > n {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "truncated sock_diag message",
                ));
            }
            match kind {
                NLMSG_DONE => return Ok(out),
                NLMSG_ERROR => {
                    let errno = i32::from_ne_bytes(bytes4(&buf, off + NLMSG_HDRLEN));
                    return Err(io::Error::from_raw_os_error(-errno));
                }
                _ if len >= NLMSG_HDRLEN + MSG_LEN => {
                    out.push(parse_msg(&buf[off + NLMSG_HDRLEN..off + len]));
                }
                _ => {}
            }
            off += (len + 3) & !3;
        }
    }
}

fn request(family: u8, protocol: u8, states: u32) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + REQ_LEN) as u32;
    let mut b = Vec::with_capacity(len as usize);
    b.extend_from_slice(&len.to_ne_bytes());
    b.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    b.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    b.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    b.extend_from_slice(&[family, protocol, 0, 0]);
    b.extend_from_slice(&states.to_ne_bytes());
    b.resize(len as usize, 0); // inet_diag_sockid: zero matches every socket
    b
}

/// Parse a `struct inet_diag_msg`; `m` is at least `MSG_LEN` bytes.
fn parse_msg(m: &[u8]) -> DiagSocket {
    let family = m[0];
    let port = u16::from_be_bytes([m[4], m[5]]);
    let ip = if family == AF_INET6 {
        let mut a = [0u8; 16];
        a.copy_from_slice(&m[8..24]);
        IpAddr::V6(Ipv6Addr::from(a))
    } else {
        IpAddr::V4(Ipv4Addr::new(m[8], m[9], m[10], m[11]))
    };
    DiagSocket {
        state: m[1],
        local: SocketAddr::new(ip, port),
        uid: u32_at(m, 64),
        inode: u64::from(u32_at(m, 68)),
    }
}

fn bytes4(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes4(b, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_our_listener_with_its_inode() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let all = dump(AF_INET, IPPROTO_TCP, STATES_LISTEN).unwrap();
        let ours: Vec<_> = all.iter().filter(|s| s.local == addr).collect();
        assert_eq!(ours.len(), 1, "{all:?}");
        assert_eq!(ours[0].state, 10);
        assert_ne!(ours[0].inode, 0);
        assert_eq!(ours[0].uid, nix::unistd::geteuid().as_raw());
    }

    #[test]
    fn request_has_the_kernel_layout() {
        let r = request(AF_INET6, IPPROTO_TCP, STATES_LISTEN);
        assert_eq!(r.len(), 72);
        assert_eq!(u32_at(&r, 0), 72);
        assert_eq!(&r[16..18], &[AF_INET6, IPPROTO_TCP]);
        assert_eq!(u32_at(&r, 20), STATES_LISTEN);
    }
}
