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

/// A cgroup the test made whose path names a systemd service, as systemd
/// names the cgroup of every unit it starts: what /proc/PID/cgroup shows for
/// a process of `unit`. In systemd's own hierarchy where there is one (v1
/// `name=systemd`, which unit detection reads first), else the unified one.
/// Under a parent of its own per test; removed deepest first once empty.
struct ServiceCgroup {
    created: Vec<std::path::PathBuf>,
    leaf: std::path::PathBuf,
    unit: String,
}

impl ServiceCgroup {
    fn make(tag: &str) -> ServiceCgroup {
        let root = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup"]
            .into_iter()
            .map(std::path::Path::new)
            .find(|p| p.join("cgroup.procs").exists())
            .expect("a writable cgroup hierarchy (run the tests as root)");
        let id = format!("hal9-it-{tag}-{}", std::process::id());
        let unit = format!("{id}.service");
        let mut at = root.to_path_buf();
        let mut created = Vec::new();
        for seg in [id.as_str(), "system.slice", unit.as_str()] {
            at.push(seg);
            std::fs::create_dir(&at).expect("make the service cgroup (run the tests as root)");
            created.push(at.clone());
        }
        ServiceCgroup {
            created,
            leaf: at,
            unit,
        }
    }

    fn enter(&self, pid: u32) {
        std::fs::write(self.leaf.join("cgroup.procs"), pid.to_string())
            .expect("move into the service cgroup");
        let seen = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        assert!(seen.contains(&self.unit), "{seen}");
    }
}

impl Drop for ServiceCgroup {
    fn drop(&mut self) {
        for dir in self.created.iter().rev() {
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// These tests model the machines hal9ctl's CI runs on: systemd is not PID 1,
/// so systemctl cannot reach a manager, and what hal9ctl does then is the point.
fn assert_no_systemd() {
    assert!(
        !std::path::Path::new("/run/systemd/system").exists(),
        "systemd runs this machine: these tests model one where systemctl cannot reach it"
    );
}

#[test]
fn health_names_the_unit_the_runtime_runs_in_and_says_its_state_is_unknown() {
    assert_no_systemd();
    let cg = ServiceCgroup::make("health");
    let s = crate::common::Server::start(None);
    let health = |extra: &[&str]| {
        crate::common::run(
            hal9ctl(s.dir.path())
                .args(["--url", &s.url])
                .args(extra)
                .arg("health"),
        )
    };
    // Outside a unit, there is none to name.
    let before = crate::common::json(&health(&["-o", "json"]));
    assert!(before["facts"]["systemd_unit"].is_null(), "{before:#}");

    cg.enter(s.pid());
    let v = crate::common::json(&health(&["-o", "json"]));
    let u = &v["facts"]["systemd_unit"];
    assert_eq!(u["unit"]["name"], cg.unit.as_str(), "{v:#}");
    assert!(u["state"].is_null(), "{v:#}");
    let summary = u["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("unknown (systemd not reachable: "),
        "{summary}"
    );
    let checks = v["checks"].as_array().unwrap();
    let process = checks
        .iter()
        .find(|c| c["name"] == "runtime process")
        .unwrap();
    assert_eq!(process["status"], "ok", "{v:#}");
    let detail = process["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(
            "systemd unit {}: unknown (systemd not reachable",
            cg.unit
        )),
        "{detail}"
    );
    // A state nobody could read is no finding: nothing warns about the unit.
    assert!(checks.iter().all(|c| c["name"] != "systemd unit"), "{v:#}");
    let text = crate::common::stdout(&health(&[]));
    assert!(
        text.contains(&cg.unit) && text.contains("systemd not reachable"),
        "{text}"
    );
}

#[test]
fn restart_of_a_runtime_in_a_unit_refuses_without_systemd_and_signals_nothing() {
    assert_no_systemd();
    let cg = ServiceCgroup::make("restart");
    let s = crate::common::Server::start(None);
    cg.enter(s.pid());
    for dry_run in [true, false] {
        let mut c = hal9ctl(s.dir.path());
        if dry_run {
            c.arg("--dry-run");
        }
        let o = crate::common::run(c.args(["--yes", "restart"]));
        let err = crate::common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "dry run {dry_run}: {err}");
        assert!(
            err.contains(&format!("pid {} runs in systemd unit {}", s.pid(), cg.unit))
                && err.contains("cannot reach systemd"),
            "{err}"
        );
        assert!(
            err.contains(&format!("systemctl restart {}", cg.unit)),
            "{err}"
        );
        // Still the same process, still serving: nothing was signalled.
        let h = s.get("/health");
        assert_eq!(h.status, 200, "{}", h.body);
        let body: serde_json::Value = serde_json::from_str(&h.body).unwrap();
        assert_eq!(body["pid"], s.pid());
    }
    let audit = std::fs::read_to_string(s.dir.path().join("audit.jsonl")).unwrap_or_default();
    assert!(
        audit.contains(&format!("systemd unit {}", cg.unit)) && audit.contains("refused"),
        "{audit}"
    );
}

const LISTENER: &str = r#"
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
time.sleep(600)
"#;

#[test]
fn port_conflict_stops_a_unit_owned_holder_only_through_systemctl() {
    use std::io::BufRead;
    assert_no_systemd();
    let cg = ServiceCgroup::make("port");
    let d = tempdir();
    let port = crate::common::free_port();
    let mut holder = Killed(
        std::process::Command::new("python3")
            .args(["-c", LISTENER, &port.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(holder.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    cg.enter(holder.0.id());
    let port_conflict = |extra: &[&str]| {
        crate::common::run(
            hal9ctl(d.path())
                .args(["-o", "json", "emergency", "port-conflict", "--port"])
                .arg(port.to_string())
                .args(extra)
                .stdin(std::process::Stdio::null()),
        )
    };
    let stop = format!("systemctl stop {}", cg.unit);

    let o = port_conflict(&["--dry-run"]);
    let v = crate::common::json(&o);
    let owner = &v["holders"][0]["owner"];
    assert_eq!(owner["kind"], "systemd", "{v:#}");
    assert_eq!(owner["unit"]["name"], cg.unit.as_str());
    assert_eq!(owner["manager"]["kind"], "unreachable", "{v:#}");
    let step = &v["plan"]["steps"][0]["action"];
    assert_eq!(step["kind"], "refuse_owned", "{v:#}");
    let why = step["why"].as_str().unwrap();
    // The dry run names the command it would run, and why it cannot here.
    assert!(
        why.contains(&format!("`{stop}` cannot be run here"))
            && why.contains("cannot reach systemd"),
        "{why}"
    );
    assert_eq!(step["next"], stop.as_str());

    for extra in [&["--yes"][..], &["--yes", "--force"]] {
        let o = port_conflict(extra);
        let v = crate::common::json(&o);
        assert_eq!(o.status.code(), Some(2), "{v:#}");
        assert_eq!(v["outcome"], "refused", "{v:#}");
        assert_eq!(v["next"], stop.as_str(), "{v:#}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("cannot reach systemd"),
            "{v:#}"
        );
        // Never a raw signal: the holder lives and still holds the port.
        assert!(
            holder.0.try_wait().unwrap().is_none(),
            "the holder was signalled"
        );
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    }
}
