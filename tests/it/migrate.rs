//! `hal9ctl migrate` against a real runtime: a fresh install walks forward
//! to full and back to flat with hal9ctl alone; failed gates stop or roll
//! back to the last good phase; both commands show the same journal.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::*;

fn migration(s: &Server) -> Value {
    s.admin("GET", "/admin/migration", None).json()
}

fn hal9(s: &Server) -> Command {
    let mut c = hal9ctl(s.dir.path());
    c.args(["--url", &s.url, "--yes", "-o", "json"])
        .stdin(Stdio::null());
    c
}

const FAILING_L3: &str = r#"
[[neurons]]
id = "entry"
layer = "L1"
processor = "rules"
forward = ["broken"]
rules = [{ pattern = "*", output = "{input}" }]

[[neurons]]
id = "broken"
layer = "L3"
processor = "command"
command = ["sh", "-c", "exit 1"]
backward = ["entry"]

[runtime]
breaker_failures = 1000000
"#;

#[test]
fn a_fresh_install_walks_forward_to_full_and_back_to_flat_with_hal9ctl_alone() {
    let s = Server::start_in(tempdir(), None, &["--migration-phase", "flat"]);
    assert_eq!(migration(&s)["phase"], "flat");
    let o = run(hal9(&s).args([
        "migrate",
        "--to-phase",
        "full",
        "--interval",
        "150ms",
        "--allow-no-traffic",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let m = migration(&s);
    assert_eq!(m["phase"], "full", "{m}");
    assert_eq!(m["hierarchical_percent"], 100.0);
    assert_eq!(m["snapshots"], json!(["state_migration"]), "{m}");
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.starts_with("migrated to full"), "{summary}");
    assert!(
        summary.contains("entering state_migration, the runtime took a snapshot of the flat state"),
        "{summary}"
    );
    let j = &v["journal"];
    assert_eq!(j["direction"], "forward");
    assert_eq!(j["status"], "completed");
    let phases: Vec<&str> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"]["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        ["shadow", "canary", "state_migration", "ramp_up", "full"]
    );
    // Both commands show the one journal.
    let id = j["id"].as_str().unwrap().to_string();
    for cmd in ["migrate", "rollback"] {
        let st = json(&run(hal9(&s).args([cmd, "status"])));
        assert_eq!(st["journal"]["id"], id.as_str(), "{cmd} status: {st}");
    }
    // And back, with the snapshot the forward walk took.
    let o = run(hal9(&s).args([
        "rollback",
        "--strategy",
        "gradual",
        "--to-phase",
        "flat",
        "--steps",
        "2",
        "--interval",
        "150ms",
        "--allow-no-traffic",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let m = migration(&s);
    assert_eq!(
        (m["phase"].clone(), m["state_schema"].clone()),
        (json!("flat"), json!(1)),
        "{m}"
    );
    let (entries, _) = hal9ctl::system::audit::AuditLog::new(s.dir.path())
        .read()
        .unwrap();
    assert!(
        entries
            .iter()
            .filter(|e| e.action == "rollback-step")
            .count()
            >= 7,
        "every step of both runs is audited"
    );
}

#[test]
fn the_config_key_starts_a_fresh_runtime_flat_and_backwards_is_usage() {
    let s = Server::start(Some("[migration]\ninitial_phase = \"flat\"\n"));
    assert_eq!(migration(&s)["phase"], "flat");
    let o = run(hal9(&s).args([
        "migrate",
        "--to-phase",
        "canary",
        "--allow-no-traffic",
        "--interval",
        "100ms",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(migration(&s)["phase"], "canary");
    let o = run(hal9(&s).args(["migrate", "--to-phase", "shadow"]));
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    assert!(stderr(&o).contains("only goes forward"), "{}", stderr(&o));
    assert!(stderr(&o).contains("hal9ctl rollback"), "{}", stderr(&o));
}

fn load(
    s: &Server,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    let url = format!("{}/api/v1/signal", s.url);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let h = std::thread::spawn(move || {
        let mut i = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            i += 1;
            let _ = post_json(&url, &json!({"content": format!("load {i}")}));
        }
    });
    (stop, h)
}

#[test]
fn a_failed_forward_gate_stops_there_or_rolls_back_to_the_last_good_phase() {
    // From state_migration the command neuron behind L3 runs once its layers
    // open: the hierarchical path errs on every request.
    let s = Server::start_in(
        tempdir(),
        Some(FAILING_L3),
        &["--migration-phase", "state_migration"],
    );
    let (stop, h) = load(&s);
    let o = run(hal9(&s).args([
        "migrate",
        "--to-phase",
        "full",
        "--steps",
        "2",
        "--interval",
        "400ms",
    ]));
    let v = json(&o);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let j = &v["journal"];
    let reason = j["reason"].as_str().unwrap().to_string();
    for want in [
        "hierarchical error rate",
        "max 1.00 %",
        "hal9_path_errors_total",
        "400 ms window",
        "stopped there",
    ] {
        assert!(reason.contains(want), "{want}: {reason}");
    }
    assert_eq!(j["status"], "interrupted");
    let applied: Vec<&Value> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "applied")
        .collect();
    let last = applied.last().unwrap();
    assert_eq!(
        migration(&s)["hierarchical_percent"],
        last["target"]["hierarchical_percent"],
        "stopped at the failed step, nothing further: {j}"
    );
    // Resumed with --on-failure rollback: a gate fails again, and the walk goes
    // back to state_migration, where it started (no later phase passed).
    let o = run(hal9(&s).args(["migrate", "--resume", "--on-failure", "rollback"]));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    h.join().unwrap();
    let v = json(&o);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(v["journal"]["status"], "aborted_to_target", "{v}");
    assert!(v["journal"]["aborted_after"].is_u64(), "{v}");
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("went back to state_migration"),
        "{v}"
    );
    let m = migration(&s);
    assert_eq!(
        (m["phase"].clone(), m["hierarchical_percent"].clone()),
        (json!("state_migration"), json!(25.0)),
        "{m}"
    );
}

#[test]
fn pause_stops_a_running_migration_after_its_step_and_continue_finishes_it() {
    let s = Server::start_in(tempdir(), None, &["--migration-phase", "flat"]);
    let mut first = hal9(&s);
    first
        .args([
            "migrate",
            "--to-phase",
            "canary",
            "--interval",
            "1500ms",
            "--allow-no-traffic",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = first.spawn().unwrap();
    let t0 = std::time::Instant::now();
    while migration(&s)["phase"] != "shadow" {
        assert!(t0.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let p = run(hal9(&s).args(["migrate", "--pause"]));
    assert_eq!(p.status.code(), Some(0), "{}", stderr(&p));
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert!(
        v["journal"]["reason"]
            .as_str()
            .unwrap()
            .contains("at the request of"),
        "{v}"
    );
    assert_eq!(migration(&s)["phase"], "shadow", "paused after step 1");
    let o = run(hal9(&s).args(["migrate", "--continue", "--allow-no-traffic"]));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(migration(&s)["phase"], "canary");
}
