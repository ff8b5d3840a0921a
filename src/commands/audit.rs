//! `hal9ctl audit`: the timeline of what hal9ctl did, when, as whom, and with what result.

use std::time::SystemTime;

use anyhow::Context;
use serde::Serialize;

use crate::cli::Ctx;
use crate::cli::args::AuditArgs;
use crate::output::{Report, Styles, table, to_value};
use crate::system::audit::{AuditLog, Entry};

#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub file: String,
    pub since: Option<String>,
    pub entries: Vec<Entry>,
    /// Lines that were not valid audit entries (a torn write, hand edits).
    pub unreadable_lines: usize,
}

pub fn run(ctx: &Ctx, args: &AuditArgs) -> anyhow::Result<AuditReport> {
    let log = AuditLog::new(&ctx.state_dir);
    let (entries, unreadable_lines) = log
        .read()
        .with_context(|| format!("reading {}", log.path().display()))?;
    let cutoff = args.since.map(|d| {
        SystemTime::now()
            .checked_sub(d)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    });
    let entries = filter_since(entries, cutoff);
    Ok(AuditReport {
        file: log.path().display().to_string(),
        since: args
            .since
            .map(|d| humantime::format_duration(d).to_string()),
        entries,
        unreadable_lines,
    })
}

/// Keep entries at or after `cutoff`; an entry whose time does not parse is kept,
/// because hiding an action from an audit view is worse than showing an odd one.
pub fn filter_since(entries: Vec<Entry>, cutoff: Option<SystemTime>) -> Vec<Entry> {
    let Some(cutoff) = cutoff else { return entries };
    entries
        .into_iter()
        .filter(|e| {
            humantime::parse_rfc3339(&e.time)
                .map(|t| t >= cutoff)
                .unwrap_or(true)
        })
        .collect()
}

impl Report for AuditReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        if self.entries.is_empty() {
            let window = self
                .since
                .as_ref()
                .map(|s| format!(" in the last {s}"))
                .unwrap_or_default();
            return format!("no actions recorded{window} in {}\n", self.file);
        }
        let mut t = table(&["time", "user", "action", "target", "result"]);
        for e in &self.entries {
            let result = if e.result == "ok" {
                st.good(&e.result)
            } else if e.result.starts_with("dry-run") {
                st.dim(&e.result)
            } else {
                st.warn(&e.result)
            };
            t.add_row(vec![
                e.time.clone(),
                format!("{}@{}", e.user, e.host),
                e.action.clone(),
                e.target.clone(),
                result,
            ]);
        }
        let mut out = format!("{t}\n");
        if self.unreadable_lines > 0 {
            out.push_str(&format!(
                "{} unreadable line(s) skipped in {}\n",
                self.unreadable_lines, self.file
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(time: &str) -> Entry {
        Entry {
            time: time.into(),
            user: "op".into(),
            host: "h".into(),
            argv: vec![],
            target: "t".into(),
            action: "kill".into(),
            result: "ok".into(),
        }
    }

    #[test]
    fn since_keeps_recent_and_unparseable_entries() {
        let cutoff = humantime::parse_rfc3339("2026-01-01T12:00:00Z").unwrap();
        let kept = filter_since(
            vec![
                at("2026-01-01T11:59:59Z"),
                at("2026-01-01T12:00:00Z"),
                at("garbage"),
            ],
            Some(cutoff),
        );
        let times: Vec<_> = kept.iter().map(|e| e.time.as_str()).collect();
        assert_eq!(times, vec!["2026-01-01T12:00:00Z", "garbage"]);
    }
}
