use std::io::{self, IsTerminal, Write};

use super::{Report, Styles};
use crate::cli::args::OutputFormat;

/// Owns stdout: writes reports, and nothing else, there.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: OutputFormat,
    pub styles: Styles,
    pub quiet: bool,
}

impl Printer {
    pub fn new(format: OutputFormat, no_color_flag: bool, quiet: bool) -> Printer {
        let color = super::color_allowed(no_color_flag) && io::stdout().is_terminal();
        colored::control::set_override(color);
        Printer {
            format,
            styles: Styles { color },
            quiet,
        }
    }

    /// Write one report. A closed pipe (`hal9ctl … | head`) is not an error.
    pub fn print(&self, report: &dyn Report) -> io::Result<()> {
        let text = match self.format {
            OutputFormat::Json => {
                let mut s =
                    serde_json::to_string_pretty(&report.to_json()).map_err(io::Error::other)?;
                s.push('\n');
                s
            }
            OutputFormat::Nagios | OutputFormat::Prometheus => {
                let text = if self.format == OutputFormat::Nagios {
                    report.render_nagios()
                } else {
                    report.render_prometheus()
                };
                text.ok_or_else(|| {
                    io::Error::other(format!("-o {:?} is only for `hal9ctl health`", self.format))
                })?
            }
            OutputFormat::Table => {
                let mut s = if self.quiet {
                    report.render_quiet(&self.styles)
                } else {
                    report.render(&self.styles)
                };
                if !s.ends_with('\n') {
                    s.push('\n');
                }
                super::terminal_safe::neutralize(&s, self.styles.color)
            }
        };
        ignore_broken_pipe(
            io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .and_then(|_| io::stdout().flush()),
        )
    }

    /// For `--watch`: clear the terminal before a redraw (only on a terminal,
    /// so a redirected watch stays a plain log of reports).
    pub fn clear_screen(&self) -> io::Result<()> {
        if self.format == OutputFormat::Table && io::stdout().is_terminal() {
            ignore_broken_pipe(io::stdout().lock().write_all(b"\x1b[2J\x1b[H"))
        } else {
            Ok(())
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }
}

fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
