//! A list of checks with ✓ ⚠ ✗ marks and a next step under every failing one:
//! the report shape of `hal9ctl health`, local and in the cluster.

use serde::Serialize;

use super::{Mark, Report, Styles, table, to_value};
use crate::exit::Exit;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Mark,
    pub detail: String,
    /// The command to run next; set on every check that is not OK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Check {
    pub fn ok(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Mark::Ok,
            detail: detail.into(),
            next: None,
        }
    }

    pub fn warn(name: &str, detail: impl Into<String>, next: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Mark::Warn,
            detail: detail.into(),
            next: Some(next.into()),
        }
    }

    pub fn fail(name: &str, detail: impl Into<String>, next: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Mark::Fail,
            detail: detail.into(),
            next: Some(next.into()),
        }
    }

    pub fn unknown(name: &str, detail: impl Into<String>, next: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status: Mark::Unknown,
            detail: detail.into(),
            next: Some(next.into()),
        }
    }

    pub fn exit(&self) -> Exit {
        match self.status {
            Mark::Ok => Exit::Ok,
            Mark::Warn => Exit::Warning,
            Mark::Fail => Exit::Critical,
            Mark::Unknown => Exit::Unknown,
        }
    }
}

/// How soon a check needs a hand: failures first, then what could not be
/// checked, then warnings. Within a rank the planner's order stands, and
/// planners push causes before their symptoms.
fn urgency(m: Mark) -> u8 {
    match m {
        Mark::Fail => 0,
        Mark::Unknown => 1,
        Mark::Warn => 2,
        Mark::Ok => 3,
    }
}

/// Checks by urgency, then by cause (a stable sort keeps the planner's
/// cause-first order): the first one not OK is the root cause.
pub fn by_urgency(mut checks: Vec<Check>) -> Vec<Check> {
    checks.sort_by_key(|c| urgency(c.status));
    checks
}

/// The one command to run next: that of the most urgent, most causal check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootCause {
    /// The check it comes from.
    pub check: String,
    pub command: String,
}

pub fn root_cause(checks: &[Check]) -> Option<RootCause> {
    checks
        .iter()
        .filter(|c| c.status != Mark::Ok)
        .min_by_key(|c| urgency(c.status))
        .and_then(|c| {
            c.next.as_ref().map(|n| RootCause {
                check: c.name.clone(),
                command: n.clone(),
            })
        })
}

/// The verdict of a set of checks: the worst of them.
pub fn verdict(checks: &[Check]) -> Exit {
    checks.iter().fold(Exit::Ok, |acc, c| acc.worst(c.exit()))
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// What was checked: `local runtime http://127.0.0.1:8080`, `deployment hal9/hal9-server`.
    pub target: String,
    pub status: Exit,
    /// The root cause's command, run first; `null` when all is OK.
    pub next: Option<String>,
    /// Which check `next` comes from.
    pub root_cause: Option<String>,
    /// Most urgent first; the first one not OK is the root cause.
    pub checks: Vec<Check>,
    /// Extra structured facts (pids found, replica counts …) for `-o json`.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub facts: serde_json::Value,
    /// The measured values behind the checks (Nagios perfdata, Prometheus gauges).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub perf: Vec<super::perfdata::Perf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunTiming>,
}

/// When a health run started and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunTiming {
    pub started_unix: f64,
    pub duration_s: f64,
}

impl CheckReport {
    pub fn new(
        target: impl Into<String>,
        checks: Vec<Check>,
        facts: serde_json::Value,
    ) -> CheckReport {
        let checks = by_urgency(checks);
        let root = root_cause(&checks);
        CheckReport {
            target: target.into(),
            status: verdict(&checks),
            next: root.as_ref().map(|r| r.command.clone()),
            root_cause: root.map(|r| r.check),
            checks,
            facts,
            perf: Vec::new(),
            run: None,
        }
    }
}

impl Report for CheckReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        self.render_rows(st, false)
    }

    /// The verdict, and only the checks that are not OK (with their next step).
    fn render_quiet(&self, st: &Styles) -> String {
        self.render_rows(st, true)
    }

    fn exit(&self) -> Exit {
        self.status
    }

    fn render_nagios(&self) -> Option<String> {
        Some(super::nagios::render(self))
    }

    fn render_prometheus(&self) -> Option<String> {
        Some(super::prom_textfile::render(self))
    }
}

impl CheckReport {
    fn render_rows(&self, st: &Styles, only_problems: bool) -> String {
        let mut t = table(&["", "check", "detail"]);
        let shown = self
            .checks
            .iter()
            .filter(|c| !only_problems || c.status != Mark::Ok);
        for c in shown {
            let mut detail = c.detail.clone();
            if let Some(next) = &c.next {
                detail.push('\n');
                detail.push_str(&st.dim(&format!("→ {next}")));
            }
            t.add_row(vec![st.mark(c.status), c.name.clone(), detail]);
        }
        let status = match self.status {
            Exit::Ok => st.good("OK"),
            Exit::Warning => st.warn("WARNING"),
            Exit::Critical => st.bad("CRITICAL"),
            other => st.bad(&other.to_string()),
        };
        if only_problems && self.checks.iter().all(|c| c.status == Mark::Ok) {
            return format!("{}: {status}\n", self.target);
        }
        let next = match (&self.next, &self.root_cause) {
            (Some(n), Some(c)) => format!("next ({c}): {n}\n"),
            _ => String::new(),
        };
        format!("{}: {status}\n{t}\n{next}", self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_is_the_worst_check() {
        let ok = Check::ok("a", "fine");
        let warn = Check::warn("b", "meh", "hal9ctl health");
        let fail = Check::fail("c", "down", "hal9ctl restart");
        assert_eq!(verdict(std::slice::from_ref(&ok)), Exit::Ok);
        assert_eq!(verdict(&[ok.clone(), warn.clone()]), Exit::Warning);
        assert_eq!(verdict(&[warn, fail, ok]), Exit::Critical);
        assert_eq!(verdict(&[]), Exit::Ok);
    }

    #[test]
    fn failures_come_first_and_the_first_cause_is_the_root() {
        let r = CheckReport::new(
            "t",
            vec![
                Check::warn("log", "errors", "grep"),
                Check::ok("fine", "ok"),
                Check::fail("port owner", "squatter", "hal9ctl emergency port-conflict"),
                Check::fail("runtime process", "stale", "hal9ctl restart"),
                Check::unknown("memory", "?", "free -m"),
            ],
            serde_json::Value::Null,
        );
        let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["port owner", "runtime process", "memory", "log", "fine"]
        );
        assert_eq!(r.next.as_deref(), Some("hal9ctl emergency port-conflict"));
        assert_eq!(r.root_cause.as_deref(), Some("port owner"));
        let ok = CheckReport::new("t", vec![Check::ok("a", "b")], serde_json::Value::Null);
        assert_eq!((ok.next, ok.root_cause), (None, None));
    }
}
