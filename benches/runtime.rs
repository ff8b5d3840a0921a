//! Engine figures against the seed system's targets (see BENCHMARKS.md):
//! 5-layer propagation (rules, cache miss) < 20 µs, 1000-neuron activation
//! < 1 ms, L2 memory search over 100 000 entries < 2 ms.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use hal9ctl::config::Config;
use hal9ctl::runtime::Layer;
use hal9ctl::runtime::Runtime;
use hal9ctl::runtime::api::SignalRequest;
use hal9ctl::runtime::engine::memory::Memory;
use hal9ctl::runtime::spec::{NeuronSpec, ProcessorKind, RuleSpec};

fn unique(prefix: &str, n: &AtomicU64) -> SignalRequest {
    // A new input every iteration: every layer cache misses.
    SignalRequest {
        content: format!("{prefix} {}", n.fetch_add(1, Ordering::Relaxed)),
        layer: None,
        neuron_id: None,
    }
}

/// 1000 neurons in five layers (1, 9, 90, 300, 600), each forwarding to
/// neurons of the next layer so a signal reaches all of them.
fn thousand() -> Vec<NeuronSpec> {
    let sizes = [1usize, 9, 90, 300, 600];
    let name = |l: usize, i: usize| format!("n{l}-{i}");
    let mut specs = Vec::new();
    for (l, &size) in sizes.iter().enumerate() {
        for i in 0..size {
            let forward = if l + 1 < sizes.len() {
                let next = sizes[l + 1];
                let per = next.div_ceil(size);
                (0..per)
                    .map(|k| name(l + 1, (i * per + k) % next))
                    .collect()
            } else {
                Vec::new()
            };
            specs.push(NeuronSpec {
                id: name(l, i),
                layer: Layer::ALL[l],
                processor: ProcessorKind::Rules,
                forward,
                backward: Vec::new(),
                rules: vec![
                    RuleSpec {
                        pattern: "urgent".into(),
                        output: "escalate: {input}".into(),
                        forward: None,
                    },
                    RuleSpec {
                        pattern: "*".into(),
                        output: "n: {input}".into(),
                        forward: None,
                    },
                ],
                command: None,
                timeout: None,
            });
        }
    }
    specs
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let cfg = Config::default();

    let engine = Runtime::new(&cfg.neurons, &cfg.runtime).expect("default network");
    let n = AtomicU64::new(0);
    c.bench_function("propagate_5_layers_rules_cache_miss", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                engine
                    .signal(&unique("the disk is full", &n))
                    .await
                    .expect("signal"),
            )
        })
    });

    let big = Runtime::new(&thousand(), &cfg.runtime).expect("1000-neuron network");
    let probe = rt
        .block_on(big.signal(&unique("probe", &n)))
        .expect("signal");
    assert_eq!(
        probe.trace.len(),
        1000,
        "the signal activates all 1000 neurons"
    );
    c.bench_function("activate_1000_neurons", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(big.signal(&unique("load", &n)).await.expect("signal")) })
    });

    // The routing decision on the request path: hash the key, compare with the share.
    let keys: Vec<String> = (0..1024).map(|i| format!("sig-3f9a2c1d-{i}")).collect();
    let mut k = 0usize;
    c.bench_function("route_sticky_hash", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            black_box(hal9ctl::runtime::migration::router::route(
                keys[k].as_bytes(),
                black_box(2500),
            ))
        })
    });

    // Two kinds of memory: varied texts, and texts as L2 neurons write them,
    // all sharing a long prefix (the worst case for an inverted index).
    let words = [
        "disk", "port", "latency", "rollback", "canary", "cache", "neuron", "layer", "restart",
        "scale", "memory", "python",
    ];
    // The default byte bound holds 100 000 entries of this size.
    let bytes = hal9ctl::runtime::spec::RuntimeSettings::default()
        .memory_max_bytes
        .get();
    let varied = Memory::new(100_000, bytes);
    let templated = Memory::new(100_000, bytes);
    let neuron: Arc<str> = Arc::from("implement");
    for i in 0..100_000usize {
        let text = format!(
            "{} {} {} incident {i}",
            words[i % 12],
            words[(i / 12) % 12],
            words[(i / 144) % 12]
        );
        templated.insert(
            &neuron,
            &Arc::from(format!("implementation plan for: observed: {text}")),
        );
        varied.insert(&neuron, &Arc::from(text));
    }
    assert_eq!(varied.len(), 100_000);
    c.bench_function("memory_search_100k_top10", |b| {
        b.iter(|| black_box(varied.search("rollback of the canary cache", 10)))
    });
    c.bench_function("memory_search_100k_top10_shared_prefix", |b| {
        b.iter(|| {
            black_box(templated.search("implementation plan for: observed: rollback canary", 10))
        })
    });
}

criterion_group! {
    name = engine;
    config = Criterion::default().warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(engine);
