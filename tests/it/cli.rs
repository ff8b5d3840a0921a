//! The command-line conventions: exit codes, config loading and provenance, completions.

use std::fs;

use clap_complete::Shell;

use crate::common::*;

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let d = tempdir();
    let o = run(hal9ctl(d.path()).arg("no-such-command"));
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    let o = run(hal9ctl(d.path()).args(["config", "--output", "yaml"]));
    assert_eq!(o.status.code(), Some(64));
    let o = run(hal9ctl(d.path()).arg("--help"));
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Examples:"));
}

#[test]
fn config_without_a_file_is_the_embedded_default() {
    let d = tempdir();
    let o = run(hal9ctl(d.path()).args(["config", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert!(v["file"].is_null());
    assert_eq!(v["config"]["server"]["listen"], "127.0.0.1:8080");
    let listen = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "server.listen")
        .unwrap();
    assert_eq!(listen["source"]["kind"], "default");
    let state = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "state_dir")
        .unwrap();
    assert_eq!(state["source"]["kind"], "env");
    assert_eq!(state["source"]["name"], "HAL9_STATE_DIR");
}

#[test]
fn config_file_flag_and_env_provenance() {
    let d = tempdir();
    fs::write(
        d.path().join("hal9.toml"),
        "[limits]\nrate_limit_rps = 77\n",
    )
    .unwrap();
    let o = run(hal9ctl(d.path()).args(["config", "-o", "json", "--url", "http://127.0.0.1:9999"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert!(v["file"].as_str().unwrap().ends_with("hal9.toml"));
    assert_eq!(v["config"]["limits"]["rate_limit_rps"], 77);
    let by_key = |k: &str| {
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(by_key("limits.rate_limit_rps")["source"]["kind"], "file");
    assert_eq!(by_key("limits.max_in_flight")["source"]["kind"], "default");
    assert_eq!(by_key("server.url")["source"]["kind"], "flag");
    assert_eq!(by_key("server.url")["value"], "http://127.0.0.1:9999");

    let o = run(hal9ctl(d.path())
        .args(["config", "-o", "json"])
        .env("HAL9_URL", "http://127.0.0.1:7777"));
    assert_eq!(
        json(&o)["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == "server.url")
            .unwrap()["source"]["name"],
        "HAL9_URL"
    );
}

#[test]
fn malformed_config_names_file_line_and_field_and_exits_64() {
    let d = tempdir();
    let path = d.path().join("bad.toml");
    fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:8080\"\n[limits]\nmax_in_flight = \"many\"\n",
    )
    .unwrap();
    let o = run(hal9ctl(d.path()).args(["config"]).arg("-c").arg(&path));
    assert_eq!(o.status.code(), Some(64));
    let err = stderr(&o);
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("limits.max_in_flight"), "{err}");
    assert!(
        o.stdout.is_empty(),
        "nothing on stdout for a failed command"
    );

    let o = run(hal9ctl(d.path()).args(["config", "-c", "/nonexistent/hal9.toml"]));
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("/nonexistent/hal9.toml"));
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let d = tempdir();
    let mut child = hal9ctl(d.path())
        .args(["completions", "zsh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end at once: every write the child makes hits EPIPE.
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn checked_in_completions_match_the_parser() {
    let d = tempdir();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let name = hal9ctl::commands::completions::file_name(shell);
        let o = run(hal9ctl(d.path()).args(["completions", &shell.to_string()]));
        assert_eq!(o.status.code(), Some(0));
        let path = repo_root().join("completions").join(name);
        let on_disk = fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == o.stdout,
            "completions/{name} is stale or missing; regenerate them with: scripts/gen-completions.sh"
        );
    }
}

/// Wait for `serve` to write runtime.json naming `pid`.
fn wait_runtime_json(dir: &std::path::Path, pid: u32) -> serde_json::Value {
    let t0 = std::time::Instant::now();
    loop {
        if let Ok(text) = fs::read_to_string(dir.join("runtime.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && v["pid"] == pid
        {
            return v;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(15),
            "serve did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn logs_to_a_file_carry_no_colour_codes_even_without_no_color() {
    let d = tempdir();
    let log = d.path().join("serve.stderr");
    let mut child = hal9ctl(d.path())
        .env_remove("NO_COLOR")
        .args(["-v", "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_runtime_json(d.path(), child.id());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = child.wait();
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("listening"),
        "an info line was logged: {text}"
    );
    assert!(!text.contains('\x1b'), "ANSI codes in a file: {text:?}");
}

#[test]
fn durations_print_for_people_not_in_debug_form() {
    use std::io::BufRead;
    let d = tempdir();
    let port = free_port();
    let mut sq = std::process::Command::new("python3")
        .args([
            "-c",
            "import os,socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',int(sys.argv[1])))\ns.listen(8)\nprint(os.getpid(),flush=True)\ntime.sleep(600)\n",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(sq.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let o = run(hal9ctl(d.path())
        .args([
            "emergency",
            "port-conflict",
            "--force",
            "--restart",
            "--port",
        ])
        .arg(port.to_string())
        .stdin(std::process::Stdio::null()));
    let _ = sq.kill();
    let _ = sq.wait();
    let runtime: Option<i32> = fs::read_to_string(d.path().join("runtime.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["pid"].as_i64())
        .map(|p| p as i32);
    if let Some(pid) = runtime {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let after = out
        .split("(after ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("no '(after …)' in {out}"));
    assert!(
        after.ends_with(" ms") || after.ends_with(" s"),
        "a duration for people, not {after:?}"
    );
    assert!(!after.contains('µ') && !after.contains("ns"), "{after:?}");
}

/// The test control plane's kubeconfig (see tests/it/cluster/harness.rs):
/// a missing plane is a failure, never a skip (scripts/test.sh starts one).
fn test_kubeconfig() -> Option<std::path::PathBuf> {
    let p = std::env::var_os("HAL9_TEST_KUBECONFIG")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_file());
    assert!(
        p.is_some(),
        "HAL9_TEST_KUBECONFIG names no kubeconfig: run scripts/test.sh, or start a plane with scripts/k8s-control-plane.sh start DIR"
    );
    p
}

#[test]
fn an_unverified_api_server_is_said_once_not_per_request() {
    let Some(kc) = test_kubeconfig() else { return };
    assert!(
        fs::read_to_string(&kc)
            .unwrap()
            .contains("insecure-skip-tls-verify: true"),
        "the test plane skips TLS verification"
    );
    let d = tempdir();
    // Two rounds of checks: two clients, two TLS handshakes.
    let o = run(hal9ctl(d.path()).env("KUBECONFIG", &kc).args([
        "health",
        "--cluster",
        "-n",
        "hal9-no-such-namespace",
        "--wait",
        "1s",
    ]));
    let err = stderr(&o);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("Server cert bypassed"), "{err}");
    assert_eq!(
        err.matches("insecure-skip-tls-verify").count(),
        1,
        "said once: {err}"
    );
}

#[test]
fn a_file_name_cannot_drive_the_operators_terminal() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempdir();
    let root = d.path().join("root");
    fs::create_dir(&root).unwrap();
    // Cursor up, erase the line, carriage return: it would overwrite the
    // previous row of the report with whatever follows.
    let name = std::ffi::OsStr::from_bytes(b"evil\x1b[1A\x1b[2K\rfake.log");
    let f = fs::File::create(root.join(name)).unwrap();
    f.set_len(4096).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86_400))
        .unwrap();
    drop(f);
    let o = run(hal9ctl(d.path())
        .args(["disk", "cleanup", "--target", "0", "--dry-run"])
        .arg(&root));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains(r"evil\x1b[1A\x1b[2K\x0dfake.log"), "{out}");
    assert!(!out.contains('\x1b') && !out.contains('\r'), "{out:?}");
    // JSON keeps the real name: serde escapes it, nothing is lost.
    let o = run(hal9ctl(d.path())
        .args([
            "disk",
            "cleanup",
            "--target",
            "0",
            "--dry-run",
            "-o",
            "json",
        ])
        .arg(&root));
    assert!(
        stdout(&o).contains(r"evil\u001b[1A\u001b[2K\rfake.log"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_failed_detach_shows_the_log_tail_even_after_a_stray_byte() {
    let d = tempdir();
    // The parent accepts this config; the runtime it starts refuses the network.
    fs::write(
        d.path().join("hal9.toml"),
        "[[neurons]]\nid = \"a\"\nlayer = \"L1\"\nprocessor = \"rules\"\nforward = [\"nowhere\"]\n",
    )
    .unwrap();
    fs::write(d.path().join("hal9.log"), b"old run \xff\xfe garbage\n").unwrap();
    let o = run(hal9ctl(d.path())
        .args(["serve", "--detach", "--listen", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null()));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("exited at start"), "{err}");
    assert!(
        err.contains("nowhere"),
        "the child's own error is in the tail: {err}"
    );
}
