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
