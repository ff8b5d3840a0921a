//! The neuron network at work: a signal enters a neuron, propagates along
//! forward connections breadth-first, and failures travel back as gradients.

pub mod breaker;
pub mod cache;
mod command;
pub mod memory;
pub mod metrics;
pub mod network;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::api::{
    BreakerState, CacheStats, CheckBody, Gradient, HealthStatus, Hop, NeuronStatus, Path,
    SignalRequest, SignalResponse,
};
use super::layer::Layer;
use super::spec::{NeuronSpec, RuntimeSettings};
use cache::LayerCache;
use memory::Memory;
use metrics::EngineMetrics;
use network::{Network, Processor};

/// The neuron network: layers, neurons, processors, caches, breakers, L2 memory.
/// Shared behind an `Arc` by the HTTP server; every method takes `&self`.
pub struct Runtime {
    net: Network,
    caches: [Option<LayerCache>; 5],
    memory: Memory,
    metrics: EngineMetrics,
    id_prefix: String,
    next_id: AtomicU64,
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

/// What one neuron made of its input.
struct Outcome<'a> {
    result: Result<(Arc<str>, &'a [usize]), String>,
    cache_hit: bool,
}

fn cache_key(neuron: usize, input: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    neuron.hash(&mut h);
    input.hash(&mut h);
    h.finish()
}

impl Runtime {
    pub fn new(neurons: &[NeuronSpec], settings: &RuntimeSettings) -> Result<Runtime, SpecError> {
        let net = Network::build(neurons, settings)?;
        let caches = Layer::ALL.map(|l| {
            settings
                .cache_ttl
                .for_layer(l)
                .map(|ttl| LayerCache::new(ttl, settings.cache_capacity))
        });
        let mut seed = [0u8; 4];
        // A per-process prefix keeps signal ids unique across restarts; a
        // failure to read randomness only makes ids less unique, not wrong.
        let _ = getrandom::fill(&mut seed);
        Ok(Runtime {
            net,
            caches,
            memory: Memory::new(settings.memory_capacity),
            metrics: EngineMetrics::default(),
            id_prefix: format!("{:08x}", u32::from_le_bytes(seed)),
            next_id: AtomicU64::new(1),
        })
    }

    /// A new unique signal id.
    pub fn new_id(&self) -> String {
        format!(
            "sig-{}-{}",
            self.id_prefix,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn entry(&self, req: &SignalRequest) -> Result<usize, SignalError> {
        if req.content.trim().is_empty() {
            return Err(SignalError::EmptyContent);
        }
        match (&req.neuron_id, req.layer) {
            (Some(id), _) => self
                .net
                .by_id
                .get(id)
                .copied()
                .ok_or_else(|| SignalError::UnknownNeuron(id.clone())),
            (None, Some(l)) => self.net.first_in(l).ok_or(SignalError::EmptyLayer(l)),
            (None, None) => Ok(self.net.first_in(Layer::L1).unwrap_or(0)),
        }
    }

    /// Process one signal: enter at `neuron_id`, or the first neuron of
    /// `layer`, or the first L1 neuron; propagate along forward connections.
    pub async fn signal(&self, req: &SignalRequest) -> Result<SignalResponse, SignalError> {
        self.signal_on(req, Path::Hierarchical, self.new_id()).await
    }

    /// The flat path: the entry neuron alone answers. The hierarchical path:
    /// the signal crosses the layers breadth-first, each neuron at most once,
    /// each receiving its predecessor's output; the answer is the output of
    /// the last neuron that succeeded.
    pub async fn signal_on(
        &self,
        req: &SignalRequest,
        path: Path,
        id: String,
    ) -> Result<SignalResponse, SignalError> {
        let started = Instant::now();
        let entry = self.entry(req)?;
        let mut trace = Vec::new();
        let mut gradients = Vec::new();
        let mut last_ok: Option<Arc<str>> = None;
        let mut first_error = None;
        let mut visited = vec![false; self.net.neurons.len()];
        let mut queue: VecDeque<(usize, Arc<str>)> = VecDeque::new();
        visited[entry] = true;
        queue.push_back((entry, Arc::from(req.content.as_str())));
        while let Some((i, input)) = queue.pop_front() {
            let t0 = Instant::now();
            let out = self.process(i, &input).await;
            let neuron = &self.net.neurons[i];
            let mut hop = Hop {
                neuron: neuron.id.clone(),
                layer: neuron.layer,
                latency_us: t0.elapsed().as_micros() as u64,
                cache_hit: out.cache_hit,
                error: None,
            };
            match out.result {
                Ok((output, forward)) => {
                    neuron.processed.fetch_add(1, Ordering::Relaxed);
                    if path == Path::Hierarchical {
                        for &f in forward {
                            if !visited[f] {
                                visited[f] = true;
                                queue.push_back((f, output.clone()));
                            }
                        }
                    }
                    last_ok = Some(output);
                }
                Err(e) => {
                    neuron.failed.fetch_add(1, Ordering::Relaxed);
                    for &b in &neuron.backward {
                        gradients.push(Gradient {
                            from: neuron.id.clone(),
                            to: self.net.neurons[b].id.clone(),
                            error: e.clone(),
                        });
                    }
                    first_error.get_or_insert_with(|| format!("{}: {e}", neuron.id));
                    hop.error = Some(e);
                }
            }
            trace.push(hop);
        }
        self.metrics.signals.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .gradients
            .fetch_add(gradients.len() as u64, Ordering::Relaxed);
        self.metrics.latency.observe(started.elapsed());
        match last_ok {
            Some(output) => Ok(SignalResponse {
                id,
                output: output.to_string(),
                path,
                trace,
                gradients,
            }),
            None => {
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                Err(SignalError::Failed(
                    first_error.unwrap_or_else(|| "no neuron answered".into()),
                ))
            }
        }
    }

    async fn process<'a>(&'a self, i: usize, input: &str) -> Outcome<'a> {
        let neuron = &self.net.neurons[i];
        let cache = self.caches[neuron.layer.index()].as_ref();
        let key = cache_key(i, input);
        if let Some(c) = cache
            && let Some(hit) = c.get(key, input, Instant::now())
        {
            return Outcome {
                result: Ok((hit, forward_of(neuron, input))),
                cache_hit: true,
            };
        }
        let result = match &neuron.processor {
            Processor::Rules(rules) => Ok(apply_rules(rules, &neuron.forward, input)),
            Processor::Command {
                argv,
                timeout,
                breaker,
            } => {
                let allowed = breaker
                    .lock()
                    .map(|mut b| b.allow(Instant::now()))
                    .unwrap_or(false);
                if !allowed {
                    Err("circuit breaker open".to_string())
                } else {
                    let r = command::run(argv, input, *timeout).await;
                    if let Ok(mut b) = breaker.lock() {
                        b.record(r.is_ok(), Instant::now());
                    }
                    r.map(|out| (Arc::<str>::from(out), neuron.forward.as_slice()))
                }
            }
        };
        if let Ok((out, _)) = &result {
            // Only successes are cached: a failure must be retried, not remembered.
            if let Some(c) = cache {
                c.insert(key, input, out.clone(), Instant::now());
            }
            if neuron.layer == Layer::L2 {
                self.memory.insert(out);
            }
        }
        Outcome {
            result,
            cache_hit: false,
        }
    }

    /// Search L2 memory: the `k` stored outputs most similar to `query`.
    pub fn memory_search(&self, query: &str, k: usize) -> Vec<memory::Hit> {
        self.memory.search(query, k)
    }

    pub fn memory_len(&self) -> usize {
        self.memory.len()
    }

    fn breaker_state(&self, p: &Processor) -> Option<BreakerState> {
        match p {
            Processor::Rules(_) => None,
            Processor::Command { breaker, .. } => {
                breaker.lock().ok().map(|b| b.state(Instant::now()))
            }
        }
    }

    pub fn neurons(&self) -> Vec<NeuronStatus> {
        let names = |ids: &[usize]| {
            ids.iter()
                .map(|i| self.net.neurons[*i].id.clone())
                .collect()
        };
        self.net
            .neurons
            .iter()
            .map(|n| {
                let breaker = self.breaker_state(&n.processor);
                NeuronStatus {
                    id: n.id.clone(),
                    layer: n.layer,
                    processor: match n.processor {
                        Processor::Rules(_) => "rules".into(),
                        Processor::Command { .. } => "command".into(),
                    },
                    state: match breaker {
                        Some(BreakerState::Open) => "failing".into(),
                        Some(BreakerState::HalfOpen) => "recovering".into(),
                        _ => "active".into(),
                    },
                    breaker,
                    forward: names(&n.forward),
                    backward: names(&n.backward),
                    processed: n.processed.load(Ordering::Relaxed),
                    failed: n.failed.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    pub fn caches(&self) -> Vec<CacheStats> {
        Layer::ALL
            .iter()
            .zip(self.caches.iter())
            .filter_map(|(l, c)| {
                let c = c.as_ref()?;
                Some(CacheStats {
                    layer: *l,
                    entries: c.len(),
                    capacity: c.capacity(),
                    ttl_s: c.ttl().as_secs(),
                    hits: c.hits.load(Ordering::Relaxed),
                    misses: c.misses.load(Ordering::Relaxed),
                    evictions: c.evictions.load(Ordering::Relaxed),
                })
            })
            .collect()
    }

    /// Health checks of the network itself (neurons, breakers); the server
    /// adds its own (event loop, draining).
    pub fn checks(&self) -> Vec<CheckBody> {
        let neurons = self.neurons();
        let open: Vec<&str> = neurons
            .iter()
            .filter(|n| n.breaker == Some(BreakerState::Open))
            .map(|n| n.id.as_str())
            .collect();
        let entry_open = self.net.first_in(Layer::L1).is_some_and(|i| {
            self.breaker_state(&self.net.neurons[i].processor) == Some(BreakerState::Open)
        });
        let (status, detail) = if open.is_empty() {
            (
                HealthStatus::Healthy,
                format!("{} neurons, no circuit breaker open", neurons.len()),
            )
        } else if entry_open || open.len() == neurons.len() {
            (
                HealthStatus::Unhealthy,
                format!(
                    "circuit breaker open on the entry path: {}",
                    open.join(", ")
                ),
            )
        } else {
            (
                HealthStatus::Degraded,
                format!("circuit breaker open: {}", open.join(", ")),
            )
        };
        vec![CheckBody {
            name: "neurons".into(),
            status,
            detail,
        }]
    }

    /// Append the engine's `hal9_*` metrics in Prometheus text format.
    pub fn write_metrics(&self, out: &mut String) {
        let m = &self.metrics;
        let _ = writeln!(
            out,
            "# HELP hal9_signals_total Signals processed.\n# TYPE hal9_signals_total counter\nhal9_signals_total {}",
            m.signals.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hal9_signals_failed_total Signals no neuron could answer.\n# TYPE hal9_signals_failed_total counter\nhal9_signals_failed_total {}",
            m.failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hal9_gradients_total Processing errors sent back along backward connections.\n# TYPE hal9_gradients_total counter\nhal9_gradients_total {}",
            m.gradients.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hal9_signal_duration_seconds Time to process a signal.\n# TYPE hal9_signal_duration_seconds histogram"
        );
        m.latency.write(out, "hal9_signal_duration_seconds", "");
        let _ = writeln!(
            out,
            "# TYPE hal9_cache_hits_total counter\n# TYPE hal9_cache_misses_total counter\n# TYPE hal9_cache_evictions_total counter\n# TYPE hal9_cache_entries gauge"
        );
        for c in self.caches() {
            let l = c.layer;
            let _ = writeln!(
                out,
                "hal9_cache_hits_total{{layer=\"{l}\"}} {}\nhal9_cache_misses_total{{layer=\"{l}\"}} {}\nhal9_cache_evictions_total{{layer=\"{l}\"}} {}\nhal9_cache_entries{{layer=\"{l}\"}} {}",
                c.hits, c.misses, c.evictions, c.entries
            );
        }
        let _ = writeln!(
            out,
            "# HELP hal9_breaker_state Circuit breaker: 0 closed, 1 half-open, 2 open.\n# TYPE hal9_breaker_state gauge"
        );
        let _ = writeln!(
            out,
            "# TYPE hal9_neuron_processed_total counter\n# TYPE hal9_neuron_failed_total counter"
        );
        for n in self.neurons() {
            if let Some(b) = n.breaker {
                let v = match b {
                    BreakerState::Closed => 0,
                    BreakerState::HalfOpen => 1,
                    BreakerState::Open => 2,
                };
                let _ = writeln!(out, "hal9_breaker_state{{neuron=\"{}\"}} {v}", n.id);
            }
            let _ = writeln!(
                out,
                "hal9_neuron_processed_total{{neuron=\"{}\",layer=\"{}\"}} {}\nhal9_neuron_failed_total{{neuron=\"{}\",layer=\"{}\"}} {}",
                n.id, n.layer, n.processed, n.id, n.layer, n.failed
            );
        }
        let _ = writeln!(
            out,
            "# TYPE hal9_memory_entries gauge\nhal9_memory_entries {}",
            self.memory.len()
        );
    }
}

/// The forward connections the matching rule selects (for a cache hit, the
/// rules are re-matched: cheap, and it keeps the cache to outputs only).
fn forward_of<'a>(neuron: &'a network::Neuron, input: &str) -> &'a [usize] {
    match &neuron.processor {
        Processor::Rules(rules) => apply_rules(rules, &neuron.forward, input).1,
        Processor::Command { .. } => &neuron.forward,
    }
}

/// First matching rule wins; with no match the input passes through to every forward connection.
fn apply_rules<'a>(
    rules: &'a [network::Rule],
    all: &'a [usize],
    input: &str,
) -> (Arc<str>, &'a [usize]) {
    let lower = input.to_lowercase();
    for r in rules {
        if r.pattern.as_deref().is_none_or(|p| lower.contains(p)) {
            let out = if r.output.contains("{input}") {
                r.output.replace("{input}", input)
            } else {
                r.output.clone()
            };
            return (Arc::from(out), r.forward.as_deref().unwrap_or(all));
        }
    }
    (Arc::from(input), all)
}

#[cfg(test)]
mod tests;
