//! The runtime as a systemd service: sd_notify messages on a socket the test
//! listens on (systemd is not PID 1 here), the unit file verified.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use crate::common::{hal9ctl, http, tempdir};

fn recv(sock: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .expect("a notify message within the timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn listen_of(dir: &std::path::Path, pid: u32) -> String {
    let t0 = std::time::Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("runtime.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && v["pid"] == pid
        {
            return v["listen"].as_str().unwrap().to_string();
        }
        assert!(t0.elapsed() < Duration::from_secs(15), "no runtime.json");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve_with(dir: &std::path::Path, notify_socket: &str) -> Killed {
    let child = hal9ctl(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("NOTIFY_SOCKET", notify_socket)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.stderr")).unwrap())
        .spawn()
        .unwrap();
    Killed(child)
}

#[test]
fn serve_notifies_ready_when_ready_answers_200_and_stopping_when_it_drains() {
    let d = tempdir();
    let sock_path = d.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut serve = serve_with(d.path(), sock_path.to_str().unwrap());
    let pid = serve.0.id();

    let ready = recv(&sock);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    assert!(
        ready.lines().any(|l| l == format!("MAINPID={pid}")),
        "{ready:?}"
    );
    // READY=1 is a promise: /ready answers 200 from the moment it is sent.
    let listen = listen_of(d.path(), pid);
    let a = http("GET", &format!("http://{listen}/ready"), None, None, None);
    assert_eq!(a.status, 200, "{}", a.body);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let stopping = recv(&sock);
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping:?}");
    let status = serve.0.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn serve_notifies_an_abstract_socket() {
    let d = tempdir();
    let name = format!("hal9-it-notify-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let sock = UnixDatagram::bind_addr(&addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _serve = serve_with(d.path(), &format!("@{name}"));
    let ready = recv(&sock);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
}

#[test]
fn serve_without_a_notify_socket_starts_and_a_bad_one_does_not_stop_it() {
    let d = tempdir();
    // A socket path nobody listens on: notifying fails, serving must not.
    let serve = serve_with(d.path(), d.path().join("nobody.sock").to_str().unwrap());
    let listen = listen_of(d.path(), serve.0.id());
    let t0 = std::time::Instant::now();
    loop {
        let a = http("GET", &format!("http://{listen}/ready"), None, None, None);
        if a.status == 200 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(15), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn unit_text() -> String {
    std::fs::read_to_string(crate::common::repo_root().join("deploy/systemd/hal9.service")).unwrap()
}

fn setting<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

/// systemd-analyze prints unknown keys and bad values as warnings and still
/// exits 0, so any output fails the test. The unit points at /usr/bin (the
/// package test verifies it installed); here it runs the binary under test.
#[test]
fn the_unit_file_verifies_without_a_warning() {
    let d = tempdir();
    let unit = unit_text().replace("/usr/bin/hal9ctl", crate::common::BIN);
    let path = d.path().join("hal9.service");
    std::fs::write(&path, unit).unwrap();
    let o = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze runs (scripts/test.sh installs systemd)");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.trim().is_empty(), "{err}");
}

#[test]
fn the_unit_waits_for_ready_and_outlasts_the_drain() {
    let unit = unit_text();
    assert_eq!(setting(&unit, "Type"), ["notify"]);
    assert_eq!(setting(&unit, "KillSignal"), ["SIGTERM"]);
    assert_eq!(setting(&unit, "Restart"), ["on-failure"]);
    assert_eq!(setting(&unit, "User"), ["hal9"]);
    assert_eq!(setting(&unit, "ReadWritePaths"), ["/var/lib/hal9"]);
    for key in ["ProtectSystem", "NoNewPrivileges", "PrivateTmp"] {
        assert!(!setting(&unit, key).is_empty(), "{key} missing");
    }
    let exec = setting(&unit, "ExecStart").join(" ");
    assert!(
        exec.contains("--state-dir /var/lib/hal9") && exec.ends_with(" serve"),
        "{exec}"
    );
    let stop = humantime::parse_duration(setting(&unit, "TimeoutStopSec")[0]).unwrap();
    let cfg: toml::Value = toml::from_str(include_str!("../../src/config/default.toml")).unwrap();
    let drain =
        humantime::parse_duration(cfg["server"]["drain_timeout"].as_str().unwrap()).unwrap();
    assert!(
        stop > drain + hal9ctl::runtime::server::HANDOFF,
        "TimeoutStopSec {stop:?} must exceed drain_timeout {drain:?} plus the hand-off window"
    );
}
