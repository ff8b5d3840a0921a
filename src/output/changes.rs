//! The "what changed" table that scale and restart both report: one row per
//! setting, before → after, and what the verify step read back.

use serde::Serialize;

use super::{Mark, Styles, table};
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

/// The parts of a change report, borrowed from whichever report owns them.
pub struct ChangeView<'a> {
    pub target: &'a str,
    pub dry_run: bool,
    pub changes: &'a [Change],
    pub warnings: &'a [String],
    pub summary: &'a str,
    pub status: Exit,
}

/// The heading, the table (with a "read back" column once anything was
/// re-read; "unknown" where a value could not be), warnings, then the
/// summary marked by the exit it stands for.
pub fn render_changes(v: &ChangeView<'_>, st: &Styles) -> String {
    let mut out = String::new();
    let head = if v.dry_run {
        format!("{} (dry run, nothing changed)", v.target)
    } else {
        v.target.to_string()
    };
    out.push_str(&st.bold(&head));
    out.push('\n');
    if !v.changes.is_empty() {
        let read_back = v.changes.iter().any(|c| c.read_back.is_some());
        let mut t = if read_back {
            table(&["", "from", "to", "read back"])
        } else {
            table(&["", "from", "to"])
        };
        for c in v.changes {
            let mut row = vec![c.what.clone(), c.from.clone(), c.to.clone()];
            if read_back {
                row.push(c.read_back.clone().unwrap_or_else(|| "unknown".into()));
            }
            t.add_row(row);
        }
        out.push_str(&format!("{t}\n"));
    }
    for w in v.warnings {
        out.push_str(&format!("{} {w}\n", st.mark(Mark::Warn)));
    }
    out.push_str(&format!(
        "{} {}\n",
        st.mark(Mark::for_exit(v.status)),
        v.summary
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(changes: &'a [Change], warnings: &'a [String]) -> ChangeView<'a> {
        ChangeView {
            target: "deployment hal9/hal9-server",
            dry_run: false,
            changes,
            warnings,
            summary: "scaled to 6",
            status: Exit::Ok,
        }
    }

    #[test]
    fn a_value_that_was_not_re_read_is_unknown_once_another_was() {
        let changes = [
            Change::new("replicas", 3, 6).read_back(6),
            Change::new("HPA minReplicas", 2, 6),
        ];
        let out = render_changes(&view(&changes, &[]), &Styles { color: false });
        assert!(out.contains("READ BACK"), "{out}");
        assert!(out.contains("unknown"), "{out}");
    }

    #[test]
    fn a_dry_run_says_so_in_the_heading_and_warnings_come_before_the_summary() {
        let changes = [Change::new("replicas", 3, 6)];
        let warnings = ["an HPA targets it".to_string()];
        let mut v = view(&changes, &warnings);
        v.dry_run = true;
        let out = render_changes(&v, &Styles { color: false });
        assert!(out.starts_with("deployment hal9/hal9-server (dry run, nothing changed)"));
        assert!(!out.contains("READ BACK"), "{out}");
        let (w, s) = (
            out.find("an HPA").unwrap(),
            out.find("scaled to 6").unwrap(),
        );
        assert!(w < s, "{out}");
    }
}
