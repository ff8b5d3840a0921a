//! The state dir is trusted only when it is ours: a dir another user owns or
//! can write to is refused, state files are never opened through a symlink,
//! and temp files cannot be pre-planted.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::common::*;

const NOBODY: u32 = 65534;

/// Making a file another user's needs root; as anyone else these tests say so and stop.
fn root_or_skip() -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        eprintln!("skipped: needs root to chown to nobody");
    }
    root
}

/// `hal9ctl ARGS`, killed (by pid) if it is still running after 10 s: a
/// serve that wrongly starts must fail the test, not hang it.
fn bounded(state: &Path, args: &[&str]) -> Output {
    let err = tempfile::tempfile().unwrap();
    let mut child = hal9ctl(state)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err.try_clone().unwrap())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = Vec::new();
    let mut err = err;
    std::io::Seek::rewind(&mut err).unwrap();
    std::io::Read::read_to_end(&mut err, &mut stderr).unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr,
    }
}

fn serve(state: &Path) -> Output {
    bounded(state, &["serve", "--listen", "127.0.0.1:0"])
}

/// A state dir inside a fresh temp dir (the temp dir itself stays 0700, root's).
fn state_in(d: &tempfile::TempDir) -> PathBuf {
    let s = d.path().join("state");
    fs::create_dir(&s).unwrap();
    s
}

#[test]
fn a_state_dir_owned_by_another_user_is_refused() {
    if !root_or_skip() {
        return;
    }
    let d = tempdir();
    let s = state_in(&d);
    std::os::unix::fs::chown(&s, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::write(s.join("admin.token"), "planted-by-nobody\n").unwrap();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["audit"][..],
        &["health"][..],
    ] {
        let o = bounded(&s, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("owned by"), "{args:?}: {err}");
        assert!(err.contains("next:"), "{args:?}: {err}");
    }
    assert!(!s.join("runtime.json").exists(), "serve never started");
}

#[test]
fn a_state_dir_others_can_write_is_refused() {
    let d = tempdir();
    let s = state_in(&d);
    fs::set_permissions(&s, fs::Permissions::from_mode(0o777)).unwrap();
    let o = serve(&s);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("writable by"), "{}", stderr(&o));
    assert!(!s.join("admin.token").exists());
    let o = run(hal9ctl(&s).args(["audit"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_planted_admin_token_others_can_read_or_write_is_not_adopted() {
    if !root_or_skip() {
        return;
    }
    let d = tempdir();
    let s = state_in(&d);
    let token = s.join("admin.token");
    fs::write(&token, "guessable\n").unwrap();
    fs::set_permissions(&token, fs::Permissions::from_mode(0o666)).unwrap();
    let o = serve(&s);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("admin.token"), "{}", stderr(&o));

    fs::set_permissions(&token, fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&token, Some(NOBODY), Some(NOBODY)).unwrap();
    let o = serve(&s);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("admin.token"), "{}", stderr(&o));
}

#[test]
fn a_symlinked_pid_file_or_token_is_not_followed() {
    for name in ["hal9.pid", "admin.token"] {
        let d = tempdir();
        let s = state_in(&d);
        let victim = d.path().join("victim");
        fs::write(&victim, "precious\n").unwrap();
        symlink(&victim, s.join(name)).unwrap();
        let o = serve(&s);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(name), "{name}: {}", stderr(&o));
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n", "{name}");
    }
}

#[test]
fn a_symlinked_log_is_not_followed_by_detach() {
    let d = tempdir();
    let s = state_in(&d);
    let victim = d.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    symlink(&victim, s.join("hal9.log")).unwrap();
    let o = bounded(&s, &["serve", "--detach", "--listen", "127.0.0.1:0"]);
    if let Ok(text) = fs::read_to_string(s.join("runtime.json"))
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(pid) = v["pid"].as_i64()
    {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("hal9.log"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn temp_files_have_unpredictable_names_and_are_created_exclusively() {
    let d = tempdir();
    let s = state_in(&d);
    let victim = d.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    // The old scheme named temp files after the writer's pid: plant every
    // name the next few hundred pids would use.
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in last..last + 400 {
        for f in ["runtime.json", "admin.token"] {
            symlink(&victim, s.join(format!(".{f}.tmp.{pid}"))).unwrap();
        }
    }
    let mut child = hal9ctl(&s)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let t0 = std::time::Instant::now();
    while !s.join("runtime.json").exists() && t0.elapsed().as_secs() < 15 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(pid < last + 400, "the planted range covered pid {pid}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    let rj = fs::symlink_metadata(s.join("runtime.json")).unwrap();
    assert!(rj.file_type().is_file(), "runtime.json is a plain file");
}

#[test]
fn no_home_and_no_state_dir_is_a_usage_error_not_a_dir_in_tmp() {
    if !root_or_skip() {
        return;
    }
    let d = tempdir();
    // nobody must reach the binary: a world-readable copy in a 0755 dir.
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bin = d.path().join("hal9ctl");
    fs::copy(BIN, &bin).unwrap();
    let o = run(std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&bin)
        .arg("audit")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .current_dir(d.path()));
    assert_eq!(o.status.code(), Some(64), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("HOME"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("/tmp/hal9-state"), "{}", stdout(&o));
}
