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
}

impl Change {
    pub fn new(what: &str, from: impl ToString, to: impl ToString) -> Change {
        Change {
            what: what.into(),
            from: from.to_string(),
            to: to.to_string(),
        }
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
            let mut t = table(&["", "from", "to"]);
            for c in &self.changes {
                t.add_row(vec![c.what.clone(), c.from.clone(), c.to.clone()]);
            }
            out.push_str(&format!("{t}\n"));
        }
        for w in &self.warnings {
            out.push_str(&format!("{} {w}\n", st.mark(crate::output::Mark::Warn)));
        }
        let mark = match self.status {
            Exit::Ok => crate::output::Mark::Ok,
            Exit::Warning => crate::output::Mark::Warn,
            _ => crate::output::Mark::Fail,
        };
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
