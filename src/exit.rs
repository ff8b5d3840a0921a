//! Exit codes: Nagios-compatible for checks (ARCHITECTURE §3).

use std::fmt;

/// The process exit code of every hal9ctl command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Exit {
    /// Healthy, or the action succeeded.
    Ok,
    /// Degraded, or partly done.
    Warning,
    /// Unhealthy, the action failed, or it was refused for safety.
    Critical,
    /// The check itself could not run.
    Unknown,
    /// The command line or the config was wrong.
    Usage,
    /// Interrupted; what was done is recorded and resumable.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Warning => 1,
            Exit::Critical => 2,
            Exit::Unknown => 3,
            Exit::Usage => 64,
            Exit::Interrupted => 130,
        }
    }

    /// The worse of two verdicts, for combining checks. Unknown ranks above
    /// Critical only when nothing is critical: a check that found the service
    /// down is more useful to act on than one that could not run.
    pub fn worst(self, other: Exit) -> Exit {
        fn rank(e: Exit) -> u8 {
            match e {
                Exit::Ok => 0,
                Exit::Warning => 1,
                Exit::Unknown => 2,
                Exit::Critical => 3,
                Exit::Usage => 4,
                Exit::Interrupted => 5,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Exit::Ok => "OK",
            Exit::Warning => "WARNING",
            Exit::Critical => "CRITICAL",
            Exit::Unknown => "UNKNOWN",
            Exit::Usage => "USAGE",
            Exit::Interrupted => "INTERRUPTED",
        };
        f.write_str(s)
    }
}

/// An error that carries its exit code and the next command to run.
///
/// Commands return `anyhow::Error`; when one of these is anywhere in the
/// chain, `main` exits with its code and prints its hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    pub next: Option<String>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
            next: None,
        }
    }

    pub fn with_next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(Exit::Usage, message)
    }

    pub fn critical(message: impl Into<String>) -> Self {
        Failure::new(Exit::Critical, message)
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        Failure::new(Exit::Unknown, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_prefers_critical_over_unknown() {
        assert_eq!(Exit::Ok.worst(Exit::Warning), Exit::Warning);
        assert_eq!(Exit::Unknown.worst(Exit::Critical), Exit::Critical);
        assert_eq!(Exit::Warning.worst(Exit::Unknown), Exit::Unknown);
        assert_eq!(Exit::Critical.worst(Exit::Ok), Exit::Critical);
    }

    #[test]
    fn codes_match_the_contract() {
        let codes: Vec<u8> = [
            Exit::Ok,
            Exit::Warning,
            Exit::Critical,
            Exit::Unknown,
            Exit::Usage,
            Exit::Interrupted,
        ]
        .iter()
        .map(|e| e.code())
        .collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 64, 130]);
    }
}
