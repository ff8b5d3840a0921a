use serde::Serialize;

use crate::exit::Exit;
use crate::output::{Report, Styles, table, to_value};

/// What a scale did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ScaleReport {
    pub target: String,
    pub action: String,
    pub dry_run: bool,
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    /// The exact command that undoes this, when there is something to undo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
    pub summary: String,
    pub status: Exit,
}

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

impl Report for ScaleReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        let head = if self.dry_run {
            format!("{} (dry run, nothing changed)", self.target)
        } else {
            self.target.clone()
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
            out.push_str(&format!("{} {w}\n", st.mark(crate::output::Mark::Warn)));
        }
        let mark = crate::output::Mark::for_exit(self.status);
        out.push_str(&format!("{} {}\n", st.mark(mark), self.summary));
        if let Some(u) = &self.undo {
            out.push_str(&format!("undo with: {u}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.status
    }
}
