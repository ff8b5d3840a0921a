//! `hal9ctl restart` (local): zero downtime under load, a successor that
//! fails to start, a cold start over a stale pid file, a foreign holder.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

/// Stops a process this test started indirectly (a detached runtime).
struct Reap(u32);

impl Drop for Reap {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0 as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

fn runtime_pid(dir: &std::path::Path) -> Option<u32> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runtime.json")).ok()?).ok()?;
    v["pid"].as_u64().map(|p| p as u32)
}

#[test]
fn a_healthy_runtime_restarts_with_zero_failed_requests_under_load() {
    // Limits raised: the load runs above the default 1000 req/s, and a 429 would count as a failure.
    let mut old = Server::start(Some(
        "[limits]\nmax_in_flight = 100000\nrate_limit_rps = 1000000\n",
    ));
    let old_pid = old.pid();
    let url = format!("{}/api/v1/signal", old.url);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let pids = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (url, stop, ok, failed, pids) = (
                url.clone(),
                stop.clone(),
                ok.clone(),
                failed.clone(),
                pids.clone(),
            );
            std::thread::spawn(move || {
                let health = url.replace("/api/v1/signal", "/health");
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let a = std::panic::catch_unwind(|| {
                        post_json(&url, &json!({"content": format!("client {c} request {i}")}))
                    });
                    match a {
                        Ok(a) if a.status == 200 => ok.fetch_add(1, Ordering::Relaxed),
                        Ok(a) => {
                            eprintln!("failed: {} {}", a.status, a.body);
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                    if i % 10 == 0
                        && let Ok(h) =
                            std::panic::catch_unwind(|| http("GET", &health, None, None, None))
                    {
                        pids.lock()
                            .unwrap()
                            .insert(h.json()["pid"].as_u64().unwrap_or(0));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let o = run(hal9ctl(old.dir.path()).args(["restart", "-o", "json"]));
    let new_pid = runtime_pid(old.dir.path());
    let _reap = new_pid.map(Reap);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let new_pid = new_pid.expect("runtime.json names the successor");
    assert_ne!(new_pid, old_pid);
    assert_eq!(
        old.wait().code(),
        Some(0),
        "the old instance drained and exited cleanly"
    );
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during the restart ({} succeeded)",
        ok.load(Ordering::Relaxed)
    );
    assert!(ok.load(Ordering::Relaxed) > 20);
    let seen = pids.lock().unwrap().clone();
    assert!(
        seen.contains(&(old_pid as u64)) && seen.contains(&(new_pid as u64)),
        "the load saw both instances: {seen:?}"
    );
    let v = json(&o);
    assert_eq!(v["changes"][0]["to"], new_pid.to_string());
    let (entries, _) = hal9ctl::system::audit::AuditLog::new(old.dir.path())
        .read()
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "restart" && e.result.starts_with("ok")),
        "{entries:?}"
    );
}

#[test]
fn a_successor_that_cannot_start_leaves_the_old_one_serving() {
    let s = Server::start(None);
    // Break the config the successor will read.
    std::fs::write(s.dir.path().join("hal9.toml"), "[[neurons]]\nid = \"a\"\nlayer = \"L1\"\nprocessor = \"rules\"\nforward = [\"ghost\"]\nrules = [{ pattern = \"*\", output = \"x\" }]\n").unwrap();
    let o = run(hal9ctl(s.dir.path()).arg("restart"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("did not become ready") || err.contains("exited at start"),
        "{err}"
    );
    assert!(
        err.contains("unknown neuron \"ghost\""),
        "the new instance's log tail is shown: {err}"
    );
    assert!(
        err.contains(&format!("pid {}) keeps serving", s.pid())),
        "{err}"
    );
    assert_eq!(s.get("/ready").status, 200);
    assert_eq!(s.get("/health").json()["pid"], s.pid());
    assert_eq!(runtime_pid(s.dir.path()), Some(s.pid()));
}

#[test]
fn nothing_running_clears_a_stale_pid_file_and_starts() {
    let d = tempdir();
    let port = free_port();
    std::fs::write(
        d.path().join("hal9.toml"),
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\nurl = \"http://127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    // A pid file and runtime.json left by a runtime that died (pid 999999 does not exist).
    std::fs::write(d.path().join("hal9.pid"), "999999\n").unwrap();
    std::fs::write(d.path().join("runtime.json"), format!("{{\"pid\":999999,\"listen\":\"127.0.0.1:{port}\",\"version\":\"0\",\"started_at\":\"2026-01-01T00:00:00Z\"}}")).unwrap();
    let o = run(hal9ctl(d.path()).args(["restart", "--dry-run"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("clear the stale pid file"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        runtime_pid(d.path()),
        Some(999999),
        "dry run changed nothing"
    );
    let o = run(hal9ctl(d.path()).args(["restart", "-o", "json"]));
    let pid = runtime_pid(d.path());
    let _reap = pid.map(Reap);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let pid = pid.unwrap();
    assert_ne!(pid, 999999);
    let h = http(
        "GET",
        &format!("http://127.0.0.1:{port}/health"),
        None,
        None,
        None,
    );
    assert_eq!(h.json()["pid"], pid);
    assert!(
        json(&o)["warnings"][0]
            .as_str()
            .unwrap()
            .contains("stale pid file")
    );
}

#[test]
fn a_foreign_process_on_the_port_is_refused_without_force() {
    let d = tempdir();
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    std::fs::write(
        d.path().join("hal9.toml"),
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\nurl = \"http://127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let t0 = Instant::now();
    let o = run(hal9ctl(d.path()).arg("restart"));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "port {port} is held by a process that is not this runtime"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("hal9ctl emergency port-conflict --port {port}")),
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(
        !d.path().join("runtime.json").exists(),
        "nothing was started"
    );
    drop(squatter);
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s.rsplit(')').next().unwrap_or("").trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

/// Overwrite runtime.json's pid, keeping every other recorded field.
fn forge_pid(dir: &std::path::Path, pid: u32) {
    let path = dir.join("runtime.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["pid"] = json!(pid);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
}

/// Kills a child on drop, by pid.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_runtime_json_pid_that_is_not_a_hal9_serve_is_never_signalled() {
    let s = Server::start(None);
    let sleep = Child(
        std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap(),
    );
    let victim = sleep.0.id();
    forge_pid(s.dir.path(), victim);
    let o = run(hal9ctl(s.dir.path()).args(["restart", "--drain-timeout", "1s"]));
    // Any successor that came up is this test's to stop.
    let _reap = runtime_pid(s.dir.path()).filter(|p| *p != victim).map(Reap);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(victim), "the sleep was signalled: {}", stderr(&o));
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("pid {victim}")), "{err}");
    assert!(err.contains("not a hal9ctl serve"), "{err}");
    assert_eq!(
        s.get("/health").json()["pid"],
        s.pid(),
        "the runtime serves on"
    );
}

#[test]
fn a_recorded_pid_with_another_start_time_is_never_signalled() {
    let a = Server::start(None);
    let b = Server::start(None);
    // B is a real `hal9ctl serve`, but not the process A's runtime.json recorded.
    forge_pid(a.dir.path(), b.pid());
    let o = run(hal9ctl(a.dir.path()).args(["restart", "--drain-timeout", "1s"]));
    let _reap = runtime_pid(a.dir.path())
        .filter(|p| *p != b.pid())
        .map(Reap);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(b.pid()), "B was signalled: {}", stderr(&o));
    assert_eq!(b.get("/ready").status, 200);
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("start time"), "{err}");
}

#[test]
fn a_restart_keeps_admin_limits_and_the_serve_arguments_and_is_quiet() {
    let d = tempdir();
    let token_file = d.path().join("operator.token");
    std::fs::write(&token_file, "operator-chosen-token\n").unwrap();
    // A token others can read is refused (ARCHITECTURE §5): the operator's is private.
    std::fs::set_permissions(
        &token_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    // A decoy in the state dir: a successor without --admin-token-file would take it.
    std::fs::write(d.path().join("admin.token"), "state-dir-token\n").unwrap();
    let mut s = Server::start_in(
        d,
        None,
        &[
            "--admin-token-file",
            token_file.to_str().unwrap(),
            "--drain-timeout",
            "7s",
        ],
    );
    s.token = "operator-chosen-token".into();
    let raised = run(hal9ctl(s.dir.path()).args(["scale", "--emergency"]));
    assert_eq!(raised.status.code(), Some(0), "{}", stderr(&raised));
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 2048, "rate_limit_rps": 10000})
    );
    let old_pid = s.pid();
    let o = run(hal9ctl(s.dir.path()).args(["restart", "-o", "json"]));
    let new_pid = runtime_pid(s.dir.path()).filter(|p| *p != old_pid);
    let _reap = new_pid.map(Reap);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(s.wait().success());
    let new_pid = new_pid.expect("the successor took over runtime.json");
    let v = json(&o);
    assert_eq!(v["warnings"], json!([]), "a healthy restart is quiet: {v}");
    assert_eq!(stderr(&o).trim(), "", "nothing on stderr on success");
    let h = s.get("/health").json();
    assert_eq!(h["pid"], new_pid);
    // The successor still takes the operator's token: --admin-token-file came along.
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 2048, "rate_limit_rps": 10000}),
        "emergency capacity survives the restart"
    );
    let cmdline = std::fs::read(format!("/proc/{new_pid}/cmdline")).unwrap();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert!(
        args.windows(2)
            .any(|w| w[0] == "--drain-timeout" && w[1] == "7s"),
        "{args:?}"
    );
    assert!(
        args.windows(2)
            .any(|w| w[0] == "--admin-token-file" && w[1] == token_file.to_str().unwrap()),
        "{args:?}"
    );
}
