//! The test control plane (scripts/k8s-control-plane.sh) seen from a test:
//! a namespace of its own, and either a kubelet stand-in that patches pod
//! status (`TestCluster`) or real pods on the node scripts/k8s-node.sh runs
//! (`RealPods`).
//!
//! The stand-in stays only for states a real node cannot produce cheaply or
//! on demand: pods that stop being Ready mid-test without being restarted
//! (`Kubelet::Idle` after `Ready`), a rollout frozen at an exact point, and a
//! crash loop already at restartCount 6 with a 5-minute back-off. Its pods
//! carry `schedulerName: hal9-stand-in`, which nothing serves, so the real
//! scheduler and kubelet never touch them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::json;

/// Pods of stand-in namespaces name a scheduler that does not exist.
pub const STAND_IN_SCHEDULER: &str = "hal9-stand-in";

/// Where the control plane's kubeconfig is. A missing plane is a failure,
/// never a skip, whatever the environment: a suite that skips its cluster
/// tests proves nothing about the cluster. (Always `Some`; the `Option`
/// keeps the callers' `cluster_or_skip!` unchanged.)
pub fn kubeconfig() -> Option<PathBuf> {
    match std::env::var_os("HAL9_TEST_KUBECONFIG")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
    {
        Some(p) => Some(p),
        None => panic!(
            "HAL9_TEST_KUBECONFIG does not name a kubeconfig: run scripts/test.sh, or start a plane with scripts/k8s-control-plane.sh start DIR and export HAL9_TEST_KUBECONFIG=DIR/kubeconfig"
        ),
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub async fn client(kubeconfig: &PathBuf, context: Option<&str>) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let opts = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("kubeconfig");
    Client::try_from(cfg).expect("client")
}

/// What the kubelet stand-in does to the pods of the namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kubelet {
    /// Every pod becomes Running and Ready.
    Ready,
    /// Pods are left Pending (nothing schedules them): a stuck rollout.
    Idle,
    /// Pods become Running but their container crash-loops.
    CrashLoop,
}

/// (test clusters alive, a test is freezing the API server): a freeze waits
/// for the others to end and holds new ones back, so no other test in this
/// process meets a stopped API server.
static PLANE: Mutex<(usize, bool)> = Mutex::new((0, false));

fn plane() -> std::sync::MutexGuard<'static, (usize, bool)> {
    PLANE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wait until no other TestCluster of this process is alive but the
/// caller's `own`, and hold new ones back until the returned value is dropped.
pub fn exclusive(own: usize) -> Exclusive {
    loop {
        let mut p = plane();
        if !p.1 {
            p.1 = true;
            break;
        }
        drop(p);
        std::thread::sleep(Duration::from_millis(200));
    }
    while plane().0 > own {
        std::thread::sleep(Duration::from_millis(200));
    }
    Exclusive
}

pub struct Exclusive;

/// Count the caller as a user of the plane, waiting while a test freezes it,
/// until the returned guard drops (also when the test panics half-way).
/// Every test that talks to the API server for a while (TestCluster,
/// RealPods) holds one.
pub async fn join_plane() -> PlaneUse {
    loop {
        let joined = {
            let mut p = plane();
            let free = !p.1;
            if free {
                p.0 += 1;
            }
            free
        };
        if joined {
            return PlaneUse;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub struct PlaneUse;

impl Drop for PlaneUse {
    fn drop(&mut self) {
        plane().0 -= 1;
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        plane().1 = false;
    }
}

/// A namespace created for one test and deleted when it ends, with a kubelet stand-in.
pub struct TestCluster {
    pub kubeconfig: PathBuf,
    pub ns: String,
    pub client: Client,
    pub policy: Arc<Mutex<Kubelet>>,
    stop: Arc<AtomicBool>,
    kubelet: Option<std::thread::JoinHandle<()>>,
    _plane: PlaneUse,
}

impl TestCluster {
    pub async fn new(kubeconfig: PathBuf, prefix: &str) -> TestCluster {
        let plane_use = join_plane().await;
        let client = client(&kubeconfig, None).await;
        let ns = format!("{prefix}-{:08x}", rand_suffix());
        let nss: Api<Namespace> = Api::all(client.clone());
        nss.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("create namespace");
        // The serviceaccount controller must make `default` before pods are admitted.
        let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> =
            Api::namespaced(client.clone(), &ns);
        let t0 = Instant::now();
        while sas.get_opt("default").await.ok().flatten().is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "no default serviceaccount in {ns}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let policy = Arc::new(Mutex::new(Kubelet::Ready));
        let stop = Arc::new(AtomicBool::new(false));
        let kubelet = Some(spawn_kubelet(
            kubeconfig.clone(),
            ns.clone(),
            policy.clone(),
            stop.clone(),
        ));
        TestCluster {
            kubeconfig,
            ns,
            client,
            policy,
            stop,
            kubelet,
            _plane: plane_use,
        }
    }

    /// Change what the stand-in does; returns once a pass that may have
    /// started under the old policy has finished.
    pub fn set_kubelet(&self, k: Kubelet) {
        *self.policy.lock().unwrap() = k;
        std::thread::sleep(Duration::from_millis(600));
    }

    /// A Deployment named `name` with `replicas`, the labels the manifests use, small requests.
    pub async fn deployment(&self, name: &str, replicas: i32) -> Deployment {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.ns);
        let d = json!({
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": name}},
                    "spec": {"schedulerName": STAND_IN_SCHEDULER,
                        "containers": [{"name": "hal9", "image": "hal9ctl:test",
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
                }
            }
        });
        api.create(&PostParams::default(), &serde_json::from_value(d).unwrap())
            .await
            .expect("create deployment")
    }

    pub async fn hpa(&self, deployment: &str, min: i32, max: i32) {
        let api: Api<HorizontalPodAutoscaler> = Api::namespaced(self.client.clone(), &self.ns);
        let h = json!({
            "metadata": {"name": deployment},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
                     "minReplicas": min, "maxReplicas": max}
        });
        api.create(&PostParams::default(), &serde_json::from_value(h).unwrap())
            .await
            .expect("create hpa");
    }

    pub async fn get_deployment(&self, name: &str) -> Deployment {
        Api::<Deployment>::namespaced(self.client.clone(), &self.ns)
            .get(name)
            .await
            .expect("get deployment")
    }

    pub async fn get_hpa(&self, name: &str) -> HorizontalPodAutoscaler {
        Api::<HorizontalPodAutoscaler>::namespaced(self.client.clone(), &self.ns)
            .get(name)
            .await
            .expect("get hpa")
    }

    /// Wait until `pred` holds for the Deployment, or panic after `limit`.
    pub async fn wait_deployment(
        &self,
        name: &str,
        limit: Duration,
        what: &str,
        pred: impl Fn(&Deployment) -> bool,
    ) -> Deployment {
        let t0 = Instant::now();
        loop {
            let d = self.get_deployment(name).await;
            if pred(&d) {
                return d;
            }
            assert!(
                t0.elapsed() < limit,
                "timed out waiting for {what}: {:?}",
                d.status
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `hal9ctl` pointed at this control plane.
    pub fn hal9ctl(&self, state: &std::path::Path) -> std::process::Command {
        let mut c = crate::common::hal9ctl(state);
        c.env("KUBECONFIG", &self.kubeconfig);
        c
    }
}

fn rand_suffix() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("random");
    u32::from_le_bytes(b)
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.kubelet.take() {
            let _ = h.join();
        }
        let kc = self.kubeconfig.clone();
        let ns = self.ns.clone();
        // Deleting the namespace removes everything the test made in it.
        let _ = std::thread::spawn(move || {
            rt().block_on(async move {
                let c = client(&kc, None).await;
                let _ = Api::<Namespace>::all(c)
                    .delete(&ns, &DeleteParams::background())
                    .await;
            })
        })
        .join();
    }
}

fn spawn_kubelet(
    kc: PathBuf,
    ns: String,
    policy: Arc<Mutex<Kubelet>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        rt().block_on(async move {
            let c = client(&kc, None).await;
            let pods: Api<Pod> = Api::namespaced(c, &ns);
            while !stop.load(Ordering::SeqCst) {
                if let Ok(list) = pods.list(&ListParams::default()).await {
                    for p in list.items {
                        let name = p.metadata.name.clone().unwrap_or_default();
                        if p.metadata.deletion_timestamp.is_some() {
                            // No real kubelet will confirm the deletion; finish it.
                            let _ = pods.delete(&name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await;
                            continue;
                        }
                        let phase = p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
                        let ready = p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                        // Read per pod: a policy change applies to the very next pod.
                        let mode = *policy.lock().unwrap();
                        let status = match mode {
                            Kubelet::Idle => continue,
                            Kubelet::Ready if ready => continue,
                            Kubelet::CrashLoop if phase == "Running" && !ready => continue,
                            Kubelet::Ready => json!({"status": {
                                "phase": "Running",
                                "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                                "containerStatuses": [{"name": "hal9", "image": "hal9ctl:test", "imageID": "", "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]
                            }}),
                            Kubelet::CrashLoop => json!({"status": {
                                "phase": "Running",
                                "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}],
                                "containerStatuses": [{"name": "hal9", "image": "hal9ctl:test", "imageID": "", "ready": false, "restartCount": 6, "started": false,
                                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
                                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]
                            }}),
                        };
                        let _ = pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    })
}
