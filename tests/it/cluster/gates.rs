//! Issue 9, item 15: the cluster rollback's gates judge the pods that serve,
//! never a pod being deleted, and its hierarchical drain is never claimed
//! when nothing measured it.

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

use super::harness::{Kubelet, TestCluster, kubeconfig, rt};
use super::{full_doc, migration_cm, ready};
use crate::common::*;

/// Hold `name` in Terminating: a finalizer keeps it listed (still Ready, as a
/// pod in its grace period is) after its deletion.
async fn hold_terminating(pods: &Api<Pod>, name: &str) {
    let fin = json!({"metadata": {"finalizers": ["hal9.io/test-hold"]}});
    pods.patch(name, &PatchParams::default(), &Patch::Merge(&fin))
        .await
        .unwrap();
    pods.delete(name, &DeleteParams::default()).await.unwrap();
}

async fn release(pods: &Api<Pod>, name: &str) {
    let fin = json!({"metadata": {"finalizers": null}});
    let _ = pods
        .patch(name, &PatchParams::default(), &Patch::Merge(&fin))
        .await;
}

#[test]
fn a_terminating_pod_is_not_counted_as_a_ready_pod_by_the_gates() {
    let Some(kc) = kubeconfig() else { return };
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-gterm").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
        let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
        // Its replacement never becomes ready: one pod serves, one is leaving.
        c.set_kubelet(Kubelet::Idle);
        let victim = pods.list(&ListParams::default()).await.unwrap().items[0]
            .metadata
            .name
            .clone()
            .unwrap();
        hold_terminating(&pods, &victim).await;
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
                "canary",
                "--steps",
                "3",
                "--interval",
                "200ms",
                "--on-failure",
                "pause",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(Stdio::null()));
        release(&pods, &victim).await;
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        let gate = &v["journal"]["steps"][0]["gate"];
        assert_eq!(gate["passed"], false, "{v}");
        let detail = gate["detail"].to_string();
        assert!(detail.contains("ready pods: 1/2"), "{detail}");
        assert!(detail.contains("1 terminating, not counted"), "{detail}");
    });
}

#[test]
fn a_cluster_immediate_rollback_never_claims_the_hierarchical_drain() {
    let Some(kc) = kubeconfig() else { return };
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-gdrain").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            ready(d) == 1
        })
        .await;
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args([
                "rollback",
                "--cluster",
                "-n",
                &c.ns,
                "--strategy",
                "immediate",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(Stdio::null()));
        // Stand-in pods run no runtime the pod proxy can reach: no pod confirms the write.
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let summary = json(&o)["summary"].as_str().unwrap().to_string();
        assert!(summary.contains("hierarchical drain unknown"), "{summary}");
        // The plane has no kubelet, so no pod answers through the proxy.
        assert!(summary.contains("the pod proxy answered 400"), "{summary}");
        assert!(summary.contains("of pod hal9-server-"), "{summary}");
        assert!(summary.contains("could not be read"), "{summary}");
    });
}

/// A pod outside the Deployment's ReplicaSets but matching its selector (so
/// every gate counts it), started with `args`.
async fn bare_pod(c: &TestCluster, name: &str, args: &[&str]) {
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
    let p = json!({
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "hal9-server"}},
        "spec": {"schedulerName": super::harness::STAND_IN_SCHEDULER,
            "containers": [{"name": "hal9", "image": "hal9ctl:test", "args": args}]}
    });
    let pod: Pod = serde_json::from_value(p).unwrap();
    // In a namespace just made, the admission plugin refuses pods (500, "No
    // API token found for service account") until the token controller has
    // caught up; the ReplicaSet controller retries, and so does this.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match pods.create(&Default::default(), &pod).await {
            Ok(_) => return,
            Err(kube::Error::Api(e))
                if e.message.contains("No API token found")
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await
            }
            Err(e) => panic!("creating pod {name}: {e}"),
        }
    }
}

#[test]
fn a_step_gate_names_the_pod_that_follows_no_configmap_and_the_one_that_cannot_be_read() {
    let Some(kc) = kubeconfig() else { return };
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-gpods").await;
        // The Deployment's pod runs `serve` without --migration-source.
        c.deployment("hal9-server", 1).await;
        let source = format!("configmap:{}/hal9-migration", c.ns);
        // This one follows the ConfigMap, but a stand-in answers no proxy read.
        bare_pod(&c, "hal9-follower", &["serve", "--migration-source", &source]).await;
        let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
        let t0 = std::time::Instant::now();
        while pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|p| hal9ctl::cluster::pod_state::pod_ready(p))
            .count()
            < 2
        {
            assert!(t0.elapsed() < Duration::from_secs(60), "2 ready pods");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
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
                "canary",
                "--steps",
                "3",
                "--interval",
                "200ms",
                "--on-failure",
                "pause",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(Stdio::null()));
        // Paused after the first step: the pause policy, exit 1, resumable.
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        let steps = v["journal"]["steps"].as_array().unwrap();
        let gate = &steps[0]["gate"];
        assert_eq!(gate["passed"], false, "{v}");
        let detail = gate["detail"].to_string();
        assert!(
            detail.contains("pods confirmed: applied to the ConfigMap; 0 of 2 pods confirmed"),
            "{detail}"
        );
        let deployment_pod = pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .find(|n| n.starts_with("hal9-server-"))
            .unwrap();
        assert!(
            detail.contains(&format!(
                "does not follow a ConfigMap at all (started without --migration-source configmap:…), so nothing written there reaches it: {deployment_pod}"
            )),
            "{detail}"
        );
        assert!(
            detail.contains("could not be read: hal9-follower ("),
            "{detail}"
        );
        assert!(!detail.contains(&format!("{deployment_pod} (")), "named once, as not following: {detail}");
        assert_eq!(gate["pods"]["total"], 2, "{gate}");
        assert_eq!(gate["pods"]["not_following"], json!([deployment_pod]), "{gate}");
        assert_eq!(v["journal"]["status"], "interrupted", "{v}");
        assert_eq!(steps[1]["status"], "pending", "{v}");
        assert!(
            v["summary"].as_str().unwrap().starts_with("paused: gate failed after step 1"),
            "{v}"
        );
        // The ConfigMap stays at the first step, as the pause policy says.
        let cm = cms.get("hal9-migration").await.unwrap();
        let now: serde_json::Value =
            serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
        assert_eq!(now["phase"], steps[0]["target"]["phase"], "{now}");
        assert_eq!(
            now["hierarchical_percent"], steps[0]["target"]["hierarchical_percent"],
            "{now}"
        );
        assert_ne!(now["phase"], "canary", "{now}");
    });
}
