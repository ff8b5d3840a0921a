//! hal9ctl: the operator tool for the HAL9 neuron runtime, and the runtime itself.

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod exit;
pub mod manpages;
pub mod notify;
pub mod output;
pub mod runtime;
pub mod system;

/// The version every report and `/health` answer carries.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
