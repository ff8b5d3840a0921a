//! `hal9ctl audit` reads the real audit.jsonl of a state dir.

use std::fs;

use hal9ctl::system::audit::{AuditLog, Entry};

use crate::common::*;

#[test]
fn audit_shows_the_timeline_and_filters_by_since() {
    let d = tempdir();
    let log = AuditLog::new(d.path());
    let mut old = Entry::new("kill", "pid 4242 (python3)", "ok");
    old.time = "2020-01-01T00:00:00Z".into();
    log.record(&old).unwrap();
    log.record(&Entry::new("delete", "/srv/logs/a.log", "ok"))
        .unwrap();
    // A torn line must not hide the others.
    let mut text = fs::read_to_string(log.path()).unwrap();
    text.push_str("{\"time\":\n");
    fs::write(log.path(), text).unwrap();

    let o = run(hal9ctl(d.path()).args(["audit", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    assert_eq!(v["unreadable_lines"], 1);

    let o = run(hal9ctl(d.path()).args(["audit", "--since", "1h", "-o", "json"]));
    let v = json(&o);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "delete");

    let o = run(hal9ctl(d.path()).args(["audit", "--since", "1h"]));
    let table = stdout(&o);
    assert!(table.contains("/srv/logs/a.log"), "{table}");
    assert!(!table.contains("4242"), "{table}");
}

#[test]
fn audit_with_no_log_says_so() {
    let d = tempdir();
    let o = run(hal9ctl(d.path()).arg("audit"));
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("no actions recorded"));
    let o = run(hal9ctl(d.path()).args(["audit", "--since", "soon"]));
    assert_eq!(o.status.code(), Some(64));
}

#[test]
fn a_table_on_a_pipe_wraps_to_100_columns_instead_of_one_endless_row() {
    let d = tempdir();
    let log = AuditLog::new(d.path());
    let reason = "0/1 nodes are available: 1 Insufficient cpu. ".repeat(25);
    log.record(&Entry::new("scale", "deployment hal9/hal9", &reason))
        .unwrap();
    // stdout is a pipe here, so no terminal width reaches comfy-table.
    let o = run(hal9ctl(d.path()).arg("audit"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("Insufficient cpu"), "{table}");
    let widest = table.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a {widest}-column line:\n{table}");
}

#[test]
fn export_csv_survives_commas_newlines_and_non_utf8_names_in_a_real_csv_parser() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempdir();
    let log = AuditLog::new(d.path());
    let odd = std::ffi::OsStr::from_bytes(b"/srv/logs/\xff,\"x\".log");
    let mut e = Entry::new(
        "delete",
        hal9ctl::output::os_text::os_text(odd),
        "failed: EIO, then\nretried",
    );
    e.argv = vec![
        "hal9ctl".into(),
        "disk".into(),
        "cleanup".into(),
        "/srv/a b".into(),
    ];
    log.record(&e).unwrap();
    log.record(&Entry::new("kill", "pid 7 (python3)", "ok"))
        .unwrap();

    let o = run(hal9ctl(d.path()).args(["audit", "--export", "csv"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Python's csv module is the consumer: the rows must come back whole.
    let mut py = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv,json,sys; print(json.dumps(list(csv.reader(sys.stdin))))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(py.stdin.as_mut().unwrap(), &o.stdout).unwrap();
    let parsed = py.wait_with_output().unwrap();
    let rows: Vec<Vec<String>> = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(rows.len(), 3, "header and two rows: {rows:?}");
    assert_eq!(
        rows[0],
        ["time", "user", "host", "action", "target", "result", "argv"]
    );
    assert_eq!(rows[1][4], "/srv/logs/\\xff,\"x\".log");
    assert_eq!(rows[1][5], "failed: EIO, then\nretried");
    let argv: Vec<String> = serde_json::from_str(&rows[1][6]).unwrap();
    assert_eq!(argv[3], "/srv/a b");
    assert_eq!(rows[2][3], "kill");

    let o = run(hal9ctl(d.path()).args(["audit", "--export", "json", "--since", "1h"]));
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(
        v.as_array().unwrap().len(),
        2,
        "a bare array of entries: {v}"
    );
    assert_eq!(v[0]["result"], "failed: EIO, then\nretried");
    let o = run(hal9ctl(d.path()).args(["audit", "--export", "xml"]));
    assert_eq!(o.status.code(), Some(64));
}
