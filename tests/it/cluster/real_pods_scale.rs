//! `scale --emergency --cluster` and `scale --restore --cluster` on pods that
//! really run `hal9ctl serve` (the test node's kubelet and scheduler, the
//! HPA controller of the test control plane). Every assertion reads pod,
//! Deployment and HPA state from the API server or the runtime itself (pod
//! proxy), never hal9ctl's wording. Sizes stay small (1 → 3) for 2 cores.

use std::time::{Duration, Instant};

use k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{Patch, PatchParams};

use super::harness::{kubeconfig, rt};
use super::node::RealPods;
use crate::common::*;

const DEPLOYMENT: &str = "hal9-server";
const READY_LIMIT: Duration = Duration::from_secs(240);

/// Ready as the kubelet judged it: the pod's Ready condition, and every
/// container running and ready.
pub fn kubelet_ready(p: &Pod) -> bool {
    let Some(st) = p.status.as_ref() else {
        return false;
    };
    let cond = st
        .conditions
        .as_ref()
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let containers = st.container_statuses.as_ref().is_some_and(|cs| {
        !cs.is_empty()
            && cs
                .iter()
                .all(|c| c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some()))
    });
    p.metadata.deletion_timestamp.is_none() && cond && containers
}

pub fn name_of(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// Pods not being deleted, and whether each is ready.
pub async fn live_pods(c: &RealPods) -> Vec<(String, bool)> {
    c.pods()
        .await
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| (name_of(p), kubelet_ready(p)))
        .collect()
}

async fn hpa(c: &RealPods) -> HorizontalPodAutoscaler {
    Api::<HorizontalPodAutoscaler>::namespaced(c.client.clone(), &c.ns)
        .get(DEPLOYMENT)
        .await
        .expect("get hpa")
}

fn hpa_bounds(h: &HorizontalPodAutoscaler) -> (Option<i32>, i32) {
    let s = h.spec.clone().unwrap_or_default();
    (s.min_replicas, s.max_replicas)
}

fn spec_replicas(d: &k8s_openapi::api::apps::v1::Deployment) -> Option<i32> {
    d.spec.as_ref().and_then(|s| s.replicas)
}

/// Poll `what` until it holds or `limit` passes, then panic with `detail`.
async fn until<F, Fut>(limit: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let t0 = Instant::now();
    loop {
        match f().await {
            Ok(()) => return,
            Err(detail) if t0.elapsed() > limit => {
                panic!("{what} not within {limit:?}: {detail}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

#[test]
fn emergency_scale_brings_up_real_ready_pods_the_hpa_holds_the_floor_and_restore_removes_them() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-rscale").await;
        // One pod under an HPA of 1..2: an emergency scale to 3 must lift the
        // floor above the HPA's maximum, or the HPA would take it back.
        let overlay = c.overlay();
        let mut small = overlay.clone();
        for (from, to) in [
            ("replicas: 3\n", "replicas: 1\n"),
            ("minReplicas: 3\n", "minReplicas: 1\n"),
            ("maxReplicas: 30\n", "maxReplicas: 2\n"),
        ] {
            assert_eq!(
                overlay.matches(&format!(" {from}")).count(),
                1,
                "the overlay's {from:?} changed shape:\n{overlay}"
            );
            small = small.replace(&format!(" {from}"), &format!(" {to}"));
        }
        c.apply(&small);
        c.wait_ready(DEPLOYMENT, 1, READY_LIMIT).await;
        let before = live_pods(&c).await;
        assert_eq!(before.len(), 1, "{before:?}");

        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--emergency",
            "--replicas",
            "3",
            "--cluster",
            "-n",
            &c.ns,
            "--wait",
            "180s",
            "-o",
            "json",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));

        // Read at once, without waiting: hal9ctl's exit 0 after --wait must
        // mean the kubelet already has three ready pods, each serving.
        let pods = live_pods(&c).await;
        assert_eq!(
            pods.iter().filter(|(_, r)| *r).count(),
            3,
            "{pods:?}\n{:#?}",
            c.pod_states().await
        );
        assert!(pods.iter().any(|(n, _)| *n == before[0].0), "{pods:?}");
        for (p, _) in &pods {
            let s = c.proxy_get(p, "/api/v1/status").await.unwrap();
            assert_eq!(s["ready"], true, "{p}: {s}");
        }
        let h = hpa(&c).await;
        assert_eq!(hpa_bounds(&h), (Some(3), 3), "{:?}", h.spec);

        // The HPA controller (1 s sync here) has seen the new size and kept it.
        until(
            Duration::from_secs(30),
            "the HPA observing 3 replicas",
            || async {
                let h = hpa(&c).await;
                match h.status.as_ref().map(|s| s.current_replicas) {
                    Some(3) => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(spec_replicas(&c.get_deployment(DEPLOYMENT).await), Some(3));

        // The floor is the HPA's, not a number on paper: someone scaling the
        // Deployment down behind its back is overruled by the controller.
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(c.client.clone(), &c.ns);
        deployments
            .patch(
                DEPLOYMENT,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": 1}})),
            )
            .await
            .unwrap();
        until(
            Duration::from_secs(30),
            "the HPA raising replicas back to 3",
            || async {
                match spec_replicas(&c.get_deployment(DEPLOYMENT).await) {
                    Some(3) => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await;
        c.wait_ready(DEPLOYMENT, 3, READY_LIMIT).await;

        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--restore",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "120s",
            "-o",
            "json",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        assert_eq!(hpa_bounds(&hpa(&c).await), (Some(1), 2));
        // The extra pods really go away (drained, not just marked), and the
        // one left is ready.
        until(Duration::from_secs(120), "one pod left", || async {
            let all = c.pods().await;
            let names: Vec<String> = all.iter().map(name_of).collect();
            if all.len() == 1 && kubelet_ready(&all[0]) {
                Ok(())
            } else {
                Err(format!("{names:?}"))
            }
        })
        .await;
        // And the HPA, synced again, does not bring them back.
        until(
            Duration::from_secs(30),
            "the HPA observing 1 replica",
            || async {
                match hpa(&c).await.status.as_ref().map(|s| s.current_replicas) {
                    Some(1) => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(spec_replicas(&c.get_deployment(DEPLOYMENT).await), Some(1));
        assert_eq!(live_pods(&c).await.len(), 1);
    });
}
