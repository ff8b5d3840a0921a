//! `health` sees a real OOM kill: the test makes its own memory cgroup (v2,
//! or v1 on a hybrid host) with a small limit, runs `hal9ctl serve` in it,
//! and a command neuron allocates past the limit, so the kernel kills it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

/// A memory cgroup the test made; removed when dropped (after its
/// processes, which the test's guards kill first).
struct TestCgroup {
    dir: PathBuf,
    v2: bool,
}

impl TestCgroup {
    fn new(limit: u64) -> TestCgroup {
        let name = format!(
            "hal9-it-oom-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ u128::from(free_port())
        );
        let unified = Path::new("/sys/fs/cgroup");
        let v2 = std::fs::read_to_string(unified.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
        let dir = if v2 {
            // Children of the root get the controller only when it is delegated to them.
            let _ = std::fs::write(unified.join("cgroup.subtree_control"), "+memory");
            unified.join(&name)
        } else {
            PathBuf::from("/sys/fs/cgroup/memory").join(&name)
        };
        std::fs::create_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "cannot make the test's memory cgroup {} ({e}): the OOM test needs root and a writable cgroup v2 with the memory controller, or v1's memory hierarchy",
                dir.display()
            )
        });
        let cg = TestCgroup { dir, v2 };
        cg.set_limit(limit);
        cg
    }

    fn set_limit(&self, bytes: u64) {
        let (limit, swap) = if self.v2 {
            ("memory.max", "memory.swap.max")
        } else {
            ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes")
        };
        // v1 keeps the limit at or below memory+swap's: raising goes swap
        // first, lowering limit first, so try the limit on both sides.
        let first = std::fs::write(self.dir.join(limit), bytes.to_string());
        // With swap the allocation would page out instead of being killed.
        let _ = std::fs::write(
            self.dir.join(swap),
            if self.v2 {
                "0".into()
            } else {
                bytes.to_string()
            },
        );
        if first.is_err() {
            std::fs::write(self.dir.join(limit), bytes.to_string()).unwrap();
        }
    }

    fn usage(&self) -> u64 {
        let f = if self.v2 {
            "memory.current"
        } else {
            "memory.usage_in_bytes"
        };
        std::fs::read_to_string(self.dir.join(f))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn oom_kills(&self) -> u64 {
        let f = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        let text = std::fs::read_to_string(self.dir.join(f)).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // rmdir fails while a dying process is still charged to it: retry briefly.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `hal9ctl serve` started inside `cg` (it enters the cgroup before exec,
/// so runtime.json records the cgroup's count at its start).
fn serve_in(cg: &TestCgroup, config: &str) -> Server {
    let dir = tempdir();
    std::fs::write(dir.path().join("hal9.toml"), config).unwrap();
    std::fs::write(dir.path().join("hal9.log"), "").unwrap();
    let procs = cg.dir.join("cgroup.procs");
    // hal9ctl's isolated environment, for a shell that enters the cgroup first.
    let base = hal9ctl(dir.path());
    let mut sh = std::process::Command::new("sh");
    sh.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    sh.current_dir(dir.path())
        .args([
            "-c",
            "echo $$ > \"$1\" && exec \"$0\" serve --listen 127.0.0.1:0",
        ])
        .arg(base.get_program())
        .arg(&procs)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.stderr")).unwrap());
    let child = sh.spawn().unwrap();
    let pid = child.id();
    let mut s = Server {
        child: Some(child),
        dir,
        url: String::new(),
        port: 0,
        token: String::new(),
    };
    let t0 = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(s.dir.path().join("runtime.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && v["pid"] == pid
        {
            let listen = v["listen"].as_str().unwrap().to_string();
            s.url = format!("http://{listen}");
            return s;
        }
        if let Some(st) = s.child.as_mut().unwrap().try_wait().unwrap() {
            let err =
                std::fs::read_to_string(s.dir.path().join("serve.stderr")).unwrap_or_default();
            panic!("serve exited at start ({st}): {err}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Host thresholds off: only the OOM check may speak for this host.
const QUIET_HOST: &str = "[health]\ndisk_warn_percent = 100.0\ndisk_crit_percent = 100.0\nmemory_warn_percent = 100.0\nmemory_crit_percent = 100.0\nload_warn_per_core = 100000.0\nload_crit_per_core = 100000.0\n\n";

/// A command neuron that allocates 1 GiB, having made itself the OOM
/// killer's first choice (raising one's own oom_score_adj needs no privilege).
const GROW: &str = "[[neurons]]\nid = \"grow\"\nlayer = \"L2\"\nprocessor = \"command\"\ncommand = [\"python3\", \"-c\", \"open('/proc/self/oom_score_adj', 'w').write('1000'); x = b'x' * (1 << 30)\"]\n";

fn oom_check(v: &serde_json::Value) -> serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "oom kills")
        .unwrap_or_else(|| panic!("no `oom kills` check: {v:#}"))
        .clone()
}

#[test]
fn a_neuron_killed_by_the_oom_killer_in_the_runtimes_cgroup_is_reported_with_its_time() {
    let cg = TestCgroup::new(512 << 20);
    let s = serve_in(&cg, &format!("{QUIET_HOST}{GROW}"));
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.dir.path().join("runtime.json")).unwrap())
            .unwrap();
    assert_eq!(
        info["oom_baseline"]["oom_kills"], 0,
        "runtime.json records the count at start: {info:#}"
    );

    // Before: no kill, and the check says so with the cgroup's numbers.
    let o = run(hal9ctl(s.dir.path()).args(["health", "-o", "json"]));
    let before = oom_check(&json(&o));
    assert_eq!(before["status"], "ok", "{before:#}");
    assert!(
        before["detail"]
            .as_str()
            .unwrap()
            .contains("limit 512.0 MiB"),
        "{before:#}"
    );

    // Room for the runtime as it is, and 96 MiB more: the neuron needs 1 GiB.
    cg.set_limit(cg.usage() + (96 << 20));
    let a = s.signal(json!({"content": "grow", "neuron_id": "grow"}));
    assert_ne!(
        a.status, 200,
        "the neuron was killed, so the signal fails: {}",
        a.body
    );
    assert_eq!(cg.oom_kills(), 1, "the kernel really killed it");

    let o = run(hal9ctl(s.dir.path()).args(["health", "-o", "json"]));
    let v = json(&o);
    let c = oom_check(&v);
    assert_eq!(c["status"], "warn", "{v:#}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("1 OOM kill(s) in the runtime's memory cgroup since it started at "),
        "{detail}"
    );
    assert!(
        detail.contains("python3 (pid "),
        "the kernel log names the process: {detail}"
    );
    let next = c["next"].as_str().unwrap();
    assert!(
        next.starts_with(
            "needs a human: neuron `grow`'s command (python3) ran out of memory: raise"
        ),
        "{next}"
    );
    assert!(
        by_pid_alive(s.pid()),
        "the runtime survived: only its neuron was killed"
    );
    assert_eq!(o.status.code(), Some(1), "a warning: {v:#}");

    // The same for a person: the table names the check and its next step.
    let o = run(hal9ctl(s.dir.path()).args(["health"]));
    let out = stdout(&o);
    assert!(out.contains("oom kills"), "{out}");
    assert!(out.contains("python3"), "{out}");
}

fn by_pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_kill_from_before_the_runtimes_start_is_history() {
    let cg = TestCgroup::new(64 << 20);
    // Something else in the cgroup is killed before the runtime starts.
    let o = std::process::Command::new("sh")
        .args([
            "-c",
            "echo $$ > \"$0\" && exec python3 -c \"x = b'x' * (1 << 30)\"",
        ])
        .arg(cg.dir.join("cgroup.procs"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by a signal: {o:?}");
    assert_eq!(cg.oom_kills(), 1);
    cg.set_limit(512 << 20);
    let s = serve_in(&cg, QUIET_HOST);
    let o = run(hal9ctl(s.dir.path()).args(["health", "-o", "json"]));
    let c = oom_check(&json(&o));
    assert_eq!(c["status"], "ok", "{c:#}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .starts_with("no OOM kill since the runtime started at "),
        "{c:#}"
    );
}
