//! The HAL9 neuron runtime: a library that `hal9ctl serve` runs.

pub mod api;
pub mod byte_size;
pub mod client;
pub mod engine;
pub mod layer;
pub mod metrics_text;
pub mod migration;
pub mod sd_notify;
pub mod server;
pub mod spec;
pub mod state;

pub use engine::{Runtime, SignalError, SpecError};
pub use layer::Layer;
