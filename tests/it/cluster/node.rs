//! Real pods on the test node (scripts/k8s-node.sh): the test overlay of the
//! shipped manifests (deploy/kubernetes/test) deployed into a namespace of the
//! test's own, with the image built from the project's Dockerfile.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use super::harness::{PlaneUse, client, join_plane, rt};
use crate::common::repo_root;

fn node_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the real-pod tests need the test node (scripts/test.sh starts it; or scripts/k8s-node.sh start PLANE and export PLANE/env's HAL9_TEST_* lines)")
    })
}

pub struct RealPods {
    pub kubeconfig: PathBuf,
    pub ns: String,
    pub client: Client,
    _plane: PlaneUse,
    slot: Option<NodeSlot>,
}

/// How many tests of this process may have real pods on the node at once.
/// Each test's pods request 100m cpu, and a test has at most 4 at a time (3
/// replicas and a surge pod); the node has 2 cpus. 4 tests fill 1.6 cpus, so
/// a test's pod is never Pending because other tests' pods hold the cpu
/// (scripts/test.sh runs many tests at once). The pods of a namespace being
/// deleted keep their requests until they are gone, so a slot is freed only
/// then.
const NODE_SLOTS: usize = 4;

static NODE_SLOTS_TAKEN: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

/// One of the `NODE_SLOTS`, given back on drop.
struct NodeSlot;

impl NodeSlot {
    async fn take() -> NodeSlot {
        loop {
            {
                let mut taken = NODE_SLOTS_TAKEN.lock().unwrap_or_else(|e| e.into_inner());
                if *taken < NODE_SLOTS {
                    *taken += 1;
                    return NodeSlot;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for NodeSlot {
    fn drop(&mut self) {
        *NODE_SLOTS_TAKEN.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
    }
}

impl RealPods {
    pub async fn new(kubeconfig: PathBuf, prefix: &str) -> RealPods {
        // Before joining the plane: waiting for a slot must not hold back a
        // test that freezes the API server.
        let slot = NodeSlot::take().await;
        // A test that freezes the API server waits for this one to end.
        let plane_use = join_plane().await;
        let client = client(&kubeconfig, None).await;
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).unwrap();
        let ns = format!("{prefix}-{:08x}", u32::from_le_bytes(b));
        Api::<Namespace>::all(client.clone())
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
            )
            .await
            .expect("create namespace");
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
        RealPods {
            kubeconfig,
            ns,
            client,
            _plane: plane_use,
            slot: Some(slot),
        }
    }

    /// The test overlay rendered for this namespace and this node: what the
    /// tests deploy, before any test-specific edit.
    pub fn overlay(&self) -> String {
        let o = Command::new("kubectl")
            .args(["kustomize", "--load-restrictor", "LoadRestrictionsNone"])
            .arg(repo_root().join("deploy/kubernetes/test"))
            .output()
            .expect("kubectl (on the machine image; scripts/test.sh relies on it)");
        assert!(
            o.status.success(),
            "kubectl kustomize: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout)
            .unwrap()
            .replace("namespace: hal9\n", &format!("namespace: {}\n", self.ns))
            .replace("configmap:hal9/", &format!("configmap:{}/", self.ns))
            .replace(
                "HAL9_TEST_POD_API_HOST",
                &node_env("HAL9_TEST_POD_API_HOST"),
            )
            // Quoted: kustomize drops the quotes, and an env value must stay a string.
            .replace(
                "HAL9_TEST_POD_API_PORT",
                &format!("\"{}\"", node_env("HAL9_TEST_POD_API_PORT")),
            )
            .replace(
                "image: hal9ctl:test",
                &format!("image: {}", node_env("HAL9_TEST_IMAGE")),
            )
    }

    pub fn apply(&self, yaml: &str) {
        let mut child = Command::new("kubectl")
            .args([
                "--kubeconfig",
                self.kubeconfig.to_str().unwrap(),
                "apply",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(yaml.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "kubectl apply: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    pub async fn get_deployment(&self, name: &str) -> Deployment {
        Api::<Deployment>::namespaced(self.client.clone(), &self.ns)
            .get(name)
            .await
            .expect("get deployment")
    }

    /// Wait until `n` pods of the current template are Ready, as the
    /// kubelet's probes judged them.
    pub async fn wait_ready(&self, name: &str, n: i32, limit: Duration) -> Deployment {
        let t0 = Instant::now();
        loop {
            let d = self.get_deployment(name).await;
            let st = d.status.clone().unwrap_or_default();
            let fresh = st.observed_generation == d.metadata.generation;
            if fresh
                && st.ready_replicas == Some(n)
                && st.updated_replicas == Some(n)
                && st.replicas == Some(n)
            {
                return d;
            }
            if t0.elapsed() > limit {
                panic!(
                    "{n} ready pods of {name} not within {limit:?}: {st:?}\npods: {:#?}",
                    self.pod_states().await
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub async fn pods(&self) -> Vec<Pod> {
        Api::<Pod>::namespaced(self.client.clone(), &self.ns)
            .list(&ListParams::default())
            .await
            .expect("list pods")
            .items
    }

    /// Name, phase and container state of every pod, for failure messages.
    pub async fn pod_states(&self) -> Vec<String> {
        self.pods()
            .await
            .iter()
            .map(|p| {
                let st = p.status.clone().unwrap_or_default();
                format!(
                    "{} node={:?} phase={:?} conditions={:?} containers={:?}",
                    p.metadata.name.clone().unwrap_or_default(),
                    p.spec.as_ref().and_then(|s| s.node_name.clone()),
                    st.phase,
                    st.conditions
                        .unwrap_or_default()
                        .iter()
                        .map(|c| format!("{}={} {:?}", c.type_, c.status, c.message))
                        .collect::<Vec<_>>(),
                    st.container_statuses
                        .unwrap_or_default()
                        .iter()
                        .map(|c| format!("{:?} last={:?}", c.state, c.last_state))
                        .collect::<Vec<_>>()
                )
            })
            .collect()
    }

    /// GET a path of a pod's runtime through the API server's pod proxy.
    pub async fn proxy_get(&self, pod: &str, path: &str) -> Result<serde_json::Value, String> {
        proxy_get(&self.client, &self.ns, pod, path).await
    }

    /// `hal9ctl` pointed at this control plane.
    pub fn hal9ctl(&self, state: &std::path::Path) -> Command {
        let mut c = crate::common::hal9ctl(state);
        c.env("KUBECONFIG", &self.kubeconfig);
        c
    }
}

/// GET a path of a pod's runtime (port 8080) through the API server's pod proxy.
pub async fn proxy_get(
    client: &Client,
    ns: &str,
    pod: &str,
    path: &str,
) -> Result<serde_json::Value, String> {
    let uri = format!("/api/v1/namespaces/{ns}/pods/{pod}:8080/proxy{path}");
    let req = hyper::Request::get(uri).body(Vec::new()).unwrap();
    let text = client.request_text(req).await.map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

impl Drop for RealPods {
    fn drop(&mut self) {
        let kc = self.kubeconfig.clone();
        let ns = self.ns.clone();
        let slot = self.slot.take();
        let (asked_tx, asked) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            rt().block_on(async move {
                let c = client(&kc, None).await;
                let _ = Api::<Namespace>::all(c.clone())
                    .delete(&ns, &DeleteParams::background())
                    .await;
                let _ = asked_tx.send(());
                // The slot stays taken while the pods drain (preStop, then
                // serve's drain): their cpu requests hold until they are gone.
                // Bounded: a pod stuck terminating must not stall the suite.
                let pods = Api::<Pod>::namespaced(c, &ns);
                let t0 = Instant::now();
                while t0.elapsed() < Duration::from_secs(90) {
                    match pods.list(&ListParams::default()).await {
                        Ok(l) if l.items.is_empty() => break,
                        Err(_) => break,
                        Ok(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                    }
                }
                drop(slot);
            })
        });
        // The test ends once the deletion is asked for (a process that
        // exits then leaves no namespace behind); only the slot waits for
        // the drain.
        let _ = asked.recv();
    }
}
