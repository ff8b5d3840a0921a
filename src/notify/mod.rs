//! Notifications: every destructive action and every CRITICAL health verdict
//! goes to the `[notify]` webhook and/or PagerDuty, once.
//!
//! Actions are noted where every action is recorded (the audit log), and
//! posted as one event per command after it finished, so a cleanup that
//! deleted 500 files sends one message, not 500. Health verdicts page per
//! check with a dedup key from host, target and check; what was paged is
//! kept in the state dir so a recovery resolves it and a repeat does not
//! page again. Delivery never changes the command's outcome: a failure is
//! warned about once and recorded in the audit log.

pub mod plan;

use std::path::Path;
use std::sync::Mutex;

use crate::cli::Ctx;
use crate::config::NotifyConfig;
use crate::output::Mark;
use crate::output::checks::CheckReport;
use plan::{AuditedAction, Event, Paged};

/// The open pages, by dedup key.
pub const PAGED_FILE: &str = "notify-paged.json";
/// The audit action of a failed delivery (never itself notified).
pub const AUDIT_ACTION: &str = "notify";
/// Bound on the actions one process remembers for its summary event.
const MAX_PENDING: usize = 10_000;

static PENDING: Mutex<Vec<AuditedAction>> = Mutex::new(Vec::new());

/// Called for every audit entry written by this process.
pub fn note_action(action: &str, target: &str, result: &str) {
    if action == AUDIT_ACTION {
        return;
    }
    if let Ok(mut p) = PENDING.lock()
        && p.len() < MAX_PENDING
    {
        p.push(AuditedAction {
            action: action.into(),
            target: target.into(),
            result: result.into(),
        });
    }
}

fn take_pending() -> Vec<AuditedAction> {
    PENDING
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default()
}

/// Values of the config that are secrets: a Slack webhook URL is its own
/// credential, and so is a routing key.
pub fn secrets(cfg: &NotifyConfig) -> Vec<String> {
    [cfg.webhook.clone(), cfg.pagerduty_routing_key.clone()]
        .into_iter()
        .flatten()
        .collect()
}

fn enabled(cfg: &NotifyConfig) -> bool {
    cfg.webhook.is_some() || cfg.pagerduty_routing_key.is_some()
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// After a command: one event for what it did, if it did anything.
pub fn after_command(ctx: &Ctx, command: &str) {
    let actions = take_pending();
    if !enabled(&ctx.config().notify) {
        return;
    }
    let at = crate::system::clock::now_rfc3339();
    if let Some(e) = plan::plan_actions(&hostname(), command, &actions, &at) {
        deliver(ctx, &[e]);
    }
}

/// After `health`: page CRITICAL checks, resolve recovered ones.
pub fn after_health(ctx: &Ctx, report: &CheckReport) {
    if !enabled(&ctx.config().notify) {
        return;
    }
    let path = ctx.state_dir.join(PAGED_FILE);
    let paged = match read_paged(&path) {
        Ok(p) => p,
        Err(e) => {
            // Without the record we cannot tell a repeat from a new page;
            // paging again is safer than never paging.
            ctx.printer.warn(&format!(
                "notify: {}: {e}; treating every CRITICAL check as new",
                path.display()
            ));
            Paged::default()
        }
    };
    let verdicts: Vec<plan::CheckVerdict> = report
        .checks
        .iter()
        .map(|c| plan::CheckVerdict {
            name: c.name.clone(),
            critical: c.status == Mark::Fail,
            recovered: matches!(c.status, Mark::Ok | Mark::Warn),
            detail: c.detail.clone(),
        })
        .collect();
    let events = plan::plan_verdicts(&hostname(), &report.target, &verdicts, &paged);
    if events.is_empty() {
        return;
    }
    let sent = deliver(ctx, &events);
    let now = crate::system::clock::now_rfc3339();
    let next = plan::after_delivery(paged, &sent, &now);
    let written = serde_json::to_vec_pretty(&next)
        .map_err(std::io::Error::other)
        .and_then(|b| {
            crate::system::fsio::ensure_private_dir(&ctx.state_dir)?;
            crate::system::fsio::write_atomic(&path, &b, 0o600)
        });
    if let Err(e) = written {
        ctx.printer.warn(&format!(
            "notify: could not record the pages in {}: {e}",
            path.display()
        ));
    }
}

fn read_paged(path: &Path) -> std::io::Result<Paged> {
    match crate::system::fsio::read_state_file(path)? {
        None => Ok(Paged::default()),
        Some(b) => serde_json::from_slice(&b)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
    }
}

/// Where a URL points, without its path or query (a webhook URL's path is
/// its secret).
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        }
        Err(_) => "an unparseable URL".into(),
    }
}

/// Post each event to every destination; the events every destination took.
fn deliver(ctx: &Ctx, events: &[Event]) -> Vec<Event> {
    let cfg = &ctx.config().notify;
    let token = crate::runtime::state::StateDir::new(&ctx.state_dir)
        .read_admin_token()
        .ok()
        .filter(|t| t.len() >= 8);
    let scrub = |v: serde_json::Value| -> Vec<u8> {
        let s = v.to_string();
        match &token {
            Some(t) => s.replace(t.as_str(), "[redacted]").into_bytes(),
            None => s.into_bytes(),
        }
    };
    let mut jobs: Vec<(String, String, Vec<u8>, usize)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(url) = &cfg.webhook {
            jobs.push((
                format!("webhook {}", origin(url)),
                url.clone(),
                scrub(plan::webhook_body(e)),
                i,
            ));
        }
        if let Some(key) = &cfg.pagerduty_routing_key {
            jobs.push((
                format!("pagerduty {}", origin(&cfg.pagerduty_url)),
                cfg.pagerduty_url.clone(),
                scrub(plan::pagerduty_body(key, e)),
                i,
            ));
        }
    }
    let timeout = cfg.timeout;
    let results = crate::system::blocking::block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build();
        let mut out = Vec::new();
        for (dest, url, body, i) in jobs {
            let r = match &client {
                Err(e) => Err(format!("cannot build an HTTP client: {e}")),
                Ok(c) => match c
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(resp) if resp.status().is_success() => Ok(()),
                    Ok(resp) => Err(format!("answered {}", resp.status())),
                    Err(e) if e.is_timeout() => Err(format!(
                        "no answer within {}",
                        humantime::format_duration(timeout)
                    )),
                    Err(e) => Err(format!("{e}")),
                },
            };
            out.push((dest, i, r));
        }
        out
    });
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            ctx.printer
                .warn(&format!("notify: could not start the delivery: {e}"));
            return Vec::new();
        }
    };
    let mut failed_events = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for (dest, i, r) in results {
        if let Err(why) = r {
            // A URL in an error message would carry the webhook's secret path.
            let why = secrets(cfg)
                .iter()
                .fold(why, |w, s| w.replace(s.as_str(), &origin(s)));
            crate::system::audit::record_or_warn(
                &ctx.state_dir,
                AUDIT_ACTION,
                &dest,
                &format!("failed: {why}"),
            );
            failures.push(format!("{dest}: {why}"));
            failed_events.insert(i);
        }
    }
    if !failures.is_empty() {
        ctx.printer.warn(&format!(
            "could not deliver {} notification(s) ({}); the command's outcome is unchanged, see `hal9ctl audit`",
            failures.len(),
            failures.join("; ")
        ));
    }
    events
        .iter()
        .enumerate()
        .filter(|(i, _)| !failed_events.contains(i))
        .map(|(_, e)| e.clone())
        .collect()
}
