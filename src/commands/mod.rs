//! One module per command: gather → plan → apply, returning a Report.

pub mod audit;
pub mod completions;
pub mod config;
pub mod disk;
pub mod health;
pub mod incident;
pub mod migrate;
pub mod migration_lock;
pub mod port_conflict;
pub mod restart;
pub mod rollback;
pub mod runbook;
pub mod scale;
pub mod serve;
pub mod signal;
