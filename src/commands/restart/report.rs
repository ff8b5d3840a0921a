//! What a restart did (or, with `--dry-run`, would do).

use serde::Serialize;

use crate::exit::Exit;
use crate::output::changes::{Change, ChangeView, render_changes};
use crate::output::{Report, Styles, to_value};

/// A restart has nothing to undo (a later restart or a rollback is the way
/// back), so unlike a scale it carries no undo command.
#[derive(Debug, Clone, Serialize)]
pub struct RestartReport {
    pub target: String,
    pub action: String,
    pub dry_run: bool,
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    pub summary: String,
    pub status: Exit,
}

impl Report for RestartReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        render_changes(
            &ChangeView {
                target: &self.target,
                dry_run: self.dry_run,
                changes: &self.changes,
                warnings: &self.warnings,
                summary: &self.summary,
                status: self.status,
            },
            st,
        )
    }

    fn exit(&self) -> Exit {
        self.status
    }
}
