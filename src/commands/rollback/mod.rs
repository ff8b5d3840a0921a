//! `hal9ctl rollback` and `hal9ctl migrate`: one engine with a direction,
//! every step journaled, gated and resumable.

pub mod backend;
pub mod detach;
pub mod direction;
pub mod gates;
pub mod journal;
pub mod plan;
pub mod pods_gate;
pub mod probe;
pub mod report;
pub mod request;
pub mod resume;
pub mod run;
pub mod settings;
pub mod status;

pub use settings::{MigrateSettings, RollbackSettings, StatusSettings};
