//! `hal9ctl audit`: the timeline of what hal9ctl did, when, as whom, and with what result.
//! With `--cluster`, the rollback/migration journal kept in the ConfigMap
//! hal9-migration joins it (what an operator on another machine did), and
//! `--export json|csv` prints the entries alone for a spreadsheet or a SIEM.

use std::time::SystemTime;

use anyhow::Context;
use serde::Serialize;

use crate::cli::Ctx;
use crate::commands::rollback::journal::{Journal, StepStatus};
use crate::output::{Report, Styles, table, to_value};
use crate::system::audit::{AuditLog, Entry};

mod settings;
pub use settings::AuditSettings;

/// `--export`: the entries alone, for a spreadsheet or a SIEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditExport {
    Json,
    /// RFC 4180.
    Csv,
}

#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub file: String,
    pub since: Option<String>,
    pub entries: Vec<Entry>,
    /// Lines that were not valid audit entries (a torn write, hand edits).
    pub unreadable_lines: usize,
    /// Where the cluster-side journal was read (`configmap NS/hal9-migration`), with --cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_journal: Option<String>,
    #[serde(skip)]
    export: Option<AuditExport>,
}

pub async fn run(ctx: &Ctx, s: &AuditSettings) -> anyhow::Result<AuditReport> {
    let log = AuditLog::new(&ctx.state_dir);
    let (mut entries, unreadable_lines) = log
        .read()
        .with_context(|| format!("reading {}", log.path().display()))?;
    let mut cluster_journal = None;
    if let Some(t) = &s.cluster {
        let (source, journal) = cluster_journal_of(t).await?;
        if let Some(j) = journal {
            entries.extend(journal_entries(&j, &source));
        }
        cluster_journal = Some(source);
    }
    // RFC 3339 UTC to the second sorts as text; a stable sort keeps the
    // local order of entries with the same second.
    entries.sort_by(|a, b| a.time.cmp(&b.time));
    let cutoff = s.since.map(|d| {
        SystemTime::now()
            .checked_sub(d)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    });
    let entries = filter_since(entries, cutoff);
    Ok(AuditReport {
        file: log.path().display().to_string(),
        since: s.since.map(|d| humantime::format_duration(d).to_string()),
        entries,
        unreadable_lines,
        cluster_journal,
        export: s.export,
    })
}

/// The journal annotation of the ConfigMap hal9-migration, if there is one.
async fn cluster_journal_of(
    t: &crate::cluster::Target,
) -> anyhow::Result<(String, Option<Journal>)> {
    use crate::cluster::migration::{JOURNAL_ANNOTATION, NAME};
    use k8s_openapi::api::core::v1::ConfigMap;
    let kube = crate::cluster::connect(t).await?;
    let source = format!("configmap {}/{NAME}", t.namespace);
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(kube.client.clone(), &t.namespace);
    let cm = api.get_opt(NAME).await.map_err(|e| {
        crate::cluster::client::api_error(
            &kube,
            crate::cluster::client::Op::named("get", "configmaps", NAME),
            e,
        )
    })?;
    let Some(text) = cm
        .as_ref()
        .and_then(|c| c.metadata.annotations.as_ref())
        .and_then(|a| a.get(JOURNAL_ANNOTATION))
    else {
        return Ok((source, None));
    };
    let j = serde_json::from_str(text).with_context(|| {
        format!("the {JOURNAL_ANNOTATION} annotation of {source} is not a journal")
    })?;
    Ok((source, Some(j)))
}

/// The journal as audit entries: its start, then each applied step, marked
/// as coming from the cluster so they are told apart from this host's.
pub fn journal_entries(j: &Journal, source: &str) -> Vec<Entry> {
    let command = j.direction.command();
    let (user, host) = match j.started_by.split_once('@') {
        Some((u, h)) => (u.to_string(), h.to_string()),
        None => (j.started_by.clone(), String::new()),
    };
    let at = |time: &str, action: String, result: String| Entry {
        time: time.to_string(),
        user: user.clone(),
        host: if host.is_empty() {
            source.to_string()
        } else {
            format!("{host} (via {source})")
        },
        argv: Vec::new(),
        target: j.target.clone(),
        action,
        result,
    };
    let mut out = vec![at(
        &j.started_at,
        format!("{command}-start"),
        format!(
            "{:?} {}",
            j.strategy,
            serde_json::to_value(j.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        )
        .to_lowercase(),
    )];
    for s in &j.steps {
        if s.status != StepStatus::Applied {
            continue;
        }
        let Some(t) = &s.applied_at else { continue };
        let gate = match &s.gate {
            Some(g) if g.inconclusive => " (gate inconclusive)",
            Some(g) if !g.passed => " (gate failed)",
            _ => "",
        };
        out.push(at(
            t,
            format!("{command}-step"),
            format!(
                "ok: step {} to {} at {}%{gate}",
                s.index + 1,
                s.target.phase,
                s.target.hierarchical_percent
            ),
        ));
    }
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line
/// break or edge spaces, with quotes doubled. Control characters never
/// reach here raw: the Printer escapes them, so a crafted file name cannot
/// break the row or reach a terminal.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The entries as CSV with a header; `argv` is one field, a JSON array, so
/// arguments with spaces stay apart.
pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::from("time,user,host,action,target,result,argv\n");
    for e in entries {
        let argv = serde_json::to_string(&e.argv).unwrap_or_default();
        let row = [
            &e.time, &e.user, &e.host, &e.action, &e.target, &e.result, &argv,
        ]
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
        out.push_str(&row);
        out.push('\n');
    }
    out
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
        match self.export {
            Some(_) => to_value(&self.entries),
            None => to_value(self),
        }
    }

    fn render(&self, st: &Styles) -> String {
        match self.export {
            Some(AuditExport::Csv) => return to_csv(&self.entries),
            Some(AuditExport::Json) => {
                let mut s = serde_json::to_string_pretty(&self.entries).unwrap_or_default();
                s.push('\n');
                return s;
            }
            None => {}
        }
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

    #[test]
    fn csv_quotes_what_would_break_a_row() {
        let mut e = at("2026-01-01T12:00:00Z");
        e.target = "/srv/a,b \"x\"\nnext.log".into();
        e.result = "failed: EIO".into();
        e.argv = vec![
            "hal9ctl".into(),
            "disk cleanup".into(),
            "/srv/\\xff.log".into(),
        ];
        let csv = to_csv(&[e]);
        let mut lines = csv.splitn(2, '\n');
        assert_eq!(
            lines.next().unwrap(),
            "time,user,host,action,target,result,argv"
        );
        let row = lines.next().unwrap();
        assert!(row.contains("\"/srv/a,b \"\"x\"\"\nnext.log\""), "{row}");
        assert!(
            row.contains(r#""[""hal9ctl"",""disk cleanup"",""/srv/\\xff.log""]""#),
            "{row}"
        );
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(" lead"), "\" lead\"");
    }

    #[test]
    fn a_cluster_journal_becomes_entries_marked_with_its_source() {
        let j: Journal = serde_json::from_value(serde_json::json!({
            "id": "r1", "strategy": "gradual", "target": "configmap hal9/hal9-migration",
            "started_at": "2026-01-01T12:00:00Z", "started_by": "ana@laptop", "status": "completed",
            "steps": [
                {"index": 0, "status": "applied", "applied_at": "2026-01-01T12:00:30Z",
                 "target": {"phase": "ramp_up", "hierarchical_percent": 50.0, "flags": {}, "state_schema": 2}},
                {"index": 1, "status": "pending",
                 "target": {"phase": "flat", "hierarchical_percent": 0.0, "flags": {}, "state_schema": 1}}
            ]
        }))
        .unwrap();
        let es = journal_entries(&j, "configmap hal9/hal9-migration");
        assert_eq!(es.len(), 2, "the start and the one applied step");
        assert_eq!(es[0].action, "rollback-start");
        assert_eq!(es[0].user, "ana");
        assert!(
            es[0].host.contains("laptop") && es[0].host.contains("configmap"),
            "{}",
            es[0].host
        );
        assert_eq!(es[1].time, "2026-01-01T12:00:30Z");
        assert!(
            es[1].result.contains("step 1 to ramp_up"),
            "{}",
            es[1].result
        );
    }
}
