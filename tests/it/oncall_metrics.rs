//! The on-call stack reads hal9's numbers: `/metrics` and `health -o
//! prometheus` must pass `promtool check metrics` (Debian's prometheus).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::common::*;

/// `promtool check metrics` on `text`: its exit code and what it said.
pub fn promtool(text: &str) -> (i32, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (scripts/test.sh installs Debian's prometheus)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn metrics_pass_promtool_with_no_problem() {
    let s = Server::start(None);
    // Traffic on both paths and a failure, so every family has samples.
    assert_eq!(s.signal(json!({"content": "warm up"})).status, 200);
    let _ = s.signal(json!({"content": ""}));
    let m = s.get("/metrics");
    assert_eq!(m.status, 200);
    let (code, said) = promtool(&m.body);
    assert_eq!((code, said.as_str()), (0, ""), "{}", m.body);
}
