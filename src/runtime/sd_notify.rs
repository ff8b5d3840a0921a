//! sd_notify(3) for `Type=notify` units: a datagram to $NOTIFY_SOCKET.
//! The protocol is one sendto, so no crate: a path, or '@' for the abstract
//! namespace. Without NOTIFY_SOCKET (not under systemd) it does nothing.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The address $NOTIFY_SOCKET names, or why it names none.
fn address(var: &std::ffi::OsStr) -> std::io::Result<SocketAddr> {
    use std::os::unix::ffi::OsStrExt;
    match var.as_bytes() {
        [b'@', name @ ..] => SocketAddr::from_abstract_name(name),
        path => SocketAddr::from_pathname(std::ffi::OsStr::from_bytes(path)),
    }
}

/// Send `state` (newline-separated KEY=VALUE lines). A failure is logged and
/// otherwise ignored: a supervisor that cannot be told must not stop serving.
pub fn notify(state: &str) {
    let Some(var) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = address(&var).and_then(|addr| {
        let sock = UnixDatagram::unbound()?;
        sock.send_to_addr(state.as_bytes(), &addr)
    });
    if let Err(e) = sent {
        tracing::warn!(
            "could not notify systemd at NOTIFY_SOCKET={}: {e}",
            var.to_string_lossy()
        );
    }
}

/// `/ready` answers 200 from now on.
pub fn ready() {
    notify(&format!("READY=1\nMAINPID={}\n", std::process::id()));
}

/// Draining: systemd should wait (TimeoutStopSec), not restart us.
pub fn stopping() {
    notify("STOPPING=1\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_at_sign_names_the_abstract_namespace_and_anything_else_a_path() {
        let a = address(std::ffi::OsStr::new("@hal9/notify")).unwrap();
        assert_eq!(a.as_abstract_name(), Some(&b"hal9/notify"[..]));
        let p = address(std::ffi::OsStr::new("/run/systemd/notify")).unwrap();
        assert_eq!(
            p.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
    }
}
