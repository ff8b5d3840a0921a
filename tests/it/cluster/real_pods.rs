//! hal9ctl against pods that really run `hal9ctl serve`: the image built from
//! the Dockerfile, on the test node's kubelet, with the kubelet's own probes.
//! Assertions read pod state directly (API server, pod proxy), not hal9ctl's
//! wording.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use super::harness::{kubeconfig, rt};
use super::node::{RealPods, proxy_get};
use crate::common::*;

const READY_LIMIT: Duration = Duration::from_secs(240);

fn pod_names(pods: &[k8s_openapi::api::core::v1::Pod]) -> Vec<String> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

/// Every container waiting reason of the namespace's pods.
async fn waiting_reasons(c: &RealPods) -> BTreeSet<String> {
    c.pods()
        .await
        .iter()
        .filter_map(|p| p.status.as_ref()?.container_statuses.clone())
        .flatten()
        .filter_map(|s| s.state?.waiting?.reason)
        .collect()
}

async fn wait_for_reason(c: &RealPods, reason: &str, limit: Duration) {
    let t0 = Instant::now();
    while !waiting_reasons(c).await.contains(reason) {
        assert!(
            t0.elapsed() < limit,
            "no pod waiting with {reason} within {limit:?}: {:#?}",
            c.pod_states().await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn health(c: &RealPods) -> std::process::Output {
    let st = tempdir();
    run(c
        .hal9ctl(st.path())
        .args(["health", "--cluster", "-n", &c.ns, "-o", "json"]))
}

#[test]
fn real_pods_pass_the_kubelets_probes_and_follow_the_migration_configmap() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-real").await;
        c.apply(&c.overlay());
        // Ready means the kubelet's readiness probe got /ready from inside the
        // pod, and `serve --migration-source configmap:` got its first read
        // through the ServiceAccount token (it exits before binding otherwise).
        c.wait_ready("hal9-server", 3, READY_LIMIT).await;

        // Exit 1 is allowed: with no metrics server the HPA's warning events
        // are real, and health rightly reports them.
        let o = health(&c);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        let v = json(&o);
        assert_eq!(v["facts"]["ready"], 3, "{v}");
        for check in v["checks"].as_array().unwrap() {
            if check["name"] == "pods ready" || check["name"] == "rollout" {
                assert_eq!(check["status"], "ok", "{check}");
            }
        }

        let pods = pod_names(&c.pods().await);
        assert_eq!(pods.len(), 3, "{pods:?}");
        // What each pod reported before the rollback counts as seen: under
        // load the watcher's first proxy read may fail after the first step
        // is already written, and the starting share is proven here anyway.
        let mut seen_before: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in &pods {
            let s = c.proxy_get(p, "/api/v1/status").await.unwrap();
            assert_eq!(s["migration"]["phase"], "full", "{p}: {s}");
            assert_eq!(s["migration"]["version"], 0, "{p}: {s}");
            seen_before
                .entry(p.clone())
                .or_default()
                .insert(s["migration"]["hierarchical_percent"].to_string());
        }

        // A gradual rollback that keeps the migrated state (below
        // state_migration needs a snapshot): every share the ConfigMap goes through is seen
        // by every pod, read through the pod proxy while it runs.
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watch = {
            let stop = stop.clone();
            let kc = c.kubeconfig.clone();
            let ns = c.ns.clone();
            let pods = pods.clone();
            std::thread::spawn(move || {
                rt().block_on(async move {
                    let client = super::harness::client(&kc, None).await;
                    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
                    let mut written = BTreeSet::new();
                    let mut seen = seen_before;
                    loop {
                        let done = stop.load(std::sync::atomic::Ordering::SeqCst);
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
        let o = run(c
            .hal9ctl(st.path())
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
        // The pods confirm the last step within a few watch round trips.
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (written, seen) = watch.join().unwrap();
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(1),
            "{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        let cm = cms.get("hal9-migration").await.unwrap();
        let now: serde_json::Value =
            serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
        assert_eq!(now["phase"], "state_migration", "{now}");
        assert!(
            written.len() >= 3,
            "full, intermediate steps, state_migration: {written:?}"
        );
        for p in &pods {
            let s = seen.get(p).cloned().unwrap_or_default();
            assert!(
                written.is_subset(&s),
                "{p} saw {s:?} of the shares written {written:?}"
            );
            let last = c.proxy_get(p, "/api/v1/status").await.unwrap();
            assert_eq!(last["migration"]["phase"], "state_migration", "{p}: {last}");
            assert_eq!(
                last["migration"]["hierarchical_percent"], 25.0,
                "{p}: {last}"
            );
        }
    });
}

#[test]
fn a_real_crash_loop_is_named_by_health() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-crash").await;
        // A config `serve` refuses: the container exits non-zero, again and again.
        let bad = c
            .overlay()
            .replace("listen = \"0.0.0.0:8080\"", "listen = \"no such address\"");
        assert!(
            bad.contains("no such address"),
            "the overlay's config changed shape"
        );
        c.apply(&bad);
        wait_for_reason(&c, "CrashLoopBackOff", Duration::from_secs(120)).await;
        let pod = c.pods().await;
        let restarts: i32 = pod
            .iter()
            .filter_map(|p| p.status.as_ref()?.container_statuses.clone())
            .flatten()
            .map(|s| s.restart_count)
            .max()
            .unwrap_or(0);
        assert!(restarts >= 1, "a real restart: {:#?}", c.pod_states().await);
        let o = health(&c);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stdout(&o).contains("CrashLoopBackOff"), "{}", stdout(&o));
    });
}

#[test]
fn a_real_err_image_never_pull_is_named_by_health() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-nopull").await;
        let overlay = c.overlay();
        let image = std::env::var("HAL9_TEST_IMAGE").unwrap();
        // Only the serving container's image (kustomize sorts `containers`
        // before `initContainers`): the init container still runs.
        c.apply(&overlay.replacen(
            &format!("image: {image}"),
            "image: hal9ctl:not-on-this-node",
            1,
        ));
        wait_for_reason(&c, "ErrImageNeverPull", Duration::from_secs(90)).await;
        let o = health(&c);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stdout(&o).contains("ErrImageNeverPull"), "{}", stdout(&o));
    });
}

#[test]
fn real_pending_for_insufficient_cpu_is_named_by_health() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-pending").await;
        // More cpu than the node has: the real scheduler says why.
        let big = c
            .overlay()
            .replace("cpu: 100m", "cpu: \"64\"")
            .replace("cpu: \"1\"", "cpu: \"64\"");
        c.apply(&big);
        let t0 = Instant::now();
        loop {
            let states = c.pod_states().await;
            if states.len() == 3 && states.iter().all(|s| s.contains("Insufficient cpu")) {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "{states:#?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let o = health(&c);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stdout(&o).contains("Insufficient cpu"), "{}", stdout(&o));
    });
}
