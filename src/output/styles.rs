//! Colours and check marks; colour is off for NO_COLOR, `--no-color` and a non-terminal stdout.

use colored::Colorize;

#[derive(Debug, Clone, Copy)]
pub struct Styles {
    pub color: bool,
}

/// The verdict of one check, as drawn in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    Ok,
    Warn,
    Fail,
    Unknown,
}

impl Styles {
    pub fn mark(&self, m: Mark) -> String {
        let (sym, painted) = match m {
            Mark::Ok => ("✓", "✓".green()),
            Mark::Warn => ("⚠", "⚠".yellow()),
            Mark::Fail => ("✗", "✗".red()),
            Mark::Unknown => ("?", "?".magenta()),
        };
        if self.color {
            painted.bold().to_string()
        } else {
            sym.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }

    pub fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }

    pub fn good(&self, s: &str) -> String {
        if self.color {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }

    pub fn bad(&self, s: &str) -> String {
        if self.color {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }

    pub fn warn(&self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }
}
