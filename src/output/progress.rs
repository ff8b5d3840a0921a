//! Progress bars on stderr, hidden when stderr is not a terminal or under `-q`.
//! The draw target comes from the Printer, the one owner of stderr.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps.
pub fn bar(len: u64, quiet: bool) -> ProgressBar {
    bar_on(len, super::printer::progress_target(quiet))
}

/// A spinner for work of unknown length.
pub fn spinner(msg: &str, quiet: bool) -> ProgressBar {
    spinner_on(msg, super::printer::progress_target(quiet))
}

/// A bar of `len` steps drawn on `target` (see [`super::Printer::progress_target`]).
pub fn bar_on(len: u64, target: ProgressDrawTarget) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        pb.set_style(style);
    }
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A spinner drawn on `target` (see [`super::Printer::progress_target`]).
pub fn spinner_on(msg: &str, target: ProgressDrawTarget) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
        pb.set_style(style);
    }
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}
