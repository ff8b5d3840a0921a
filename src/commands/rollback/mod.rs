//! `hal9ctl rollback`: migration rollback that journals every step and can be resumed.

pub mod gates;
pub mod journal;
pub mod plan;
