//! Propagation of one signal through the network.
//!
//! Breadth-first along forward connections, one level at a time, each
//! neuron at most once per signal. A neuron's input is the output of the
//! neuron that first reached it (the entry neuron gets the signal content),
//! so each layer refines what the layer before it said. A neuron that fails
//! does not forward; its error goes back to each of its backward
//! connections as a gradient, and the other branches carry on.
//!
//! On the hierarchical path the migration flags decide which neurons a
//! signal may go on to (`Features::gate`); a gated neuron neither answers
//! nor forwards, and the trace names it with the flag that is off.
//!
//! Within a level, `rules` neurons run inline (they take microseconds) and
//! `command` neurons run concurrently, so a fan-out to several external
//! programs costs the slowest of them, not their sum.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::Runtime;
use super::cache::Cached;
use super::command;
use super::lock;
use super::network::{CommandNeuron, Processor};
use super::rules::Route;
use crate::runtime::api::{Gated, Gradient, Hop};
use crate::runtime::layer::Layer;
use crate::runtime::migration::Features;

/// What happened to a signal.
#[derive(Debug, Default)]
pub struct Trace {
    pub hops: Vec<Hop>,
    pub gradients: Vec<Gradient>,
    pub gated: Vec<Gated>,
    /// The output of the last neuron, in visiting order, that succeeded.
    pub output: Option<Arc<str>>,
    /// The first error, for when nothing succeeded.
    pub first_error: Option<String>,
}

struct NeuronAnswer {
    output: Arc<str>,
    route: Route,
    cache_hit: bool,
}

type TimedAnswer = (Result<NeuronAnswer, String>, Duration);

impl Runtime {
    /// With `features` `None` (the flat path) the entry neuron alone answers.
    /// The entry neuron always answers: the caller chose it.
    pub(super) async fn propagate(
        &self,
        entry: usize,
        content: Arc<str>,
        features: Option<Features>,
    ) -> Trace {
        let neurons = &self.network.neurons;
        let mut visited = vec![false; neurons.len()];
        visited[entry] = true;
        let mut level = vec![(entry, content)];
        let mut trace = Trace::default();
        while !level.is_empty() {
            let mut outcomes: Vec<Option<TimedAnswer>> = Vec::with_capacity(level.len());
            let mut pending = Vec::new();
            for (slot, (n, input)) in level.iter().enumerate() {
                let started = Instant::now();
                match self.try_inline(*n, input, started) {
                    Some(result) => outcomes.push(Some((result, started.elapsed()))),
                    None => {
                        outcomes.push(None);
                        pending.push((slot, self.command_hop(*n, Arc::clone(input))));
                    }
                }
            }
            if !pending.is_empty() {
                let (slots, futures): (Vec<usize>, Vec<_>) = pending.into_iter().unzip();
                for (slot, outcome) in slots.into_iter().zip(join_all(futures).await) {
                    outcomes[slot] = Some(outcome);
                }
            }
            let mut next = Vec::new();
            for ((n, _), outcome) in level.into_iter().zip(outcomes) {
                let Some((result, latency)) = outcome else {
                    continue;
                };
                let neuron = &neurons[n];
                let mut hop = Hop {
                    neuron: neuron.id.to_string(),
                    layer: neuron.layer,
                    latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                    cache_hit: false,
                    error: None,
                };
                match result {
                    Ok(done) => {
                        neuron.processed.fetch_add(1, Relaxed);
                        hop.cache_hit = done.cache_hit;
                        let (targets, features) = match features {
                            Some(open) => (neuron.forwards(done.route), open),
                            None => (&[][..], Features::ALL),
                        };
                        for &f in targets {
                            if visited[f] {
                                continue;
                            }
                            visited[f] = true;
                            let to = &neurons[f];
                            let runs_a_command = matches!(to.processor, Processor::Command(_));
                            match features.gate(to.layer, runs_a_command) {
                                None => next.push((f, Arc::clone(&done.output))),
                                Some(flag) => trace.gated.push(Gated {
                                    neuron: to.id.to_string(),
                                    layer: to.layer,
                                    flag: flag.to_string(),
                                }),
                            }
                        }
                        trace.output = Some(done.output);
                    }
                    Err(error) => {
                        neuron.failed.fetch_add(1, Relaxed);
                        for &b in &neuron.backward {
                            trace.gradients.push(Gradient {
                                from: neuron.id.to_string(),
                                to: neurons[b].id.to_string(),
                                error: error.clone(),
                            });
                        }
                        if trace.first_error.is_none() {
                            trace.first_error = Some(format!("neuron {:?}: {error}", &*neuron.id));
                        }
                        hop.error = Some(error);
                    }
                }
                trace.hops.push(hop);
            }
            level = next;
        }
        self.metrics
            .gradients
            .fetch_add(trace.gradients.len() as u64, Relaxed);
        trace
    }

    /// Answer from the cache or the rules; `None` when a program must run.
    fn try_inline(
        &self,
        n: usize,
        input: &Arc<str>,
        now: Instant,
    ) -> Option<Result<NeuronAnswer, String>> {
        let neuron = &self.network.neurons[n];
        if let Some(cache) = self.cache(neuron.layer)
            && let Some(hit) = cache.get(n, input, now)
        {
            return Some(Ok(NeuronAnswer {
                output: hit.output,
                route: hit.route,
                cache_hit: true,
            }));
        }
        match &neuron.processor {
            Processor::Rules(rules) => {
                let (output, route) = rules.apply(input);
                self.remember(n, input, &output, route, now);
                Some(Ok(NeuronAnswer {
                    output,
                    route,
                    cache_hit: false,
                }))
            }
            Processor::Command(_) => None,
        }
    }

    /// Run a command neuron behind its breaker and time it.
    async fn command_hop(&self, n: usize, input: Arc<str>) -> TimedAnswer {
        let started = Instant::now();
        let result = match &self.network.neurons[n].processor {
            Processor::Command(cmd) => self.run_command(n, cmd, input).await,
            Processor::Rules(_) => Err("not a command neuron".to_string()),
        };
        (result, started.elapsed())
    }

    async fn run_command(
        &self,
        n: usize,
        cmd: &CommandNeuron,
        input: Arc<str>,
    ) -> Result<NeuronAnswer, String> {
        // Busy is checked before the breaker, so a call turned away never
        // takes one of a half-open breaker's trial slots.
        let Ok(_slot) = cmd.slots.try_acquire() else {
            return Err(format!(
                "busy: {} calls already running (command_concurrency)",
                cmd.concurrency
            ));
        };
        let admitted = lock(&cmd.health).breaker.allow(Instant::now());
        if let Err(refused) = admitted {
            return Err(format!(
                "circuit breaker open; next try in {}s",
                refused.retry_in.as_secs().max(1)
            ));
        }
        let call = command::Call {
            timeout: cmd.timeout,
            env: &cmd.env,
        };
        let result = command::run(&cmd.argv, &input, call).await;
        {
            let mut health = lock(&cmd.health);
            match &result {
                Ok(_) => {
                    health.breaker.record_success();
                    health.last_error = None;
                }
                Err(e) => {
                    health.breaker.record_failure(Instant::now());
                    health.last_error = Some(e.summary.clone());
                }
            }
        }
        let output: Arc<str> = match result {
            Ok(text) => Arc::from(text),
            Err(e) => {
                let id = &self.network.neurons[n].id;
                if e.stderr.is_empty() {
                    tracing::warn!("neuron {id:?}: {}", e.summary);
                } else {
                    // Debug-quoted: the program's bytes cannot forge log lines.
                    tracing::warn!("neuron {id:?}: {}; stderr: {:?}", e.summary, e.stderr);
                }
                return Err(e.summary);
            }
        };
        self.remember(n, &input, &output, Route::All, Instant::now());
        Ok(NeuronAnswer {
            output,
            route: Route::All,
            cache_hit: false,
        })
    }

    /// Keep a fresh answer: in the layer's cache, and in L2 memory when it
    /// came from L2. Failures are never kept.
    fn remember(&self, n: usize, input: &str, output: &Arc<str>, route: Route, now: Instant) {
        let neuron = &self.network.neurons[n];
        if let Some(cache) = self.cache(neuron.layer) {
            let value = Cached {
                output: Arc::clone(output),
                route,
            };
            cache.insert(n, input, value, now);
        }
        if neuron.layer == Layer::L2 {
            self.memory.insert(&neuron.id, output);
        }
    }
}

/// Drive futures of one type together and collect their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
