//! `PUT /admin/migration` changes only the fields it names (ARCHITECTURE §4).

use serde_json::json;

use crate::common::Server;

const RAMP_UP_FLAGS: [&str; 5] = [
    "hierarchical_routing",
    "state_migration",
    "cognitive_layers",
    "protocol_layer",
    "substrate_layer",
];

#[test]
fn a_put_without_state_schema_keeps_the_current_schema() {
    let s = Server::start(None);
    let m = s.admin("GET", "/admin/migration", None).json();
    assert_eq!(
        (m["phase"].as_str(), m["state_schema"].as_u64()),
        (Some("full"), Some(2))
    );
    let flags: serde_json::Map<_, _> = RAMP_UP_FLAGS
        .iter()
        .map(|f| (f.to_string(), json!(true)))
        .collect();
    let a = s.admin(
        "PUT",
        "/admin/migration",
        Some(json!({"version": m["version"], "phase": "ramp_up", "hierarchical_percent": 75.0, "flags": flags})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let d = a.json();
    assert_eq!(d["phase"], "ramp_up");
    assert_eq!(d["state_schema"], 2, "{d}");
    assert_eq!(d["flags"]["intelligence_layer"], false, "{d}");
}

#[test]
fn a_put_naming_only_the_share_keeps_phase_flags_and_schema() {
    let s = Server::start(None);
    let before = s.admin("GET", "/admin/migration", None).json();
    let a = s.admin(
        "PUT",
        "/admin/migration",
        Some(json!({"version": before["version"], "hierarchical_percent": 90.0})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let d = a.json();
    assert_eq!(d["hierarchical_percent"], 90.0);
    for field in ["phase", "flags", "state_schema", "snapshots"] {
        assert_eq!(d[field], before[field], "{field} changed: {d}");
    }
    assert_eq!(d["version"], before["version"].as_u64().unwrap() + 1);
    // `version` is still required: without it the write cannot be checked for staleness.
    let a = s.admin("PUT", "/admin/migration", Some(json!({"phase": "canary"})));
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("version"), "{}", a.body);
}
