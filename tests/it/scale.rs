//! `hal9ctl scale --emergency` on the local runtime: limits raised (never
//! lowered), the originals recorded, and `--restore` puts them back.

use serde_json::json;

use crate::common::*;

#[test]
fn emergency_raises_limits_records_the_originals_and_restore_undoes_it() {
    let s = Server::start(Some(
        "[limits]\nmax_in_flight = 300\nrate_limit_rps = 50000\n\n[emergency]\nmax_in_flight = 2048\nrate_limit_rps = 10000\n",
    ));
    let scale = |args: &[&str]| {
        let o = run(hal9ctl(s.dir.path())
            .args(["--url", &s.url, "scale"])
            .args(args)
            .args(["-o", "json"]));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        json(&o)
    };
    let v = scale(&["--emergency", "--dry-run"]);
    assert_eq!(v["dry_run"], true);
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 300, "rate_limit_rps": 50000})
    );

    let v = scale(&["--emergency"]);
    // Each limit becomes the larger of now and the emergency value: the rate stays at 50000.
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 2048, "rate_limit_rps": 50000})
    );
    assert!(
        v["undo"]
            .as_str()
            .unwrap()
            .starts_with("hal9ctl scale --restore")
    );
    // A second emergency keeps the true originals.
    scale(&["--emergency"]);
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.dir.path().join("scale-emergency.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        saved,
        json!({"max_in_flight": 300, "rate_limit_rps": 50000})
    );

    let v = scale(&["--restore"]);
    assert_eq!(v["summary"], "admission limits restored");
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 300, "rate_limit_rps": 50000})
    );
    let v = scale(&["--restore"]);
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("nothing to restore")
    );
    let (entries, _) = hal9ctl::system::audit::AuditLog::new(s.dir.path())
        .read()
        .unwrap();
    assert!(entries.iter().any(|e| e.action == "scale-limits"));
    assert!(entries.iter().any(|e| e.action == "restore-limits"));
}

#[test]
fn scale_against_a_stopped_runtime_is_critical() {
    let d = tempdir();
    let o = run(hal9ctl(d.path()).args([
        "scale",
        "--emergency",
        "--url",
        &format!("http://127.0.0.1:{}", free_port()),
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("next: hal9ctl health"),
        "{}",
        stderr(&o)
    );
    let o = run(hal9ctl(d.path()).args(["scale", "--replicas", "3"]));
    assert_eq!(
        o.status.code(),
        Some(64),
        "a plain replica count is for --cluster"
    );
}

const EMERGENCY: &str = "[limits]\nmax_in_flight = 300\nrate_limit_rps = 50\n\n[emergency]\nmax_in_flight = 2048\nrate_limit_rps = 10000\n";

#[test]
fn a_second_emergency_says_already_at_the_limits_not_raised() {
    let s = Server::start(Some(EMERGENCY));
    let scale = || {
        let o = run(hal9ctl(s.dir.path()).args(["scale", "--emergency", "-o", "json"]));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        json(&o)
    };
    assert_eq!(scale()["summary"], "admission limits raised");
    let v = scale();
    assert_eq!(v["summary"], "already at the emergency limits", "{v}");
    let o = run(hal9ctl(s.dir.path()).args(["scale", "--emergency"]));
    assert!(!stdout(&o).contains("raised"), "{}", stdout(&o));
}

#[test]
fn a_forged_runtime_json_gets_the_admin_token_from_no_command() {
    let d = tempdir();
    let (port, seen) = recording_listener();
    std::fs::write(
        d.path().join("admin.token"),
        "s3cret-token-of-the-operator\n",
    )
    .unwrap();
    // A token the state-dir rules accept: only the identity proof may stop it.
    std::fs::set_permissions(
        d.path().join("admin.token"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(
        d.path().join("runtime.json"),
        format!(
            "{{\"pid\":{},\"listen\":\"127.0.0.1:{port}\",\"version\":\"0\",\"started_at\":\"2026-01-01T00:00:00Z\"}}",
            std::process::id()
        ),
    )
    .unwrap();
    // Every command that calls the admin API: scale, and rollback's local backend.
    for args in [
        &["scale", "--emergency"][..],
        &["rollback", "--strategy", "immediate", "--yes"][..],
    ] {
        let o = run(hal9ctl(d.path()).args(args));
        let sent = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        assert!(
            !sent.contains("s3cret-token"),
            "{args:?}: the token went to {port}: {sent}"
        );
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("runtime.json"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn a_port_split_with_another_listener_is_critical_and_changes_nothing() {
    let s = Server::start(Some(EMERGENCY));
    // SO_REUSEPORT: the runtime's socket lets another of the same user join the port.
    let script = "import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\ns.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen()\nprint('up', flush=True)\ntime.sleep(60)\n";
    let mut py = std::process::Command::new("python3")
        .args(["-c", script, &s.port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(py.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "up");
    let o = run(hal9ctl(s.dir.path()).args(["scale", "--emergency"]));
    let _ = py.kill();
    let _ = py.wait();
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("split"), "{}", stderr(&o));
    assert_eq!(
        s.admin("GET", "/admin/limits", None).json(),
        json!({"max_in_flight": 300, "rate_limit_rps": 50})
    );
}

#[test]
fn a_restore_to_limits_already_in_place_says_so_not_restored() {
    let s = Server::start(Some(EMERGENCY));
    let o = run(hal9ctl(s.dir.path()).args(["scale", "--emergency"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let back = json!({"max_in_flight": 300, "rate_limit_rps": 50});
    assert_eq!(
        s.admin("PUT", "/admin/limits", Some(back.clone())).status,
        200
    );
    let o = run(hal9ctl(s.dir.path()).args(["scale", "--restore", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["summary"], "already at the recorded limits");
    assert!(!s.dir.path().join("scale-emergency.json").exists());
    assert_eq!(s.admin("GET", "/admin/limits", None).json(), back);
}
