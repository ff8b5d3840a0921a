//! Helpers shared by the integration tests. Everything here creates its own
//! resources (temp dirs, child processes, loopback ports) and cleans them up.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_hal9ctl");

/// A `hal9ctl` command isolated from the machine: its own state dir, no
/// config file from the search path, no colour.
pub fn hal9ctl(state_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", state_dir)
        .env("XDG_CONFIG_HOME", state_dir.join("xdg-config"))
        .env("HAL9_STATE_DIR", state_dir)
        .env("NO_COLOR", "1")
        .current_dir(state_dir);
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawn hal9ctl")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hal9-it-")
        .tempdir()
        .expect("tempdir")
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
