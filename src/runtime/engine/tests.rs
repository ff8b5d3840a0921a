//! The engine end to end: real networks, real programs for `command`.

use std::time::Duration;

use super::*;
use crate::config::Config;
use crate::runtime::api::Gradient;
use crate::runtime::spec::{ProcessorKind, RuleSpec};

fn default_runtime() -> Runtime {
    let config = Config::default();
    Runtime::new(&config.neurons, &config.runtime).unwrap()
}

fn req(content: &str) -> SignalRequest {
    SignalRequest {
        content: content.to_string(),
        layer: None,
        neuron_id: None,
    }
}

fn rules(id: &str, layer: Layer, forward: &[&str], backward: &[&str], output: &str) -> NeuronSpec {
    NeuronSpec {
        id: id.to_string(),
        layer,
        processor: ProcessorKind::Rules,
        forward: forward.iter().map(|s| s.to_string()).collect(),
        backward: backward.iter().map(|s| s.to_string()).collect(),
        rules: vec![RuleSpec {
            pattern: "*".to_string(),
            output: output.to_string(),
            forward: None,
        }],
        command: None,
        timeout: None,
    }
}

fn command(id: &str, layer: Layer, argv: &[&str], backward: &[&str]) -> NeuronSpec {
    NeuronSpec {
        id: id.to_string(),
        layer,
        processor: ProcessorKind::Command,
        forward: Vec::new(),
        backward: backward.iter().map(|s| s.to_string()).collect(),
        rules: Vec::new(),
        command: Some(argv.iter().map(|s| s.to_string()).collect()),
        timeout: Some(Duration::from_secs(10)),
    }
}

/// `in` (L1) fans out to `bad` (a command) and `ok` (rules, L2), and `ok`
/// goes on to `top` (L3).
fn network_with(bad: NeuronSpec, settings: &RuntimeSettings) -> Runtime {
    let mut entry = rules("in", Layer::L1, &[], &[], "in: {input}");
    entry.forward = vec![bad.id.clone(), "ok".to_string()];
    let specs = vec![
        entry,
        bad,
        rules("ok", Layer::L2, &["top"], &["in"], "ok: {input}"),
        rules("top", Layer::L3, &[], &["ok"], "top: {input}"),
    ];
    Runtime::new(&specs, settings).unwrap()
}

fn hop_names(r: &SignalResponse) -> Vec<&str> {
    r.trace.iter().map(|h| h.neuron.as_str()).collect()
}

#[tokio::test]
async fn a_signal_crosses_all_five_layers_of_the_default_network() {
    let rt = default_runtime();
    let r = rt.signal(&req("  the disk is down\n")).await.unwrap();
    assert_eq!(
        hop_names(&r),
        [
            "reflex",
            "implement",
            "recall",
            "operate",
            "tactics",
            "strategy"
        ]
    );
    let layers: Vec<Layer> = r.trace.iter().map(|h| h.layer).collect();
    assert_eq!(
        layers,
        [
            Layer::L1,
            Layer::L2,
            Layer::L2,
            Layer::L3,
            Layer::L4,
            Layer::L5
        ]
    );
    // `operate` got its input from `implement`, the first to reach it.
    assert_eq!(
        r.output,
        "strategic direction for: tactical priority for: runbook disk-full for: \
         implementation plan for: alert: service down — the disk is down"
    );
    assert_eq!(r.path, Path::Hierarchical);
    assert!(r.gradients.is_empty());
    assert!(r.trace.iter().all(|h| !h.cache_hit && h.error.is_none()));
}

#[tokio::test]
async fn a_repeated_signal_is_answered_from_the_l2_to_l4_caches() {
    let rt = default_runtime();
    let first = rt.signal(&req("hello")).await.unwrap();
    let second = rt.signal(&req("hello")).await.unwrap();
    assert_eq!(first.output, second.output);
    assert!(first.id.starts_with("sig-"), "{}", first.id);
    assert_ne!(first.id, second.id);
    let hits: Vec<(&str, bool)> = second
        .trace
        .iter()
        .map(|h| (h.neuron.as_str(), h.cache_hit))
        .collect();
    assert_eq!(
        hits,
        [
            ("reflex", false),
            ("implement", true),
            ("recall", true),
            ("operate", true),
            ("tactics", true),
            ("strategy", false)
        ]
    );
    let stats = rt.caches();
    let l2 = stats.iter().find(|s| s.layer == Layer::L2).unwrap();
    assert_eq!((l2.hits, l2.misses, l2.entries, l2.ttl_s), (2, 2, 2, 600));
    assert_eq!(stats.len(), 3, "L1 and L5 are not cached");
}

#[tokio::test]
async fn l2_outputs_are_searchable_in_memory() {
    let rt = default_runtime();
    for text in [
        "disk full on node-3",
        "certificate expired",
        "pod crash loop",
    ] {
        rt.signal(&req(text)).await.unwrap();
    }
    assert_eq!((rt.memory_len(), rt.memory_capacity()), (6, 100_000));
    let hits = rt.memory_search("certificate expiry", 2);
    assert_eq!(hits.len(), 2);
    assert!(hits[0].text.contains("certificate expired"), "{hits:?}");
    assert!(hits[1].text.contains("certificate expired"), "{hits:?}");
}

#[tokio::test]
async fn entry_by_layer_or_neuron_and_bad_requests() {
    let rt = default_runtime();
    let mut r = req("x");
    r.layer = Some(Layer::L3);
    let names = hop_names(&rt.signal(&r).await.unwrap()).join(",");
    assert_eq!(names, "operate,tactics,strategy");
    let mut r = req("x");
    r.neuron_id = Some("recall".to_string());
    let answer = rt.signal(&r).await.unwrap();
    assert_eq!(hop_names(&answer)[0], "recall");

    assert!(matches!(
        rt.signal(&req(" \n\t")).await,
        Err(SignalError::EmptyContent)
    ));
    let mut r = req("x");
    r.neuron_id = Some("ghost".to_string());
    let err = rt.signal(&r).await.unwrap_err();
    assert_eq!((err.http_status(), err.code()), (404, "unknown_neuron"));

    let small = Runtime::new(
        &[rules("only", Layer::L1, &[], &[], "{input}")],
        &RuntimeSettings::default(),
    )
    .unwrap();
    let mut r = req("x");
    r.layer = Some(Layer::L4);
    assert!(matches!(
        small.signal(&r).await,
        Err(SignalError::EmptyLayer(Layer::L4))
    ));
}

#[tokio::test]
async fn the_flat_path_is_the_entry_neuron_alone() {
    let rt = default_runtime();
    let r = rt
        .signal_on(&req("hello"), Path::Flat, Features::ALL, rt.new_id())
        .await
        .unwrap();
    assert_eq!(hop_names(&r), ["reflex"]);
    assert_eq!(r.output, "observed: hello");
    assert_eq!(r.path, Path::Flat);
}

#[tokio::test]
async fn rule_forward_subsets_choose_the_branch() {
    let mut entry = rules("in", Layer::L1, &["a", "b"], &[], "{input}");
    entry.rules.insert(
        0,
        RuleSpec {
            pattern: "only-b".to_string(),
            output: "routed".to_string(),
            forward: Some(vec!["b".to_string()]),
        },
    );
    let rt = Runtime::new(
        &[
            entry,
            rules("a", Layer::L2, &[], &[], "a"),
            rules("b", Layer::L2, &[], &[], "b: {input}"),
        ],
        &RuntimeSettings::default(),
    )
    .unwrap();
    let r = rt.signal(&req("ONLY-B")).await.unwrap();
    assert_eq!(hop_names(&r), ["in", "b"]);
    assert_eq!(r.output, "b: routed");
    let r = rt.signal(&req("anything")).await.unwrap();
    assert_eq!(hop_names(&r), ["in", "a", "b"]);
}

#[tokio::test]
async fn a_failing_command_sends_a_gradient_and_the_other_branch_answers() {
    let rt = network_with(
        command(
            "bad",
            Layer::L2,
            &["sh", "-c", "echo no model >&2; exit 3"],
            &["in"],
        ),
        &RuntimeSettings::default(),
    );
    let r = rt.signal(&req("help")).await.unwrap();
    assert_eq!(hop_names(&r), ["in", "bad", "ok", "top"]);
    assert_eq!(r.output, "top: ok: in: help");
    // The trace is public: the summary, not the program's stderr.
    assert_eq!(r.trace[1].error.as_deref(), Some("exited with status 3"));
    assert_eq!(
        r.gradients,
        [Gradient {
            from: "bad".to_string(),
            to: "in".to_string(),
            error: "exited with status 3".to_string(),
        }]
    );
    let bad = rt.neurons().into_iter().find(|n| n.id == "bad").unwrap();
    assert_eq!((bad.processed, bad.failed), (0, 1));
    assert_eq!(bad.state, "failing");
    assert_eq!(bad.breaker, Some(BreakerState::Closed));
    // Failures are not cached: only `ok` is in the L2 cache.
    let l2 = rt
        .caches()
        .into_iter()
        .find(|s| s.layer == Layer::L2)
        .unwrap();
    assert_eq!(l2.entries, 1);
}

#[tokio::test]
async fn hanging_and_garbage_commands_become_gradients() {
    let mut slow = command("slow", Layer::L2, &["sleep", "30"], &["in"]);
    slow.timeout = Some(Duration::from_millis(200));
    let rt = network_with(slow, &RuntimeSettings::default());
    let r = rt.signal(&req("x")).await.unwrap();
    assert_eq!(r.trace[1].error.as_deref(), Some("timed out after 200ms"));
    assert_eq!(r.output, "top: ok: in: x");

    let rt = network_with(
        command("garbage", Layer::L2, &["printf", "\\377"], &["in"]),
        &RuntimeSettings::default(),
    );
    let r = rt.signal(&req("x")).await.unwrap();
    assert_eq!(r.gradients.len(), 1);
    assert!(
        r.gradients[0].error.contains("not UTF-8"),
        "{:?}",
        r.gradients
    );
}

#[tokio::test]
async fn a_working_command_answers_and_is_cached() {
    let rt = Runtime::new(
        &[rules("in", Layer::L1, &["llm"], &[], "prompt: {input}"), {
            let mut c = command("llm", Layer::L2, &["tr", "a-z", "A-Z"], &["in"]);
            c.timeout = None;
            c
        }],
        &RuntimeSettings::default(),
    )
    .unwrap();
    let r = rt.signal(&req("hello")).await.unwrap();
    assert_eq!(r.output, "PROMPT: HELLO");
    let again = rt.signal(&req("hello")).await.unwrap();
    assert!(again.trace[1].cache_hit);
    assert_eq!(rt.memory_search("prompt hello", 1)[0].text, "PROMPT: HELLO");
}

#[tokio::test]
async fn the_breaker_opens_after_consecutive_failures_and_health_degrades() {
    let settings = RuntimeSettings {
        breaker_failures: 2,
        ..RuntimeSettings::default()
    };
    let rt = network_with(
        command("bad", Layer::L2, &["sh", "-c", "exit 3"], &["in"]),
        &settings,
    );
    assert_eq!(rt.checks()[0].status, HealthStatus::Healthy);
    // Distinct contents, so no answer comes from a cache.
    for text in ["one", "two"] {
        rt.signal(&req(text)).await.unwrap();
    }
    let r = rt.signal(&req("three")).await.unwrap();
    let error = r.trace[1].error.as_deref().unwrap();
    assert!(
        error.starts_with("circuit breaker open; next try in"),
        "{error}"
    );
    assert_eq!(r.output, "top: ok: in: three");

    let bad = rt.neurons().into_iter().find(|n| n.id == "bad").unwrap();
    assert_eq!(bad.breaker, Some(BreakerState::Open));
    assert_eq!(bad.state, "unavailable");
    assert_eq!(bad.failed, 3);
    let check = &rt.checks()[0];
    assert_eq!(check.status, HealthStatus::Degraded);
    assert!(
        check
            .detail
            .contains("breaker open: bad (last error: exited with status 3)"),
        "{}",
        check.detail
    );

    let mut text = String::new();
    rt.write_metrics(&mut text);
    assert!(
        text.contains("hal9_breaker_state{neuron=\"bad\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("hal9_neuron_failed_total{neuron=\"bad\",layer=\"L2\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("hal9_gradients_total 3\n"), "{text}");
}

#[tokio::test]
async fn when_every_neuron_fails_the_signal_fails_and_health_is_unhealthy() {
    let settings = RuntimeSettings {
        breaker_failures: 1,
        ..RuntimeSettings::default()
    };
    let rt = Runtime::new(
        &[command("only", Layer::L1, &["sh", "-c", "exit 7"], &[])],
        &settings,
    )
    .unwrap();
    let err = rt.signal(&req("x")).await.unwrap_err();
    assert_eq!(err.http_status(), 503);
    assert_eq!(
        err.to_string(),
        "every neuron on the path failed: neuron \"only\": exited with status 7"
    );
    assert_eq!(rt.checks()[0].status, HealthStatus::Unhealthy);
    let mut text = String::new();
    rt.write_metrics(&mut text);
    assert!(text.contains("hal9_signals_failed_total 1\n"), "{text}");
    assert!(text.contains("hal9_signals_total 1\n"), "{text}");
}

#[tokio::test]
async fn an_open_breaker_on_the_default_entry_is_unhealthy() {
    let settings = RuntimeSettings {
        breaker_failures: 1,
        ..RuntimeSettings::default()
    };
    let mut entry = command("entry", Layer::L1, &["sh", "-c", "exit 1"], &[]);
    entry.forward = vec!["next".to_string()];
    let rt = Runtime::new(
        &[entry, rules("next", Layer::L2, &[], &["entry"], "{input}")],
        &settings,
    )
    .unwrap();
    assert!(rt.signal(&req("x")).await.is_err());
    let check = &rt.checks()[0];
    assert_eq!(check.status, HealthStatus::Unhealthy, "{}", check.detail);
    // Entered elsewhere, the network still answers.
    let mut r = req("x");
    r.layer = Some(Layer::L2);
    assert_eq!(rt.signal(&r).await.unwrap().output, "x");
}

#[tokio::test]
async fn metrics_cover_signals_latency_caches_and_neurons() {
    let rt = default_runtime();
    rt.signal(&req("a")).await.unwrap();
    rt.signal(&req("a")).await.unwrap();
    let _ = rt.signal(&req("")).await;
    let mut text = String::new();
    rt.write_metrics(&mut text);
    for line in [
        "hal9_signals_total 2\n",
        "hal9_signals_rejected_total 1\n",
        "hal9_signal_duration_seconds_count 2\n",
        "hal9_cache_hits_total{layer=\"L2\"} 2\n",
        "hal9_cache_misses_total{layer=\"L3\"} 1\n",
        "hal9_cache_entries{layer=\"L4\"} 1\n",
        "hal9_neuron_processed_total{neuron=\"reflex\",layer=\"L1\"} 2\n",
        "hal9_memory_entries 2\n",
        "# TYPE hal9_signal_duration_seconds histogram\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains("hal9_breaker_state{"),
        "rules neurons have no breaker"
    );
}

#[tokio::test]
async fn a_gated_layer_neither_answers_nor_forwards_but_a_chosen_entry_does() {
    use crate::runtime::migration::{MigrationDoc, Phase};
    let rt = default_runtime();
    // ramp_up: intelligence_layer is off, so L5 is named in `gated`, not the trace.
    let ramp = Features::of(&MigrationDoc::at_phase(Phase::RampUp, 0));
    let r = rt
        .signal_on(&req("hello"), Path::Hierarchical, ramp, rt.new_id())
        .await
        .unwrap();
    assert!(r.trace.iter().all(|h| h.layer != Layer::L5), "{r:?}");
    assert!(r.trace.iter().any(|h| h.layer == Layer::L4), "{r:?}");
    assert!(
        r.gated
            .iter()
            .all(|g| g.layer == Layer::L5 && g.flag == "intelligence_layer"),
        "{r:?}"
    );
    assert!(!r.gated.is_empty(), "{r:?}");
    // A signal sent to L5 by name still gets its answer there.
    let at_l5 = SignalRequest {
        layer: Some(Layer::L5),
        ..req("hello")
    };
    let r = rt
        .signal_on(&at_l5, Path::Hierarchical, ramp, rt.new_id())
        .await
        .unwrap();
    assert_eq!(r.trace.len(), 1);
    assert_eq!(r.trace[0].layer, Layer::L5);
}
