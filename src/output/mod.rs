//! Reports and the Printer that owns stdout (ARCHITECTURE §2).
//!
//! Commands never print: they return a [`Report`] and the [`Printer`]
//! renders it as a table or as JSON. Logs, prompts and progress go to stderr.

pub mod changes;
pub mod checks;
mod format;
pub mod nagios;
pub mod os_text;
pub mod perfdata;
mod printer;
pub mod progress;
pub mod prom_textfile;
pub mod prompt;
pub mod shell_word;
mod styles;
pub mod terminal_safe;

pub use format::OutputFormat;
pub use printer::Printer;
pub(crate) use printer::write_stderr;
pub use styles::{Mark, Styles};

use crate::exit::Exit;

/// What a command produced: rendered for people, serialised for programs.
pub trait Report {
    /// The stable JSON document for `-o json`.
    fn to_json(&self) -> serde_json::Value;

    /// The human rendering for `-o table`.
    fn render(&self, styles: &Styles) -> String;

    /// The rendering for `-q`: what the operator must see, nothing more.
    /// Reports that are already that terse keep their full rendering.
    fn render_quiet(&self, styles: &Styles) -> String {
        self.render(styles)
    }

    /// `-o nagios`: only monitoring checks (health) have this shape.
    fn render_nagios(&self) -> Option<String> {
        None
    }

    /// `-o prometheus`: node_exporter textfile format, health only.
    fn render_prometheus(&self) -> Option<String> {
        None
    }

    /// The exit code this report stands for.
    fn exit(&self) -> Exit {
        Exit::Ok
    }
}

/// Off a terminal (a pipe, a file, a CI log) nothing tells comfy-table a
/// width, and a long pod reason would make a row 1 000 columns wide.
pub const PIPE_WIDTH: u16 = 100;

/// A comfy-table with the project's look, wrapped to the terminal's width,
/// or to [`PIPE_WIDTH`] when stdout is not a terminal.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    if t.width().is_none() {
        t.set_width(PIPE_WIDTH);
    }
    t
}

/// Keep one column (a path, a mount point) on one line, whatever the width:
/// an operator copies it into the next command, and a wrapped path is a wrong
/// path. The other columns wrap around it.
pub fn keep_whole(t: &mut comfy_table::Table, column: usize) {
    if let Some(c) = t.column_mut(column) {
        c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
    }
}

/// Serialize a report value; a failure here is a bug in a report type, so it
/// becomes an error document rather than a panic.
pub fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_else(
        |e| serde_json::json!({ "error": { "code": "serialize", "message": e.to_string() } }),
    )
}

/// Colour is allowed unless `--no-color` or a non-empty `NO_COLOR` (no-color.org) says no.
pub fn color_allowed(no_color_flag: bool) -> bool {
    !no_color_flag && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Colour for logs: allowed, and stderr is a terminal (a log file or a pipe
/// must not fill up with escape codes).
pub fn stderr_color(no_color_flag: bool) -> bool {
    use std::io::IsTerminal;
    color_allowed(no_color_flag) && std::io::stderr().is_terminal()
}

/// Sizes as people read them: binary units, one decimal.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A duration for people: `0.4 ms`, `386 ms`, `2.5 s`, `3m 20s` — never the
/// Debug form (`385.785µs`).
pub fn human_duration(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if d.as_secs() < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        humantime::format_duration(std::time::Duration::from_secs(d.as_secs())).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(Duration::from_nanos(385_785)), "0.4 ms");
        assert_eq!(human_duration(Duration::from_micros(385_785)), "386 ms");
        assert_eq!(human_duration(Duration::from_millis(2_500)), "2.5 s");
        assert_eq!(human_duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(human_duration(Duration::ZERO), "0.0 ms");
    }
}
