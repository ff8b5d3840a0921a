//! `hal9ctl health` (local): who really holds the port, does the runtime
//! answer as itself, and is the host able to keep it running.
//!
//! "Process existing != service available": a process named hal9 is not
//! evidence of health, and neither is any 200 on port 8080.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use procfs::Current;
use serde::Serialize;
use serde_json::json;

use crate::cli::Ctx;
use crate::config::HealthConfig;
use crate::output::checks::{Check, CheckReport};
use crate::runtime::api::{HealthBody, HealthStatus, ReadyBody};
use crate::runtime::client::{ClientError, RuntimeClient, Timed};
use crate::runtime::state::StateDir;
use crate::system::process::{self, ProcInfo};
use crate::system::systemctl::UnitStatus;
use crate::system::{disk, sockets};

/// The HTTP side: what /health and /ready said, or why they did not.
#[derive(Debug, Clone, Serialize)]
pub enum Probe<T> {
    Answer {
        status: u16,
        body: T,
        latency_ms: f64,
    },
    /// Nothing accepted the connection, or it timed out.
    Down(String),
    /// Something answered, but not with the runtime's JSON.
    NotHal9(String),
    Error(String),
}

fn probe<T>(r: Result<Timed<T>, ClientError>) -> Probe<T> {
    match r {
        Ok(t) => Probe::Answer {
            status: t.status,
            body: t.body,
            latency_ms: t.latency.as_secs_f64() * 1000.0,
        },
        Err(e @ (ClientError::Connect { .. } | ClientError::Timeout { .. })) => {
            Probe::Down(e.to_string())
        }
        Err(e @ ClientError::NotHal9 { .. }) => Probe::NotHal9(e.to_string()),
        Err(ClientError::Status {
            status, message, ..
        }) => Probe::NotHal9(format!("answered {status}: {message}")),
        Err(e) => Probe::Error(e.to_string()),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LogErrors {
    pub count: usize,
    pub first: Option<String>,
}

/// Everything gathered, as plain data for the pure `plan`.
#[derive(Debug, Clone, Serialize)]
pub struct LocalFacts {
    pub url: String,
    pub port: u16,
    pub state_dir: PathBuf,
    /// Pids named by runtime.json and the pid file.
    pub recorded: Vec<i32>,
    /// Of those, the ones alive.
    pub recorded_alive: Vec<i32>,
    /// `hal9ctl serve` processes found by name: shown, never vouched for.
    pub by_name: Vec<i32>,
    /// The runtime this state dir records and the URL reaches, proved
    /// (pid, start time, socket), or why it is not.
    pub named: Result<u32, String>,
    /// Who holds the port (LISTEN, IPv4 and IPv6).
    pub listeners: Vec<ProcInfo>,
    /// Distinct listening sockets on the port: more than one is a split.
    pub listen_sockets: usize,
    pub health: Probe<HealthBody>,
    pub ready: Probe<ReadyBody>,
    pub disks: Vec<disk::FsUsage>,
    pub memory_percent: Option<f64>,
    pub load1: Option<f64>,
    pub cores: usize,
    pub state_writable: Result<(), String>,
    /// What the log tail holds, or why it could not be read.
    pub log_errors: Result<LogErrors, String>,
    pub crash_files: Vec<String>,
    /// The systemd service the runtime runs in, and its state, if it is one.
    pub systemd: Option<UnitStatus>,
    /// OOM kills of the runtime or its cgroup; `None`: no runtime known.
    pub oom: Option<super::oom::OomFacts>,
}

fn listen_of(ctx: &Ctx, sd: &StateDir) -> (String, u16) {
    let url = ctx.url.clone();
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .or_else(|| {
            sd.read_runtime_info()
                .ok()
                .flatten()
                .and_then(|i| i.listen.parse::<SocketAddr>().ok())
                .map(|a| a.port())
        })
        .unwrap_or(ctx.config().server.listen.port());
    (url, port)
}

/// How much of the runtime log the check reads: the end, where a recent
/// error is. A huge log must cost neither time nor memory.
const LOG_TAIL_BYTES: u64 = 256 * 1024;

fn read_log_tail(path: &Path) -> std::io::Result<(String, Option<SystemTime>)> {
    let (text, meta) = crate::system::fsio::read_tail(path, LOG_TAIL_BYTES)?;
    Ok((text, meta.modified().ok()))
}

fn log_errors(path: &Path, window: Duration, now: SystemTime) -> Result<LogErrors, String> {
    let (tail, modified) = read_log_tail(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cutoff = now.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
    let lines: Vec<&str> = tail
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("panicked"))
        .filter(|l| {
            // tracing lines start with an RFC 3339 time; undated lines (a panic
            // message) count when the file itself changed inside the window.
            let stamp = l.split_whitespace().next().unwrap_or("");
            match humantime::parse_rfc3339_weak(stamp.trim_end_matches('Z')) {
                Ok(t) => t >= cutoff,
                Err(_) => modified.is_some_and(|m| m >= cutoff),
            }
        })
        .collect();
    Ok(LogErrors {
        count: lines.len(),
        first: lines.first().map(|l| l.chars().take(200).collect()),
    })
}

fn crash_files(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n == "core" || n.starts_with("core.") || n.ends_with(".crash") || n.ends_with(".dmp")
        })
        .collect();
    v.sort();
    v
}

fn writable(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        return Err(format!("{} does not exist", dir.display()));
    }
    tempfile::Builder::new()
        .prefix(".hal9-health")
        .tempfile_in(dir)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", dir.display()))
}

pub async fn gather(ctx: &Ctx) -> LocalFacts {
    let cfg = &ctx.config().health;
    let sd = StateDir::new(&ctx.state_dir);
    let (url, port) = listen_of(ctx, &sd);
    let recorded = process::runtime_pids(&sd);
    let recorded_alive: Vec<i32> = recorded
        .iter()
        .copied()
        .filter(|p| process::start_ticks(*p).is_some())
        .collect();
    let by_name = process::find_runtimes();
    let mut runtime_pids: Vec<i32> = recorded_alive.clone();
    runtime_pids.extend(&by_name);
    let (listeners, listen_sockets) = match sockets::bound_to(port, false) {
        Ok(socks) => {
            let inodes: BTreeSet<u64> = socks.iter().map(|s| s.inode).collect();
            let holders = sockets::holders(&inodes).unwrap_or_default();
            let procs = holders
                .keys()
                .filter_map(|pid| process::inspect(*pid, &runtime_pids).ok())
                .collect();
            (procs, inodes.len())
        }
        Err(_) => (Vec::new(), 0),
    };
    let named = crate::system::runtime_identity::named(&sd, &url)
        .map(|n| n.info.pid)
        .map_err(|e| e.to_string());
    let (health, ready) = match RuntimeClient::new(&url, cfg.timeout) {
        Ok(c) => {
            let (h, r) = tokio::join!(c.health(), c.ready());
            (probe(h), probe(r))
        }
        Err(e) => (Probe::Error(e.to_string()), Probe::Error(e.to_string())),
    };
    let mut disks: Vec<disk::FsUsage> = Vec::new();
    for p in [&ctx.state_dir, &sd.log_file()] {
        let target = if p.exists() {
            p.clone()
        } else {
            p.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/"))
        };
        if let Ok(u) = disk::usage(&target)
            && !disks.iter().any(|d| d.device == u.device)
        {
            disks.push(u);
        }
    }
    let memory_percent = procfs::Meminfo::current().ok().and_then(|m| {
        let avail = m.mem_available?;
        (m.mem_total > 0).then(|| 100.0 * (m.mem_total - avail) as f64 / m.mem_total as f64)
    });
    let load1 = procfs::LoadAverage::current()
        .ok()
        .map(|l| f64::from(l.one));
    // The proved runtime, else a runtime on the port: a unit found through a
    // stranger's pid would name somebody else's service.
    let runtime_pid = named
        .as_ref()
        .ok()
        .and_then(|p| i32::try_from(*p).ok())
        .or_else(|| listeners.iter().find(|p| p.hal9_runtime).map(|p| p.pid));
    let systemd = runtime_pid.and_then(crate::system::systemctl::status_of_pid);
    let oom_pid = named
        .as_ref()
        .ok()
        .copied()
        .or_else(|| recorded_alive.first().map(|p| *p as u32));
    let oom = super::oom::gather(&sd, oom_pid, &ctx.config().neurons);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    LocalFacts {
        url,
        port,
        state_dir: ctx.state_dir.clone(),
        recorded,
        recorded_alive,
        by_name,
        named,
        listeners,
        listen_sockets,
        health,
        ready,
        disks,
        memory_percent,
        load1,
        cores,
        state_writable: writable(&ctx.state_dir),
        log_errors: log_errors(&sd.log_file(), cfg.log_window, SystemTime::now()),
        crash_files: crash_files(&ctx.state_dir),
        systemd,
        oom,
    }
}

fn threshold(name: &str, value: f64, warn: f64, crit: f64, detail: String, next: &str) -> Check {
    if value >= crit {
        Check::fail(name, detail, next)
    } else if value >= warn {
        Check::warn(name, detail, next)
    } else {
        Check::ok(name, detail)
    }
}

/// Pure: the checks the facts support.
pub fn plan(f: &LocalFacts, cfg: &HealthConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    let port = f.port;
    let dead: Vec<i32> = f
        .recorded
        .iter()
        .copied()
        .filter(|p| !f.recorded_alive.contains(p))
        .collect();
    // The port owner comes first: a squatter is the cause of a runtime that
    // cannot start, and freeing the port with --restart heals both.
    let foreign: Vec<&ProcInfo> = f.listeners.iter().filter(|p| !p.hal9_runtime).collect();
    checks.push(if f.listeners.is_empty() {
        Check::fail(
            "port owner",
            format!("nothing listens on port {port}"),
            "hal9ctl restart",
        )
    } else if f.listen_sockets > 1 {
        let who = f
            .listeners
            .iter()
            .map(|p| format!("pid {} ({})", p.pid, p.command))
            .collect::<Vec<_>>()
            .join(", ");
        Check::fail(
            "port owner",
            format!(
                "port {port} is split between {} listening sockets: {who}; the kernel hands each connection to any of them",
                f.listen_sockets
            ),
            free_and_restart(port),
        )
    } else if let Some(p) = foreign.first() {
        Check::fail(
            "port owner",
            format!(
                "port conflict: port {port} is held by pid {} (user {}): {}",
                p.pid, p.user, p.command
            ),
            free_and_restart(port),
        )
    } else {
        let who = f
            .listeners
            .iter()
            .map(|p| p.pid.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Check::ok(
            "port owner",
            format!("the runtime (pid {who}) listens on port {port}"),
        )
    });

    // Only the runtime this state dir records and the URL reaches counts:
    // any other `hal9ctl serve` on the host is somebody else's.
    let mut process = match (&f.named, dead.is_empty()) {
        (Ok(pid), true) => Check::ok(
            "runtime process",
            format!("pid {pid} (runtime.json proved: start time and socket)"),
        ),
        (Ok(pid), false) => Check::warn(
            "runtime process",
            format!("pid {pid} running; the state dir also names gone pid {dead:?}"),
            "hal9ctl restart",
        ),
        (Err(_), false) => Check::fail(
            "runtime process",
            format!("the state dir names pid {dead:?}, which is gone (a stale pid file)"),
            "hal9ctl restart",
        ),
        (Err(why), true) => Check::fail(
            "runtime process",
            format!(
                "no runtime of {} at {}: {why}",
                f.state_dir.display(),
                f.url
            ),
            "hal9ctl restart   # or pass the --state-dir of the runtime at that URL",
        ),
    };
    if let Some(u) = &f.systemd {
        process.detail = format!("{}; systemd unit {}", process.detail, u.describe());
    }
    checks.push(process);
    if let Some(c) = f.systemd.as_ref().and_then(unit_in_transition) {
        checks.push(c);
    }

    checks.push(match &f.health {
        Probe::Answer {
            body, latency_ms, ..
        } => {
            let detail = format!(
                "{} in {latency_ms:.1} ms (pid {}, version {}, up {} s)",
                match body.status {
                    HealthStatus::Healthy => "healthy",
                    HealthStatus::Degraded => "degraded",
                    HealthStatus::Unhealthy => "unhealthy",
                },
                body.pid,
                body.version,
                body.uptime_s
            );
            let failing: Vec<String> = body
                .checks
                .iter()
                .filter(|c| c.status != HealthStatus::Healthy)
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect();
            let detail = if failing.is_empty() {
                detail
            } else {
                format!("{detail}; {}", failing.join("; "))
            };
            match body.status {
                // An answer from another pid than the proved one vouches for somebody else.
                _ if f.named.as_ref().is_ok_and(|pid| *pid != body.pid) => Check::fail(
                    "GET /health",
                    format!(
                        "{detail}; but this state dir's runtime is pid {}",
                        f.named.as_ref().map_or(0, |p| *p)
                    ),
                    free_and_restart(port),
                ),
                HealthStatus::Healthy => Check::ok("GET /health", detail),
                HealthStatus::Degraded => Check::warn(
                    "GET /health",
                    detail,
                    human(
                        "a neuron reports a problem",
                        &format!("curl -s {}/api/v1/neurons", f.url),
                    ),
                ),
                HealthStatus::Unhealthy => Check::fail("GET /health", detail, "hal9ctl restart"),
            }
        }
        Probe::Down(e) => Check::fail(
            "GET /health",
            format!("the runtime is down: {e}"),
            "hal9ctl restart",
        ),
        Probe::NotHal9(e) => Check::fail(
            "GET /health",
            format!("something answers on port {port}, but it is not the HAL9 runtime: {e}"),
            free_and_restart(port),
        ),
        Probe::Error(e) => Check::unknown(
            "GET /health",
            e.clone(),
            human("the probe itself failed", "hal9ctl health -v"),
        ),
    });

    checks.push(match &f.ready {
        Probe::Answer {
            body, latency_ms, ..
        } if body.ready => Check::ok("GET /ready", format!("ready in {latency_ms:.1} ms")),
        Probe::Answer { body, .. } => {
            let reason = body
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            Check::warn(
                "GET /ready",
                format!("not ready: {reason}"),
                "hal9ctl health --wait 30s   # a drain or a start finishes by itself",
            )
        }
        Probe::Down(e) => Check::fail("GET /ready", format!("no answer: {e}"), "hal9ctl restart"),
        Probe::NotHal9(e) => Check::fail(
            "GET /ready",
            format!("not the HAL9 runtime: {e}"),
            free_and_restart(port),
        ),
        Probe::Error(e) => Check::unknown(
            "GET /ready",
            e.clone(),
            human("the probe itself failed", "hal9ctl health -v"),
        ),
    });

    checks.extend(f.oom.as_ref().map(super::oom::plan));

    for d in &f.disks {
        checks.push(threshold(
            &format!("disk {}", d.mount_point.display()),
            d.percent,
            cfg.disk_warn_percent,
            cfg.disk_crit_percent,
            format!("{:.0} % used, {} free", d.percent, human_bytes(d.avail)),
            // The acting command: it shows its plan and asks at a terminal.
            &format!(
                "hal9ctl disk cleanup {}",
                crate::output::shell_word::shell_word(&f.state_dir.display().to_string())
            ),
        ));
    }
    checks.push(match f.memory_percent {
        Some(m) => threshold(
            "memory",
            m,
            cfg.memory_warn_percent,
            cfg.memory_crit_percent,
            format!("{m:.0} % used"),
            &human(
                "something else uses the memory",
                "ps aux --sort=-rss | head",
            ),
        ),
        None => Check::unknown(
            "memory",
            "cannot read /proc/meminfo",
            human("/proc is not readable", "free -m"),
        ),
    });
    checks.push(match f.load1 {
        Some(l) => {
            let per = l / f.cores as f64;
            threshold(
                "load",
                per,
                cfg.load_warn_per_core,
                cfg.load_crit_per_core,
                format!("{l:.2} on {} cores ({per:.2} per core)", f.cores),
                &human("something else loads the host", "top -b -n1 | head -20"),
            )
        }
        None => Check::unknown(
            "load",
            "cannot read /proc/loadavg",
            human("/proc is not readable", "uptime"),
        ),
    });
    checks.push(match &f.state_writable {
        Ok(()) => Check::ok(
            "state dir",
            format!("{} is writable", f.state_dir.display()),
        ),
        Err(e) => Check::fail(
            "state dir",
            format!("not writable: {e}"),
            human(
                "fix the owner, mode or mount",
                &format!("ls -ld {}", f.state_dir.display()),
            ),
        ),
    });
    let log = f.state_dir.join(crate::runtime::state::LOG_FILE);
    checks.push(match &f.log_errors {
        Err(why) => Check::unknown(
            "runtime log",
            format!("cannot read the runtime log: {why}"),
            human(
                "the log is missing or unreadable",
                &format!("ls -l {}", log.display()),
            ),
        ),
        Ok(LogErrors { first: None, .. }) => Check::ok(
            "runtime log",
            format!(
                "no ERROR or panic lines in the last {}",
                humantime::format_duration(cfg.log_window)
            ),
        ),
        Ok(LogErrors {
            first: Some(first),
            count,
        }) => Check::warn(
            "runtime log",
            format!(
                "{count} ERROR/panic line(s) in the last {}; first: {first}",
                humantime::format_duration(cfg.log_window)
            ),
            human(
                "read the errors",
                &format!("grep -nE 'ERROR|panicked' {}", log.display()),
            ),
        ),
    });
    checks.push(if f.crash_files.is_empty() {
        Check::ok("crash dumps", "none in the state dir")
    } else {
        Check::warn(
            "crash dumps",
            format!("found: {}", f.crash_files.join(", ")),
            // A dump is evidence, and cleanup keeps young ones: advising it would loop.
            human(
                "read the dumps, then move them out of the state dir",
                &format!("ls -l {}", f.state_dir.display()),
            ),
        )
    });
    checks
}

/// A unit that is starting, stopping or not tracking the runtime it runs:
/// the answer of this moment may not last. Its state unknown is no finding.
fn unit_in_transition(u: &UnitStatus) -> Option<Check> {
    let p = u.state.as_ref()?;
    if p.active_state == "active" {
        return None;
    }
    let status = crate::system::systemctl::command_line(&u.unit.systemctl("status"));
    Some(Check::warn(
        "systemd unit",
        format!("{} is {}", u.unit.name, p.describe()),
        match p.active_state.as_str() {
            "activating" | "deactivating" | "reloading" => {
                "hal9ctl health --wait 30s   # a start or a stop finishes by itself".to_string()
            }
            _ => human("systemd does not count the runtime as running", &status),
        },
    ))
}

/// The advice that frees the port and starts the runtime on it: one command
/// for a squatter, a split, or a stranger answering as the runtime.
pub fn free_and_restart(port: u16) -> String {
    format!("hal9ctl emergency port-conflict --port {port} --restart")
}

/// Advice that ends the chain: no hal9ctl command fixes this, a person must
/// look. Every `next` is a command that acts or starts with this prefix.
pub const NEEDS_A_HUMAN: &str = "needs a human: ";

pub fn human(why: &str, look_at: &str) -> String {
    format!("{NEEDS_A_HUMAN}{why}; look at: {look_at}")
}

use crate::output::human_bytes;

pub async fn check(ctx: &Ctx) -> CheckReport {
    let facts = gather(ctx).await;
    let checks = plan(&facts, &ctx.config().health);
    let pids: Vec<i32> = facts.listeners.iter().map(|p| p.pid).collect();
    let mut report = CheckReport::new(
        format!("local runtime {}", facts.url),
        checks,
        json!({
            "url": facts.url,
            "port": facts.port,
            "recorded_pids": facts.recorded,
            "running_pids": facts.recorded_alive,
            "pids_by_name": facts.by_name,
            "listener_pids": pids,
            "listeners": facts.listeners,
            "systemd_unit": facts.systemd,
        }),
    );
    report.perf = super::monitor_output::local_perf(&facts, &ctx.config().health);
    report
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn healthy_body(pid: u32) -> HealthBody {
        HealthBody {
            status: HealthStatus::Healthy,
            version: "0.1.0".into(),
            pid,
            uptime_s: 5,
            checks: vec![],
        }
    }

    /// Shared with the no-loop proof, so both model the same processes.
    pub(crate) fn proc_info(pid: i32, hal9: bool) -> ProcInfo {
        ProcInfo {
            pid,
            ppid: 1,
            uid: 1000,
            user: "op".into(),
            command: if hal9 {
                "hal9ctl serve".into()
            } else {
                "python3 -m http.server 8080".into()
            },
            exe: None,
            comm: "x".into(),
            start_ticks: 1,
            started_at: None,
            kernel_thread: false,
            hal9_runtime: hal9,
            supervisor: None,
            owner: None,
        }
    }

    fn facts() -> LocalFacts {
        LocalFacts {
            url: "http://127.0.0.1:8080".into(),
            port: 8080,
            state_dir: "/var/lib/hal9".into(),
            recorded: vec![10],
            recorded_alive: vec![10],
            by_name: vec![10],
            named: Ok(10),
            listeners: vec![proc_info(10, true)],
            listen_sockets: 1,
            health: Probe::Answer {
                status: 200,
                body: healthy_body(10),
                latency_ms: 1.0,
            },
            ready: Probe::Answer {
                status: 200,
                body: ReadyBody {
                    ready: true,
                    reason: None,
                },
                latency_ms: 1.0,
            },
            disks: vec![],
            memory_percent: Some(30.0),
            load1: Some(0.5),
            cores: 2,
            state_writable: Ok(()),
            log_errors: Ok(LogErrors {
                count: 0,
                first: None,
            }),
            crash_files: vec![],
            systemd: None,
            oom: Some(super::super::oom::tests::quiet(10)),
        }
    }

    fn by<'a>(c: &'a [Check], n: &str) -> &'a Check {
        c.iter().find(|c| c.name == n).unwrap()
    }

    #[test]
    fn healthy_is_all_ok() {
        let c = plan(&facts(), &HealthConfig::default());
        assert_eq!(
            crate::output::checks::verdict(&c),
            crate::exit::Exit::Ok,
            "{c:#?}"
        );
    }

    #[test]
    fn a_squatter_is_a_port_conflict_even_when_a_runtime_process_exists() {
        let mut f = facts();
        f.listeners = vec![proc_info(77, false)];
        f.health = Probe::NotHal9("not JSON".into());
        let c = plan(&f, &HealthConfig::default());
        let owner = by(&c, "port owner");
        assert_eq!(owner.status, crate::output::Mark::Fail);
        assert!(
            owner
                .detail
                .contains("pid 77 (user op): python3 -m http.server 8080")
        );
        assert_eq!(
            owner.next.as_deref(),
            Some("hal9ctl emergency port-conflict --port 8080 --restart")
        );
        assert_eq!(
            by(&c, "runtime process").status,
            crate::output::Mark::Ok,
            "a process existing is not the service being available"
        );
    }

    #[test]
    fn a_stale_pid_file_and_thresholds() {
        let mut f = facts();
        f.recorded_alive.clear();
        f.by_name.clear();
        f.named = Err("pid 10 has exited".into());
        f.listeners.clear();
        f.health = Probe::Down("refused".into());
        f.memory_percent = Some(91.0);
        f.load1 = Some(3.2);
        let c = plan(&f, &HealthConfig::default());
        assert!(by(&c, "runtime process").detail.contains("stale pid file"));
        assert_eq!(by(&c, "memory").status, crate::output::Mark::Fail);
        assert_eq!(by(&c, "load").status, crate::output::Mark::Warn);
        assert!(
            c.iter()
                .filter(|c| c.status != crate::output::Mark::Ok)
                .all(|c| c.next.is_some()),
            "every failing check says what to do"
        );
    }

    #[test]
    fn log_errors_respect_the_window() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("hal9.log");
        std::fs::write(&p, "2020-01-01T00:00:00.000Z ERROR old\n2026-11-24T10:00:00.000Z ERROR recent\n2026-11-24T10:00:01.000Z  INFO fine\n").unwrap();
        let now = humantime::parse_rfc3339("2026-11-24T10:02:00Z").unwrap();
        let e = log_errors(&p, Duration::from_secs(300), now).unwrap();
        assert_eq!(e.count, 1);
        assert!(e.first.unwrap().contains("recent"));
    }

    #[test]
    fn the_tail_starts_at_a_whole_line_and_survives_stray_bytes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("hal9.log");
        let mut raw = "€".repeat(200_000).into_bytes();
        raw.extend_from_slice(b"\n\xff junk\n2026-11-24T10:00:00.000Z ERROR last\n");
        std::fs::write(&p, &raw).unwrap();
        let (tail, _) = read_log_tail(&p).unwrap();
        assert!(tail.len() as u64 <= LOG_TAIL_BYTES + 64, "{}", tail.len());
        assert!(tail.starts_with('\u{fffd}'), "starts after the cut line");
        let now = humantime::parse_rfc3339("2026-11-24T10:02:00Z").unwrap();
        assert_eq!(
            log_errors(&p, Duration::from_secs(300), now).unwrap().count,
            1
        );
    }

    #[test]
    fn an_answer_from_another_pid_than_the_proved_one_is_not_ok() {
        let mut f = facts();
        f.health = Probe::Answer {
            status: 200,
            body: healthy_body(99),
            latency_ms: 1.0,
        };
        let c = plan(&f, &HealthConfig::default());
        assert_eq!(by(&c, "GET /health").status, crate::output::Mark::Fail);
    }

    #[test]
    fn serves_found_by_name_are_not_the_runtime_of_this_state_dir() {
        let mut f = facts();
        f.recorded.clear();
        f.recorded_alive.clear();
        f.by_name = vec![7541, 7813];
        f.named = Err("the state dir has no runtime.json".into());
        let c = plan(&f, &HealthConfig::default());
        let p = by(&c, "runtime process");
        assert_eq!(p.status, crate::output::Mark::Fail);
        assert!(!p.detail.contains("7541"), "{}", p.detail);
    }

    #[test]
    fn two_sockets_on_the_port_are_a_split_and_a_missing_log_is_unknown() {
        let mut f = facts();
        f.listeners.push(proc_info(11, true));
        f.listen_sockets = 2;
        f.log_errors = Err("/var/lib/hal9/hal9.log: not found".into());
        let c = plan(&f, &HealthConfig::default());
        assert_eq!(by(&c, "port owner").status, crate::output::Mark::Fail);
        assert!(by(&c, "port owner").detail.contains("split"));
        assert_eq!(by(&c, "runtime log").status, crate::output::Mark::Unknown);
    }
}
