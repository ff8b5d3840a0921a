//! Starting the runtime as `hal9ctl serve --detach`, as restart's successor
//! or on a port port-conflict freed, with the predecessor's recorded
//! config and the serve flags it may pass on.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::exit::Failure;
use crate::runtime::state::RuntimeInfo;

/// Run `hal9ctl serve --detach` (as a successor when `takeover`); it returns
/// once the new instance answers, or fails with its log tail. `recorded` is
/// the predecessor's runtime.json: the new instance gets its config file
/// (else `config_file`, this run's) and serve arguments, on `listen`.
pub fn start_detached(
    state_dir: &Path,
    config_file: Option<&Path>,
    listen: SocketAddr,
    takeover: bool,
    wait: Duration,
    recorded: Option<&RuntimeInfo>,
) -> Result<u32, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::critical(format!("cannot find the hal9ctl binary: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    let config = recorded.and_then(|r| r.config.as_deref()).or(config_file);
    if let Some(file) = config {
        cmd.arg("--config").arg(file);
    }
    cmd.args(["--state-dir"])
        .arg(state_dir)
        .arg("serve")
        .args(successor_args(
            recorded.and_then(|r| r.serve_args.as_deref()),
            listen,
        ))
        .args(["--detach", "-o", "json"]);
    cmd.arg("--ready-timeout")
        .arg(humantime::format_duration(wait).to_string());
    if takeover {
        cmd.arg("--takeover");
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::critical(format!("cannot start the runtime: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(Failure::critical(format!(
            "the new instance did not become ready:\n{why}"
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::critical(format!("unexpected answer from serve --detach: {e}")))?;
    v["pid"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| Failure::critical("serve --detach did not report a pid"))
}

/// The serve flags a successor inherits. Only these: runtime.json is a file,
/// and a flag smuggled into it (`--state-dir`, `--config`) must not steer the
/// successor somewhere else.
const INHERITED: &[&str] = &[
    "--drain-timeout",
    "--admin-token-file",
    "--migration-source",
];

/// Pure: the predecessor's recorded `--flag value` pairs, on `listen`.
pub fn successor_args(recorded: Option<&[String]>, listen: SocketAddr) -> Vec<String> {
    let mut out = vec!["--listen".to_string(), listen.to_string()];
    for pair in recorded.unwrap_or_default().chunks(2) {
        if let [flag, value] = pair
            && INHERITED.contains(&flag.as_str())
        {
            out.extend([flag.clone(), value.clone()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_successor_gets_the_recorded_arguments_on_the_port_in_use() {
        let listen: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let recorded: Vec<String> = [
            "--listen",
            "127.0.0.1:9000",
            "--drain-timeout",
            "7s",
            "--admin-token-file",
            "/etc/hal9/token",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            successor_args(Some(&recorded), listen),
            [
                "--listen",
                "127.0.0.1:9000",
                "--drain-timeout",
                "7s",
                "--admin-token-file",
                "/etc/hal9/token"
            ]
        );
        assert_eq!(successor_args(None, listen), ["--listen", "127.0.0.1:9000"]);
        let smuggled: Vec<String> = ["--state-dir", "/elsewhere", "--drain-timeout"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            successor_args(Some(&smuggled), listen),
            ["--listen", "127.0.0.1:9000"],
            "only known flags, only in whole pairs"
        );
    }
}
