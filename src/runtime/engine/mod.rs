//! The neuron engine: the network, its processors, per-layer caches,
//! circuit breakers and L2 memory, behind the `Runtime` facade that the
//! HTTP server shares.

mod breaker;
mod cache;
mod command;
pub mod memory;
pub mod metrics;
mod network;
mod propagate;
mod rules;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::api::{
    BreakerState, CacheStats, CheckBody, HealthStatus, NeuronStatus, Path, SignalRequest,
    SignalResponse,
};
use super::layer::Layer;
use super::migration::Features;
use super::spec::{NeuronSpec, RuntimeSettings};
use cache::LayerCache;
use memory::{Hit, Memory};
use metrics::{EngineMetrics, header, sample};
use network::{Network, Processor};

/// The neuron network: layers, neurons, processors, caches, breakers, L2 memory.
/// Shared behind an `Arc` by the HTTP server; every method takes `&self`.
#[derive(Debug)]
pub struct Runtime {
    network: Network,
    /// Indexed by `Layer::index`; `None` where the layer is not cached.
    caches: [Option<LayerCache>; 5],
    memory: Memory,
    metrics: EngineMetrics,
    ids: SignalIds,
    settings: RuntimeSettings,
}

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
    #[error("[runtime] {0}")]
    Settings(String),
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
    pub fn new(neurons: &[NeuronSpec], settings: &RuntimeSettings) -> Result<Runtime, SpecError> {
        let network = Network::build(neurons, settings)?;
        let caches = Layer::ALL.map(|layer| {
            settings.cache_ttl.for_layer(layer).map(|ttl| {
                LayerCache::new(
                    layer,
                    ttl,
                    settings.cache_capacity,
                    settings.cache_max_bytes.get(),
                )
            })
        });
        Ok(Runtime {
            network,
            caches,
            memory: Memory::new(settings.memory_capacity, settings.memory_max_bytes.get()),
            metrics: EngineMetrics::default(),
            ids: SignalIds::new(),
            settings: settings.clone(),
        })
    }

    /// The `[runtime]` settings it was built with; the server takes its
    /// connection limits from here.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    /// A new unique signal id.
    pub fn new_id(&self) -> String {
        self.ids.next()
    }

    /// Process one signal: enter at `neuron_id`, or the first neuron of
    /// `layer`, or the first L1 neuron; propagate along forward connections.
    pub async fn signal(&self, req: &SignalRequest) -> Result<SignalResponse, SignalError> {
        self.signal_on(req, Path::Hierarchical, Features::ALL, self.new_id())
            .await
    }

    /// Process one signal on either path. Hierarchical: the signal crosses
    /// the layers `features` leaves open, as `propagate` describes. Flat:
    /// the entry neuron alone answers. The content is trimmed first, so
    /// `echo`'s newline does not make a different cache key.
    pub async fn signal_on(
        &self,
        req: &SignalRequest,
        path: Path,
        features: Features,
        id: String,
    ) -> Result<SignalResponse, SignalError> {
        let started = Instant::now();
        let content = req.content.trim();
        if content.is_empty() {
            self.metrics.rejected.fetch_add(1, Relaxed);
            return Err(SignalError::EmptyContent);
        }
        let entry = self
            .network
            .entry(req.layer, req.neuron_id.as_deref())
            .inspect_err(|_| {
                self.metrics.rejected.fetch_add(1, Relaxed);
            })?;
        let gates = (path == Path::Hierarchical).then_some(features);
        let trace = self.propagate(entry, Arc::from(content), gates).await;
        self.metrics.signals.fetch_add(1, Relaxed);
        self.metrics.duration.observe(started.elapsed());
        let Some(output) = trace.output else {
            self.metrics.failed.fetch_add(1, Relaxed);
            return Err(SignalError::Failed(trace.first_error.unwrap_or_default()));
        };
        Ok(SignalResponse {
            id,
            output: output.to_string(),
            path,
            trace: trace.hops,
            gradients: trace.gradients,
            gated: trace.gated,
        })
    }

    pub fn neurons(&self) -> Vec<NeuronStatus> {
        let now = Instant::now();
        let name = |i: &usize| self.network.neurons[*i].id.to_string();
        self.network
            .neurons
            .iter()
            .map(|n| {
                let breaker = self.breaker_state(n, now);
                NeuronStatus {
                    id: n.id.to_string(),
                    layer: n.layer,
                    processor: n.processor_name().to_string(),
                    state: neuron_state(n, now).to_string(),
                    breaker,
                    forward: n.forward.iter().map(name).collect(),
                    backward: n.backward.iter().map(name).collect(),
                    processed: n.processed.load(Relaxed),
                    failed: n.failed.load(Relaxed),
                }
            })
            .collect()
    }

    pub fn caches(&self) -> Vec<CacheStats> {
        self.caches
            .iter()
            .flatten()
            .map(LayerCache::stats)
            .collect()
    }

    /// Health checks of the network itself (neurons, breakers); the server
    /// adds its own (event loop, draining).
    ///
    /// An open breaker is the network protecting itself from a failing
    /// program: the runtime is degraded, and restarting it would not fix the
    /// program. It is unhealthy only when the default entry neuron (where a
    /// signal without `layer` or `neuron_id` goes in) is behind an open
    /// breaker, or every neuron is: then the main job cannot be done.
    pub fn checks(&self) -> Vec<CheckBody> {
        let now = Instant::now();
        let default_entry = self.network.entry(None, None).ok();
        let mut open = Vec::new();
        let mut entry_open = false;
        let mut recovering = Vec::new();
        for (i, n) in self.network.neurons.iter().enumerate() {
            let Processor::Command(cmd) = &n.processor else {
                continue;
            };
            let health = lock(&cmd.health);
            let why = health
                .last_error
                .as_deref()
                .map(|e| format!(" (last error: {e})"))
                .unwrap_or_default();
            match health.breaker.state(now) {
                BreakerState::Open => {
                    entry_open |= default_entry == Some(i);
                    open.push(format!("{}{why}", n.id));
                }
                BreakerState::HalfOpen => recovering.push(n.id.to_string()),
                BreakerState::Closed => {}
            }
        }
        let total = self.network.neurons.len();
        let layers = {
            let mut seen = [false; 5];
            for n in &self.network.neurons {
                seen[n.layer.index()] = true;
            }
            seen.iter().filter(|s| **s).count()
        };
        let status = if entry_open || open.len() == total {
            HealthStatus::Unhealthy
        } else if !open.is_empty() || !recovering.is_empty() {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        };
        let mut detail = format!("{total} neurons in {layers} layers");
        if open.is_empty() && recovering.is_empty() {
            detail.push_str(", all answering");
        }
        if !open.is_empty() {
            detail.push_str(&format!("; breaker open: {}", open.join(", ")));
        }
        if !recovering.is_empty() {
            detail.push_str(&format!("; half-open: {}", recovering.join(", ")));
        }
        vec![CheckBody {
            name: "neurons".to_string(),
            status,
            detail,
        }]
    }

    /// Append the engine's `hal9_*` metrics in Prometheus text format.
    pub fn write_metrics(&self, out: &mut String) {
        let m = &self.metrics;
        let counters = [
            (
                "hal9_signals_total",
                "Signals processed, failed ones included.",
                &m.signals,
            ),
            (
                "hal9_signals_failed_total",
                "Signals on which every neuron failed.",
                &m.failed,
            ),
            (
                "hal9_signals_rejected_total",
                "Signals refused before processing (empty content, unknown neuron or layer).",
                &m.rejected,
            ),
            (
                "hal9_gradients_total",
                "Processing errors sent back along backward connections.",
                &m.gradients,
            ),
        ];
        for (name, help, value) in counters {
            header(out, name, help, "counter");
            sample(out, name, &[], value.load(Relaxed));
        }
        header(
            out,
            "hal9_signal_duration_seconds",
            "Time to process a signal through the network.",
            "histogram",
        );
        m.duration.write(out, "hal9_signal_duration_seconds", "");

        let stats = self.caches();
        type Field = fn(&CacheStats) -> u64;
        let cache_series: [(&str, &str, &str, Field); 7] = [
            (
                "hal9_cache_hits_total",
                "Response cache hits.",
                "counter",
                |s| s.hits,
            ),
            (
                "hal9_cache_misses_total",
                "Response cache misses.",
                "counter",
                |s| s.misses,
            ),
            (
                "hal9_cache_evictions_total",
                "Entries evicted to make room.",
                "counter",
                |s| s.evictions,
            ),
            (
                "hal9_cache_entries",
                "Entries in the response cache.",
                "gauge",
                |s| s.entries as u64,
            ),
            (
                "hal9_cache_capacity",
                "Capacity of the response cache.",
                "gauge",
                |s| s.capacity as u64,
            ),
            (
                "hal9_cache_bytes",
                "Bytes held by the response cache.",
                "gauge",
                |s| s.bytes as u64,
            ),
            (
                "hal9_cache_max_bytes",
                "Bytes the response cache may hold.",
                "gauge",
                |s| s.max_bytes as u64,
            ),
        ];
        for (name, help, kind, field) in cache_series {
            header(out, name, help, kind);
            for s in &stats {
                sample(out, name, &[("layer", s.layer.as_str())], field(s));
            }
        }

        let now = Instant::now();
        header(
            out,
            "hal9_breaker_state",
            "Circuit breaker of a command neuron: 0 closed, 1 half-open, 2 open.",
            "gauge",
        );
        for n in &self.network.neurons {
            if let Some(state) = self.breaker_state(n, now) {
                let value = match state {
                    BreakerState::Closed => 0,
                    BreakerState::HalfOpen => 1,
                    BreakerState::Open => 2,
                };
                sample(out, "hal9_breaker_state", &[("neuron", &n.id)], value);
            }
        }
        for (name, help, pick) in [
            (
                "hal9_neuron_processed_total",
                "Signals a neuron processed successfully (cache hits included).",
                true,
            ),
            (
                "hal9_neuron_failed_total",
                "Signals a neuron failed to process.",
                false,
            ),
        ] {
            header(out, name, help, "counter");
            for n in &self.network.neurons {
                let v = if pick { &n.processed } else { &n.failed };
                sample(
                    out,
                    name,
                    &[("neuron", &n.id), ("layer", n.layer.as_str())],
                    v.load(Relaxed),
                );
            }
        }
        header(out, "hal9_memory_entries", "Entries in L2 memory.", "gauge");
        sample(out, "hal9_memory_entries", &[], self.memory.len());
        let (bytes, max_bytes) = self.memory.bytes();
        header(
            out,
            "hal9_memory_bytes",
            "Bytes held by L2 memory.",
            "gauge",
        );
        sample(out, "hal9_memory_bytes", &[], bytes);
        header(
            out,
            "hal9_memory_max_bytes",
            "Bytes L2 memory may hold.",
            "gauge",
        );
        sample(out, "hal9_memory_max_bytes", &[], max_bytes);
    }

    /// The `k` L2 memory entries most similar to `query`, best first.
    pub fn memory_search(&self, query: &str, k: usize) -> Vec<Hit> {
        self.memory.search(query, k)
    }

    /// Entries in L2 memory.
    pub fn memory_len(&self) -> usize {
        self.memory.len()
    }

    /// How many entries L2 memory keeps before the oldest go.
    pub fn memory_capacity(&self) -> usize {
        self.memory.capacity()
    }

    /// Bytes L2 memory holds, and the bound on them.
    pub fn memory_bytes(&self) -> (usize, usize) {
        self.memory.bytes()
    }

    fn cache(&self, layer: Layer) -> Option<&LayerCache> {
        self.caches[layer.index()].as_ref()
    }

    fn breaker_state(&self, n: &network::Neuron, now: Instant) -> Option<BreakerState> {
        match &n.processor {
            Processor::Command(cmd) => Some(lock(&cmd.health).breaker.state(now)),
            Processor::Rules(_) => None,
        }
    }
}

/// `ready`, `failing` (closed breaker, recent failures), `recovering`
/// (half-open) or `unavailable` (open).
fn neuron_state(n: &network::Neuron, now: Instant) -> &'static str {
    match &n.processor {
        Processor::Rules(_) => "ready",
        Processor::Command(cmd) => {
            let health = lock(&cmd.health);
            match health.breaker.state(now) {
                BreakerState::Closed if health.breaker.failures() > 0 => "failing",
                BreakerState::Closed => "ready",
                BreakerState::HalfOpen => "recovering",
                BreakerState::Open => "unavailable",
            }
        }
    }
}

/// Signal ids: a random prefix per process and a counter, unique across
/// restarts and replicas without coordination.
#[derive(Debug)]
struct SignalIds {
    prefix: u32,
    counter: AtomicU64,
}

impl SignalIds {
    fn new() -> SignalIds {
        let prefix = getrandom::u32().unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            nanos ^ std::process::id()
        });
        SignalIds {
            prefix,
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Relaxed) + 1;
        format!("sig-{:08x}-{n}", self.prefix)
    }
}

/// A poisoned lock only means another signal panicked mid-update; the
/// counters and maps behind these locks stay usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
