//! `rollback --cluster --strategy immediate --revision` on pods that really
//! run `hal9ctl serve`: after a template change rolled out for real, the
//! previous ReplicaSet's template comes back and the running pods are that
//! ReplicaSet's (its pod-template-hash), ready, and following the migration
//! state the rollback wrote. Read from the API server and the pods, not from
//! hal9ctl's report.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};

use super::harness::{kubeconfig, rt};
use super::node::RealPods;
use super::real_pods_scale::{kubelet_ready, name_of};
use crate::common::*;

const DEPLOYMENT: &str = "hal9-server";
const READY_LIMIT: Duration = Duration::from_secs(240);
const REVISION: &str = "deployment.kubernetes.io/revision";

fn hash_of(p: &Pod) -> Option<String> {
    p.metadata
        .labels
        .as_ref()?
        .get("pod-template-hash")
        .cloned()
}

fn build_env(p: &Pod) -> Option<String> {
    p.spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == "hal9")?
        .env
        .as_ref()?
        .iter()
        .find(|e| e.name == "HAL9_BUILD")?
        .value
        .clone()
}

/// The ReplicaSets of the namespace as (revision, pod-template-hash, spec replicas).
async fn replica_sets(c: &RealPods) -> Vec<(String, String, i32)> {
    Api::<ReplicaSet>::namespaced(c.client.clone(), &c.ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|rs| {
            let m = &rs.metadata;
            (
                m.annotations
                    .as_ref()
                    .and_then(|a| a.get(REVISION).cloned())
                    .unwrap_or_default(),
                m.labels
                    .as_ref()
                    .and_then(|l| l.get("pod-template-hash").cloned())
                    .unwrap_or_default(),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0),
            )
        })
        .collect()
}

/// The pod-template-hash of the ReplicaSet of `revision`.
async fn hash_of_revision(c: &RealPods, revision: &str) -> String {
    let sets = replica_sets(c).await;
    sets.iter()
        .find(|(r, _, _)| r == revision)
        .map(|(_, h, _)| h.clone())
        .unwrap_or_else(|| panic!("no ReplicaSet of revision {revision}: {sets:?}"))
}

/// Wait until every pod of the namespace (terminating ones included) has
/// `hash`, there are `n`, and all are ready.
async fn only_pods_of(c: &RealPods, hash: &str, n: usize, limit: Duration) -> Vec<Pod> {
    let t0 = Instant::now();
    loop {
        let pods = c.pods().await;
        if pods.len() == n
            && pods
                .iter()
                .all(|p| hash_of(p).as_deref() == Some(hash) && kubelet_ready(p))
        {
            return pods;
        }
        assert!(
            t0.elapsed() < limit,
            "not {n} ready pods of hash {hash} alone within {limit:?}: {:#?}",
            c.pod_states().await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[test]
fn revision_rollback_brings_back_the_previous_replica_sets_real_pods() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-rrev").await;
        // Two pods, and an HPA that keeps them two.
        let overlay = c.overlay();
        let mut two = overlay.clone();
        for (from, to) in [
            (" replicas: 3\n", " replicas: 2\n"),
            (" minReplicas: 3\n", " minReplicas: 2\n"),
            (" maxReplicas: 30\n", " maxReplicas: 2\n"),
        ] {
            assert_eq!(
                overlay.matches(from).count(),
                1,
                "{from:?} changed shape:\n{overlay}"
            );
            two = two.replace(from, to);
        }
        c.apply(&two);
        c.wait_ready(DEPLOYMENT, 2, READY_LIMIT).await;
        let hash1 = hash_of_revision(&c, "1").await;
        let rev1 = only_pods_of(&c, &hash1, 2, READY_LIMIT).await;
        assert!(rev1.iter().all(|p| build_env(p).is_none()));

        // Revision 2: a new env var on the serving container, rolled out for real.
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(c.client.clone(), &c.ns);
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": "hal9", "env": [{"name": "HAL9_BUILD", "value": "bad"}]}
        ]}}}});
        deployments
            .patch(
                DEPLOYMENT,
                &PatchParams::default(),
                &Patch::Strategic(&patch),
            )
            .await
            .unwrap();
        let d = c.wait_ready(DEPLOYMENT, 2, READY_LIMIT).await;
        assert_eq!(d.metadata.annotations.unwrap()[REVISION], "2");
        let hash2 = hash_of_revision(&c, "2").await;
        assert_ne!(hash1, hash2);
        let rev2 = only_pods_of(&c, &hash2, 2, READY_LIMIT).await;
        assert!(rev2.iter().all(|p| build_env(p).as_deref() == Some("bad")));

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
                "--to-phase",
                "state_migration",
                "--revision",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(std::process::Stdio::null()));
        let v = json(&o);
        assert!(
            v["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("revision 2 → 1"),
            "{v}\n{}",
            stderr(&o)
        );

        // The previous template is back on the Deployment...
        let d = c.get_deployment(DEPLOYMENT).await;
        assert_eq!(d.metadata.annotations.clone().unwrap()[REVISION], "3");
        let containers = d.spec.unwrap().template.spec.unwrap().containers;
        let hal9 = containers.iter().find(|c| c.name == "hal9").unwrap();
        assert!(
            hal9.env.iter().flatten().all(|e| e.name != "HAL9_BUILD"),
            "{:?}",
            hal9.env
        );
        // ...its ReplicaSet is revision 1's own (same hash, now revision 3),
        // and revision 2's is scaled to nothing.
        let sets = replica_sets(&c).await;
        assert!(sets.contains(&("3".into(), hash1.clone(), 2)), "{sets:?}");
        assert!(
            sets.iter().any(|(_, h, n)| *h == hash2 && *n == 0),
            "{sets:?}"
        );
        // ...and the pods running are that ReplicaSet's, ready, without the
        // bad build's env, once revision 2's have drained away.
        let pods = only_pods_of(&c, &hash1, 2, Duration::from_secs(120)).await;
        for p in &pods {
            assert_eq!(build_env(p), None, "{}", name_of(p));
        }

        // The pods follow the migration state the rollback wrote.
        let cm = Api::<ConfigMap>::namespaced(c.client.clone(), &c.ns)
            .get("hal9-migration")
            .await
            .unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
        assert_eq!(doc["phase"], "state_migration", "{doc}");
        for p in &pods {
            let s = c.proxy_get(&name_of(p), "/api/v1/status").await.unwrap();
            assert_eq!(
                s["migration"]["phase"],
                "state_migration",
                "{}: {s}",
                name_of(p)
            );
            assert_eq!(
                s["migration"]["version"],
                doc["version"],
                "{}: {s}",
                name_of(p)
            );
        }
        // Every pod confirmed, and the Deployment did roll back: nothing partial.
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    });
}
