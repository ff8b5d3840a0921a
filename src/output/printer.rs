use std::io::{self, IsTerminal, Write};

use indicatif::ProgressDrawTarget;

use super::{OutputFormat, Report, Styles};

/// Owns the two streams, as cargo's `Shell` and uv's `Printer` do: reports go
/// to stdout; warnings, notes, prompts and progress to stderr. Colour is
/// decided here, once per stream, and `-q` silences everything on stderr but
/// errors and the questions that gate a destructive action.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: OutputFormat,
    /// For stdout.
    pub styles: Styles,
    /// For stderr, which may be a terminal while stdout is a pipe, or the reverse.
    pub stderr_styles: Styles,
    pub quiet: bool,
}

impl Printer {
    pub fn new(format: OutputFormat, no_color_flag: bool, quiet: bool) -> Printer {
        let color = super::color_allowed(no_color_flag) && io::stdout().is_terminal();
        colored::control::set_override(color);
        Printer {
            format,
            styles: Styles { color },
            stderr_styles: Styles {
                color: super::stderr_color(no_color_flag),
            },
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

    /// `warning: …` on stderr as it happens (a warning must come before the
    /// kill, not in the final report); silent under `-q`.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            write_stderr(&format!("warning: {message}\n"));
        }
    }

    /// A line of context on stderr; silent under `-q`.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            write_stderr(&format!("{message}\n"));
        }
    }

    /// What the operator must read before answering a prompt. Shown even
    /// under `-q`: a yes given blind is not consent.
    pub fn before_prompt(&self, text: &str) {
        write_stderr(&format!("{}\n", text.trim_end()));
    }

    /// Where progress bars draw: stderr, and only when someone watches it.
    pub fn progress_target(&self) -> ProgressDrawTarget {
        progress_target(self.quiet)
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

/// The progress draw target for `-q` or not; [`Printer::progress_target`]
/// for code that has a Printer.
pub(super) fn progress_target(quiet: bool) -> ProgressDrawTarget {
    if quiet || !io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// The one writer of stderr text. Terminal controls in what the system gave
/// us (a file name, a process title) are neutralized so they cannot repaint
/// the operator's screen; a closed stderr is not worth failing the command for.
pub(crate) fn write_stderr(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err
        .write_all(super::terminal_safe::neutralize(text, false).as_bytes())
        .and_then(|_| err.flush());
}

fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
