//! `hal9ctl rollback` against a real runtime: strategies, gates, journal,
//! resume after kill -9, locking, refusals.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;

const PHASES: [&str; 6] = [
    "flat",
    "shadow",
    "canary",
    "state_migration",
    "ramp_up",
    "full",
];

/// A runtime whose migration starts flat (so walking forward takes the state snapshot).
fn flat_server(config: Option<&str>) -> Server {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("migration.json"),
        r#"{"version":0,"phase":"flat","hierarchical_percent":0.0,"flags":{},"state_schema":1,"snapshots":[]}"#,
    )
    .unwrap();
    Server::start_in(dir, config, &[])
}

fn migration(s: &Server) -> Value {
    s.admin("GET", "/admin/migration", None).json()
}

/// The document of a phase as the migration table defines it.
fn doc_of(phase: &str, version: u64) -> Value {
    let on: &[&str] = match phase {
        "flat" => &[],
        "shadow" => &["shadow_mode"],
        "canary" => &["hierarchical_routing"],
        "state_migration" => &[
            "hierarchical_routing",
            "state_migration",
            "cognitive_layers",
        ],
        "ramp_up" => &[
            "hierarchical_routing",
            "state_migration",
            "cognitive_layers",
            "protocol_layer",
            "substrate_layer",
        ],
        _ => &[
            "hierarchical_routing",
            "state_migration",
            "cognitive_layers",
            "protocol_layer",
            "substrate_layer",
            "intelligence_layer",
        ],
    };
    let share = match phase {
        "canary" => 5.0,
        "state_migration" => 25.0,
        "ramp_up" => 75.0,
        "full" => 100.0,
        _ => 0.0,
    };
    let schema = if ["state_migration", "ramp_up", "full"].contains(&phase) {
        2
    } else {
        1
    };
    let flags: serde_json::Map<String, Value> =
        on.iter().map(|f| (f.to_string(), json!(true))).collect();
    json!({"version": version, "phase": phase, "hierarchical_percent": share, "flags": flags, "state_schema": schema})
}

/// Walk the migration forward phase by phase up to `to`, as an operator would.
fn walk_to(s: &Server, to: &str) {
    for p in PHASES.iter().skip(1) {
        let v = migration(s)["version"].as_u64().unwrap();
        let a = s.admin("PUT", "/admin/migration", Some(doc_of(p, v)));
        assert_eq!(a.status, 200, "{}", a.body);
        if *p == to {
            return;
        }
    }
}

/// A rollback of a test runtime that gets no user traffic: `--allow-no-traffic`
/// lets its gate windows be filled with synthetic probe signals.
fn rollback(s: &Server) -> Command {
    let mut c = rollback_strict(s);
    c.arg("--allow-no-traffic");
    c
}

/// A rollback whose gates need real traffic.
fn rollback_strict(s: &Server) -> Command {
    let mut c = hal9ctl(s.dir.path());
    c.args(["--url", &s.url, "rollback", "--yes", "-o", "json"])
        .stdin(Stdio::null());
    c
}

fn assert_at_phase(s: &Server, phase: &str) {
    let m = migration(s);
    let want = doc_of(phase, 0);
    assert_eq!(m["phase"], phase, "{m}");
    assert_eq!(
        m["hierarchical_percent"], want["hierarchical_percent"],
        "{m}"
    );
    assert_eq!(m["state_schema"], want["state_schema"], "{m}");
    for (flag, on) in m["flags"].as_object().unwrap() {
        assert_eq!(
            *on,
            json!(want["flags"].get(flag).is_some()),
            "flag {flag} at {phase}: {m}"
        );
    }
}

#[test]
fn every_strategy_from_every_phase() {
    for (i, phase) in PHASES.iter().enumerate().skip(1) {
        let previous = PHASES[i - 1];
        let s = flat_server(None);

        walk_to(&s, phase);
        let o = run(rollback(&s).args(["--strategy", "immediate"]));
        assert_eq!(
            o.status.code(),
            Some(0),
            "immediate from {phase}: {}",
            stderr(&o)
        );
        assert_at_phase(&s, previous);

        walk_to(&s, phase);
        let o = run(rollback(&s).args([
            "--strategy",
            "gradual",
            "--steps",
            "3",
            "--interval",
            "100ms",
        ]));
        assert_eq!(
            o.status.code(),
            Some(0),
            "gradual from {phase}: {}",
            stderr(&o)
        );
        assert_at_phase(&s, previous);
        let j = json(&o)["journal"].clone();
        assert_eq!(j["steps"].as_array().unwrap().len(), 3);
        assert_eq!(j["status"], "completed");

        walk_to(&s, phase);
        let o = run(rollback(&s).args([
            "--strategy",
            "partial",
            "--components",
            "routing,features,state",
        ]));
        assert_eq!(
            o.status.code(),
            Some(0),
            "partial from {phase}: {}",
            stderr(&o)
        );
        assert_at_phase(&s, previous);
    }
}

#[test]
fn gradual_reaches_flat_and_the_last_step_lands_exactly() {
    let s = flat_server(None);
    walk_to(&s, "full");
    let o = run(rollback(&s).args([
        "--strategy",
        "gradual",
        "--to-phase",
        "flat",
        "--steps",
        "3",
        "--interval",
        "50ms",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let shares: Vec<f64> = v["journal"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"]["hierarchical_percent"].as_f64().unwrap())
        .collect();
    assert_eq!(shares, vec![66.67, 33.33, 0.0]);
    assert_at_phase(&s, "flat");
    assert_eq!(migration(&s)["hierarchical_percent"], 0.0);
    // A signal now takes the flat path: one neuron answers.
    assert_eq!(s.signal(json!({"content": "after"})).json()["path"], "flat");
    let (entries, _) = hal9ctl::system::audit::AuditLog::new(s.dir.path())
        .read()
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "rollback-step")
            .count(),
        3
    );
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
fn a_failed_gate_aborts_straight_to_the_target() {
    let s = flat_server(Some(FAILING_L3));
    walk_to(&s, "ramp_up");
    // Traffic during the rollback: the hierarchical path errs on every request.
    let url = format!("{}/api/v1/signal", s.url);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let load = std::thread::spawn(move || {
        let mut i = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            i += 1;
            let _ = post_json(&url, &json!({"content": format!("load {i}")}));
        }
    });
    let o = run(rollback(&s).args([
        "--strategy",
        "gradual",
        "--to-phase",
        "shadow",
        "--steps",
        "4",
        "--interval",
        "400ms",
    ]));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let j = &v["journal"];
    assert_eq!(j["status"], "aborted_to_target");
    assert!(
        j["reason"]
            .as_str()
            .unwrap()
            .contains("hierarchical error rate"),
        "{j}"
    );
    let steps = j["steps"].as_array().unwrap();
    assert_eq!(
        steps.len(),
        2,
        "one gated step, then straight to the target: {j}"
    );
    assert_eq!(steps[0]["gate"]["passed"], false);
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("went straight to shadow"),
        "{v}"
    );
    assert_at_phase(&s, "shadow");
}

#[test]
fn kill_9_between_every_pair_of_steps_then_resume_converges() {
    let s = flat_server(None);
    walk_to(&s, "full");
    let journal = s.dir.path().join("rollback/journal.json");
    let applied = || -> usize {
        std::fs::read_to_string(&journal)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|j| {
                j["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["status"] == "applied")
                    .count()
            })
            .unwrap_or(0)
    };
    let steps = 4;
    for k in 1..steps {
        let mut cmd = rollback(&s);
        if k == 1 {
            cmd.args([
                "--strategy",
                "gradual",
                "--to-phase",
                "flat",
                "--steps",
                &steps.to_string(),
                "--interval",
                "2s",
            ]);
        } else {
            cmd.arg("--resume");
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while applied() < k {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "step {k} never applied"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let status =
            run(hal9ctl(s.dir.path()).args(["--url", &s.url, "rollback", "status", "-o", "json"]));
        let v = json(&status);
        assert_eq!(
            v["journal"]["status"], "running",
            "killed mid-flight: the journal still says running"
        );
        assert!(v["next"].as_str().unwrap().contains("--resume"));
    }
    let o = run(rollback(&s).arg("--resume"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["journal"]["status"], "completed");
    // The same final state as an uninterrupted run.
    assert_at_phase(&s, "flat");
}

#[test]
fn ctrl_c_leaves_a_consistent_state_and_exits_130() {
    let s = flat_server(None);
    walk_to(&s, "ramp_up");
    let child = rollback(&s)
        .args(["--strategy", "gradual", "--steps", "3", "--interval", "5s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let journal = s.dir.path().join("rollback/journal.json");
    let t0 = Instant::now();
    while !std::fs::read_to_string(&journal).is_ok_and(|t| t.contains("\"applied\"")) {
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["journal"]["status"], "interrupted");
    let m = migration(&s);
    assert_eq!(
        m["hierarchical_percent"], v["journal"]["steps"][0]["target"]["hierarchical_percent"],
        "the state is exactly the last applied step"
    );
    // A new rollback without --resume and without a terminal is refused; --resume finishes it.
    let o = run(rollback(&s).args(["--strategy", "immediate"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("hal9ctl rollback --resume"),
        "{}",
        stderr(&o)
    );
    let o = run(rollback(&s).arg("--resume"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_at_phase(&s, "state_migration");
}

#[test]
fn a_second_rollback_while_one_runs_is_refused() {
    let s = flat_server(None);
    walk_to(&s, "ramp_up");
    let mut first = rollback(&s)
        .args(["--strategy", "gradual", "--steps", "3", "--interval", "10s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = s.dir.path().join("rollback/journal.json");
    let t0 = Instant::now();
    while !journal.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = run(rollback(&s).args(["--strategy", "immediate"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("another rollback or migration is running"),
        "{}",
        stderr(&o)
    );
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn state_rollback_without_a_snapshot_is_refused_and_nothing_changes() {
    // A fresh runtime runs hierarchical and never held flat data: no snapshot.
    let s = Server::start(None);
    let before = migration(&s);
    assert_eq!(before["phase"], "full");
    let o = run(rollback(&s).args([
        "--strategy",
        "partial",
        "--components",
        "state",
        "--to-phase",
        "canary",
    ]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("no snapshot"), "{err}");
    assert!(err.contains("--components routing,features"), "{err}");
    assert_eq!(migration(&s), before);
    // Routing alone needs no snapshot.
    let o = run(rollback(&s).args([
        "--strategy",
        "partial",
        "--components",
        "routing",
        "--to-phase",
        "canary",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(migration(&s)["hierarchical_percent"], 5.0);
    assert_eq!(migration(&s)["state_schema"], 2);
}

#[test]
fn a_stale_version_gets_409_and_status_shows_the_state() {
    let s = Server::start(None);
    let m = migration(&s);
    let v = m["version"].as_u64().unwrap();
    let mut stale = doc_of("ramp_up", v + 7);
    stale["version"] = json!(v + 7);
    let a = s.admin("PUT", "/admin/migration", Some(stale));
    assert_eq!(a.status, 409);
    assert_eq!(a.json()["error"]["code"], "stale_version");
    let o = run(hal9ctl(s.dir.path()).args(["--url", &s.url, "rollback", "status"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("phase full"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("no rollback or migration has run here"),
        "{}",
        stdout(&o)
    );
    // The state survives a restart of the runtime.
    let mut walked = flat_server(None);
    walk_to(&walked, "canary");
    walked.term();
    assert_eq!(walked.wait().code(), Some(0));
    let dir = std::mem::replace(&mut walked.dir, tempdir());
    let again = Server::start_in(dir, None, &[]);
    let saved = migration(&again);
    assert_eq!(saved["phase"], "canary");
}

#[test]
fn shadow_mode_runs_both_paths_answers_flat_and_counts_divergence() {
    let s = flat_server(None);
    walk_to(&s, "shadow");
    let a = s.signal(json!({"content": "compare me"})).json();
    assert_eq!(a["path"], "flat");
    assert_eq!(a["output"], "observed: compare me");
    let m = s.get("/metrics").body;
    assert!(m.contains("hal9_shadow_compared_total 1\n"), "{m}");
    assert!(
        m.contains("hal9_shadow_divergence_total 1\n"),
        "the hierarchical answer differs: {m}"
    );
    assert!(
        m.contains("hal9_path_requests_total{path=\"flat\"} 1\n"),
        "{m}"
    );
    // Sticky routing: at canary (5 %) a key keeps its path across requests.
    walk_to(&s, "canary");
    let url = format!("{}/api/v1/signal", s.url);
    let path_of = |key: &str| reqwest_key(&url, key);
    let first: Vec<String> = (0..40).map(|i| path_of(&format!("user-{i}"))).collect();
    let again: Vec<String> = (0..40).map(|i| path_of(&format!("user-{i}"))).collect();
    assert_eq!(first, again, "each X-Request-Key keeps its path");
}

fn reqwest_key(url: &str, key: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let r = c
            .post(url)
            .header("content-type", "application/json")
            .header("x-request-key", key)
            .body(r#"{"content":"k"}"#)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        v["path"].as_str().unwrap().to_string()
    })
}

fn applied_steps(s: &Server) -> usize {
    std::fs::read_to_string(s.dir.path().join("rollback/journal.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|j| {
            j["steps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["status"] == "applied")
                .count()
        })
        .unwrap_or(0)
}

/// A gradual full → flat rollback in 4 steps, killed with SIGKILL once its
/// first step is applied (75 % hierarchical): an unfinished journal.
fn interrupted_after_one_step(s: &Server) {
    let mut child = rollback(s)
        .args([
            "--strategy",
            "gradual",
            "--to-phase",
            "flat",
            "--steps",
            "4",
            "--interval",
            "30s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while applied_steps(s) < 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "step 1 never applied"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(migration(s)["hierarchical_percent"], 75.0);
}

#[test]
fn resume_against_another_runtime_is_refused_naming_both() {
    let mut a = flat_server(None);
    walk_to(&a, "full");
    interrupted_after_one_step(&a);
    let journaled = a.url.clone();
    // The same state dir (token, journal, migration state) now serves on another port.
    a.term();
    a.wait();
    let dir = std::mem::replace(&mut a.dir, tempdir());
    let b = Server::start_in(dir, None, &[]);
    assert_ne!(b.url, journaled);
    let before = migration(&b);
    let o = run(rollback(&b).arg("--resume"));
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&journaled) && err.contains(&b.url), "{err}");
    assert!(err.contains("journaled against"), "{err}");
    assert_eq!(
        migration(&b),
        before,
        "nothing was written to the other runtime"
    );
}

#[test]
fn resume_after_a_manual_change_past_the_next_step_is_refused() {
    let s = flat_server(None);
    walk_to(&s, "full");
    interrupted_after_one_step(&s);
    // By hand, the operator already went all the way back.
    let v = migration(&s)["version"].as_u64().unwrap();
    let a = s.admin("PUT", "/admin/migration", Some(doc_of("flat", v)));
    assert_eq!(a.status, 200, "{}", a.body);
    let before = migration(&s);
    let o = run(rollback(&s).arg("--resume"));
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("forward"), "{err}");
    assert!(err.contains("phase flat → full"), "{err}");
    assert!(err.contains("0.00 % → 50.00 %"), "{err}");
    assert!(err.contains("hal9ctl rollback --abort"), "{err}");
    assert_eq!(migration(&s), before, "the migration did not move forward");
}

#[test]
fn a_manual_change_while_a_rollback_runs_is_never_undone_forward() {
    let s = flat_server(None);
    walk_to(&s, "full");
    let child = rollback(&s)
        .args([
            "--strategy",
            "gradual",
            "--to-phase",
            "flat",
            "--steps",
            "3",
            "--interval",
            "1s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while applied_steps(&s) < 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "step 1 never applied"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let v = migration(&s)["version"].as_u64().unwrap();
    let a = s.admin("PUT", "/admin/migration", Some(doc_of("flat", v)));
    assert_eq!(a.status, 200, "{}", a.body);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("forward"), "{err}");
    assert_at_phase(&s, "flat");
}

#[test]
fn a_journal_symlinked_into_the_state_dir_is_refused_not_replayed() {
    let s = flat_server(None);
    walk_to(&s, "canary");
    let before = migration(&s);
    // Someone else's file, shaped as an unfinished rollback of this runtime to flat.
    let elsewhere = tempdir();
    let planted = elsewhere.path().join("journal.json");
    let j = json!({
        "id": "rb-planted", "strategy": "immediate", "components": [], "target": s.url,
        "started_at": "2026-01-01T00:00:00Z", "started_by": "someone", "status": "interrupted",
        "interval_ms": 0,
        "steps": [{"index": 0, "status": "pending", "target": {"phase": "flat",
            "hierarchical_percent": 0.0, "flags": {}, "state_schema": 1}}]
    });
    std::fs::write(&planted, j.to_string()).unwrap();
    std::fs::create_dir_all(s.dir.path().join("rollback")).unwrap();
    std::os::unix::fs::symlink(&planted, s.dir.path().join("rollback/journal.json")).unwrap();
    let o = run(rollback(&s).arg("--resume"));
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert_eq!(migration(&s), before, "the planted steps were not applied");
}

#[test]
fn a_huge_step_count_is_a_usage_error_not_an_allocation() {
    use std::os::unix::process::CommandExt;
    let s = flat_server(None);
    walk_to(&s, "full");
    let mut cmd = rollback(&s);
    cmd.args([
        "--strategy",
        "gradual",
        "--steps",
        "4294967295",
        "--dry-run",
    ]);
    // 2 GiB of address space is plenty for any plan; a plan per step of
    // 4 billion steps is not. The bound keeps a regression from swapping the machine.
    // SAFETY: the closure runs between fork and exec and calls only
    // setrlimit, which is async-signal-safe, on a struct on its own stack.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = run(&mut cmd);
    assert_eq!(o.status.code(), Some(64), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("--steps"), "{}", stderr(&o));
    assert_eq!(migration(&s)["phase"], "full");
}

#[test]
fn a_gate_window_without_traffic_is_inconclusive_and_pauses_not_passed() {
    let s = flat_server(None);
    walk_to(&s, "full");
    let o = run(rollback_strict(&s).args([
        "--strategy",
        "gradual",
        "--to-phase",
        "flat",
        "--steps",
        "3",
        "--interval",
        "100ms",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let j = &v["journal"];
    assert_eq!(j["status"], "interrupted", "{j}");
    let gate = &j["steps"][0]["gate"];
    assert_eq!(gate["passed"], false, "{gate}");
    assert_eq!(gate["inconclusive"], true, "{gate}");
    let detail = gate["detail"].to_string();
    assert!(!detail.contains("all gates passed"), "{detail}");
    assert!(detail.contains("0 requests"), "{detail}");
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("inconclusive"), "{summary}");
    assert!(!summary.contains("verified"), "{summary}");
    assert!(
        v["next"].as_str().unwrap().contains("--allow-no-traffic"),
        "{v}"
    );
    // Only the first step landed: nothing was judged, so nothing more was stepped.
    assert_eq!(migration(&s)["hierarchical_percent"], 66.67);
    assert_eq!(applied_steps(&s), 1);
}

#[test]
fn allow_no_traffic_fills_each_window_with_recorded_probe_signals() {
    let s = flat_server(Some("[rollback]\nmin_requests = 12\n"));
    walk_to(&s, "full");
    let o = run(rollback_strict(&s).args([
        "--strategy",
        "gradual",
        "--to-phase",
        "flat",
        "--steps",
        "3",
        "--interval",
        "50ms",
        "--allow-no-traffic",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    for step in v["journal"]["steps"].as_array().unwrap().iter().take(2) {
        let g = &step["gate"];
        assert_eq!(g["passed"], true, "{g}");
        assert_eq!(g["synthetic_probes"], 12, "{g}");
        assert!(
            g["detail"]
                .to_string()
                .contains("12 synthetic probe signals"),
            "{g}"
        );
    }
    // The probes were real requests: the runtime counted them.
    let m = s.get("/metrics").body;
    let counted: f64 = m
        .lines()
        .filter(|l| l.starts_with("hal9_path_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert!(counted >= 24.0, "{m}");
    assert!(v["summary"].as_str().unwrap().contains("synthetic"), "{v}");
}

const BROKEN_HIERARCHICAL: &str = r#"
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
fn verified_means_a_probe_took_the_path_of_the_share_and_answered_clean() {
    // ramp_up keeps 75 % hierarchical, and the hierarchical path errs on every request.
    let s = flat_server(Some(BROKEN_HIERARCHICAL));
    walk_to(&s, "full");
    let o = run(rollback_strict(&s).args(["--strategy", "immediate"]));
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("verification failed"), "{summary}");
    assert!(summary.contains("probe"), "{summary}");
    assert!(!summary.contains("; verified"), "{summary}");

    // Where both paths are clean, the probe confirms the share and says so.
    let s = flat_server(None);
    walk_to(&s, "ramp_up");
    let o = run(rollback_strict(&s).args(["--strategy", "immediate"]));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let summary = json(&o)["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("verified"), "{summary}");
    assert!(summary.contains("probe"), "{summary}");
}

#[test]
fn a_resumed_inconclusive_window_is_named_in_the_final_summary() {
    let s = flat_server(None);
    walk_to(&s, "full");
    let o = run(rollback_strict(&s).args([
        "--strategy",
        "gradual",
        "--to-phase",
        "flat",
        "--steps",
        "2",
        "--interval",
        "50ms",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(rollback(&s).arg("--resume"));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let summary = json(&o)["summary"].as_str().unwrap().to_string();
    assert!(
        summary.contains("1 step window(s) were inconclusive and never judged"),
        "{summary}"
    );
}

/// A "no" at the terminal prompt is a refusal: the plan is shown, nothing is
/// written, and the run says so. A "no" read past with `?` once rolled back anyway.
#[test]
fn answering_no_at_the_terminal_prompt_changes_nothing() {
    let s = flat_server(None);
    walk_to(&s, "ramp_up");
    let before = migration(&s);
    let (asked, after) = at_a_terminal(
        s.dir.path(),
        &[
            "--url",
            &s.url,
            "rollback",
            "--strategy",
            "immediate",
            "--to-phase",
            "flat",
        ],
        "n",
    );
    assert!(asked.contains("[y/N]"), "never asked: {asked}{after}");
    assert!(after.contains("answered no"), "{after}");
    assert_eq!(migration(&s), before, "a no changed the migration");
}

/// `--revision` only rolls the Deployment back with an immediate rollback:
/// refused as a usage error before any cluster is contacted, also when the
/// engine would run detached (the Job would only have refused it later).
#[test]
fn revision_with_a_gradual_strategy_is_refused_before_the_cluster_is_contacted() {
    let d = tempdir();
    let nowhere = d.path().join("no-such-kubeconfig");
    for detach in [false, true] {
        let mut cmd = hal9ctl(d.path());
        cmd.env("KUBECONFIG", &nowhere).args([
            "rollback",
            "--cluster",
            "--strategy",
            "gradual",
            "--revision",
            "--yes",
        ]);
        if detach {
            cmd.arg("--detach");
        }
        let o = run(&mut cmd);
        assert_eq!(o.status.code(), Some(64), "{}\n{}", stdout(&o), stderr(&o));
        assert!(
            stderr(&o).contains("--revision goes with --strategy immediate"),
            "{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("kubeconfig"), "{}", stderr(&o));
    }
}
