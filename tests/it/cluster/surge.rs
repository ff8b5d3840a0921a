//! `restart --cluster` predicts a rollout whose surge pod fits no node.
//!
//! Stand-in on purpose: a full node is made by a Node object whose
//! allocatable CPU the Deployment's own pods (bound to it by nodeName)
//! already request, so the check reads real API objects without needing a
//! kubelet; a real node gives the same numbers, only slower.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use serde_json::json;

use super::harness::{TestCluster, kubeconfig, rt};
use super::ready;
use crate::common::*;

/// A Node object that the test deletes when it ends (nodes are cluster-wide).
struct FakeNode {
    api: Api<Node>,
    name: String,
}

impl FakeNode {
    async fn create(c: &TestCluster, cpu: &str) -> FakeNode {
        let api: Api<Node> = Api::all(c.client.clone());
        let name = format!("{}-node", c.ns);
        let n: Node = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        api.create(&PostParams::default(), &n).await.unwrap();
        let status = json!({"status": {
            "allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
            "capacity": {"cpu": cpu, "memory": "4Gi", "pods": "110"}
        }});
        api.patch_status(
            &name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&status),
        )
        .await
        .unwrap();
        FakeNode { api, name }
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        let api = self.api.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            rt().block_on(async move {
                let _ = api.delete(&name, &DeleteParams::default()).await;
            })
        })
        .join();
    }
}

fn generation(d: &Deployment) -> Option<i64> {
    d.metadata.generation
}

#[test]
fn a_restart_whose_surge_pod_fits_no_node_is_refused_with_numbers_unless_forced() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-surge").await;
        // The plane's own hal9-test-node has 4 CPUs: a 5-CPU pod fits there
        // never, and on this node only twice.
        let node = FakeNode::create(&c, "10").await;
        let api: Api<Deployment> = Api::namespaced(c.client.clone(), &c.ns);
        let d = json!({
            "metadata": {"name": "hal9-server"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "hal9-server"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "hal9-server"}},
                    "spec": {"nodeName": node.name, "containers": [{"name": "hal9", "image": "hal9ctl:test",
                        "resources": {"requests": {"cpu": "5", "memory": "64Mi"}}}]}
                }
            }
        });
        api.create(&PostParams::default(), &serde_json::from_value(d).unwrap())
            .await
            .unwrap();
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let before = generation(&c.get_deployment("hal9-server").await);
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "restart", "--cluster", "-n", &c.ns, "--yes", "--wait", "20s",
        ]));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}\n{err}", stdout(&o));
        assert!(err.contains("nothing was changed"), "{err}");
        assert!(err.contains("maxUnavailable is 0"), "{err}");
        assert!(err.contains("5000m CPU"), "{err}");
        assert!(
            err.contains(&format!("{} has 0m CPU", node.name)),
            "the node and its free room are named: {err}"
        );
        assert!(err.contains("--force"), "the options are named: {err}");
        assert_eq!(
            generation(&c.get_deployment("hal9-server").await),
            before,
            "a refused restart touches nothing"
        );

        let o = run(c.hal9ctl(st.path()).args([
            "restart",
            "--cluster",
            "-n",
            &c.ns,
            "--dry-run",
        ]));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{all}");
        assert!(all.contains("would be refused"), "{all}");

        // --force goes ahead; the stand-in finds room the scheduler would not.
        let o = run(c.hal9ctl(st.path()).args([
            "restart", "--cluster", "-n", &c.ns, "--yes", "--force", "--wait", "60s",
        ]));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{all}");
        assert!(all.contains("going ahead anyway"), "{all}");
        assert_ne!(generation(&c.get_deployment("hal9-server").await), before);
    });
}
