//! Who writes stderr: the Printer decides colour per stream and silences
//! warnings under `-q`.

use std::net::TcpListener;
use std::process::{Output, Stdio};

use crate::common::{hal9ctl, run, stderr, tempdir};

/// A state dir whose audit log cannot be written (so port-conflict warns),
/// and a port this test holds (so port-conflict has something to refuse).
fn warning_scene() -> (tempfile::TempDir, TcpListener) {
    let state = tempdir();
    std::fs::create_dir_all(state.path().join("audit.jsonl/blocker")).unwrap();
    let held = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    (state, held)
}

fn port_conflict(state: &std::path::Path, held: &TcpListener, flags: &[&str]) -> Output {
    let port = held.local_addr().unwrap().port();
    run(hal9ctl(state)
        .args(flags)
        .args(["emergency", "port-conflict", "--port"])
        .arg(port.to_string())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null()))
}

#[test]
fn a_warning_on_a_stderr_that_is_not_a_terminal_has_no_escape_codes() {
    let (state, held) = warning_scene();
    let err = stderr(&port_conflict(state.path(), &held, &[]));
    assert!(err.contains("could not write the audit log"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "escape codes in a piped stderr: {err:?}"
    );
}

#[test]
fn quiet_silences_port_conflict_warnings_but_not_the_error() {
    let (state, held) = warning_scene();
    let loud = port_conflict(state.path(), &held, &[]);
    assert!(
        stderr(&loud).contains("could not write the audit log"),
        "without -q the warning is shown: {}",
        stderr(&loud)
    );

    let quiet = port_conflict(state.path(), &held, &["-q"]);
    let err = stderr(&quiet);
    assert_eq!(quiet.status.code(), loud.status.code());
    assert!(
        !err.contains("audit log"),
        "-q must silence warnings: {err}"
    );
    drop(held);
}
