//! The operator Role in deploy/kubernetes/60-operator-rbac.yaml grants every
//! verb the cluster commands use, `pods/proxy` get included: applied as
//! shipped (namespace and subject swapped for the test user), nothing the
//! commands do as that user is forbidden.

use std::io::Write;
use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams};

use super::harness::{TestCluster, kubeconfig, rt};
use super::{migration_cm, ready};
use crate::common::*;

/// The Role and RoleBinding (the namespaced half) of the shipped file, for
/// user hal9-limited in `ns`. The cluster-wide half is left out so other
/// tests still see hal9-limited without node access.
pub(super) fn operator_role_for(ns: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("deploy/kubernetes/60-operator-rbac.yaml"))
        .unwrap();
    let docs: Vec<&str> = text.split("\n---\n").collect();
    assert!(docs[0].contains("kind: Role\n") && docs[1].contains("kind: RoleBinding\n"));
    format!("{}\n---\n{}", docs[0], docs[1])
        .replace("namespace: hal9\n", &format!("namespace: {ns}\n"))
        .replace(
            "kind: Group\n    name: hal9-operators",
            "kind: User\n    name: hal9-limited",
        )
}

#[test]
fn the_shipped_operator_role_lets_health_rollback_and_status_read_the_pods_through_the_proxy() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc.clone(), "hal9-rbac").await;
        c.deployment("hal9-server", 1).await;
        // The pods follow the ConfigMap, so rollback's verify reads them.
        let api: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(c.client.clone(), &c.ns);
        let source = format!("configmap:{}/hal9-migration", c.ns);
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": "hal9", "args": ["serve", "--migration-source", source]}]}}}});
        api.patch(
            "hal9-server",
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
        .unwrap();
        c.wait_deployment(
            "hal9-server",
            Duration::from_secs(60),
            "1 ready, updated",
            |d| {
                ready(d) == 1
                    && d.status.as_ref().and_then(|s| s.updated_replicas) == Some(1)
                    && d.status.as_ref().and_then(|s| s.replicas) == Some(1)
            },
        )
        .await;
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(c.client.clone(), &c.ns);
        let doc = serde_json::json!({"version": 1, "phase": "canary", "hierarchical_percent": 5.0,
            "flags": {"hierarchical_routing": true}, "state_schema": 1, "snapshots": []});
        cms.create(&Default::default(), &migration_cm(&doc))
            .await
            .unwrap();

        let mut child = std::process::Command::new("kubectl")
            .args(["--kubeconfig", kc.to_str().unwrap(), "apply", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(operator_role_for(&c.ns).as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));

        let st = tempdir();
        let as_operator = |args: &[&str]| {
            let mut cmd = c.hal9ctl(st.path());
            cmd.args(args)
                .args(["--cluster", "--context", "hal9-limited", "-n", &c.ns]);
            run(cmd.stdin(std::process::Stdio::null()))
        };
        // health reads each pod's inside through pods/proxy and the
        // migration ConfigMap: neither may be refused.
        let o = as_operator(&["health", "-o", "json"]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains("forbidden"), "{all}");
        assert!(!all.contains(" 403 "), "pods/proxy get is granted: {all}");
        let v = json(&o);
        let agree = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "migration agreement")
            .unwrap_or_else(|| panic!("{v:#}"));
        // The ConfigMap was read; only the stand-in pod (no runtime) could not be.
        let detail = agree["detail"].as_str().unwrap();
        assert!(!detail.contains("ConfigMap could not be read"), "{agree}");
        assert!(
            detail.starts_with("0 of 1 pod(s) agree; not judged: "),
            "{agree}"
        );

        let o = as_operator(&["rollback", "status", "-o", "json"]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains("forbidden"), "{all}");
        assert!(!all.contains(" 403 "), "{all}");
        assert_eq!(json(&o)["pods"]["total"], 1, "{all}");

        let o = as_operator(&["rollback", "--strategy", "immediate", "--yes", "-o", "json"]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains("forbidden"), "{all}");
        assert!(!all.contains(" 403 "), "pods/proxy get is granted: {all}");
        // The proxy was allowed through and found no reachable runtime:
        // the stand-in pod has no address.
        assert!(all.contains("could not be read"), "{all}");
        assert!(all.contains("0 of 1 pods confirmed"), "{all}");
        assert_eq!(o.status.code(), Some(2), "{all}");
    });
}

/// The waits watch what they wait on (the Deployment, its pods and
/// ReplicaSets): the shipped Role must grant `watch` on each, or a scale
/// or restart that was applied reads as unconfirmed.
#[test]
fn the_shipped_operator_role_lets_scale_and_restart_watch_their_wait_through() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc.clone(), "hal9-rbac-watch").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            ready(d) == 1
        })
        .await;
        let mut child = std::process::Command::new("kubectl")
            .args(["--kubeconfig", kc.to_str().unwrap(), "apply", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(operator_role_for(&c.ns).as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));

        let st = tempdir();
        let as_operator = |args: &[&str]| {
            let mut cmd = c.hal9ctl(st.path());
            cmd.args(args)
                .args(["--cluster", "--context", "hal9-limited", "-n", &c.ns]);
            run(cmd.stdin(std::process::Stdio::null()))
        };
        for args in [
            &["scale", "--replicas", "2", "--wait", "60s", "-o", "json"][..],
            &["restart", "--yes", "--wait", "60s", "-o", "json"][..],
        ] {
            let o = as_operator(args);
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert!(!all.contains("forbidden"), "{args:?}: {all}");
            assert!(!all.contains("not confirmed"), "{args:?}: {all}");
            assert_eq!(o.status.code(), Some(0), "{args:?}: {all}");
        }
    });
}
