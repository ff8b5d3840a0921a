//! Wire types of the runtime's HTTP API (ARCHITECTURE §4). The server
//! produces them and hal9ctl's client commands consume them, so the field
//! names here are the stable contract.

use serde::{Deserialize, Serialize};

use super::layer::Layer;

/// `POST /api/v1/signal` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalRequest {
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Layer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neuron_id: Option<String>,
}

/// Which architecture answered a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Path {
    Flat,
    Hierarchical,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Flat => "flat",
            Path::Hierarchical => "hierarchical",
        }
    }
}

/// `POST /api/v1/signal` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalResponse {
    pub id: String,
    pub output: String,
    pub path: Path,
    pub trace: Vec<Hop>,
    /// Processing errors sent back along backward connections.
    #[serde(default)]
    pub gradients: Vec<Gradient>,
    /// Neurons the signal would have gone on to that a migration flag keeps
    /// off the hierarchical path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gated: Vec<Gated>,
}

/// A neuron left out of a signal's path, and the flag that is off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gated {
    pub neuron: String,
    pub layer: Layer,
    pub flag: String,
}

/// One neuron the signal passed through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    pub neuron: String,
    pub layer: Layer,
    pub latency_us: u64,
    pub cache_hit: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An error travelling back from the neuron that failed to those behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gradient {
    pub from: String,
    pub to: String,
    pub error: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// `GET /health` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthBody {
    pub status: HealthStatus,
    pub version: String,
    pub pid: u32,
    pub uptime_s: u64,
    pub checks: Vec<CheckBody>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckBody {
    pub name: String,
    pub status: HealthStatus,
    pub detail: String,
}

/// `GET /ready` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyBody {
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// One entry of `GET /api/v1/neurons`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronStatus {
    pub id: String,
    pub layer: Layer,
    pub processor: String,
    pub state: String,
    /// `None` for processors that have no breaker (`rules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerState>,
    pub forward: Vec<String>,
    pub backward: Vec<String>,
    pub processed: u64,
    pub failed: u64,
}

/// Per-layer cache counters in `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    pub layer: Layer,
    pub entries: usize,
    pub capacity: usize,
    /// Bytes held (inputs, outputs, bookkeeping) and the bound on them.
    pub bytes: usize,
    pub max_bytes: usize,
    pub ttl_s: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// `GET|PUT /admin/limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_in_flight: u32,
    pub rate_limit_rps: u32,
}

/// Every error the API answers: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}
