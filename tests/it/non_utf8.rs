//! Arguments that are not UTF-8 (a file name with a stray byte) must never
//! panic after a destructive step, and the audit line must still be written.

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::*;

fn audit_entries(state: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(state.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn disk_cleanup_on_a_non_utf8_root_deletes_audits_and_does_not_panic() {
    let d = tempdir();
    let base = d.path().canonicalize().unwrap();
    let state = base.join("state");
    fs::create_dir(&state).unwrap();
    let root: PathBuf = base.join(OsStr::from_bytes(b"r\xff"));
    fs::create_dir(&root).unwrap();
    let old = root.join("old.log");
    let mut f = fs::File::create(&old).unwrap();
    f.write_all(&[b'x'; 4096]).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(30 * 86_400))
        .unwrap();
    drop(f);

    let o = run(hal9ctl(&state)
        .args(["-o", "json", "disk", "cleanup"])
        .arg(&root)
        .args(["--target", "0", "--older-than", "7d", "--yes"])
        .stdin(Stdio::null()));
    assert_ne!(o.status.code(), Some(101), "panicked: {}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(!old.exists(), "the old file is deleted");

    let entries = audit_entries(&state);
    let delete = entries
        .iter()
        .find(|e| e["action"] == "disk-cleanup" && e["result"].as_str().unwrap().starts_with("ok"))
        .unwrap_or_else(|| panic!("no cleanup line: {entries:?}"));
    let argv: Vec<&str> = delete["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    // The stray byte is kept, escaped, not replaced: the record names the real path.
    assert!(
        argv.iter().any(|a| a.ends_with(r"/r\xff")),
        "argv records the root losslessly: {argv:?}"
    );
}

/// A Python listener on 127.0.0.1:PORT; killed by PID on drop.
struct Listener(Child, i32);

impl Listener {
    fn spawn(port: u16) -> Listener {
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import os,socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',int(sys.argv[1])))\ns.listen(8)\nprint(os.getpid(),flush=True)\ntime.sleep(600)\n",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let out = child.stdout.take().unwrap();
        let line = BufReader::new(out).lines().next().unwrap().unwrap();
        let pid = line.trim().parse().unwrap();
        Listener(child, pid)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.1), Signal::SIGKILL);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn gone_soon(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(s)
                if s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true;
            }
            Ok(_) => {}
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn port_conflict_with_a_non_utf8_state_dir_kills_audits_and_does_not_panic() {
    let d = tempdir();
    let state = d.path().join(OsStr::from_bytes(b"s\xfe"));
    let port = free_port();
    let l = Listener::spawn(port);
    let o = run(hal9ctl(d.path())
        .arg("--state-dir")
        .arg(&state)
        .args([
            "-o",
            "json",
            "emergency",
            "port-conflict",
            "--force",
            "--port",
        ])
        .arg(port.to_string())
        .stdin(Stdio::null()));
    assert_ne!(o.status.code(), Some(101), "panicked: {}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(gone_soon(l.1), "the holder was stopped");
    let entries = audit_entries(&state);
    let k = entries
        .iter()
        .find(|e| e["action"] == "kill")
        .unwrap_or_else(|| panic!("no kill line: {entries:?}"));
    assert_eq!(k["target"], format!("pid {} (python3)", l.1));
    assert!(
        k["argv"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().ends_with(r"/s\xfe")),
        "{k}"
    );
}

#[test]
fn json_reports_name_a_non_utf8_root_instead_of_failing_to_serialize() {
    let d = tempdir();
    let base = d.path().canonicalize().unwrap();
    let state = base.join("state");
    fs::create_dir(&state).unwrap();
    let root = base.join(OsStr::from_bytes(b"r\xff"));
    fs::create_dir(&root).unwrap();
    fs::write(root.join("a.log"), "x").unwrap();
    for sub in ["usage", "cleanup"] {
        let o = run(hal9ctl(&state)
            .args(["-o", "json", "--dry-run", "disk", sub])
            .arg(&root)
            .stdin(Stdio::null()));
        assert_eq!(o.status.code(), Some(0), "{sub}: {}", stderr(&o));
        let v = json(&o);
        assert!(v.get("error").is_none(), "{sub}: {v}");
        assert!(
            v.to_string().contains(r"/r\\xff"),
            "{sub}: the root is named, escaped: {v}"
        );
    }
}
