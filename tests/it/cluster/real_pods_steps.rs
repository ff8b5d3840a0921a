//! A gradual cluster rollback on real pods that have been up a while: every
//! step's share must reach every pod (read through the pod proxy while the
//! rollback runs), and the pods' ConfigMap watch must stay connected while
//! nothing changes. A watch cut by the client's own read timeout every few
//! seconds backs off longer each time (up to 30 s), so after a quiet minute
//! a pod would miss whole steps, and the end's 15 s confirmation with it.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use super::harness::{client, kubeconfig, rt};
use super::node::{RealPods, proxy_get};
use super::real_pods_scale::live_pods;
use crate::common::*;

const READY_LIMIT: Duration = Duration::from_secs(240);
/// Longer than the API client's 8 s read timeout several times over, and
/// than the watcher's back-off reaching its cap.
const QUIET: Duration = Duration::from_secs(60);

/// A pod's serving container output so far, from the node's engine.
fn engine_logs(c: &RealPods, pod: &str) -> String {
    let host = std::env::var("HAL9_TEST_DOCKER_HOST_NODE")
        .expect("HAL9_TEST_DOCKER_HOST_NODE (scripts/k8s-node.sh start PLANE writes it)");
    let o = Command::new("docker")
        .args(["-H", &host, "ps", "-q", "--filter"])
        .arg(format!("label=io.kubernetes.pod.name={pod}"))
        .args([
            "--filter",
            &format!("label=io.kubernetes.pod.namespace={}", c.ns),
        ])
        .args(["--filter", "label=io.kubernetes.container.name=hal9"])
        .output()
        .expect("docker");
    let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(!id.is_empty(), "no running container of {pod}");
    let o = Command::new("docker")
        .args(["-H", &host, "logs", &id])
        .output()
        .expect("docker");
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn pods_up_for_a_quiet_minute_follow_every_step_of_a_gradual_rollback() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-rsteps").await;
        c.apply(&c.overlay());
        c.wait_ready("hal9-server", 3, READY_LIMIT).await;
        tokio::time::sleep(QUIET).await;
        let pods: Vec<String> = live_pods(&c).await.into_iter().map(|(n, _)| n).collect();
        assert_eq!(pods.len(), 3, "{pods:?}");
        for p in &pods {
            let log = engine_logs(&c, p);
            assert!(
                !log.contains("watch stream failed"),
                "{p}'s ConfigMap watch broke while nothing changed:\n{log}"
            );
        }

        let stop = Arc::new(AtomicBool::new(false));
        let watch = {
            let (stop, kc, ns, pods) = (
                stop.clone(),
                c.kubeconfig.clone(),
                c.ns.clone(),
                pods.clone(),
            );
            std::thread::spawn(move || {
                rt().block_on(async move {
                    let client = client(&kc, None).await;
                    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
                    let mut written = BTreeSet::new();
                    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                    loop {
                        let done = stop.load(Ordering::SeqCst);
                        if let Ok(cm) = cms.get("hal9-migration").await {
                            let doc: serde_json::Value =
                                serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
                            written.insert(doc["hierarchical_percent"].to_string());
                        }
                        for p in &pods {
                            if let Ok(s) = proxy_get(&client, &ns, p, "/api/v1/status").await {
                                seen.entry(p.clone())
                                    .or_default()
                                    .insert(s["migration"]["hierarchical_percent"].to_string());
                            }
                        }
                        if done {
                            return (written, seen);
                        }
                        tokio::time::sleep(Duration::from_millis(150)).await;
                    }
                })
            })
        };
        let st = tempdir();
        let t0 = std::time::Instant::now();
        let o = run(c
            .hal9ctl(st.path())
            .env("HAL9_LOG", "hal9ctl::commands::rollback=debug")
            .args([
                "rollback",
                "--cluster",
                "-n",
                &c.ns,
                "--strategy",
                "gradual",
                "--to-phase",
                "state_migration",
                "--steps",
                "3",
                "--interval",
                "3s",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(std::process::Stdio::null()));
        stop.store(true, Ordering::SeqCst);
        eprintln!(
            "rollback in 3 steps, 3 s windows: {:.1} s\n{}",
            t0.elapsed().as_secs_f64(),
            stderr(&o)
        );
        let (written, seen) = watch.join().unwrap();
        // Exit 0 only when every ready pod confirmed every step and the end state.
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        let summary = v["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains("; verified (applied to the ConfigMap; 3 of 3 pods confirmed"),
            "{v}"
        );
        assert_gated_steps_confirmed_by_every_pod(&v, &pods);
        assert!(
            written.len() >= 3,
            "full, the steps, state_migration: {written:?}"
        );
        for p in &pods {
            let s = seen.get(p).cloned().unwrap_or_default();
            assert!(
                written.is_subset(&s),
                "{p} saw {s:?} of the shares written {written:?}:\n{}",
                engine_logs(&c, p)
            );
        }

        // And forward again, gated the same way: `migrate` is the same engine.
        let t0 = std::time::Instant::now();
        let o = run(c
            .hal9ctl(st.path())
            .env("HAL9_LOG", "hal9ctl::commands::rollback=debug")
            .args([
                "migrate",
                "--cluster",
                "-n",
                &c.ns,
                "--to-phase",
                "full",
                "--interval",
                "1s",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(std::process::Stdio::null()));
        eprintln!(
            "migrate state_migration → full, 1 s windows: {:.1} s\n{}",
            t0.elapsed().as_secs_f64(),
            stderr(&o)
        );
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["journal"]["direction"], "forward", "{v}");
        assert_eq!(v["migration"]["phase"], "full", "{v}");
        assert!(
            v["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("; verified (applied to the ConfigMap; 3 of 3 pods confirmed"),
            "{v}"
        );
        assert_gated_steps_confirmed_by_every_pod(&v, &pods);
    });
}

/// Every step but the last (which the final verification judges) carries
/// hal9ctl's own reading of every pod: all of them confirmed that step.
fn assert_gated_steps_confirmed_by_every_pod(v: &serde_json::Value, pods: &[String]) {
    let steps = v["journal"]["steps"].as_array().unwrap();
    assert!(steps.len() >= 2, "{v}");
    for s in &steps[..steps.len() - 1] {
        let gate = &s["gate"];
        assert_eq!(gate["passed"], true, "{s}");
        assert!(
            gate["detail"]
                .to_string()
                .contains("applied to the ConfigMap; 3 of 3 pods confirmed"),
            "{s}"
        );
        let mut confirmed: Vec<String> = gate["pods"]["confirmed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        confirmed.sort();
        let mut all = pods.to_vec();
        all.sort();
        assert_eq!(confirmed, all, "{s}");
    }
}
