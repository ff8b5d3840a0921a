//! Gathering the local parts of a bundle. Each gatherer returns the part or
//! the reason it could not be read; none of them fails the bundle.

use std::time::{Duration, SystemTime};

use super::archive::Gathered;
use crate::cli::Ctx;
use crate::cluster::Target;
use crate::output::Report;
use crate::runtime::state::StateDir;
use crate::system::audit::AuditLog;

/// Cap of one answer of the runtime (status, metrics, migration).
pub const API_CAP: usize = 4 * 1024 * 1024;

/// One GET, its body read up to `cap` bytes: a runtime that answers with
/// gigabytes (or never stops) costs at most `cap` and `timeout`.
pub async fn get_bounded(
    url: &str,
    token: Option<&str>,
    timeout: Duration,
    cap: usize,
) -> Result<Gathered, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let mut resp = req
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = resp.status();
    let mut data = Vec::new();
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                let room = cap.saturating_sub(data.len());
                if c.len() > room {
                    data.extend_from_slice(c.get(..room).unwrap_or_default());
                    truncated = true;
                    break;
                }
                data.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(format!(
                    "GET {url}: reading the answer: {}",
                    error_chain(&e)
                ));
            }
        }
    }
    if !status.is_success() {
        return Err(format!(
            "GET {url} answered {status}: {}",
            String::from_utf8_lossy(data.get(..data.len().min(400)).unwrap_or_default())
        ));
    }
    Ok(Gathered { data, truncated })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(&format!(": {c}"));
        src = c.source();
    }
    s
}

/// `health -o json`, the same report.
pub async fn health(ctx: &Ctx, cluster: Option<&Target>) -> Result<Gathered, String> {
    let settings = crate::commands::health::HealthSettings {
        cluster: cluster.cloned(),
        watch: None,
        wait: None,
        textfile: None,
    };
    match crate::commands::health::run(ctx, &settings).await {
        Ok(r) => Ok(Gathered::json(&r.to_json())),
        Err(e) => Err(format!("the health check could not run: {e:#}")),
    }
}

/// The last `cap` bytes of the runtime log, opened without following a link.
pub fn log_tail(ctx: &Ctx, cap: u64) -> Result<Gathered, String> {
    let path = StateDir::new(&ctx.state_dir).log_file();
    match crate::system::fsio::read_tail(&path, cap) {
        Ok((text, meta)) => Ok(Gathered {
            truncated: meta.len() > cap,
            data: text.into_bytes(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "no log at {}: `serve` writes it there only with --detach; under systemd see \
             `journalctl -u hal9 --since -1h`, else the terminal that ran `hal9ctl serve`",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

pub fn runtime_json(ctx: &Ctx) -> Result<Gathered, String> {
    let path = StateDir::new(&ctx.state_dir).runtime_json();
    match crate::system::fsio::read_state_file(&path) {
        Ok(Some(b)) => Ok(Gathered::whole(b)),
        Ok(None) => Err(format!(
            "{} does not exist: no runtime started with this state dir",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// `hal9ctl config -o json`: the effective config and each value's source.
pub fn config(ctx: &Ctx) -> Result<Gathered, String> {
    crate::commands::config::run(ctx, false)
        .map(|r| Gathered::json(&r.to_json()))
        .map_err(|e| format!("{e:#}"))
}

/// The audit entries of the window, as `audit --since -o json` shows them.
pub fn audit(ctx: &Ctx, since: Duration) -> Result<Gathered, String> {
    let log = AuditLog::new(&ctx.state_dir);
    let (entries, unreadable) = log
        .read()
        .map_err(|e| format!("{}: {e}", log.path().display()))?;
    let cutoff = SystemTime::now().checked_sub(since);
    let entries = crate::commands::audit::filter_since(entries, cutoff);
    Ok(Gathered::json(&serde_json::json!({
        "file": log.path().display().to_string(),
        "since": humantime::format_duration(since).to_string(),
        "entries": entries,
        "unreadable_lines": unreadable,
    })))
}

/// uname, uptime, load, memory and the filesystems that matter here, as text
/// a person reads in the postmortem.
pub fn host(ctx: &Ctx) -> Result<Gathered, String> {
    let mut out = String::new();
    let u = nix::sys::utsname::uname().map_err(|e| format!("uname: {e}"))?;
    out.push_str(&format!(
        "uname: {} {} {} {} {}\n",
        u.sysname().to_string_lossy(),
        u.nodename().to_string_lossy(),
        u.release().to_string_lossy(),
        u.version().to_string_lossy(),
        u.machine().to_string_lossy()
    ));
    out.push_str(&format!("time: {}\n", crate::system::clock::now_rfc3339()));
    for (label, file) in [
        ("uptime_s idle_s", "/proc/uptime"),
        ("loadavg", "/proc/loadavg"),
    ] {
        match proc_text(file, 4096) {
            Ok(t) => out.push_str(&format!("{label}: {}\n", t.trim())),
            Err(e) => out.push_str(&format!("{label}: unreadable ({e})\n")),
        }
    }
    out.push_str(&format!(
        "cpus: {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    match proc_text("/proc/meminfo", 64 * 1024) {
        Ok(t) => {
            out.push_str("memory:\n");
            for line in t.lines().filter(|l| {
                ["MemTotal:", "MemAvailable:", "SwapTotal:", "SwapFree:"]
                    .iter()
                    .any(|k| l.starts_with(k))
            }) {
                out.push_str(&format!("  {line}\n"));
            }
        }
        Err(e) => out.push_str(&format!("memory: unreadable ({e})\n")),
    }
    out.push_str("filesystems:\n");
    let mut seen = std::collections::BTreeSet::new();
    for p in [ctx.state_dir.as_path(), std::path::Path::new("/")] {
        match crate::system::disk::usage(p) {
            Ok(u) if seen.insert(u.device) => out.push_str(&format!(
                "  {} ({}) {:.1}% used, {} of {} bytes free  [holds {}]\n",
                u.mount_point.display(),
                u.fs_type,
                u.percent,
                u.avail,
                u.total,
                p.display()
            )),
            Ok(_) => {}
            Err(e) => out.push_str(&format!("  {}: unreadable ({e})\n", p.display())),
        }
    }
    Ok(Gathered::whole(out.into_bytes()))
}

fn proc_text(path: &str, cap: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut s = String::new();
    std::fs::File::open(path)?
        .take(cap)
        .read_to_string(&mut s)?;
    Ok(s)
}
