//! `hal9ctl incident bundle` against a real detached `serve`, a hostile
//! stand-in runtime (huge /metrics, a status that never answers), and
//! hostile destinations.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Unpack with the system's tar: a real consumer of the format.
fn unpack(archive: &Path) -> (tempfile::TempDir, PathBuf) {
    let d = tempdir();
    let o = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(d.path())
        .output()
        .expect("tar");
    assert!(
        o.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let top: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(top.len(), 1, "one top directory: {top:?}");
    let root = top[0].clone();
    (d, root)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn assert_absent(root: &Path, secret: &str, what: &str) {
    for f in files_under(root) {
        let bytes = fs::read(&f).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{what} found in {}",
            f.display()
        );
    }
}

const WEBHOOK_SECRET: &str = "T000-B000-XXXXsecretpath";
const ROUTING_KEY: &str = "R0UTING-KEY-0123456789abcdef";

#[test]
fn a_bundle_of_a_real_runtime_has_every_part_and_no_secret() {
    let d = tempdir();
    fs::write(
        d.path().join("hal9.toml"),
        format!(
            "[notify]\nwebhook = \"http://127.0.0.1:9/services/{WEBHOOK_SECRET}\"\npagerduty_routing_key = \"{ROUTING_KEY}\"\n"
        ),
    )
    .unwrap();
    let o =
        run(hal9ctl(d.path()).args(["serve", "--detach", "--listen", "127.0.0.1:0", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let _guard = KillOnDrop(json(&o)["pid"].as_u64().unwrap() as i32);
    let token = fs::read_to_string(d.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    assert!(token.len() >= 16);
    // Hostile: the token got into the runtime log (a debug line, a pasted curl).
    let mut log = fs::OpenOptions::new()
        .append(true)
        .open(d.path().join("hal9.log"))
        .unwrap();
    std::io::Write::write_all(
        &mut log,
        format!("curl -H 'Authorization: Bearer {token}' http://127.0.0.1/admin/limits\n")
            .as_bytes(),
    )
    .unwrap();
    drop(log);
    hal9ctl::system::audit::AuditLog::new(d.path())
        .record(&hal9ctl::system::audit::Entry::new(
            "kill",
            "pid 4242 (python3)",
            "ok",
        ))
        .unwrap();

    let out = d.path().join("bundle.tar.gz");
    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "--since", "2h", "--out"])
        .arg(&out)
        .args(["-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["failed_parts"], 0, "{v}");
    assert_eq!(
        PathBuf::from(v["path"].as_str().unwrap()),
        out.canonicalize().unwrap()
    );
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    let (_tmp, root) = unpack(&out);
    for f in [
        "health.json",
        "status.json",
        "metrics.txt",
        "migration.json",
        "runtime.log",
        "runtime.json",
        "config.json",
        "audit.json",
        "host.txt",
        "manifest.json",
    ] {
        assert!(
            root.join(f).is_file(),
            "{f} missing: {:?}",
            files_under(&root)
        );
    }
    let read_json = |f: &str| -> serde_json::Value {
        serde_json::from_slice(&fs::read(root.join(f)).unwrap())
            .unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    assert!(
        read_json("health.json")["checks"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        read_json("status.json")["neurons"].is_array()
            || read_json("status.json")["layers"].is_array()
    );
    assert!(
        read_json("migration.json")["phase"].is_string(),
        "the admin route was read with the token"
    );
    assert!(
        fs::read_to_string(root.join("metrics.txt"))
            .unwrap()
            .contains("hal9_")
    );
    assert!(read_json("runtime.json")["pid"].is_u64());
    let config = read_json("config.json");
    assert!(
        config["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["key"] == "server.url"),
        "config with sources"
    );
    let audit = read_json("audit.json");
    assert_eq!(audit["entries"][0]["target"], "pid 4242 (python3)");
    let host = fs::read_to_string(root.join("host.txt")).unwrap();
    assert!(
        host.contains("uname:") && host.contains("MemTotal") && host.contains("loadavg"),
        "{host}"
    );
    let runtime_log = fs::read_to_string(root.join("runtime.log")).unwrap();
    assert!(
        runtime_log.contains("[redacted by hal9ctl]"),
        "the log line is kept, the token is not"
    );

    assert_absent(&root, &token, "the admin token");
    assert_absent(&root, WEBHOOK_SECRET, "the webhook URL's secret");
    assert_absent(&root, ROUTING_KEY, "the PagerDuty routing key");
}

/// A stand-in runtime: /metrics is `metrics_mib` MiB, /api/v1/status never
/// answers, everything else is a small 200. Prints its port first.
const HOSTILE_RUNTIME: &str = r#"
import sys, time, http.server, socketserver
mib = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/api/v1/status":
            time.sleep(60)
            return
        if self.path == "/metrics":
            line = b"hal9_padding_total{x=\"" + b"y" * 100 + b"\"} 1\n"
            n = mib * 1024 * 1024 // len(line) + 1
            self.send_response(200)
            self.send_header("content-length", str(n * len(line)))
            self.end_headers()
            try:
                for _ in range(n):
                    self.wfile.write(line)
            except Exception:
                pass
            return
        body = b'{"status":"healthy","ready":true,"version":"x","pid":1,"uptime_s":1,"checks":[]}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

struct Python(std::process::Child, u16);

impl Python {
    fn start(script: &str, args: &[&str]) -> Python {
        use std::io::BufRead;
        let mut c = Command::new("python3")
            .args(["-c", script])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        std::io::BufReader::new(c.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("a port");
        Python(c, port)
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn caps_hold_for_a_huge_log_and_huge_metrics_and_a_dead_part_is_an_error_file() {
    let d = tempdir();
    fs::write(
        d.path().join("hal9.toml"),
        "[health]\ntimeout = \"500ms\"\n",
    )
    .unwrap();
    let rt = Python::start(HOSTILE_RUNTIME, &["12"]);
    // 24 MiB of log, sparse at the front: the tail is what counts.
    let log = d.path().join("hal9.log");
    let f = fs::File::create(&log).unwrap();
    f.set_len(24 << 20).unwrap();
    drop(f);
    let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..20_000 {
        std::io::Write::write_all(
            &mut f,
            format!("line {i} the newest lines are kept\n").as_bytes(),
        )
        .unwrap();
    }
    drop(f);
    let out = d.path().join("b.tar.gz");
    let url = format!("http://127.0.0.1:{}", rt.1);
    let o = run(hal9ctl(d.path())
        .args([
            "incident",
            "bundle",
            "--max-log-mib",
            "1",
            "--url",
            &url,
            "--out",
        ])
        .arg(&out)
        .args(["-o", "json"]));
    assert_eq!(
        o.status.code(),
        Some(1),
        "partial: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let v = json(&o);
    let part = |file: &str| {
        v["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["file"] == file)
            .unwrap_or_else(|| panic!("no part {file} in {v}"))
            .clone()
    };
    let metrics = part("metrics.txt");
    assert_eq!(metrics["truncated"], true);
    assert_eq!(
        metrics["bytes"],
        4 * 1024 * 1024,
        "the 4 MiB cap of a runtime answer"
    );
    let log = part("runtime.log");
    assert_eq!(log["truncated"], true);
    assert!(log["bytes"].as_u64().unwrap() <= 1 << 20, "{log}");
    let status = part("status.error.txt");
    assert!(
        status["error"].as_str().unwrap().contains("/api/v1/status"),
        "{status}"
    );
    // No token in this state dir: the admin route is an error file, not a gap.
    part("migration.error.txt");
    assert!(
        stderr(&o).contains("status"),
        "each missing part is warned about: {}",
        stderr(&o)
    );

    let (_tmp, root) = unpack(&out);
    assert!(fs::metadata(root.join("metrics.txt")).unwrap().len() <= 4 << 20);
    let text = fs::read_to_string(root.join("runtime.log")).unwrap();
    assert!(text.ends_with("line 19999 the newest lines are kept\n"));
    assert!(!text.contains('\0'), "the sparse head is beyond the cap");
    let why = fs::read_to_string(root.join("status.error.txt")).unwrap();
    assert!(why.contains("GET"), "{why}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["parts"], v["parts"]);
}

#[test]
fn a_destination_that_is_a_symlink_an_existing_file_or_someone_elses_dir_is_refused() {
    let d = tempdir();
    let victim = d.path().join("victim");
    fs::write(&victim, "keep me").unwrap();
    let link = d.path().join("link.tar.gz");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());

    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "--force", "--url", &url, "--out"])
        .arg(&link));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("symlink"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");

    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "--url", &url, "--out"])
        .arg(&victim));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already exists") && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");

    let theirs = d.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    nix::unistd::chown(&theirs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "--url", &url, "--out"])
        .arg(theirs.join("b.tar.gz")));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("uid 65534"), "{}", stderr(&o));
    assert_eq!(
        fs::read_dir(&theirs).unwrap().count(),
        0,
        "nothing written there"
    );

    // --force replaces a regular file, by rename (the runtime is down: partial, exit 1).
    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "--force", "--url", &url, "--out"])
        .arg(&victim));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_ne!(fs::read(&victim).unwrap(), b"keep me");
    unpack(&victim);
}

#[test]
fn kill_9_while_gathering_leaves_no_half_archive_at_the_destination() {
    let d = tempdir();
    fs::write(d.path().join("hal9.toml"), "[health]\ntimeout = \"10s\"\n").unwrap();
    let rt = Python::start(HOSTILE_RUNTIME, &["1"]);
    let out = d.path().join("b.tar.gz");
    let url = format!("http://127.0.0.1:{}", rt.1);
    let mut child = hal9ctl(d.path())
        .args(["incident", "bundle", "--url", &url, "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The temp file exists from the first part on; /api/v1/status then hangs.
    let t0 = Instant::now();
    let tmp_exists = || {
        fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with(".b.tar.gz."))
    };
    while !tmp_exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no temp file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !out.exists(),
        "a killed bundle must not leave a half archive at --out"
    );
}

#[test]
fn quiet_silences_the_part_warnings_and_table_output_is_the_path_alone() {
    let d = tempdir();
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = d.path().join("q.tar.gz");
    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "-q", "--url", &url, "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1), "the runtime is down: partial");
    assert_eq!(stderr(&o), "", "-q: nothing on stderr");
    assert_eq!(
        stdout(&o).trim(),
        out.canonicalize().unwrap().display().to_string()
    );
    let o = run(hal9ctl(d.path())
        .args(["incident", "bundle", "--url", &url, "--out"])
        .arg(d.path().join("r.tar.gz")));
    assert!(
        stderr(&o).contains("warning: incident bundle: status"),
        "{}",
        stderr(&o)
    );
}
