//! INTERFACE STUB — replaced by the engine implementation.

use super::api::{CacheStats, CheckBody, NeuronStatus, SignalRequest, SignalResponse};
use super::layer::Layer;
use super::spec::{NeuronSpec, RuntimeSettings};

/// The neuron network: layers, neurons, processors, caches, breakers, L2 memory.
/// Shared behind an `Arc` by the HTTP server; every method takes `&self`.
pub struct Runtime {}

/// The network in hal9.toml is not usable.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("neuron {0:?} is defined twice")]
    DuplicateNeuron(String),
    #[error("neuron {from:?} connects to unknown neuron {to:?}")]
    UnknownConnection { from: String, to: String },
    #[error("neuron {0:?}: {1}")]
    Invalid(String, String),
    #[error("the network has no neurons")]
    Empty,
}

/// A signal could not be processed; the server maps it to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("content is empty")]
    EmptyContent,
    #[error("unknown neuron {0:?}")]
    UnknownNeuron(String),
    #[error("no neuron in layer {0}")]
    EmptyLayer(Layer),
    #[error("every neuron on the path failed: {0}")]
    Failed(String),
}

impl SignalError {
    /// HTTP status code for the error.
    pub fn http_status(&self) -> u16 {
        match self {
            SignalError::EmptyContent => 400,
            SignalError::UnknownNeuron(_) | SignalError::EmptyLayer(_) => 404,
            SignalError::Failed(_) => 503,
        }
    }

    /// Stable machine-readable code for the error body.
    pub fn code(&self) -> &'static str {
        match self {
            SignalError::EmptyContent => "empty_content",
            SignalError::UnknownNeuron(_) => "unknown_neuron",
            SignalError::EmptyLayer(_) => "empty_layer",
            SignalError::Failed(_) => "processing_failed",
        }
    }
}

impl Runtime {
    pub fn new(_neurons: &[NeuronSpec], _settings: &RuntimeSettings) -> Result<Runtime, SpecError> {
        todo!()
    }

    /// Process one signal: enter at `neuron_id`, or the first neuron of
    /// `layer`, or the first L1 neuron; propagate along forward connections.
    pub async fn signal(&self, _req: &SignalRequest) -> Result<SignalResponse, SignalError> {
        todo!()
    }

    pub fn neurons(&self) -> Vec<NeuronStatus> {
        todo!()
    }

    pub fn caches(&self) -> Vec<CacheStats> {
        todo!()
    }

    /// Health checks of the network itself (neurons, breakers); the server
    /// adds its own (event loop, draining).
    pub fn checks(&self) -> Vec<CheckBody> {
        todo!()
    }

    /// Append the engine's `hal9_*` metrics in Prometheus text format.
    pub fn write_metrics(&self, _out: &mut String) {
        todo!()
    }
}
