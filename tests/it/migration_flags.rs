//! Every flag of the migration document changes what a signal does, and a
//! `--components features` rollback shows in a keyed signal's trace.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::common::*;

/// The layers a keyed signal crossed, in visiting order, and its path.
fn crossed(s: &Server, key: &str) -> (String, Vec<String>) {
    let v = keyed_signal(s, key);
    let layers = v["trace"]
        .as_array()
        .unwrap_or_else(|| panic!("no trace: {v}"))
        .iter()
        .map(|h| h["layer"].as_str().unwrap().to_string())
        .collect();
    (v["path"].as_str().unwrap().to_string(), layers)
}

fn keyed_signal(s: &Server, key: &str) -> Value {
    let a = http_keyed(&format!("{}/api/v1/signal", s.url), key, "route this");
    serde_json::from_str(&a).unwrap()
}

/// The flags the trace says kept neurons off the path.
fn gated_by(v: &Value) -> Vec<String> {
    let mut flags: Vec<String> = v["gated"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|x| x["flag"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    flags.dedup();
    flags
}

fn http_keyed(url: &str, key: &str, content: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        c.post(url)
            .header("content-type", "application/json")
            .header("x-request-key", key)
            .body(json!({ "content": content }).to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    })
}

fn distinct(layers: &[String]) -> Vec<String> {
    let mut d = layers.to_vec();
    d.sort();
    d.dedup();
    d
}

fn partial_features(s: &Server, to: &str) {
    let o = run(hal9ctl(s.dir.path())
        .args(["--url", &s.url, "rollback", "--yes", "-o", "json"])
        .args(["--strategy", "partial", "--components", "features"])
        .args(["--to-phase", to])
        .stdin(Stdio::null()));
    assert_eq!(o.status.code(), Some(0), "to {to}: {}", stderr(&o));
}

#[test]
fn a_features_rollback_takes_the_layers_out_of_a_keyed_signals_trace() {
    let s = Server::start(None);
    let (path, before) = crossed(&s, "user-7");
    assert_eq!(path, "hierarchical");
    assert_eq!(distinct(&before), ["L1", "L2", "L3", "L4", "L5"]);

    // Full → ramp_up turns intelligence_layer off: L5 no longer answers.
    partial_features(&s, "ramp_up");
    let (path, after) = crossed(&s, "user-7");
    assert_eq!(path, "hierarchical", "routing was not rolled back");
    assert_eq!(distinct(&after), ["L1", "L2", "L3", "L4"], "{after:?}");

    // → state_migration turns protocol_layer off: L4 goes too.
    partial_features(&s, "state_migration");
    let (_, after) = crossed(&s, "user-7");
    assert_eq!(distinct(&after), ["L1", "L2", "L3"], "{after:?}");

    // → flat turns cognitive_layers off: the hierarchy is down to L1.
    partial_features(&s, "flat");
    let (path, after) = crossed(&s, "user-7");
    assert_eq!(path, "hierarchical");
    assert_eq!(distinct(&after), ["L1"], "{after:?}");
    assert!(before.len() > after.len());
    let f = s.get("/api/v1/status").json()["features"].clone();
    assert_eq!(f["open_layers"], json!(["L1"]), "{f}");
    assert_eq!(f["hierarchical_routing"], true, "{f}");
    let v = keyed_signal(&s, "user-7");
    assert_eq!(gated_by(&v), ["cognitive_layers"], "{v}");
    let o = run(hal9ctl(s.dir.path()).args(["signal", "route this", "--url", &s.url]));
    assert!(
        stdout(&o).contains("migration flag cognitive_layers is off"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn hierarchical_routing_off_sends_every_key_flat_whatever_the_share() {
    let s = Server::start(None);
    let m = s.admin("GET", "/admin/migration", None).json();
    let mut flags = m["flags"].clone();
    flags["hierarchical_routing"] = json!(false);
    let a = s.admin(
        "PUT",
        "/admin/migration",
        Some(json!({"version": m["version"], "flags": flags})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["hierarchical_percent"], 100.0);
    for i in 0..20 {
        let (path, layers) = crossed(&s, &format!("user-{i}"));
        assert_eq!(path, "flat", "user-{i}");
        assert_eq!(layers, ["L1"], "user-{i}");
    }
}

#[test]
fn substrate_layer_gates_command_neurons_on_the_hierarchical_path() {
    let config = r#"
[[neurons]]
id = "front"
layer = "L1"
processor = "rules"
forward = ["worker"]
rules = [{ pattern = "*", output = "{input}" }]

[[neurons]]
id = "worker"
layer = "L2"
processor = "command"
command = ["cat"]
"#;
    let s = Server::start(Some(config));
    let (_, before) = crossed(&s, "user-7");
    assert_eq!(before, ["L1", "L2"]);
    let m = s.admin("GET", "/admin/migration", None).json();
    let mut flags = m["flags"].clone();
    flags["substrate_layer"] = json!(false);
    let a = s.admin(
        "PUT",
        "/admin/migration",
        Some(json!({"version": m["version"], "flags": flags})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let (path, after) = crossed(&s, "user-7");
    assert_eq!(path, "hierarchical");
    assert_eq!(after, ["L1"], "the command neuron is skipped");
    assert_eq!(gated_by(&keyed_signal(&s, "user-7")), ["substrate_layer"]);
}
