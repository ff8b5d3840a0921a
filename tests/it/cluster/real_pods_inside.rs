//! `health --cluster` looking inside real pods through the API server's pod
//! proxy, and `rollback status --cluster` reading the pods' confirmation.
//! The faults are real: a stray pod of the selector runs a rebuilt image
//! and no `--migration-source`, and one runtime is drained through its own
//! admin API (its token read from the pod's emptyDir on this node).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};

use super::harness::{kubeconfig, rt};
use super::node::RealPods;
use crate::common::*;

const READY_LIMIT: Duration = Duration::from_secs(240);

fn check<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check: {v:#}"))
}

fn health(c: &RealPods) -> serde_json::Value {
    let st = tempdir();
    let o = run(c
        .hal9ctl(st.path())
        .args(["health", "--cluster", "-n", &c.ns, "-o", "json"]));
    assert!(o.status.code().is_some(), "{}", stderr(&o));
    json(&o)
}

/// The plane's directory (the kubeconfig lives in it), where scripts/k8s-node.sh
/// keeps the node's dockerd socket and the kubelet's root dir.
fn node_dir(c: &RealPods) -> PathBuf {
    c.kubeconfig.parent().unwrap().join("node")
}

/// An image that is the same binary rebuilt (another image id), built on the
/// node's own dockerd from the test image, offline.
fn rebuilt_image(c: &RealPods) -> String {
    let tag = "hal9ctl:rebuilt-for-skew";
    let base = std::env::var("HAL9_TEST_IMAGE").unwrap();
    let dir = tempdir();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {base}\nLABEL io.hal9.test=skew\n"),
    )
    .unwrap();
    let o = Command::new("/usr/bin/docker")
        .env(
            "DOCKER_HOST",
            format!(
                "unix://{}",
                node_dir(c).join("docker/docker.sock").display()
            ),
        )
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", tag])
        .arg(dir.path())
        .output()
        .expect("/usr/bin/docker (scripts/k8s-node.sh installs docker.io)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    tag.to_string()
}

async fn running_pods(c: &RealPods) -> Vec<Pod> {
    c.pods()
        .await
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn health_looks_inside_real_pods_and_names_skew_a_stray_pod_and_a_drained_one() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-inside").await;
        // Three pods: the HPA's floor.
        c.apply(&c.overlay());
        c.wait_ready("hal9-server", 3, READY_LIMIT).await;

        // Healthy: the inside of both pods is read, and agrees with the ConfigMap.
        // Pods just started on a busy 2-core node can report their event loop
        // degraded for a while (timer lag, seen in a loaded run): that is the
        // runtime telling the truth, so the test asks again until it passes.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let v = loop {
            let v = health(&c);
            if check(&v, "pods inside")["status"] == "ok" || std::time::Instant::now() > deadline {
                break v;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        let inside = check(&v, "pods inside");
        assert_eq!(inside["status"], "ok", "{v:#}");
        assert!(
            inside["detail"]
                .as_str()
                .unwrap()
                .contains("3 pods: limits 256 in flight"),
            "{inside}"
        );
        assert_eq!(check(&v, "version skew")["status"], "ok", "{v:#}");
        let agree = check(&v, "migration agreement");
        assert_eq!(agree["status"], "ok", "{v:#}");
        assert!(
            agree["detail"]
                .as_str()
                .unwrap()
                .contains("3 pod(s) run the ConfigMap's version 0 full at 100.00 %"),
            "{agree}"
        );
        assert_eq!(check(&v, "pod slo")["status"], "ok", "{v:#}");
        assert_eq!(v["facts"]["inside"]["slo"].as_array().unwrap().len(), 3, "{v:#}");

        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["rollback", "status", "--cluster", "-n", &c.ns, "-o", "json"]));
        let s = json(&o);
        assert_eq!(o.status.code(), Some(0), "{s:#}");
        assert_eq!(s["pods"]["total"], 3, "{s:#}");
        assert_eq!(s["pods"]["confirmed"].as_array().unwrap().len(), 3, "{s:#}");

        // A stray pod of the selector: a rebuilt image, and no --migration-source.
        let image = rebuilt_image(&c);
        let d = c.get_deployment("hal9-server").await;
        let template = d.spec.unwrap().template;
        let mut spec = template.spec.unwrap();
        spec.containers[0].image = Some(image);
        spec.containers[0].args = Some(
            ["serve", "--config", "/etc/hal9/hal9.toml", "--state-dir", "/var/lib/hal9"]
                .map(String::from)
                .to_vec(),
        );
        let stray = Pod {
            metadata: kube::api::ObjectMeta {
                name: Some("hal9-stray".into()),
                labels: template.metadata.and_then(|m| m.labels),
                ..Default::default()
            },
            spec: Some(spec),
            status: None,
        };
        let pods_api: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
        pods_api.create(&PostParams::default(), &stray).await.unwrap();
        // The ConfigMap moves on; the Deployment's pods follow, the stray cannot.
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let cm = cms.get("hal9-migration").await.unwrap();
        let mut doc: serde_json::Value =
            serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
        doc["version"] = 1.into();
        doc["phase"] = "ramp_up".into();
        doc["hierarchical_percent"] = 75.0.into();
        cms.patch(
            "hal9-migration",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"migration.json": doc.to_string()}})),
        )
        .await
        .unwrap();
        let t0 = Instant::now();
        let v = loop {
            let v = health(&c);
            let ready = v["facts"]["inside"]["pods"].as_array().unwrap().len() == 4;
            let followed = check(&v, "migration agreement")["detail"]
                .as_str()
                .unwrap()
                .starts_with("3 of 4 pod(s) agree");
            // rollback status judges ready pods: the stray must pass its probe first.
            let stray_ready = running_pods(&c).await.iter().any(|p| {
                p.metadata.name.as_deref() == Some("hal9-stray")
                    && p.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            });
            if ready && followed && stray_ready {
                break v;
            }
            assert!(t0.elapsed() < Duration::from_secs(90), "{v:#}\n{:#?}", c.pod_states().await);
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let skew = check(&v, "version skew");
        assert_eq!(skew["status"], "warn", "{v:#}");
        let sd = skew["detail"].as_str().unwrap();
        assert!(sd.starts_with("2 different builds: 3 pods: "), "{skew}");
        assert!(sd.contains("; pod hal9-stray: "), "{skew}");
        assert!(
            skew["next"].as_str().unwrap().starts_with("needs a human"),
            "the rollout is complete: waiting would not end it: {skew}"
        );
        let agree = check(&v, "migration agreement");
        assert_eq!(agree["status"], "fail", "{v:#}");
        assert!(
            agree["detail"].as_str().unwrap().contains(
                "does not follow the ConfigMap (started without --migration-source configmap:…): hal9-stray (runs version 0 full at 100.00 %)"
            ),
            "{agree}"
        );
        assert_eq!(v["status"], "critical", "{v:#}");
        let o = run(c
            .hal9ctl(st.path())
            .args(["rollback", "status", "--cluster", "-n", &c.ns]));
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        assert!(stdout(&o).contains("pods: 3 of 4 ready pods run"), "{}", stdout(&o));
        assert!(
            stdout(&o).contains("does not follow a ConfigMap at all (started without --migration-source configmap:…), so nothing written there reaches it: hal9-stray"),
            "{}",
            stdout(&o)
        );
        pods_api
            .delete("hal9-stray", &kube::api::DeleteParams::default().grace_period(0))
            .await
            .unwrap();

        // Drain one runtime through its admin API while a request holds it
        // open: it stops listening, so the proxy cannot read it, and it is
        // named "unknown", never OK.
        let pod = running_pods(&c)
            .await
            .into_iter()
            .find(|p| p.metadata.name.as_deref() != Some("hal9-stray"))
            .unwrap();
        let name = pod.metadata.name.clone().unwrap();
        let uid = pod.metadata.uid.clone().unwrap();
        let ip = pod.status.as_ref().unwrap().pod_ip.clone().unwrap();
        let token = std::fs::read_to_string(
            node_dir(&c)
                .join("root/pods")
                .join(&uid)
                .join("volumes/kubernetes.io~empty-dir/state/admin.token"),
        )
        .unwrap();
        let addr = format!("{ip}:8080");
        let mut held = TcpStream::connect(&addr).unwrap();
        held.write_all(
            b"POST /api/v1/signal HTTP/1.1\r\nHost: pod\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"content\": \"",
        )
        .unwrap();
        let answer = http(
            &addr,
            &format!(
                "POST /admin/drain HTTP/1.1\r\nHost: pod\r\nAuthorization: Bearer {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                token.trim()
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        let t0 = Instant::now();
        let v = loop {
            let v = health(&c);
            let d = check(&v, "pods inside")["detail"].as_str().unwrap().to_string();
            if d.contains(&format!("pod {name}: could not be read")) || d.contains(&format!("pod {name}: draining")) {
                break v;
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "{name} not named: {v:#}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        let inside = check(&v, "pods inside");
        assert_ne!(inside["status"], "ok", "{inside}");
        assert_ne!(v["status"], "ok", "{v:#}");
        drop(held);
    });
}

#[test]
fn health_judges_each_real_pods_slo_and_names_the_pod_that_answers_429() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-podslo").await;
        let overlay = c.overlay();
        assert!(overlay.contains("rate_limit_rps = 1000"), "the overlay changed shape");
        // One signal a second per pod: real traffic gets real 429s.
        c.apply(&overlay.replace("rate_limit_rps = 1000", "rate_limit_rps = 1"));
        c.wait_ready("hal9-server", 3, READY_LIMIT).await;
        let pod = running_pods(&c).await.remove(0);
        let name = pod.metadata.name.clone().unwrap();
        let addr = format!("{}:8080", pod.status.unwrap().pod_ip.unwrap());

        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let traffic = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let body = r#"{"content": "status?"}"#;
                let req = format!(
                    "POST /api/v1/signal HTTP/1.1\r\nHost: pod\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut rejected = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    if http(&addr, &req).starts_with("HTTP/1.1 429") {
                        rejected += 1;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                rejected
            })
        };
        let t0 = Instant::now();
        let v = loop {
            let v = health(&c);
            let slo = check(&v, "pod slo");
            if slo["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("pod {name}: slo rejected: "))
            {
                break v;
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "{v:#}");
        };
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(traffic.join().unwrap() > 10, "the traffic was rejected");
        let slo = check(&v, "pod slo");
        assert_eq!(slo["status"], "fail", "{slo}");
        assert_eq!(
            slo["next"],
            format!("hal9ctl scale --emergency --cluster -n {} --deployment hal9-server", c.ns),
            "{slo}"
        );
        // The other pods had no traffic: judged, and nothing of theirs is named.
        let d = slo["detail"].as_str().unwrap();
        for other in running_pods(&c).await.iter().filter_map(|p| p.metadata.name.clone()) {
            if other != name {
                assert!(!d.contains(&other), "{slo}");
            }
        }
        assert_eq!(v["facts"]["inside"]["slo"].as_array().unwrap().len(), 3, "{v:#}");
        assert_eq!(v["status"], "critical", "{v:#}");
    });
}

#[test]
fn identical_real_scheduler_events_are_one_line_in_health() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-events").await;
        // More cpu than the node has: three pods, one scheduler message.
        let big = c
            .overlay()
            .replace("cpu: 100m", "cpu: \"64\"")
            .replace("cpu: \"1\"", "cpu: \"64\"");
        c.apply(&big);
        let t0 = Instant::now();
        let v = loop {
            let v = health(&c);
            let d = check(&v, "events")["detail"].as_str().unwrap().to_string();
            if d.contains("3 Pods FailedScheduling: ") {
                break v;
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "{v:#}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let d = check(&v, "events")["detail"].as_str().unwrap().to_string();
        assert_eq!(
            d.matches("FailedScheduling").count(),
            1,
            "one line for the three pods: {d}"
        );
        assert!(d.contains("Insufficient cpu"), "{d}");
    });
}
