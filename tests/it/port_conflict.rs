//! `hal9ctl emergency port-conflict` against real listeners the tests spawn on loopback.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::{at_a_terminal, free_port, hal9ctl, json, run, stderr, stdout, tempdir};

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
if kind == "close-first":
    print(os.getpid(), flush=True)
    conn, _ = s.accept()
    # Closing first leaves this side's connection in TIME_WAIT on the port.
    conn.close()
    time.sleep(600)
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

/// A detached runtime (not our child), killed by PID at the end of the test.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0), Signal::SIGKILL);
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

#[test]
fn drains_and_stops_the_hal9_runtime_without_force() {
    let mut server = crate::common::Server::start(None);
    let pid = server.pid() as i32;
    let out = port_conflict(server.dir.path(), server.port, &["--url", &server.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(holder_pids(&v), vec![pid]);
    assert_eq!(v["holders"][0]["hal9_runtime"], true);
    assert_eq!(v["plan"]["steps"][0]["action"]["kind"], "drain");
    let done = v["done"].as_array().unwrap();
    assert_eq!(done[0]["step"], "drain");
    assert_eq!(done[0]["ok"], true, "{done:?}");
    assert_eq!(done[1]["step"], "SIGTERM");
    assert_eq!(v["outcome"], "free");
    // SIGTERM lets the runtime finish its drain and exit cleanly.
    assert!(server.wait().success());
    let actions: Vec<String> = audit_lines(server.dir.path())
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(actions.contains(&"drain".to_string()), "{actions:?}");
    assert!(actions.contains(&"kill".to_string()), "{actions:?}");
}

#[test]
fn restart_starts_the_runtime_once_the_port_is_free() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    let out = port_conflict(state.path(), port, &["--force", "--restart"]);
    let info: serde_json::Value = std::fs::read_to_string(state.path().join("runtime.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_default();
    let runtime = info["pid"].as_i64().map(|p| p as i32);
    let _guard = runtime.map(KillOnDrop);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["restart"]["ok"], true, "{v}");
    assert!(gone_soon(sq.parent()));
    let runtime = runtime.expect("runtime.json names the new runtime");
    assert!(alive(runtime));
    let ready = crate::common::http(
        "GET",
        &format!("http://127.0.0.1:{port}/ready"),
        None,
        None,
        None,
    );
    assert_eq!(ready.status, 200);
    let restarts = audit_lines(state.path())
        .into_iter()
        .filter(|e| e["action"] == "restart" && e["result"].as_str().unwrap().starts_with("ok"))
        .count();
    assert_eq!(restarts, 1);
}

#[test]
fn a_port_still_busy_after_the_kill_is_exit_2_naming_what_holds_it() {
    use std::io::Read;
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "close-first", false);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut buf = Vec::new();
    client.read_to_end(&mut buf).unwrap();
    drop(client);
    let out = port_conflict(state.path(), port, &["--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(holder_pids(&v), vec![sq.parent()]);
    assert!(gone_soon(sq.parent()));
    assert_eq!(v["outcome"], "still_held");
    let held = v["still_held_by"].to_string();
    assert!(held.contains("not a listener"), "{held}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("port {port} is still held"))
    );
    assert!(v["next"].as_str().unwrap().starts_with("hal9ctl "));
}

/// The pid of a process and the runtime.json naming it: written as a crashed
/// runtime's file would be, after its pid went to somebody else.
fn write_runtime_json(state: &Path, pid: i32, port: u16) {
    std::fs::write(
        state.join("runtime.json"),
        format!(
            "{{\"pid\":{pid},\"listen\":\"127.0.0.1:{port}\",\"version\":\"0\",\"started_at\":\"2026-01-01T00:00:00Z\"}}"
        ),
    )
    .unwrap();
}

#[test]
fn clearing_another_runtimes_port_leaves_the_state_dirs_runtime_alone() {
    let a = crate::common::Server::start(None);
    let mut b = crate::common::Server::start(None);
    // A's state dir, B's port: only B holds the port.
    let out = port_conflict(a.dir.path(), b.port, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(holder_pids(&v), vec![b.pid() as i32]);
    assert_eq!(v["outcome"], "free");
    assert!(b.wait().success(), "B drained on SIGTERM and exited");
    assert!(alive(a.pid() as i32), "A does not hold port {}", b.port);
    assert_eq!(a.get("/ready").status, 200, "A is still ready");
    let drain = &v["done"][0];
    assert_eq!(drain["step"], "drain");
    assert!(
        drain["result"].as_str().unwrap().contains("skipped"),
        "A's token proves nothing about B: {drain}"
    );
}

#[test]
fn a_runtime_json_naming_a_squatter_does_not_make_it_the_runtime() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    write_runtime_json(state.path(), sq.parent(), port);
    std::fs::write(state.path().join("hal9.pid"), format!("{}\n", sq.parent())).unwrap();
    let out = port_conflict(state.path(), port, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["holders"][0]["hal9_runtime"], false, "{v}");
    assert_eq!(v["outcome"], "refused");
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(sq.parent()), "a squatter needs --force or a yes");
}

#[test]
fn a_proc_of_another_pid_namespace_is_refused() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    // A new pid namespace that still sees the parent's /proc: every pid read
    // there names a process of the parent namespace.
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", crate::common::BIN])
        .args(["-o", "json", "--state-dir"])
        .arg(state.path())
        .args(["emergency", "port-conflict", "--force", "--port"])
        .arg(port.to_string())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", state.path())
        .env("XDG_CONFIG_HOME", state.path().join("xdg-config"))
        .env("NO_COLOR", "1")
        .current_dir(state.path())
        .stdin(Stdio::null());
    let out = run(&mut c);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let v = json(&out);
    assert_eq!(v["outcome"], "refused", "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("pid namespace"), "{msg}");
    assert!(v["next"].as_str().unwrap().contains("--mount-proc"), "{v}");
    assert!(alive(sq.parent()));
    assert!(
        !audit_lines(state.path())
            .iter()
            .any(|e| e["action"] == "kill" && !e["result"].as_str().unwrap().starts_with("refused")),
        "nothing was signalled"
    );
}

#[test]
fn at_a_terminal_the_plan_comes_before_the_question() {
    let state = tempdir();
    let port = free_port();
    let sq = Squatter::spawn(port, "tcp", false);
    let (before, after) = at_a_terminal(
        state.path(),
        &["emergency", "port-conflict", "--port", &port.to_string()],
        "n",
    );
    assert!(before.contains("[y/N]"), "never asked: {before}{after}");
    let asked = before.find("[y/N]").unwrap();
    let table = before
        .to_lowercase()
        .find("supervisor")
        .unwrap_or(usize::MAX);
    assert!(
        table < asked,
        "the holders table must come before the question:\n{before}"
    );
    let row = before.find(&sq.parent().to_string()).unwrap_or(usize::MAX);
    assert!(
        row < asked,
        "the holder's pid before the question:\n{before}"
    );
    assert!(after.contains("answered no"), "{after}");
    assert!(alive(sq.parent()));
}

/// A shell loop that brings a listener on PORT back whenever it dies, as a
/// plain respawner does. Every listener pid goes to `pids`; all die on drop.
struct Respawner {
    sh: Child,
    pids: std::path::PathBuf,
}

impl Respawner {
    fn spawn(port: u16, dir: &Path) -> Respawner {
        let pids = dir.join("listener.pids");
        let listener = format!(
            "import os,socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',{port}))\ns.listen(8)\nopen('{}','a').write(str(os.getpid())+'\\n')\ntime.sleep(600)\n",
            pids.display()
        );
        let sh = Command::new("sh")
            .args([
                "-c",
                "while true; do python3 -c \"$1\"; sleep 0.2; done",
                "respawner",
                &listener,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .is_empty()
        {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "listener did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Respawner { sh, pids }
    }
}

impl Drop for Respawner {
    fn drop(&mut self) {
        let _ = self.sh.kill();
        let _ = self.sh.wait();
        for pid in std::fs::read_to_string(&self.pids)
            .unwrap_or_default()
            .lines()
        {
            if let Ok(p) = pid.trim().parse::<i32>() {
                let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
            }
        }
    }
}

#[test]
fn a_holder_its_respawner_brings_back_is_not_a_free_port() {
    let state = tempdir();
    let port = free_port();
    let r = Respawner::spawn(port, state.path());
    let o = port_conflict(state.path(), port, &["--force"]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(1), "{v:#}\n{}", stderr(&o));
    assert_ne!(v["outcome"], "free", "{v:#}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("pid {}", r.sh.id())),
        "the respawner is named: {msg}"
    );
    let o = run(hal9ctl(state.path())
        .args([
            "emergency",
            "port-conflict",
            "--port",
            &port.to_string(),
            "--force",
        ])
        .stdin(Stdio::null()));
    assert!(!stdout(&o).contains("is free"), "{}", stdout(&o));
}

/// A process that names itself `runsv` (through /proc/self/comm, as the real
/// one is named by its binary) in a service dir, with a child holding PORT:
/// what runit looks like to /proc.
const FAKE_RUNSV: &str = r#"
import os, subprocess, sys, time
port, svdir = sys.argv[1], sys.argv[2]
open("/proc/self/comm", "w").write("runsv")
os.chdir(svdir)
app = subprocess.Popen([sys.executable, "-c",
    "import os,socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',%s))\ns.listen(8)\nprint(os.getpid(),flush=True)\ntime.sleep(600)" % port],
    stdout=subprocess.PIPE)
print(app.stdout.readline().decode().strip(), flush=True)
time.sleep(600)
"#;

#[test]
fn a_supervised_holder_is_refused_even_forced_and_named_with_the_supervisors_stop() {
    let state = tempdir();
    let port = free_port();
    let svdir = state.path().join("sv-web");
    std::fs::create_dir(&svdir).unwrap();
    let port_s = port.to_string();
    let sv =
        crate::common::ParentOfHolder::start(FAKE_RUNSV, &[port_s.as_ref(), svdir.as_os_str()]);
    let o = port_conflict(state.path(), port, &["--force"]);
    let v = json(&o);
    assert_eq!(o.status.code(), Some(2), "{v:#}\n{}", stderr(&o));
    assert_eq!(v["outcome"], "refused", "{v:#}");
    assert_eq!(
        v["next"].as_str().unwrap(),
        format!("sv down {}", svdir.display()),
        "{v:#}"
    );
    assert!(alive(sv.holder), "the supervised holder was signalled");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
}
