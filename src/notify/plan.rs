//! What to post, decided on plain data: which checks page or resolve given
//! what was paged before, how one run's actions read as one event, and the
//! two body shapes (Slack-compatible webhook, PagerDuty Events v2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

/// One event, before it is shaped for a destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The same key for the same problem on the same host, on every run.
    pub dedup_key: String,
    pub action: EventAction,
    pub severity: Severity,
    pub summary: String,
    pub source: String,
    /// The check, or the command that acted.
    pub subject: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    Trigger,
    Resolve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

/// What was paged and not yet resolved, by dedup key (kept in the state dir).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Paged {
    #[serde(default)]
    pub open: BTreeMap<String, PagedCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagedCheck {
    pub since: String,
    pub summary: String,
}

/// A check as the health verdict judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckVerdict {
    pub name: String,
    pub critical: bool,
    /// The check ran and found it fine (or only degraded): a page may resolve.
    pub recovered: bool,
    pub detail: String,
}

/// `hal9ctl:HOST:TARGET:CHECK`: stable across runs, so PagerDuty folds a
/// repeated page into the open incident, and distinct per host and check.
pub fn dedup_key(host: &str, target: &str, check: &str) -> String {
    format!("hal9ctl:{host}:{target}:{check}")
}

/// Trigger each CRITICAL check not already paged, and resolve each paged
/// check that recovered. A CRITICAL check already open is not sent again:
/// a health check run every minute by cron must not post every minute.
/// A check that did not run this time (absent, or unknown) neither pages
/// nor resolves.
pub fn plan_verdicts(
    host: &str,
    target: &str,
    checks: &[CheckVerdict],
    paged: &Paged,
) -> Vec<Event> {
    let mut events = Vec::new();
    for c in checks {
        let key = dedup_key(host, target, &c.name);
        let open = paged.open.contains_key(&key);
        if c.critical && !open {
            events.push(Event {
                dedup_key: key,
                action: EventAction::Trigger,
                severity: Severity::Critical,
                summary: format!("CRITICAL {target} {}: {}", c.name, c.detail),
                source: host.to_string(),
                subject: c.name.clone(),
            });
        } else if c.recovered && open {
            events.push(Event {
                dedup_key: key,
                action: EventAction::Resolve,
                severity: Severity::Info,
                summary: format!("recovered {target} {}: {}", c.name, c.detail),
                source: host.to_string(),
                subject: c.name.clone(),
            });
        }
    }
    events
}

/// The paged state after `sent` events were delivered.
pub fn after_delivery(mut paged: Paged, sent: &[Event], now: &str) -> Paged {
    for e in sent {
        match e.action {
            EventAction::Trigger => {
                paged.open.insert(
                    e.dedup_key.clone(),
                    PagedCheck {
                        since: now.to_string(),
                        summary: e.summary.clone(),
                    },
                );
            }
            EventAction::Resolve => {
                paged.open.remove(&e.dedup_key);
            }
        }
    }
    paged
}

/// One audited action of this run.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditedAction {
    pub action: String,
    pub target: String,
    pub result: String,
}

/// The actions one command took, as one event: "hal9ctl disk cleanup on web1:
/// delete ×3 ok". `None` when nothing was done (a dry run only plans).
pub fn plan_actions(
    host: &str,
    command: &str,
    actions: &[AuditedAction],
    at: &str,
) -> Option<Event> {
    let done: Vec<&AuditedAction> = actions
        .iter()
        .filter(|a| !a.result.starts_with("dry-run"))
        .collect();
    if done.is_empty() {
        return None;
    }
    let failed = done.iter().filter(|a| a.result != "ok").count();
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for a in &done {
        let result = a.result.split(':').next().unwrap_or_default();
        *counts.entry((a.action.as_str(), result)).or_default() += 1;
    }
    let tally: Vec<String> = counts
        .iter()
        .map(|((action, result), n)| format!("{action} ×{n} {result}"))
        .collect();
    let first = done
        .iter()
        .take(3)
        .map(|a| format!("{} {}: {}", a.action, a.target, a.result))
        .collect::<Vec<_>>()
        .join("; ");
    let more = done.len().saturating_sub(3);
    let more = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    Some(Event {
        dedup_key: format!("hal9ctl:{host}:action:{command}:{at}"),
        action: EventAction::Trigger,
        severity: if failed > 0 {
            Severity::Warning
        } else {
            Severity::Info
        },
        summary: format!(
            "hal9ctl {command} on {host}: {} — {first}{more}",
            tally.join(", ")
        ),
        source: host.to_string(),
        subject: command.to_string(),
    })
}

/// PagerDuty keeps summaries to 1024 characters.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A Slack-compatible incoming-webhook body: `text` is what every
/// Slack-like receiver (Mattermost, Rocket.Chat, Teams' Slack mode) shows.
pub fn webhook_body(e: &Event) -> serde_json::Value {
    let mark = match (e.action, e.severity) {
        (EventAction::Resolve, _) => ":white_check_mark:",
        (_, Severity::Critical) => ":red_circle:",
        (_, Severity::Warning) => ":warning:",
        (_, Severity::Info) => ":information_source:",
    };
    json!({
        "text": format!("{mark} {}", e.summary),
        "hal9": {
            "dedup_key": e.dedup_key,
            "event_action": e.action,
            "severity": e.severity,
            "source": e.source,
            "subject": e.subject,
        }
    })
}

/// A PagerDuty Events API v2 body.
pub fn pagerduty_body(routing_key: &str, e: &Event) -> serde_json::Value {
    json!({
        "routing_key": routing_key,
        "event_action": e.action,
        "dedup_key": e.dedup_key,
        "payload": {
            "summary": clip(&e.summary, 1024),
            "source": e.source,
            "severity": e.severity,
            "component": "hal9",
            "class": e.subject,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, critical: bool, recovered: bool) -> CheckVerdict {
        CheckVerdict {
            name: name.into(),
            critical,
            recovered,
            detail: "d".into(),
        }
    }

    #[test]
    fn a_critical_check_pages_once_then_resolves_on_recovery() {
        let checks = [v("runtime", true, false), v("disk", false, true)];
        let first = plan_verdicts("web1", "local", &checks, &Paged::default());
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].action, EventAction::Trigger);
        assert_eq!(first[0].dedup_key, "hal9ctl:web1:local:runtime");
        let paged = after_delivery(Paged::default(), &first, "t0");
        assert!(
            plan_verdicts("web1", "local", &checks, &paged).is_empty(),
            "no second page"
        );
        // Not run this time (unknown): neither resolves nor pages.
        assert!(plan_verdicts("web1", "local", &[v("runtime", false, false)], &paged).is_empty());
        let back = plan_verdicts("web1", "local", &[v("runtime", false, true)], &paged);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].action, EventAction::Resolve);
        assert_eq!(back[0].dedup_key, first[0].dedup_key);
        assert!(after_delivery(paged, &back, "t1").open.is_empty());
    }

    #[test]
    fn a_runs_actions_are_one_event_and_a_dry_run_is_none() {
        let a = |action: &str, result: &str| AuditedAction {
            action: action.into(),
            target: "/x".into(),
            result: result.into(),
        };
        assert!(plan_actions("h", "disk cleanup", &[a("delete", "dry-run")], "t").is_none());
        let e = plan_actions(
            "h",
            "disk cleanup",
            &[
                a("delete", "ok"),
                a("delete", "ok"),
                a("truncate", "failed: EIO"),
                a("delete", "ok"),
            ],
            "t",
        )
        .unwrap();
        assert_eq!(e.severity, Severity::Warning);
        assert!(e.summary.contains("delete ×3 ok"), "{}", e.summary);
        assert!(e.summary.contains("truncate ×1 failed"), "{}", e.summary);
        assert!(e.summary.contains("and 1 more"), "{}", e.summary);
    }

    #[test]
    fn bodies_have_the_fields_receivers_need() {
        let e = plan_verdicts(
            "h",
            "local",
            &[v("runtime", true, false)],
            &Paged::default(),
        )
        .remove(0);
        let pd = pagerduty_body("R0UTINGKEY", &e);
        assert_eq!(pd["routing_key"], "R0UTINGKEY");
        assert_eq!(pd["event_action"], "trigger");
        assert_eq!(pd["payload"]["severity"], "critical");
        assert_eq!(pd["payload"]["source"], "h");
        assert!(
            pd["payload"]["summary"]
                .as_str()
                .unwrap()
                .contains("runtime")
        );
        let wh = webhook_body(&e);
        assert!(wh["text"].as_str().unwrap().contains("CRITICAL"));
        let long = Event {
            summary: "x".repeat(5000),
            ..e
        };
        let n = pagerduty_body("k", &long)["payload"]["summary"]
            .as_str()
            .unwrap()
            .chars()
            .count();
        assert_eq!(n, 1024);
    }
}
