use std::time::Duration;

use super::*;
use crate::config::Config;

fn default_runtime() -> Runtime {
    let c = Config::default();
    Runtime::new(&c.neurons, &c.runtime).unwrap()
}

fn req(content: &str) -> SignalRequest {
    SignalRequest {
        content: content.into(),
        layer: None,
        neuron_id: None,
    }
}

fn specs(text: &str) -> Vec<NeuronSpec> {
    #[derive(serde::Deserialize)]
    struct N {
        neurons: Vec<NeuronSpec>,
    }
    toml::from_str::<N>(text).unwrap().neurons
}

#[tokio::test]
async fn a_signal_crosses_all_five_layers_in_breadth_first_order() {
    let rt = default_runtime();
    let r = rt.signal(&req("the disk is full")).await.unwrap();
    let order: Vec<&str> = r.trace.iter().map(|h| h.neuron.as_str()).collect();
    assert_eq!(
        order,
        vec![
            "reflex",
            "implement",
            "recall",
            "operate",
            "tactics",
            "strategy"
        ]
    );
    let layers: std::collections::BTreeSet<Layer> = r.trace.iter().map(|h| h.layer).collect();
    assert_eq!(layers.len(), 5);
    assert!(
        r.output
            .starts_with("strategic direction for: tactical priority for: runbook disk-full"),
        "{}",
        r.output
    );
    assert_eq!(r.path, Path::Hierarchical);
    assert!(r.gradients.is_empty());
}

#[tokio::test]
async fn a_repeated_signal_hits_the_layer_caches() {
    let rt = default_runtime();
    let first = rt.signal(&req("cache me")).await.unwrap();
    assert!(first.trace.iter().all(|h| !h.cache_hit));
    let second = rt.signal(&req("cache me")).await.unwrap();
    let hits: Vec<(Layer, bool)> = second
        .trace
        .iter()
        .map(|h| (h.layer, h.cache_hit))
        .collect();
    for (layer, hit) in hits {
        assert_eq!(
            hit,
            matches!(layer, Layer::L2 | Layer::L3 | Layer::L4),
            "layer {layer}"
        );
    }
    assert_eq!(second.output, first.output);
    let l2 = rt
        .caches()
        .into_iter()
        .find(|c| c.layer == Layer::L2)
        .unwrap();
    assert_eq!((l2.hits, l2.misses), (2, 2));
}

#[tokio::test]
async fn entry_by_layer_and_neuron_and_bad_entries() {
    let rt = default_runtime();
    let r = rt
        .signal(&SignalRequest {
            content: "x".into(),
            layer: Some(Layer::L4),
            neuron_id: None,
        })
        .await
        .unwrap();
    assert_eq!(r.trace[0].neuron, "tactics");
    assert_eq!(r.trace.len(), 2);
    let r = rt
        .signal(&SignalRequest {
            content: "x".into(),
            layer: None,
            neuron_id: Some("strategy".into()),
        })
        .await
        .unwrap();
    assert_eq!(r.trace.len(), 1);
    assert!(matches!(
        rt.signal(&req("  ")).await,
        Err(SignalError::EmptyContent)
    ));
    let e = rt
        .signal(&SignalRequest {
            content: "x".into(),
            layer: None,
            neuron_id: Some("nope".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), 404);
    assert_eq!(e.code(), "unknown_neuron");
}

#[tokio::test]
async fn the_flat_path_is_one_neuron() {
    let rt = default_runtime();
    let r = rt
        .signal_on(&req("hello"), Path::Flat, rt.new_id())
        .await
        .unwrap();
    assert_eq!(r.trace.len(), 1);
    assert_eq!(r.output, "observed: hello");
    assert_eq!(r.path, Path::Flat);
}

const FAILING: &str = r#"
[[neurons]]
id = "entry"
layer = "L1"
processor = "rules"
forward = ["bad", "good"]
rules = [{ pattern = "*", output = "{input}" }]

[[neurons]]
id = "bad"
layer = "L3"
processor = "command"
command = ["sh", "-c", "exit 3"]
backward = ["entry"]

[[neurons]]
id = "good"
layer = "L5"
processor = "command"
command = ["sh", "-c", "tr a-z A-Z"]
backward = ["entry"]
"#;

#[tokio::test]
async fn a_failing_command_sends_a_gradient_back_and_others_still_answer() {
    let rt = Runtime::new(&specs(FAILING), &RuntimeSettings::default()).unwrap();
    let r = rt.signal(&req("shout")).await.unwrap();
    assert_eq!(r.output, "SHOUT");
    assert_eq!(
        r.gradients,
        vec![Gradient {
            from: "bad".into(),
            to: "entry".into(),
            error: "sh exited with 3".into()
        }]
    );
    let bad = r.trace.iter().find(|h| h.neuron == "bad").unwrap();
    assert_eq!(bad.error.as_deref(), Some("sh exited with 3"));
}

#[tokio::test]
async fn hangs_and_garbage_fail_and_five_failures_open_the_breaker() {
    let text = r#"
[[neurons]]
id = "slow"
layer = "L1"
processor = "command"
command = ["sleep", "5"]
timeout = "200ms"

[[neurons]]
id = "garbage"
layer = "L2"
processor = "command"
command = ["printf", "\\377\\376"]
"#;
    let rt = Runtime::new(&specs(text), &RuntimeSettings::default()).unwrap();
    let started = Instant::now();
    let e = rt.signal(&req("x")).await.unwrap_err();
    assert!(e.to_string().contains("timed out after 200ms"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the hung child was killed at the timeout"
    );
    let e = rt
        .signal(&SignalRequest {
            content: "x".into(),
            layer: Some(Layer::L2),
            neuron_id: None,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");
    for _ in 0..4 {
        let _ = rt
            .signal(&SignalRequest {
                content: "x".into(),
                layer: Some(Layer::L2),
                neuron_id: None,
            })
            .await;
    }
    let n = rt
        .neurons()
        .into_iter()
        .find(|n| n.id == "garbage")
        .unwrap();
    assert_eq!(n.breaker, Some(BreakerState::Open));
    let e = rt
        .signal(&SignalRequest {
            content: "x".into(),
            layer: Some(Layer::L2),
            neuron_id: None,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("circuit breaker open"), "{e}");
    assert_eq!(rt.checks()[0].status, HealthStatus::Degraded);
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_hal9_names() {
    let rt = default_runtime();
    rt.signal(&req("m")).await.unwrap();
    let mut s = String::new();
    rt.write_metrics(&mut s);
    assert!(s.contains("hal9_signals_total 1\n"));
    assert!(s.contains("hal9_cache_misses_total{layer=\"L3\"} 1\n"));
    assert!(s.contains("hal9_signal_duration_seconds_count 1\n"));
    assert!(s.contains("hal9_neuron_processed_total{neuron=\"reflex\",layer=\"L1\"} 1\n"));
    assert!(
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| l.starts_with("hal9_"))
    );
}

#[tokio::test]
async fn l2_outputs_are_searchable_in_memory() {
    let rt = default_runtime();
    rt.signal(&req("the database is slow")).await.unwrap();
    rt.signal(&req("port 8080 is taken")).await.unwrap();
    let hits = rt.memory_search("database slow", 1);
    assert!(hits[0].text.contains("the database is slow"), "{hits:?}");
}
