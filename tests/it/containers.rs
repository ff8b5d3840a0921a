//! `emergency port-conflict` when the holder belongs to someone who restarts or
//! forwards it: a Docker container (its published port is held by docker-proxy)
//! and a pm2 app. A real dockerd (scripts/docker-engine.sh) and real processes.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{ParentOfHolder, free_port, hal9ctl, json, run, stderr, stdout, tempdir};

/// The test Docker Engine's socket (`unix://…`). A missing engine is a
/// failure, never a skip (scripts/test.sh starts one).
fn engine() -> Option<String> {
    let host = std::env::var("HAL9_TEST_DOCKER_HOST").ok().filter(|h| {
        h.strip_prefix("unix://")
            .is_some_and(|p| Path::new(p).exists())
    });
    assert!(
        host.is_some(),
        "HAL9_TEST_DOCKER_HOST does not name a running engine's socket: run scripts/test.sh, or start one with scripts/docker-engine.sh start DIR"
    );
    host
}

fn image() -> String {
    std::env::var("HAL9_TEST_DOCKER_IMAGE").unwrap_or_else(|_| "hal9-test/busybox:local".into())
}

fn docker(host: &str) -> Command {
    // Debian's client matches the daemon; a newer one may be first on PATH.
    let cli = if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    };
    let mut c = Command::new(cli);
    c.env("DOCKER_HOST", host).stdin(Stdio::null());
    c
}

/// A container the test started, publishing 127.0.0.1:PORT; removed when dropped.
struct Container {
    host: String,
    name: String,
    id: String,
    port: u16,
}

impl Container {
    fn start(host: &str, extra: &[&str]) -> Container {
        let port = free_port();
        let name = format!("hal9-it-{port}-{}", std::process::id());
        let out = docker(host)
            .args(["run", "-d", "--name", &name, "-p"])
            .arg(format!("127.0.0.1:{port}:8080"))
            .args(extra)
            .arg(image())
            .args(["httpd", "-f", "-p", "8080", "-h", "/"])
            .output()
            .expect("docker run");
        assert!(
            out.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let c = Container {
            host: host.to_string(),
            name,
            id: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "port {port} never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        c
    }

    /// Read again from the engine, not remembered.
    fn running(&self) -> bool {
        let out = docker(&self.host)
            .args(["inspect", "-f", "{{.State.Running}}", &self.id])
            .output()
            .expect("docker inspect");
        String::from_utf8_lossy(&out.stdout).trim() == "true"
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&self.host).args(["rm", "-f", &self.id]).output();
    }
}

fn port_conflict(state: &Path, port: u16, extra: &[&str]) -> Output {
    let mut c = hal9ctl(state);
    c.args(["-o", "json", "emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .args(extra)
        .stdin(Stdio::null());
    run(&mut c)
}

fn audit_actions(state: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s.rsplit(')').next().unwrap_or("").trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

fn proxy_pid(v: &serde_json::Value) -> i32 {
    let h = &v["holders"][0];
    assert_eq!(h["comm"], "docker-proxy", "{v:#}");
    h["pid"].as_i64().unwrap() as i32
}

#[test]
fn a_published_port_names_its_container_and_stops_it_through_the_engine() {
    let Some(host) = engine() else { return };
    let c = Container::start(&host, &["--restart", "always"]);
    let state = tempdir();
    // No DOCKER_HOST: the engine is found from the docker-proxy's own daemon.
    let out = port_conflict(state.path(), c.port, &["--yes"]);
    let v = json(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{v:#}\nstderr: {}",
        stderr(&out)
    );
    let proxy = proxy_pid(&v);
    let owner = &v["holders"][0]["owner"];
    assert_eq!(owner["kind"], "docker", "{v:#}");
    assert_eq!(owner["container"]["id"], c.id, "{v:#}");
    assert_eq!(owner["container"]["name"], c.name, "{v:#}");
    assert_eq!(v["plan"]["steps"][0]["action"]["kind"], "stop_container");
    assert_eq!(v["outcome"], "free");
    assert!(!c.running(), "container {} still running", c.name);
    TcpListener::bind(("127.0.0.1", c.port)).expect("the port must be free now");
    // Stopped through the engine, so its restart policy does not bring it back.
    std::thread::sleep(Duration::from_secs(1));
    assert!(!c.running(), "container {} came back", c.name);
    assert!(!alive(proxy), "docker-proxy {proxy} outlived its container");

    let audit = audit_actions(state.path());
    assert!(
        audit.iter().all(|e| e["action"] != "kill"),
        "docker-proxy must never be signalled: {audit:?}"
    );
    let stop: Vec<_> = audit
        .iter()
        .filter(|e| e["action"] == "docker stop")
        .collect();
    assert_eq!(stop.len(), 1, "{audit:?}");
    assert!(
        stop[0]["target"].as_str().unwrap().contains(&c.name),
        "{stop:?}"
    );
    assert!(stop[0]["result"].as_str().unwrap().starts_with("ok"));
}

#[test]
fn a_container_is_left_alone_without_a_yes_and_the_refusal_says_what_to_run() {
    let Some(host) = engine() else { return };
    let c = Container::start(&host, &[]);
    let state = tempdir();

    let out = port_conflict(state.path(), c.port, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["holders"][0]["owner"]["container"]["name"], c.name);
    assert_eq!(v["plan"]["steps"][0]["action"]["kind"], "stop_container");
    assert!(c.running());

    let mut cmd = hal9ctl(state.path());
    cmd.args(["emergency", "port-conflict", "--port"])
        .arg(c.port.to_string())
        .stdin(Stdio::null());
    let out = run(&mut cmd);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}\n{}", stderr(&out));
    let short: String = c.id.chars().take(12).collect();
    assert!(
        text.contains(&format!("container {} ({short})", c.name)),
        "{text}"
    );
    assert!(text.contains(&format!("docker stop {}", c.name)), "{text}");
    assert!(
        c.running(),
        "container {} was stopped without a yes",
        c.name
    );
    assert!(TcpStream::connect(("127.0.0.1", c.port)).is_ok());
    assert!(
        audit_actions(state.path())
            .iter()
            .all(|e| e["action"] != "kill" || e["result"].as_str().unwrap().starts_with("refused")),
    );
}

#[test]
fn without_the_engine_a_published_port_is_refused_and_docker_proxy_is_never_signalled() {
    let Some(host) = engine() else { return };
    let c = Container::start(&host, &[]);
    let state = tempdir();
    // The engine cannot be reached: its socket is hidden from hal9ctl by a
    // private mount namespace with an empty tmpfs over the socket's directory.
    let sock = host.trim_start_matches("unix://");
    let sock_dir = Path::new(sock).parent().unwrap();
    let bin = crate::common::BIN;
    let script = format!(
        "mount -t tmpfs none '{}' && exec '{bin}' -o json emergency port-conflict --port {} --force",
        sock_dir.display(),
        c.port
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", state.path())
        .env("XDG_CONFIG_HOME", state.path().join("xdg-config"))
        .env("HAL9_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("unshare");
    let v = json(&out);
    assert_eq!(out.status.code(), Some(2), "{v:#}\n{}", stderr(&out));
    let proxy = proxy_pid(&v);
    assert_eq!(v["outcome"], "refused", "{v:#}");
    let next = v["next"].as_str().unwrap();
    assert!(
        next.contains(&format!("docker ps --filter publish={}", c.port)),
        "{next}"
    );
    assert!(alive(proxy), "docker-proxy {proxy} was signalled");
    assert!(c.running());
    assert!(TcpStream::connect(("127.0.0.1", c.port)).is_ok());
}

/// Stand-in for pm2: a real process titled like PM2's daemon (argv[0], as
/// node's process.title sets it), whose child listens with the environment pm2
/// gives its apps. The daemon starts the app, then execs `sleep` under the
/// title, keeping its pid. Both are killed by PID when dropped.
const PM2_DAEMON: &str = r#"
import os, shutil, subprocess, sys
port, home, app_code = sys.argv[1], sys.argv[2], sys.argv[3]
env = dict(os.environ, name="web", pm_id="3", PM2_HOME=home)
app = subprocess.Popen([sys.executable, "-c", app_code, port], env=env, stdout=subprocess.PIPE)
print(app.stdout.readline().decode().strip(), flush=True)
os.execv(shutil.which("sleep"), ["PM2 v5.3.0: God Daemon (%s)" % home, "600"])
"#;

const PM2_APP: &str = r#"
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print(os.getpid(), flush=True)
time.sleep(600)
"#;

fn fake_pm2(port: u16, home: &Path) -> ParentOfHolder {
    let port = port.to_string();
    ParentOfHolder::start(
        PM2_DAEMON,
        &[port.as_ref(), home.as_os_str(), PM2_APP.as_ref()],
    )
}

#[test]
fn a_pm2_app_is_refused_even_forced_and_named_with_its_pm2_command() {
    let state = tempdir();
    let port = free_port();
    let home = state.path().join(".pm2");
    let pm2 = fake_pm2(port, &home);
    let out = port_conflict(state.path(), port, &["--force"]);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(2), "{v:#}\n{}", stderr(&out));
    assert_eq!(v["holders"][0]["pid"], pm2.holder);
    let owner = &v["holders"][0]["owner"];
    assert_eq!(owner["kind"], "pm2", "{v:#}");
    assert_eq!(owner["daemon_pid"], pm2.parent.id());
    assert_eq!(owner["app"], "web");
    assert_eq!(v["outcome"], "refused");
    let next = v["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!("PM2_HOME={} pm2 stop web", home.display()),
        "{v:#}"
    );
    assert!(v["message"].as_str().unwrap().contains("pm2"), "{v:#}");
    assert!(alive(pm2.holder), "the pm2 app was signalled");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
}

/// A cgroup path the test made, shaped as the kubelet makes a pod's
/// (cgroupfs driver): `…/kubepods/besteffort/pod<uid>/<container id>`. Only the
/// directories it created are removed, deepest first, once its process is gone.
struct PodCgroup {
    created: Vec<std::path::PathBuf>,
    leaf: std::path::PathBuf,
}

impl PodCgroup {
    fn make(uid: &str, container: &str) -> Option<PodCgroup> {
        // cgroup v1 keeps one hierarchy per controller; v2 has one for all.
        let root = [
            "/sys/fs/cgroup/pids",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.join("cgroup.procs").exists())?;
        let mut created = Vec::new();
        let mut at = root.to_path_buf();
        // Under a parent of its own, so a real kubelet's orphan cleanup never sees it.
        for seg in [
            "hal9-it".to_string(),
            "kubepods".into(),
            "besteffort".into(),
            format!("pod{uid}"),
            container.into(),
        ] {
            at.push(seg);
            if !at.exists() {
                std::fs::create_dir(&at).ok()?;
                created.push(at.clone());
            }
        }
        Some(PodCgroup { created, leaf: at })
    }

    fn enter(&self, pid: i32) {
        std::fs::write(self.leaf.join("cgroup.procs"), pid.to_string())
            .expect("move into the pod cgroup");
    }
}

impl Drop for PodCgroup {
    fn drop(&mut self) {
        for dir in self.created.iter().rev() {
            for _ in 0..50 {
                if std::fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn a_pod_process_is_refused_even_forced_and_named_with_kubectl() {
    let uid = format!("0f3c5e2a-1b2c-4d5e-8f90-{:012x}", std::process::id());
    let container = format!("{:064x}", std::process::id());
    let Some(cg) = PodCgroup::make(&uid, &container) else {
        panic!("no writable cgroup hierarchy for a pod cgroup: run the tests as root");
    };
    let port = free_port();
    let mut app = Command::new("python3")
        .args(["-c", PM2_APP, &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(app.stdout.take().unwrap()).lines();
    let pid: i32 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    cg.enter(pid);
    let state = tempdir();
    let out = port_conflict(state.path(), port, &["--force"]);
    let still_alive = alive(pid);
    let _ = app.kill();
    let _ = app.wait();
    drop(cg);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(2), "{v:#}\n{}", stderr(&out));
    let owner = &v["holders"][0]["owner"];
    assert_eq!(owner["kind"], "pod", "{v:#}");
    assert_eq!(owner["pod_uid"], uid);
    assert_eq!(owner["container_id"], container);
    assert_eq!(v["outcome"], "refused");
    let next = v["next"].as_str().unwrap();
    assert!(next.starts_with("kubectl get pods -A"), "{next}");
    assert!(
        next.contains(&format!("@.metadata.uid==\"{uid}\"")),
        "{next}"
    );
    assert!(still_alive, "the pod's process was signalled");
}

#[test]
fn a_host_network_container_is_found_by_its_cgroup_and_stopped_through_the_engine() {
    let Some(host) = engine() else { return };
    let port = free_port();
    let name = format!("hal9-it-host-{port}-{}", std::process::id());
    let out = docker(&host)
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            "host",
            "--restart",
            "always",
        ])
        .arg(image())
        .args(["httpd", "-f", "-p"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-h", "/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = Container {
        host: host.clone(),
        name,
        id: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = tempdir();
    // No docker-proxy here to lead to the daemon: DOCKER_HOST does, as in an operator's shell.
    let mut cmd = hal9ctl(state.path());
    cmd.args(["-o", "json", "emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .arg("--force")
        .env("DOCKER_HOST", &host)
        .stdin(Stdio::null());
    let out = run(&mut cmd);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}\n{}", stderr(&out));
    let owner = &v["holders"][0]["owner"];
    assert_eq!(owner["cgroup_id"], c.id, "{v:#}");
    assert_eq!(owner["container"]["name"], c.name, "{v:#}");
    assert_eq!(v["outcome"], "free");
    std::thread::sleep(Duration::from_secs(1));
    assert!(!c.running(), "container {} is running again", c.name);
    TcpListener::bind(("127.0.0.1", port)).expect("the port must be free now");
    assert!(
        audit_actions(state.path())
            .iter()
            .all(|e| e["action"] != "kill"),
        "the container's process must not be signalled by hal9ctl"
    );
}

/// A unix socket that accepts and never answers, as a wedged engine would.
const SILENT_ENGINE: &str = r#"
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
print(os.getpid(), flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
"#;

#[test]
fn a_wedged_engine_is_given_up_on_and_the_container_refused_by_id() {
    let Some(host) = engine() else { return };
    let port = free_port();
    let name = format!("hal9-it-wedged-{port}-{}", std::process::id());
    let out = docker(&host)
        .args(["run", "-d", "--name", &name, "--network", "host"])
        .arg(image())
        .args(["httpd", "-f", "-p"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-h", "/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = Container {
        host: host.clone(),
        name,
        id: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = tempdir();
    let sock = state.path().join("wedged.sock");
    let mut silent = Command::new("python3")
        .args(["-c", SILENT_ENGINE])
        .arg(&sock)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(silent.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    let mut cmd = hal9ctl(state.path());
    cmd.args(["-o", "json", "emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .arg("--force")
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .stdin(Stdio::null());
    let out = run(&mut cmd);
    let _ = silent.kill();
    let _ = silent.wait();
    let v = json(&out);
    assert_eq!(out.status.code(), Some(2), "{v:#}\n{}", stderr(&out));
    let owner = &v["holders"][0]["owner"];
    let err = owner["lookup_error"].as_str().unwrap_or_default();
    assert!(err.contains("no answer"), "{v:#}");
    let short: String = c.id.chars().take(12).collect();
    assert_eq!(v["next"], format!("docker stop {short}"), "{v:#}");
    assert!(c.running(), "container {} was touched", c.name);
}

#[test]
fn a_port_published_on_every_address_stops_its_container_once() {
    let Some(host) = engine() else { return };
    let port = free_port();
    let name = format!("hal9-it-all-{port}-{}", std::process::id());
    // No host address: docker-proxy listens on 0.0.0.0 and, with IPv6, on :: too.
    let out = docker(&host)
        .args(["run", "-d", "--name", &name, "-p"])
        .arg(format!("{port}:8080"))
        .arg(image())
        .args(["httpd", "-f", "-p", "8080", "-h", "/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = Container {
        host: host.clone(),
        name,
        id: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = tempdir();
    let out = port_conflict(state.path(), port, &["--force"]);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}\n{}", stderr(&out));
    let holders = v["holders"].as_array().unwrap();
    assert!(!holders.is_empty());
    for h in holders {
        assert_eq!(h["comm"], "docker-proxy", "{v:#}");
        assert_eq!(h["owner"]["container"]["id"], c.id, "{v:#}");
    }
    let stops: Vec<_> = audit_actions(state.path())
        .into_iter()
        .filter(|e| e["action"] == "docker stop")
        .collect();
    assert_eq!(stops.len(), 1, "one container, one stop: {stops:?}");
    assert!(!c.running());
    TcpListener::bind(("0.0.0.0", port)).expect("the port must be free on every address");
}
