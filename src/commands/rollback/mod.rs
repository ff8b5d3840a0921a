//! `hal9ctl rollback`: migration rollback that journals every step and can be resumed.

pub mod backend;
pub mod gates;
pub mod journal;
pub mod plan;
pub mod probe;
pub mod report;
pub mod resume;
pub mod run;
