//! One module per command: gather → plan → apply, returning a Report.

pub mod completions;
pub mod config;
pub mod port_conflict;
pub mod serve;
pub mod signal;
