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

impl Mark {
    /// The mark a report's summary line carries for its exit code: an
    /// interrupted run is resumable, so it is a warning, not a failure.
    pub fn for_exit(exit: crate::exit::Exit) -> Mark {
        use crate::exit::Exit;
        match exit {
            Exit::Ok => Mark::Ok,
            Exit::Warning | Exit::Interrupted => Mark::Warn,
            Exit::Critical | Exit::Unknown | Exit::Usage => Mark::Fail,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::Mark;
    use crate::exit::Exit;

    #[test]
    fn only_ok_is_a_tick_and_an_interrupted_run_is_a_warning() {
        assert_eq!(Mark::for_exit(Exit::Ok), Mark::Ok);
        assert_eq!(Mark::for_exit(Exit::Warning), Mark::Warn);
        assert_eq!(Mark::for_exit(Exit::Interrupted), Mark::Warn);
        for e in [Exit::Critical, Exit::Unknown, Exit::Usage] {
            assert_eq!(Mark::for_exit(e), Mark::Fail);
        }
    }
}
