//! Advice that converges: each seed incident is started for real, then healed
//! by doing only what `health -o json` says in its top-level `next` (with
//! `--yes`, as there is no terminal), in at most 3 commands after the first
//! `health`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// Host thresholds out of the way except the disk's, which the disk incident
/// sets: the shared test machine's own load must not decide these tests.
fn config(port: u16, disk_warn: f64, disk_crit: f64) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nurl = \"http://127.0.0.1:{port}\"\n\n[health]\ndisk_warn_percent = {disk_warn:.1}\ndisk_crit_percent = {disk_crit:.1}\nmemory_warn_percent = 100.0\nmemory_crit_percent = 100.0\nload_warn_per_core = 100000.0\nload_crit_per_core = 100000.0\n"
    )
}

/// Whatever runtime the state dir records at the end: the advice started it,
/// so the test kills it.
struct ReapRecorded(PathBuf);

impl Drop for ReapRecorded {
    fn drop(&mut self) {
        if let Some(pid) = runtime_pid(&self.0) {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn runtime_pid(dir: &Path) -> Option<u32> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runtime.json")).ok()?).ok()?;
    v["pid"].as_u64().map(|p| p as u32)
}

/// A runtime on `port` in `dir`, killed with -9: its pid file and
/// runtime.json stay behind, naming a pid that is gone.
fn killed_runtime(dir: tempfile::TempDir, port: u16) -> (Server, u32) {
    let listen = format!("127.0.0.1:{port}");
    let mut s = Server::start_in(dir, None, &["--listen", &listen]);
    let pid = s.pid();
    let mut child = s.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    (s, pid)
}

struct Python(std::process::Child);

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A foreign HTTP server on the port.
fn squatter(port: u16) -> Python {
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "squatter did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Python(child)
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let d = tempdir();
        let st = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(d.path())
            .status()
            .expect("mount");
        assert!(st.success(), "mount -t tmpfs (the test runs as root)");
        Tmpfs(d)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

/// One advised command as argv: the comment after `#` is for people.
fn argv(next: &str) -> Vec<String> {
    let command = next.split('#').next().unwrap_or("").trim();
    let mut words = shlex::split(command).unwrap_or_else(|| panic!("not a command: {next}"));
    assert_eq!(
        words.first().map(String::as_str),
        Some("hal9ctl"),
        "the advice is a hal9ctl command: {next}"
    );
    words.remove(0);
    if !words.iter().any(|w| w == "--yes") {
        words.push("--yes".into());
    }
    words
}

/// Follow `next` from the first `health` to healthy; the commands run after
/// that first `health` (the advised ones and the `health` runs between them).
fn follow(dir: &Path, incident: &str) -> Vec<String> {
    let t0 = Instant::now();
    let mut after_first: Vec<String> = Vec::new();
    let mut first = true;
    loop {
        let o = run(hal9ctl(dir).args(["health", "-o", "json"]));
        if !first {
            after_first.push("hal9ctl health -o json".into());
        }
        first = false;
        let v = json(&o);
        if o.status.code() == Some(0) {
            assert_eq!(v["next"], Value::Null, "healthy has no next: {v}");
            break;
        }
        let next = v["next"]
            .as_str()
            .unwrap_or_else(|| panic!("not healthy, and no top-level next: {v}"))
            .to_string();
        assert!(
            after_first.len() < 6,
            "{incident}: no convergence after {after_first:?}; health says: {v}"
        );
        let words = argv(&next);
        let done = run(hal9ctl(dir).args(&words));
        after_first.push(format!("hal9ctl {}", words.join(" ")));
        assert!(
            done.status.code() == Some(0),
            "{incident}: advised `{next}` failed: {}{}",
            stdout(&done),
            stderr(&done)
        );
    }
    eprintln!(
        "advice {incident}: {} commands after the first health, {:.2} s: {after_first:?}",
        after_first.len(),
        t0.elapsed().as_secs_f64()
    );
    assert!(
        after_first.len() <= 3,
        "{incident}: {after_first:?} is more than 3 commands"
    );
    after_first
}

#[test]
fn a_squatter_on_the_port_of_a_dead_runtime_heals_in_one_command() {
    let port = free_port();
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), config(port, 100.0, 100.0)).unwrap();
    let (s, _) = killed_runtime(d, port);
    let _reap = ReapRecorded(s.dir.path().to_path_buf());
    let _squatter = squatter(port);
    // The preview ends with the command that applies it, and says what it needs.
    let o = run(hal9ctl(s.dir.path()).args([
        "emergency",
        "port-conflict",
        "--port",
        &port.to_string(),
        "--restart",
        "--dry-run",
    ]));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "unless given --yes or --force; to apply: hal9ctl emergency port-conflict --port {port} --restart\n"
        )),
        "{out}"
    );
    let done = follow(s.dir.path(), "squatter");
    assert!(
        done[0].contains(&format!("emergency port-conflict --port {port} --restart")),
        "{done:?}"
    );
    let h = http(
        "GET",
        &format!("http://127.0.0.1:{port}/health"),
        None,
        None,
        None,
    );
    assert_eq!(h.json()["pid"], runtime_pid(s.dir.path()).unwrap());
}

#[test]
fn a_disk_above_90_percent_heals_by_the_cleanup_health_advises() {
    let port = free_port();
    let fs = Tmpfs::mount("8m");
    let state = fs.0.path().to_path_buf();
    std::fs::write(state.join("hal9.toml"), config(port, 80.0, 90.0)).unwrap();
    let mut cmd = hal9ctl(&state);
    cmd.args([
        "serve",
        "--detach",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    let o = run(&mut cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let _reap = ReapRecorded(state.clone());
    // A rotated log nobody writes any more fills the disk to about 95 %.
    std::fs::write(state.join("hal9.log.1"), vec![b'x'; 7_800_000]).unwrap();
    let o = run(hal9ctl(&state)
        .args(["disk", "cleanup"])
        .arg(&state)
        .arg("--dry-run"));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "to apply: hal9ctl disk cleanup {} --target 80 --older-than 7days   #",
            state.display()
        )),
        "{out}"
    );
    assert!(
        state.join("hal9.log.1").exists(),
        "a dry run deletes nothing"
    );
    let done = follow(&state, "disk above 90 %");
    assert!(done[0].contains("disk cleanup"), "{done:?}");
    assert!(!state.join("hal9.log.1").exists());
}

#[test]
fn a_stale_pid_file_heals_by_restart() {
    let port = free_port();
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), config(port, 100.0, 100.0)).unwrap();
    // Left by a runtime that died long ago: pid 999999 does not exist.
    std::fs::write(d.path().join("hal9.pid"), "999999\n").unwrap();
    let _reap = ReapRecorded(d.path().to_path_buf());
    let done = follow(d.path(), "stale pid file");
    assert!(done[0].starts_with("hal9ctl restart"), "{done:?}");
    assert!(runtime_pid(d.path()).is_some_and(|p| p != 999999));
}

#[test]
fn a_runtime_killed_with_9_heals_by_restart() {
    let port = free_port();
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), config(port, 100.0, 100.0)).unwrap();
    let (s, dead) = killed_runtime(d, port);
    let _reap = ReapRecorded(s.dir.path().to_path_buf());
    let done = follow(s.dir.path(), "runtime killed with -9");
    assert!(done[0].starts_with("hal9ctl restart"), "{done:?}");
    assert!(runtime_pid(s.dir.path()).is_some_and(|p| p != dead));
}
