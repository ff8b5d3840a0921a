//! Property-based fuzzing of everything hal9ctl parses from the outside:
//! arbitrary bytes and mutated valid documents fed to the real parsers, and
//! to a real `serve` over loopback for the request bodies. Each target runs a
//! bounded number of cases (`HAL9_FUZZ_CASES`, default below) so CI spends
//! well under a minute; RELIABILITY.md has the long-run command and results.
//!
//! The property everywhere: no panic, no dropped connection, and an answer
//! of the documented kind (a typed error, or a JSON error body with a code).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::common::*;

fn cases(default: u32) -> u32 {
    std::env::var("HAL9_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `strategy` against `test` and prints the case count and time, the
/// figures RELIABILITY.md records (visible with `--nocapture`).
fn fuzz<S: Strategy>(
    name: &str,
    default: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let t0 = std::time::Instant::now();
    let mut r = runner(default);
    let result = r.run(strategy, test);
    eprintln!(
        "fuzz {name}: {} cases in {:.1} s",
        cases(default),
        t0.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
}

fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        // A failure is reported with the input; shrinking a server round trip is slow.
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Bytes that are mostly a valid document with a few edits: flipped bytes,
/// cut short, a chunk of random bytes spliced in. Reaches deeper than noise.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = valid.len().max(1);
    (
        prop::collection::vec((0..n, any::<u8>()), 0..8),
        0..=n,
        prop::collection::vec(any::<u8>(), 0..16),
        0..n,
    )
        .prop_map(move |(flips, cut, splice, at)| {
            let mut b = valid.clone();
            for (i, v) in flips {
                if i < b.len() {
                    b[i] = v;
                }
            }
            b.truncate(cut);
            let at = at.min(b.len());
            b.splice(at..at, splice);
            b
        })
}

/// Either noise or a mutation of `valid`.
fn inputs(valid: &[u8]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        mutated(valid.to_vec()),
        mutated(valid.to_vec()),
    ]
    .boxed()
}

/// JSON values of any shape, for bodies that are valid JSON but not the document.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![
            Just("L1"),
            Just("L5"),
            Just("full"),
            Just("flat"),
            Just("state_migration")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("content".to_string()),
                    Just("layer".to_string()),
                    Just("neuron_id".to_string()),
                    Just("version".to_string()),
                    Just("phase".to_string()),
                    Just("hierarchical_percent".to_string()),
                    Just("flags".to_string()),
                    Just("state_schema".to_string()),
                    Just("snapshots".to_string()),
                    Just("max_in_flight".to_string()),
                    Just("rate_limit_rps".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body_strategy(valid: Value) -> BoxedStrategy<Vec<u8>> {
    let bytes = serde_json::to_vec(&valid).unwrap();
    prop_oneof![
        inputs(&bytes),
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ]
    .boxed()
}

/// One request on a kept-alive connection; a dropped connection or a body
/// that is not JSON fails the case.
fn check_answer(
    rt: &tokio::runtime::Runtime,
    c: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<u16, TestCaseError> {
    rt.block_on(async {
        let mut r = c
            .request(method, url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let resp = r
            .send()
            .await
            .map_err(|e| TestCaseError::fail(format!("no answer (a crash?): {e}")))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| TestCaseError::fail(format!("body cut off: {e}")))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            TestCaseError::fail(format!("{status}: body is not JSON ({e}): {text}"))
        })?;
        prop_assert!(
            [200, 400, 404, 409, 413, 415, 422, 429, 503].contains(&status),
            "unexpected status {status}: {text}"
        );
        if status != 200 {
            prop_assert!(
                v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                "{status} without a JSON error: {text}"
            );
        }
        Ok(status)
    })
}

const FAST_LIMITS: &str = "[limits]\nmax_in_flight = 100000\nrate_limit_rps = 1000000\n";

fn client_rt() -> (tokio::runtime::Runtime, reqwest::Client) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    (rt, c)
}

fn still_serving(s: &Server) {
    assert_eq!(
        s.get("/ready").status,
        200,
        "the runtime survived the fuzzing"
    );
}

#[test]
fn fuzz_signal_bodies_through_a_real_serve() {
    let s = Server::start(Some(FAST_LIMITS));
    let (rt, c) = client_rt();
    let url = format!("{}/api/v1/signal", s.url);
    let valid = json!({"content": "hello", "layer": "L2", "neuron_id": "entry"});
    fuzz(
        "signal_bodies_through_a_real_serve",
        400,
        &body_strategy(valid),
        |body| check_answer(&rt, &c, reqwest::Method::POST, &url, None, body).map(|_| ()),
    );
    still_serving(&s);
}

#[test]
fn fuzz_admin_limits_bodies_through_a_real_serve() {
    let s = Server::start(Some(FAST_LIMITS));
    let (rt, c) = client_rt();
    let url = format!("{}/admin/limits", s.url);
    let valid = json!({"max_in_flight": 256, "rate_limit_rps": 1000});
    let restore =
        serde_json::to_vec(&json!({"max_in_flight": 100000, "rate_limit_rps": 1000000})).unwrap();
    fuzz(
        "admin_limits_bodies_through_a_real_serve",
        300,
        &body_strategy(valid),
        |body| {
            let st = check_answer(&rt, &c, reqwest::Method::PUT, &url, Some(&s.token), body)?;
            if st == 200 {
                // An accepted tiny limit would turn every later case into a 429.
                check_answer(
                    &rt,
                    &c,
                    reqwest::Method::PUT,
                    &url,
                    Some(&s.token),
                    restore.clone(),
                )?;
            }
            Ok(())
        },
    );
    still_serving(&s);
}

#[test]
fn fuzz_admin_migration_bodies_through_a_real_serve() {
    let s = Server::start(Some(FAST_LIMITS));
    let (rt, c) = client_rt();
    let url = format!("{}/admin/migration", s.url);
    let valid = json!({"version": 0, "phase": "canary", "hierarchical_percent": 5.0,
        "flags": {"hierarchical_routing": true}, "state_schema": 1, "snapshots": []});
    fuzz(
        "admin_migration_bodies_through_a_real_serve",
        300,
        &body_strategy(valid),
        |body| {
            check_answer(&rt, &c, reqwest::Method::PUT, &url, Some(&s.token), body)?;
            // Whatever was accepted is a document the runtime can still serve.
            let v = s.admin("GET", "/admin/migration", None);
            prop_assert_eq!(v.status, 200, "{}", v.body);
            let share = v.json()["hierarchical_percent"].as_f64().unwrap_or(-1.0);
            prop_assert!((0.0..=100.0).contains(&share), "share {share}");
            Ok(())
        },
    );
    still_serving(&s);
}

#[test]
fn fuzz_hal9_toml() {
    let valid = hal9ctl::config::EMBEDDED.as_bytes().to_vec();
    let strat = prop_oneof![inputs(&valid), inputs(b"[limits]\nmax_in_flight = 3\n")];
    fuzz("hal9_toml", 600, &strat, |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(f) = hal9ctl::config::parse(&text, Path::new("fuzz.toml")) {
            prop_assert_eq!(f.exit, hal9ctl::exit::Exit::Usage, "{}", f.message);
            prop_assert!(f.message.contains("fuzz.toml"), "{}", f.message);
        }
        Ok(())
    });
}

/// Write `bytes` as `name` into a fresh state dir and hand it to `read`.
fn in_state_dir<T>(name: &str, bytes: &[u8], read: impl FnOnce(&Path) -> T) -> T {
    let d = tempdir();
    let p = d.path().join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    read(d.path())
}

#[test]
fn fuzz_rollback_journal() {
    let valid = br#"{"id":"rb-1","strategy":"gradual","components":[],"target":"http://127.0.0.1:8080","started_at":"2026-01-01T00:00:00Z","started_by":"op","status":"interrupted","interval_ms":100,"steps":[{"index":0,"target":{"phase":"ramp_up","hierarchical_percent":50.0,"flags":{"hierarchical_routing":true},"state_schema":2},"status":"applied","version_after":5},{"index":1,"target":{"phase":"state_migration","hierarchical_percent":25.0,"flags":{},"state_schema":2},"status":"pending"}]}"#;
    use hal9ctl::commands::rollback::journal::JournalDir;
    use hal9ctl::commands::rollback::resume;
    use hal9ctl::runtime::migration::MigrationDoc;
    use hal9ctl::runtime::migration::state::Phase;
    fuzz("rollback_journal", 600, &inputs(valid), |bytes| {
        let loaded = in_state_dir("rollback/journal.json", &bytes, |d| {
            JournalDir::new(d).load()
        });
        if let Ok(Some(j)) = loaded {
            // A journal that parses is then checked and reported, never trusted blindly.
            let here = resume::TargetId {
                describe: "http://127.0.0.1:8080".into(),
                uid: None,
            };
            for p in Phase::ALL {
                let _ = resume::check(&j, &here, &MigrationDoc::at_phase(p, 1));
            }
            let _ = (j.next_step(), j.applied());
        }
        Ok(())
    });
}

#[test]
fn fuzz_migration_json() {
    let valid = br#"{"version":3,"phase":"ramp_up","hierarchical_percent":75.0,"flags":{"hierarchical_routing":true,"state_migration":true},"state_schema":2,"snapshots":["state_migration"]}"#;
    use hal9ctl::runtime::migration::MigrationDoc;
    use hal9ctl::runtime::migration::state::{Phase, apply_update};
    use hal9ctl::runtime::migration::store::MigrationStore;
    fuzz("migration_json", 600, &inputs(valid), |bytes| {
        let opened = in_state_dir("migration.json", &bytes, MigrationStore::open);
        if let Ok(store) = opened {
            let doc = store.get();
            let _ = store.share_bp();
            // Any stored document can be stepped from and back to any phase.
            for p in Phase::ALL {
                let mut next = MigrationDoc::at_phase(p, doc.version);
                next.snapshots = doc.snapshots.clone();
                if let Ok(n) = apply_update(&doc, &next) {
                    prop_assert!((0.0..=100.0).contains(&n.hierarchical_percent));
                }
            }
            use hal9ctl::commands::rollback::plan::{self, Component};
            let _ = plan::immediate(&doc, None);
            let _ = plan::gradual(&doc, Some(Phase::Flat), 7);
            let _ = plan::partial(
                &doc,
                Some(Phase::Canary),
                &[Component::Routing, Component::State],
            );
        }
        // The same bytes as the ConfigMap's `migration.json` key.
        let cm = k8s_openapi::api::core::v1::ConfigMap {
            data: Some(
                [(
                    "migration.json".to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )]
                .into_iter()
                .collect(),
            ),
            ..Default::default()
        };
        let _ = hal9ctl::cluster::migration::doc_of(&cm);
        Ok(())
    });
}

#[test]
fn fuzz_runtime_json() {
    let valid = br#"{"pid":4242,"listen":"127.0.0.1:8080","version":"0.1.0","started_at":"2026-01-01T00:00:00Z"}"#;
    use hal9ctl::runtime::state::StateDir;
    fuzz("runtime_json", 600, &inputs(valid), |bytes| {
        let _ = in_state_dir("runtime.json", &bytes, |d| {
            StateDir::new(d).read_runtime_info()
        });
        Ok(())
    });
}

#[test]
fn fuzz_metrics_text_for_rollback_gates() {
    let valid = b"# TYPE x counter\nhal9_path_requests_total{path=\"hierarchical\"} 10\nhal9_path_duration_seconds_bucket{path=\"hierarchical\",le=\"0.1\"} 4\nhal9_path_duration_seconds_bucket{path=\"hierarchical\",le=\"+Inf\"} 10\nhal9_breaker_state{neuron=\"llm\"} 2\n";
    use hal9ctl::commands::rollback::gates::{Thresholds, evaluate, p99, parse};
    fuzz(
        "metrics_text_for_rollback_gates",
        600,
        &inputs(valid),
        |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let after = parse(&text);
            let before = parse(std::str::from_utf8(valid).unwrap());
            let _ = p99(&before, &after, "hierarchical");
            let th = Thresholds {
                max_error_rate: 0.01,
                max_p99_s: 0.5,
            };
            let _ = evaluate(&before, &after, true, th);
            let _ = evaluate(&after, &before, false, th);
            Ok(())
        },
    );
}
