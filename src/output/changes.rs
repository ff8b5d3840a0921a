//! The "what changed" table that scale and restart both report: one row per
//! setting, before → after, and what the verify step read back.

use serde::Serialize;

use super::{Mark, Report, Styles, table, to_value};
use crate::exit::Exit;

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub what: String,
    pub from: String,
    pub to: String,
    /// What the verify step read back after acting; absent when nothing was
    /// written (a dry run) or the value could not be re-read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_back: Option<String>,
}

impl Change {
    pub fn new(what: &str, from: impl ToString, to: impl ToString) -> Change {
        Change {
            what: what.into(),
            from: from.to_string(),
            to: to.to_string(),
            read_back: None,
        }
    }

    pub fn read_back(mut self, v: impl ToString) -> Change {
        self.read_back = Some(v.to_string());
        self
    }
}

/// What a command that changes settings did (or, with `--dry-run`, would
/// do): scale and restart both report this.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    pub target: String,
    pub action: String,
    pub dry_run: bool,
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    /// The exact command that undoes this, when there is something to undo
    /// (a restart never has: a later restart or a rollback is the way back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
    pub summary: String,
    pub status: Exit,
}

impl Report for ChangeReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    /// The heading, the table (with a "read back" column once anything was
    /// re-read; "unknown" where a value could not be), warnings, the summary
    /// marked by the exit it stands for, then the undo.
    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        let head = if self.dry_run {
            format!("{} (dry run, nothing changed)", self.target)
        } else {
            self.target.to_string()
        };
        out.push_str(&st.bold(&head));
        out.push('\n');
        if !self.changes.is_empty() {
            let read_back = self.changes.iter().any(|c| c.read_back.is_some());
            let mut t = if read_back {
                table(&["", "from", "to", "read back"])
            } else {
                table(&["", "from", "to"])
            };
            for c in &self.changes {
                let mut row = vec![c.what.clone(), c.from.clone(), c.to.clone()];
                if read_back {
                    row.push(c.read_back.clone().unwrap_or_else(|| "unknown".into()));
                }
                t.add_row(row);
            }
            out.push_str(&format!("{t}\n"));
        }
        for w in &self.warnings {
            out.push_str(&format!("{} {w}\n", st.mark(Mark::Warn)));
        }
        out.push_str(&format!(
            "{} {}\n",
            st.mark(Mark::for_exit(self.status)),
            self.summary
        ));
        if let Some(u) = &self.undo {
            out.push_str(&format!("undo with: {u}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(changes: &[Change], warnings: &[String]) -> ChangeReport {
        ChangeReport {
            target: "deployment hal9/hal9-server".into(),
            action: "scale".into(),
            dry_run: false,
            changes: changes.to_vec(),
            warnings: warnings.to_vec(),
            undo: None,
            summary: "scaled to 6".into(),
            status: Exit::Ok,
        }
    }

    #[test]
    fn a_value_that_was_not_re_read_is_unknown_once_another_was() {
        let changes = [
            Change::new("replicas", 3, 6).read_back(6),
            Change::new("HPA minReplicas", 2, 6),
        ];
        let out = report(&changes, &[]).render(&Styles { color: false });
        assert!(out.contains("READ BACK"), "{out}");
        assert!(out.contains("unknown"), "{out}");
    }

    #[test]
    fn a_dry_run_says_so_in_the_heading_and_warnings_come_before_the_summary() {
        let changes = [Change::new("replicas", 3, 6)];
        let warnings = ["an HPA targets it".to_string()];
        let mut r = report(&changes, &warnings);
        r.dry_run = true;
        let out = r.render(&Styles { color: false });
        assert!(out.starts_with("deployment hal9/hal9-server (dry run, nothing changed)"));
        assert!(!out.contains("READ BACK"), "{out}");
        let (w, s) = (
            out.find("an HPA").unwrap(),
            out.find("scaled to 6").unwrap(),
        );
        assert!(w < s, "{out}");
    }

    #[test]
    fn the_undo_comes_last_and_only_when_there_is_one() {
        let changes = [Change::new("replicas", 3, 6).read_back(6)];
        let none = report(&changes, &[]);
        assert!(!none.render(&Styles { color: false }).contains("undo"));
        assert!(none.to_json().get("undo").is_none());
        let mut some = none.clone();
        some.undo = Some("hal9ctl scale --restore --cluster".into());
        let out = some.render(&Styles { color: false });
        assert!(
            out.ends_with("scaled to 6\nundo with: hal9ctl scale --restore --cluster\n"),
            "{out}"
        );
        assert_eq!(
            some.to_json()["undo"],
            serde_json::json!("hal9ctl scale --restore --cluster")
        );
    }
}
