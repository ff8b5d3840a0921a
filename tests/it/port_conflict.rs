//! `hal9ctl emergency port-conflict` against real listeners the tests spawn on loopback.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::{free_port, hal9ctl, json, run, stderr, stdout, tempdir};

/// A Python listener on 127.0.0.1:PORT. With `fork`, it forks after listen so
/// parent and child share the socket, like a pre-fork server and its worker.
/// Every pid it reports is killed by PID when the guard drops.
struct Squatter {
    child: Child,
    pids: Vec<i32>,
}

const SQUATTER: &str = r#"
import os, signal, socket, sys, time
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
port, kind, fork = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "fork"
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
else:
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(8)
if fork and os.fork() == 0:
    print(os.getpid(), flush=True)
else:
    if fork:
        time.sleep(0.2)
    print(os.getpid(), flush=True)
time.sleep(600)
"#;

impl Squatter {
    fn spawn(port: u16, kind: &str, fork: bool) -> Squatter {
        let mut child = Command::new("python3")
            .args(["-c", SQUATTER, &port.to_string(), kind])
            .arg(if fork { "fork" } else { "single" })
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let out = child.stdout.take().unwrap();
        let mut lines = BufReader::new(out).lines();
        let want = if fork { 2 } else { 1 };
        let mut pids = Vec::new();
        let mut guard = Squatter {
            child,
            pids: Vec::new(),
        };
        for _ in 0..want {
            let line = lines.next().expect("squatter pid line").unwrap();
            pids.push(line.trim().parse::<i32>().unwrap());
        }
        guard.pids = pids;
        guard
    }

    fn parent(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Squatter {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Alive and not a zombie: a zombie holds no socket.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

fn gone_soon(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn port_conflict(state: &Path, port: u16, extra: &[&str]) -> std::process::Output {
    let mut c = hal9ctl(state);
    c.args(["-o", "json", "emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .args(extra)
        .stdin(Stdio::null());
    run(&mut c)
}

fn holder_pids(v: &serde_json::Value) -> Vec<i32> {
    let mut p: Vec<i32> = v["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["pid"].as_i64().unwrap() as i32)
        .collect();
    p.sort_unstable();
    p
}

fn audit_lines(state: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assert_bindable(port: u16) {
    TcpListener::bind(("127.0.0.1", port)).expect("the port must be free now");
}

#[test]
fn kills_a_squatter_with_force_and_proves_the_port_free() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    let pid = sq.parent();
    let out = port_conflict(state.path(), port, &["--force"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let v = json(&out);
    assert_eq!(holder_pids(&v), vec![pid]);
    assert_eq!(v["holders"][0]["hal9_runtime"], false);
    assert!(
        v["holders"][0]["command"]
            .as_str()
            .unwrap()
            .contains("python")
    );
    assert_eq!(v["outcome"], "free");
    assert_eq!(v["message"], format!("port {port} is free"));
    assert!(gone_soon(pid), "squatter {pid} still alive");
    assert_bindable(port);

    let kills: Vec<_> = audit_lines(state.path())
        .into_iter()
        .filter(|e| e["action"] == "kill")
        .collect();
    assert_eq!(kills.len(), 1, "{kills:?}");
    assert_eq!(kills[0]["target"], format!("pid {pid} (python3)"));
    assert!(kills[0]["result"].as_str().unwrap().starts_with("ok"));
}

#[test]
fn refuses_without_force_and_without_a_terminal() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    let mut c = hal9ctl(state.path());
    c.args(["emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .stdin(Stdio::null());
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("stdin is not a terminal"), "{text}");
    assert!(text.contains(&sq.parent().to_string()), "{text}");
    assert!(
        text.contains(&format!(
            "next: hal9ctl emergency port-conflict --port {port} --force"
        )),
        "{text}"
    );
    assert!(alive(sq.parent()), "the squatter must survive a refusal");
    let refusals: Vec<_> = audit_lines(state.path())
        .into_iter()
        .filter(|e| e["result"].as_str().unwrap().starts_with("refused"))
        .collect();
    assert_eq!(refusals.len(), 1);
}

#[test]
fn refuses_to_kill_its_own_ancestor_even_with_force() {
    let state = tempdir();
    // This test process holds the port, and it is hal9ctl's parent.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = port_conflict(state.path(), port, &["--force", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "refused");
    assert_eq!(holder_pids(&v), vec![std::process::id() as i32]);
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("ancestor"), "{msg}");
    assert_eq!(
        v["plan"]["steps"][0]["action"]["reason"]["rule"],
        "ancestor"
    );
    assert!(v["next"].as_str().unwrap().starts_with("hal9ctl "));
    // Still ours: accepting a connection proves the listener survived.
    let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    listener.accept().unwrap();
}

#[test]
fn stops_both_pids_of_a_prefork_listener() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", true);
    let mut expected = sq.pids.clone();
    expected.sort_unstable();
    assert_eq!(expected.len(), 2);
    let out = port_conflict(state.path(), port, &["--force", "--grace", "2s"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let v = json(&out);
    assert_eq!(holder_pids(&v), expected);
    // The parent is stopped first, so a pre-fork master does not respawn workers.
    assert_eq!(
        v["plan"]["steps"][0]["pid"].as_i64().unwrap() as i32,
        sq.parent()
    );
    for pid in &expected {
        assert!(gone_soon(*pid), "pid {pid} still alive");
    }
    assert_eq!(v["outcome"], "free");
    assert_bindable(port);
    let kills = audit_lines(state.path())
        .into_iter()
        .filter(|e| e["action"] == "kill")
        .count();
    assert_eq!(kills, 2);
}

#[test]
fn dry_run_lists_the_plan_and_kills_nothing() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    let mut c = hal9ctl(state.path());
    c.args([
        "emergency",
        "port-conflict",
        "--dry-run",
        "--force",
        "--port",
    ])
    .arg(port.to_string())
    .stdin(Stdio::null());
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&sq.parent().to_string()), "{text}");
    assert!(text.contains("SIGTERM, then KILL"), "{text}");
    assert!(text.contains("dry run"), "{text}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(sq.parent()));
    assert!(TcpListener::bind(("127.0.0.1", port)).is_err());
    assert!(audit_lines(state.path()).is_empty());
}

#[test]
fn nothing_listening_means_the_port_is_free() {
    let state = tempdir();
    let port = free_port();
    let mut c = hal9ctl(state.path());
    c.args(["emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .stdin(Stdio::null());
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("port {port} is free")), "{text}");
    assert!(text.contains("nothing listens"), "{text}");
}

#[test]
fn udp_holders_are_found_only_with_udp() {
    let state = tempdir();
    // The proof binds TCP as well, so the port must be free for both protocols.
    let port = loop {
        let p = free_port();
        if std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            break p;
        }
    };
    let sq = Squatter::spawn(port, "udp", false);

    let out = port_conflict(state.path(), port, &["--dry-run"]);
    assert_eq!(holder_pids(&json(&out)), Vec::<i32>::new());

    let out = port_conflict(state.path(), port, &["--udp", "--force", "--signal", "INT"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(holder_pids(&v), vec![sq.parent()]);
    assert_eq!(v["sockets"][0]["proto"], "udp");
    assert_eq!(v["plan"]["steps"][0]["action"]["signal"], "SIGINT");
    assert!(gone_soon(sq.parent()));
    std::net::UdpSocket::bind(("127.0.0.1", port)).expect("udp port free");
}

#[test]
fn bad_signal_is_a_usage_error() {
    let state = tempdir();
    let mut c = hal9ctl(state.path());
    c.args(["emergency", "port-conflict", "--signal", "NOPE"]);
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("unknown signal"), "{}", stderr(&out));
}
