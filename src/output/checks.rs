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

/// The verdict of a set of checks: the worst of them.
pub fn verdict(checks: &[Check]) -> Exit {
    checks.iter().fold(Exit::Ok, |acc, c| acc.worst(c.exit()))
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// What was checked: `local runtime http://127.0.0.1:8080`, `deployment hal9/hal9-server`.
    pub target: String,
    pub status: Exit,
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
        CheckReport {
            target: target.into(),
            status: verdict(&checks),
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
        format!("{}: {status}\n{t}\n", self.target)
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
}
