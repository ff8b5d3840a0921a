//! The yes/no gate in front of destructive actions.

use std::io::{self, BufRead, IsTerminal};

use crate::exit::Failure;

/// Ask before a destructive action. `--yes` answers yes; with no terminal on
/// stdin and no `--yes` the action is refused, because nobody can answer.
pub fn confirm(question: &str, yes: bool, retry_hint: &str) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !io::stdin().is_terminal() {
        return Err(Failure::critical(format!(
            "refused: {question} needs confirmation, and stdin is not a terminal"
        ))
        .with_next(retry_hint.to_string()));
    }
    super::printer::write_stderr(&format!("{question} [y/N] "));
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::critical(format!("could not read the answer: {e}")))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// `confirm` for callers with nothing of their own to report on a "no": the
/// answer becomes the refusal, so a "no" cannot be read past with `?`, as it
/// once was by rollback, scale and restart, which went ahead on "n".
pub fn confirm_or_refuse(question: &str, yes: bool, retry_hint: &str) -> Result<(), Failure> {
    if confirm(question, yes, retry_hint)? {
        return Ok(());
    }
    Err(Failure::critical(format!(
        "refused: the operator answered no to: {question}; nothing was changed"
    ))
    .with_next(retry_hint.to_string()))
}
