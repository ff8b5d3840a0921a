//! A real OOMKilled on the test node: pods with a 96 MiB memory limit whose
//! command neuron allocates past it when a signal arrives through the pod
//! proxy. The kernel's OOM killer (the container's memory cgroup, set by
//! Docker from the pod's limit) then kills `hal9ctl serve` itself, and the
//! kubelet reports `lastState.terminated.reason: OOMKilled`.

use std::time::{Duration, Instant};

use super::harness::{kubeconfig, rt};
use super::node::RealPods;
use crate::common::*;

/// Appended to the overlay's hal9.toml. The neuron marks its parent (serve)
/// as the OOM killer's first choice and itself as its last: the largest
/// process would otherwise be the one killed (the neuron), and the
/// container, whose main process lives on, would never read OOMKilled.
/// Raising another process's score, and lowering one's own down to 0,
/// needs no privilege.
const GROW: &str = r#"
    [[neurons]]
    id = "grow"
    layer = "L2"
    processor = "command"
    command = ["sh", "-c", "echo 1000 > /proc/$PPID/oom_score_adj; echo 0 > /proc/self/oom_score_adj; x=$(head -c 400000000 /dev/zero | tr '\\0' x); echo grown"]
"#;

async fn post_signal(c: &RealPods, pod: &str) -> Result<String, String> {
    let uri = format!(
        "/api/v1/namespaces/{}/pods/{pod}:8080/proxy/api/v1/signal",
        c.ns
    );
    let req = hyper::Request::post(uri)
        .header("content-type", "application/json")
        .body(br#"{"content": "grow", "neuron_id": "grow"}"#.to_vec())
        .unwrap();
    c.client.request_text(req).await.map_err(|e| e.to_string())
}

fn oom_killed(p: &k8s_openapi::api::core::v1::Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .filter(|s| s.name == "hal9")
        .filter_map(|s| s.last_state.as_ref()?.terminated.as_ref()?.reason.clone())
        .any(|r| r == "OOMKilled")
}

#[test]
fn a_real_oom_kill_is_named_by_health_with_the_limit_and_unknown_usage() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-oom").await;
        let overlay = c.overlay();
        assert!(overlay.contains("memory: 512Mi"), "the overlay's limits changed shape");
        let yaml = overlay
            .replace("memory: 512Mi", "memory: 96Mi")
            .replacen(
                "    rate_limit_rps = 1000\n",
                &format!("    rate_limit_rps = 1000\n{GROW}"),
                1,
            );
        assert!(yaml.contains("id = \"grow\""), "the overlay's config changed shape");
        c.apply(&yaml);
        c.wait_ready("hal9-server", 3, Duration::from_secs(240)).await;
        let victim = c
            .pods()
            .await
            .iter()
            .find(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .and_then(|p| p.metadata.name.clone())
            .expect("a ready pod");
        let answer = post_signal(&c, &victim).await;
        // serve dies mid-request: the proxy sees the connection end.
        assert!(answer.is_err(), "the signal should not succeed: {answer:?}");
        let t0 = Instant::now();
        loop {
            let pods = c.pods().await;
            if pods
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some(&victim) && oom_killed(p))
            {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(90),
                "{victim} not OOMKilled: {:#?}",
                c.pod_states().await
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["health", "--cluster", "-n", &c.ns, "-o", "json"]));
        let v = json(&o);
        assert_eq!(o.status.code(), Some(2), "{v:#}");
        let containers = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "containers")
            .unwrap();
        let detail = containers["detail"].as_str().unwrap();
        assert_eq!(containers["status"], "fail", "{v:#}");
        // Whatever the restarted container waits for next ("RunContainerError
        // (OOMKilled)" here), the kill is named.
        assert!(
            detail.contains(&victim) && detail.contains("OOMKilled"),
            "{detail}"
        );
        // The test cluster has no metrics-server: no usage figure is invented.
        assert!(
            detail.contains(&format!(
                "{victim}/hal9: limit 96.0 MiB, usage unknown (no metrics API (metrics.k8s.io) in this cluster)"
            )),
            "{detail}"
        );
    });
}
