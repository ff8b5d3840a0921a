use serde::Serialize;

use crate::exit::Exit;
pub use crate::output::changes::Change;
use crate::output::changes::{ChangeView, render_changes};
use crate::output::{Report, Styles, to_value};

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

impl Report for ScaleReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = render_changes(
            &ChangeView {
                target: &self.target,
                dry_run: self.dry_run,
                changes: &self.changes,
                warnings: &self.warnings,
                summary: &self.summary,
                status: self.status,
            },
            st,
        );
        if let Some(u) = &self.undo {
            out.push_str(&format!("undo with: {u}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.status
    }
}
