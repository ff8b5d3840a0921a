//! Issue 9 against a real API server: every success a cluster command prints
//! is what it read back after acting, never the state from before.

use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;

use super::harness::{Kubelet, TestCluster, kubeconfig, rt};
use super::{ready, replicas};
use crate::common::*;

/// What the Deployment's status says right now: (status.replicas, observedGeneration ≥ generation).
async fn settled(c: &TestCluster, name: &str) -> (i32, bool) {
    let d = c.get_deployment(name).await;
    let st = d.status.clone().unwrap_or_default();
    (
        st.replicas.unwrap_or(0),
        st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0),
    )
}

/// The value a change row of a scale report was read back as after acting.
fn read_back(v: &serde_json::Value, what: &str) -> serde_json::Value {
    v["changes"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["what"] == what))
        .map(|c| c["read_back"].clone())
        .unwrap_or(serde_json::Value::Null)
}

/// Stand in for a kubelet whose pods stopped passing their readiness probe.
async fn make_unready(c: &TestCluster, names: &[String]) {
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
    let st = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "ContainersReady", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}});
    for n in names {
        pods.patch_status(n, &PatchParams::default(), &Patch::Merge(&st))
            .await
            .expect("patch pod status");
    }
}

async fn pod_names(c: &TestCluster) -> Vec<String> {
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
    pods.list(&ListParams::default())
        .await
        .expect("list pods")
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name)
        .collect()
}

/// A hang is the bug being attacked, so the child is killed rather than
/// waited for forever; the bound is far above what a settled restore needs.
fn output_within(mut child: Child, limit: Duration) -> Option<Output> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if child.try_wait().expect("try_wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn restore_reads_back_replicas_hpa_bounds_and_the_old_pods_gone() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-restore").await;
        c.deployment("hal9-server", 3).await;
        c.hpa("hal9-server", 3, 4).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "3 ready", |d| {
            ready(d) == 3
        })
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--emergency",
            "--replicas",
            "8",
            "--cluster",
            "-n",
            &c.ns,
            "--wait",
            "60s",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        assert_eq!(ready(&c.get_deployment("hal9-server").await), 8);

        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--restore",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "60s",
            "-o",
            "json",
        ]));
        // Read before anything else can move: the claim is about the moment it returned.
        let (total, observed) = settled(&c, "hal9-server").await;
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        assert!(observed, "returned before the controller saw the restore");
        // The HPA governs again: it may hold any count within its restored 3..=4.
        assert!(
            (3..=4).contains(&total),
            "returned while old pods still counted: {total}"
        );
        let v = json(&o);
        assert_eq!(
            read_back(&v, "replicas"),
            total.to_string().as_str(),
            "{v:#}"
        );
        assert_eq!(
            read_back(&v, "ready replicas"),
            total.to_string().as_str(),
            "{v:#}"
        );
        assert_eq!(read_back(&v, "HPA hal9-server minReplicas"), "3", "{v:#}");
        assert_eq!(read_back(&v, "HPA hal9-server maxReplicas"), "4", "{v:#}");
        assert!(
            !v["summary"].as_str().unwrap().contains("8 replicas ready"),
            "{v:#}"
        );
        let h = c.get_hpa("hal9-server").await;
        let spec = h.spec.unwrap();
        assert_eq!((spec.min_replicas, spec.max_replicas), (Some(3), 4));
    });
}

#[test]
fn restore_with_no_ready_pod_left_is_not_a_success() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-noready").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--emergency",
            "--replicas",
            "4",
            "--cluster",
            "-n",
            &c.ns,
            "--wait",
            "60s",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        // Every pod now fails its readiness probe, and nothing makes it pass again.
        c.set_kubelet(Kubelet::Idle);
        make_unready(&c, &pod_names(&c).await).await;
        c.wait_deployment("hal9-server", Duration::from_secs(30), "0 ready", |d| {
            ready(d) == 0
        })
        .await;
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--restore",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "5s",
            "-o",
            "json",
        ]));
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["status"], "warning", "{v:#}");
        assert_eq!(read_back(&v, "ready replicas"), "0", "{v:#}");
        assert_eq!(replicas(&c.get_deployment("hal9-server").await), 2);
    });
}

#[test]
fn restore_does_not_wait_for_readiness_that_was_never_there() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-partial").await;
        c.deployment("hal9-server", 3).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "3 ready", |d| {
            ready(d) == 3
        })
        .await;
        // Before the emergency only 2 of 3 pods serve, and new pods never fit.
        c.set_kubelet(Kubelet::Idle);
        let names = pod_names(&c).await;
        make_unready(&c, &names[..1]).await;
        c.wait_deployment("hal9-server", Duration::from_secs(30), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--emergency",
            "--replicas",
            "6",
            "--cluster",
            "-n",
            &c.ns,
            "--wait",
            "2s",
        ]));
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));

        let child = c
            .hal9ctl(st.path())
            .args([
                "scale",
                "--restore",
                "--cluster",
                "-n",
                &c.ns,
                "--yes",
                "--wait",
                "5m",
                "-o",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hal9ctl");
        let o = output_within(child, Duration::from_secs(90))
            .expect("restore waited for a third ready pod that never existed");
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(read_back(&v, "replicas"), "3", "{v:#}");
        assert_eq!(read_back(&v, "ready replicas"), "2", "{v:#}");
        assert_eq!(settled(&c, "hal9-server").await, (3, true));
    });
}

#[test]
fn a_plain_scale_down_reports_what_the_controller_did() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-scale").await;
        c.deployment("hal9-server", 5).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "5 ready", |d| {
            ready(d) == 5
        })
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--replicas",
            "2",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "60s",
            "-o",
            "json",
        ]));
        let (total, observed) = settled(&c, "hal9-server").await;
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        assert!(
            observed && total == 2,
            "returned before the scale-down: {total}"
        );
        let v = json(&o);
        assert_eq!(read_back(&v, "replicas"), "2", "{v:#}");
        assert_eq!(read_back(&v, "ready replicas"), "2", "{v:#}");
        assert!(!v["summary"].as_str().unwrap().contains("5/2"), "{v:#}");
    });
}

#[test]
fn a_forced_scale_under_an_hpa_warns_it_will_be_undone() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-force").await;
        c.deployment("hal9-server", 4).await;
        c.hpa("hal9-server", 4, 6).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "4 ready", |d| {
            ready(d) == 4
        })
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--replicas",
            "2",
            "--force",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "30s",
            "-o",
            "json",
        ]));
        let v = json(&o);
        let warnings = v["warnings"].as_array().unwrap();
        assert!(
            warnings.iter().any(|w| {
                let w = w.as_str().unwrap();
                w.contains("HPA hal9-server") && w.contains("min 4")
            }),
            "{v:#}"
        );
        assert!(!v["summary"].as_str().unwrap().contains("4/2"), "{v:#}");
        // ✓ only if 2 is what it read back; the HPA putting 4 back is a warning.
        if o.status.code() == Some(0) {
            assert_eq!(read_back(&v, "replicas"), "2", "{v:#}");
        } else {
            assert_eq!(o.status.code(), Some(1), "{v:#}\n{}", stderr(&o));
            assert_ne!(read_back(&v, "replicas"), "2", "{v:#}");
        }
    });
}

#[test]
fn a_second_restart_in_the_same_second_says_nothing_changed() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-restart").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let st = tempdir();
        let restart = || {
            c.hal9ctl(st.path())
                .args([
                    "restart",
                    "--cluster",
                    "-n",
                    &c.ns,
                    "--yes",
                    "--wait",
                    "60s",
                    "-o",
                    "json",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn hal9ctl")
        };
        // Two restarts at once stamp the same second unless they straddle a tick: retry those.
        for _ in 0..5 {
            let (a, b) = (restart(), restart());
            let (a, b) = (
                a.wait_with_output().expect("a"),
                b.wait_with_output().expect("b"),
            );
            let (va, vb) = (json(&a), json(&b));
            if va["changes"][0]["to"] != vb["changes"][0]["to"] {
                continue;
            }
            let mut outcomes = vec![
                (
                    a.status.code(),
                    va["summary"].as_str().unwrap_or("").to_string(),
                ),
                (
                    b.status.code(),
                    vb["summary"].as_str().unwrap_or("").to_string(),
                ),
            ];
            outcomes.sort();
            assert!(
                outcomes[0].0 == Some(0) && outcomes[0].1.starts_with("rolled out"),
                "{outcomes:?}"
            );
            assert!(
                outcomes[1].0 == Some(1) && outcomes[1].1.contains("nothing changed"),
                "{outcomes:?}\n{}\n{}",
                stderr(&a),
                stderr(&b)
            );
            return;
        }
        panic!("five pairs of restarts never landed in the same second");
    });
}

#[test]
fn health_mid_rollout_does_not_count_the_old_revision_as_ready() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-claims-rollout").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        // A new template whose pods never become ready: only the old ones serve.
        c.set_kubelet(Kubelet::Idle);
        let api: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(c.client.clone(), &c.ns);
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "hal9", "image": "hal9ctl:next"}]}}}});
        api.patch("hal9-server", &PatchParams::default(), &Patch::Strategic(&patch))
            .await
            .expect("patch template");
        c.wait_deployment("hal9-server", Duration::from_secs(30), "a new pod", |d| {
            d.status.as_ref().and_then(|s| s.updated_replicas) == Some(1)
        })
        .await;
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["health", "--cluster", "-n", &c.ns, "-o", "json"]));
        let v = json(&o);
        let check = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "pods ready")
            .unwrap()
            .clone();
        assert_ne!(check["status"], "ok", "{check:#}");
        assert!(
            check["detail"].as_str().unwrap().starts_with("0/2"),
            "{check:#}"
        );
    });
}
