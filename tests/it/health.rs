//! `hal9ctl health` (local): every verdict against real listeners.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;

/// Host thresholds out of the way: these tests judge the runtime checks, and
/// the test machine's own load must not decide them.
fn config(port: u16) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nurl = \"http://127.0.0.1:{port}\"\n\n[health]\ndisk_warn_percent = 100.0\ndisk_crit_percent = 100.0\nmemory_warn_percent = 100.0\nmemory_crit_percent = 100.0\nload_warn_per_core = 100000.0\nload_crit_per_core = 100000.0\n"
    )
}

struct Python(Child);

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A listener the test owns: `http.server` (404 for /health) or one that answers 200 to anything.
fn python(port: u16, any_200: bool) -> Python {
    let script = if any_200 {
        "import http.server,sys\nclass H(http.server.BaseHTTPRequestHandler):\n  def do_GET(self):\n    self.send_response(200); self.end_headers(); self.wfile.write(b'OK')\n  def log_message(self,*a): pass\nhttp.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n"
    } else {
        "import http.server,sys\nhttp.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind='127.0.0.1')\n"
    };
    let child = Command::new("python3")
        .args(["-c", script, &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "python listener did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Python(child)
}

fn health(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, Value) {
    let o = run(hal9ctl(dir).args(["health", "-o", "json"]).args(extra));
    (o.status.code(), json(&o))
}

fn check<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {v}"))
}

#[test]
fn nothing_listening_is_critical() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let (code, v) = health(d.path(), &[]);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(
        check(&v, "port owner")["detail"],
        format!("nothing listens on port {port}")
    );
    assert_eq!(check(&v, "GET /health")["status"], "fail");
    assert_eq!(check(&v, "GET /health")["next"], "hal9ctl restart");
}

#[test]
fn a_squatter_on_the_port_is_a_port_conflict() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let squatter = python(port, false);
    let (code, v) = health(d.path(), &[]);
    assert_eq!(code, Some(2), "{v}");
    let owner = check(&v, "port owner");
    assert_eq!(owner["status"], "fail");
    let detail = owner["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("pid {}", squatter.0.id())),
        "{detail}"
    );
    assert!(detail.contains("python3"), "{detail}");
    assert_eq!(
        owner["next"],
        format!("hal9ctl emergency port-conflict --port {port} --restart")
    );
    assert_eq!(v["facts"]["listener_pids"], json!([squatter.0.id()]));
}

#[test]
fn a_server_that_answers_200_is_not_taken_for_the_runtime() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let _imposter = python(port, true);
    let (code, v) = health(d.path(), &[]);
    assert_eq!(code, Some(2), "{v}");
    let h = check(&v, "GET /health");
    assert_eq!(h["status"], "fail");
    assert!(
        h["detail"]
            .as_str()
            .unwrap()
            .contains("not the HAL9 runtime"),
        "{h}"
    );
}

#[test]
fn a_healthy_runtime_is_ok_and_shows_its_pid_and_latency() {
    let d = tempdir();
    let port = free_port();
    // A foreground runtime logs to its stderr; a log that is not there is "unknown".
    std::fs::write(d.path().join("hal9.log"), "").unwrap();
    let s = Server::start_in(
        d,
        Some(&config(port)),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    let o = run(hal9ctl(s.dir.path()).args(["health", "-o", "json"]));
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v:#}");
    assert_eq!(v["facts"]["listener_pids"], json!([s.pid()]));
    assert!(
        v["facts"]["running_pids"]
            .as_array()
            .unwrap()
            .contains(&json!(s.pid()))
    );
    assert!(
        check(&v, "GET /health")["detail"]
            .as_str()
            .unwrap()
            .contains(" ms (pid ")
    );
    for host in ["memory", "load", "state dir", "runtime log", "crash dumps"] {
        check(&v, host);
    }
    // The table form marks every check.
    let o = run(hal9ctl(s.dir.path()).arg("health"));
    assert!(stdout(&o).contains("✓  port owner"), "{}", stdout(&o));
}

const SLOW: &str = "\n[[neurons]]\nid = \"slow\"\nlayer = \"L1\"\nprocessor = \"command\"\ncommand = [\"sh\", \"-c\", \"sleep 3; cat\"]\n";

#[test]
fn a_draining_runtime_is_a_warning() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.log"), "").unwrap();
    let s = Server::start_in(
        d,
        Some(&format!("{}{SLOW}", config(port))),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    let url = format!("{}/api/v1/signal", s.url);
    let inflight = std::thread::spawn(move || post_json(&url, &json!({"content": "slow"})));
    // Drain only once the slow signal is admitted: a drain with nothing in
    // flight ends at once, and the runtime is gone before health looks.
    let t0 = std::time::Instant::now();
    while !s.get("/metrics").body.lines().any(|l| {
        l.strip_prefix("hal9_in_flight_requests ")
            .and_then(|n| n.trim().parse::<u64>().ok())
            .is_some_and(|n| n >= 1)
    }) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the slow signal never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.admin("POST", "/admin/drain", None).status, 202);
    let (code, v) = health(s.dir.path(), &[]);
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(check(&v, "GET /ready")["status"], "warn");
    assert!(
        check(&v, "GET /ready")["detail"]
            .as_str()
            .unwrap()
            .contains("draining")
    );
    assert_eq!(inflight.join().unwrap().status, 200);
}

#[test]
fn wait_returns_once_healthy_or_2_when_time_runs_out() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    std::fs::write(d.path().join("hal9.log"), "").unwrap();
    let o = run(hal9ctl(d.path()).args(["health", "--wait", "1s"]));
    assert_eq!(o.status.code(), Some(2));
    let waiter = hal9ctl(d.path())
        .args(["health", "--wait", "20s", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let s = Server::start_in(d, None, &["--listen", &format!("127.0.0.1:{port}")]);
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(s);
}

fn runtime_log_check(dir: &std::path::Path) -> (Option<i32>, Value) {
    let o = run(hal9ctl(dir).args(["health", "-o", "json"]));
    assert_ne!(o.status.code(), Some(101), "panicked: {}", stderr(&o));
    let v = json(&o);
    (o.status.code(), check(&v, "runtime log").clone())
}

fn now_stamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[test]
fn a_multibyte_character_at_the_tail_cut_does_not_panic() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let error = format!("{} ERROR hal9ctl: neuron l1 failed\n", now_stamp());
    // Place a 3-byte "€" so the 256 KiB cut from the end lands inside it.
    let tail_len = 256 * 1024;
    let mut text = "x".repeat(100);
    let filler = tail_len - 2 - error.len();
    text.push('€');
    text.push_str(&"y".repeat(filler - 1));
    text.push('\n');
    text.push_str(&error);
    assert!(!text.is_char_boundary(text.len() - tail_len));
    std::fs::write(d.path().join("hal9.log"), &text).unwrap();
    let (_, c) = runtime_log_check(d.path());
    assert_eq!(c["status"], "warn", "{c}");
    assert!(
        c["detail"].as_str().unwrap().contains("neuron l1 failed"),
        "{c}"
    );
}

#[test]
fn a_stray_byte_in_the_log_does_not_hide_its_errors() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let mut raw = b"binary junk \xff\xfe from a crashed writer\n".to_vec();
    raw.extend_from_slice(format!("{} ERROR hal9ctl: cache broke\n", now_stamp()).as_bytes());
    std::fs::write(d.path().join("hal9.log"), &raw).unwrap();
    let (_, c) = runtime_log_check(d.path());
    assert_eq!(c["status"], "warn", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("cache broke"), "{c}");
}

/// Peak RSS in KiB of `hal9ctl ARGS`, measured by a Python parent whose only child it is.
fn peak_rss_kib(dir: &std::path::Path, args: &[&str]) -> u64 {
    let o = run(Command::new("python3")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("HAL9_STATE_DIR", dir)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args([
            "-c",
            "import resource,subprocess,sys\nsubprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
            BIN,
        ])
        .args(args));
    stdout(&o)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}", stderr(&o)))
}

#[test]
fn a_huge_log_is_read_as_a_bounded_tail() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let log = d.path().join("hal9.log");
    // 512 MiB of holes, then an error: a sparse file costs no disk.
    let f = std::fs::File::create(&log).unwrap();
    f.set_len(512 * 1024 * 1024).unwrap();
    drop(f);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(
        &mut f,
        format!("\n{} ERROR hal9ctl: the end\n", now_stamp()).as_bytes(),
    )
    .unwrap();
    drop(f);
    let (_, c) = runtime_log_check(d.path());
    assert!(c["detail"].as_str().unwrap().contains("the end"), "{c}");
    let rss = peak_rss_kib(d.path(), &["health", "-o", "json"]);
    assert!(rss < 64 * 1024, "health held {rss} KiB for a 512 MiB log");
}

#[test]
fn quiet_prints_the_verdict_and_only_what_is_wrong() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let o = run(hal9ctl(d.path()).args(["health", "-q"]));
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("CRITICAL"), "{out}");
    assert!(out.contains("port owner"), "the failing check stays: {out}");
    assert!(
        out.contains(&format!("hal9ctl emergency port-conflict --port {port}"))
            || out.contains("hal9ctl restart"),
        "and its next step: {out}"
    );
    for ok in ["memory", "load", "crash dumps", "state dir"] {
        assert!(!out.contains(ok), "-q hides the OK check {ok:?}: {out}");
    }
}

#[test]
fn a_squatters_command_line_cannot_drive_the_operators_terminal() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    // Any local user picks their own argv: this one would clear the screen
    // and set the terminal title when health names the port's holder.
    let child = Command::new("python3")
        .args([
            "-c",
            "import http.server,sys\nhttp.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.BaseHTTPRequestHandler).serve_forever()\n",
            &port.to_string(),
            "\x1b[2J\x1b]0;all good\x07",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let _guard = Python(child);
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "listener did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = run(hal9ctl(d.path()).arg("health"));
    let out = stdout(&o);
    assert!(
        out.contains(r"\x1b[2J"),
        "the argv is shown, escaped: {out}"
    );
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
}

#[test]
fn another_runtime_at_the_url_is_not_vouched_for_by_an_empty_state_dir() {
    let other = Server::start(None);
    let d = tempdir();
    let (code, v) = health(d.path(), &["--url", &other.url]);
    assert_ne!(code, Some(0), "{v:#}");
    let p = check(&v, "runtime process");
    assert_eq!(p["status"], "fail", "{p}");
    assert!(
        !p["detail"]
            .as_str()
            .unwrap()
            .contains(&other.pid().to_string()),
        "another state dir's runtime is not this one's: {p}"
    );
}

#[test]
fn a_missing_runtime_log_is_unknown_never_ok() {
    let d = tempdir();
    let port = free_port();
    let s = Server::start_in(
        d,
        Some(&config(port)),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    assert!(!s.dir.path().join("hal9.log").exists());
    let (code, c) = runtime_log_check(s.dir.path());
    assert_eq!(c["status"], "unknown", "{c}");
    assert_eq!(code, Some(3), "{c}");
}

#[test]
fn a_port_split_with_another_listener_is_critical() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.log"), "").unwrap();
    let s = Server::start_in(
        d,
        Some(&config(port)),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    let script = "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\ns.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen()\nprint('up', flush=True)\ntime.sleep(60)\n";
    let mut py = Command::new("python3")
        .args(["-c", script, &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(py.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _py = Python(py);
    let (code, v) = health(s.dir.path(), &[]);
    assert_eq!(code, Some(2), "{v:#}");
    let owner = check(&v, "port owner");
    assert_eq!(owner["status"], "fail", "{owner}");
    assert!(
        owner["detail"].as_str().unwrap().contains("split"),
        "{owner}"
    );
}

/// Ctrl-C ends `--watch` as an operator expects: the last round's report and
/// its exit code, not a process killed by the signal.
#[test]
fn ctrl_c_ends_watch_with_the_last_report() {
    use std::io::Read;
    let d = tempdir();
    let port = free_port();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let mut child = hal9ctl(d.path())
        .args(["health", "--watch", "1s", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The first round is printed before the loop waits on Ctrl-C.
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "killed by the signal? {status:?}");
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.contains("nothing listens on port"),
        "the last report is printed: {text}"
    );
}
