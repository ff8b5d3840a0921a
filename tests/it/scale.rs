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
