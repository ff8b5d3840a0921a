//! Reports and the Printer that owns stdout (ARCHITECTURE §2).
//!
//! Commands never print: they return a [`Report`] and the [`Printer`]
//! renders it as a table or as JSON. Logs, prompts and progress go to stderr.

pub mod checks;
mod printer;
pub mod progress;
pub mod prompt;
mod styles;

pub use printer::Printer;
pub use styles::{Mark, Styles};

use crate::exit::Exit;

/// What a command produced: rendered for people, serialised for programs.
pub trait Report {
    /// The stable JSON document for `-o json`.
    fn to_json(&self) -> serde_json::Value;

    /// The human rendering for `-o table`.
    fn render(&self, styles: &Styles) -> String;

    /// The exit code this report stands for.
    fn exit(&self) -> Exit {
        Exit::Ok
    }
}

/// A comfy-table with the project's look, sized for the terminal.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    t
}

/// Serialize a report value; a failure here is a bug in a report type, so it
/// becomes an error document rather than a panic.
pub fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_else(
        |e| serde_json::json!({ "error": { "code": "serialize", "message": e.to_string() } }),
    )
}
