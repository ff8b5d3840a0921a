//! `restart --cluster` on pods that really run `hal9ctl serve`: every old
//! pod gets SIGTERM, drains and exits 0 well within its
//! terminationGracePeriodSeconds (the node's container engine's kill and
//! die events, and the runtime's own drain report), while clients that reach
//! the runtime through the API server's Service proxy see no failed request
//! at all.
//!
//! How the failures are counted: `CLIENTS` loops, each sending
//! `GET /api/v1/namespaces/NS/services/hal9-server:http/proxy/api/v1/status`
//! back to back for the whole restart. A request fails when the API server
//! answers anything but 200 with the runtime's status JSON (502/503 when the
//! endpoint it picked is gone, a 503 of a draining runtime) or the request
//! errs or takes over 10 s. The API server picks a ready endpoint from the
//! Service's Endpoints per request and does not retry, so every failed
//! request is counted. benches/restart_traffic.sh runs the same test and
//! prints the same totals.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ContainerStateTerminated, Endpoints, Pod};
use kube::Api;
use kube::api::{WatchEvent, WatchParams};

use super::harness::{client, kubeconfig, rt};
use super::node::RealPods;
use super::real_pods_scale::{kubelet_ready, name_of};
use crate::common::*;

const DEPLOYMENT: &str = "hal9-server";
const READY_LIMIT: Duration = Duration::from_secs(240);
const CLIENTS: usize = 4;

/// What the clients saw, for the assertion and the benchmark's figure.
#[derive(Debug, Default)]
struct Traffic {
    ok: u64,
    failed: u64,
    /// The first failures, with when they happened relative to the start.
    samples: Vec<String>,
    /// Answers per runtime instance (its server_id).
    by_server: BTreeMap<String, u64>,
}

fn service_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/services/{DEPLOYMENT}:http/proxy/api/v1/status")
}

/// One client: requests back to back until `stop`.
async fn client_loop(c: kube::Client, ns: String, stop: Arc<AtomicBool>, t0: Instant) -> Traffic {
    let mut t = Traffic::default();
    let path = service_path(&ns);
    while !stop.load(Ordering::SeqCst) {
        let req = hyper::Request::get(&path).body(Vec::new()).unwrap();
        let r = tokio::time::timeout(Duration::from_secs(10), c.request_text(req)).await;
        let answer = match r {
            Err(_) => Err("no answer within 10 s".to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(text)) => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["server_id"].as_str().map(str::to_string))
                .ok_or(format!("not the runtime's status: {text:.200}")),
        };
        match answer {
            Ok(id) => {
                t.ok += 1;
                *t.by_server.entry(id).or_default() += 1;
            }
            Err(e) => {
                t.failed += 1;
                if t.samples.len() < 10 {
                    t.samples
                        .push(format!("{:.1}s: {e}", t0.elapsed().as_secs_f64()));
                }
            }
        }
    }
    t
}

/// What the pod events of one pod showed.
#[derive(Debug)]
struct Seen {
    /// The last object, the Deleted event's when there was one: the
    /// kubelet's final status, with the terminated container.
    last: Pod,
    deleted: bool,
    /// deletionTimestamp and deletionGracePeriodSeconds as first set (the
    /// ReplicaSet controller's delete). The kubelet's own final delete, with
    /// grace 0, overwrites both, so the last object no longer has them.
    first_deletion: Option<(i64, i64)>,
    /// The serving container's terminated state, as last reported. The
    /// kubelet (1.20) may report the removed container as waiting
    /// (PodInitializing) in its very last status, so the last object alone
    /// can lose it.
    terminated: Option<ContainerStateTerminated>,
}

fn note(seen: &mut BTreeMap<String, Seen>, p: Pod, deleted: bool) {
    let deletion = p.metadata.deletion_timestamp.as_ref().map(|t| {
        (
            seconds(t),
            p.metadata.deletion_grace_period_seconds.unwrap_or(0),
        )
    });
    let terminated = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.name == "hal9"))
        .and_then(|c| c.state.as_ref()?.terminated.clone());
    let e = seen.entry(name_of(&p)).or_insert(Seen {
        last: p.clone(),
        deleted,
        first_deletion: None,
        terminated: None,
    });
    e.first_deletion = e.first_deletion.or(deletion);
    e.terminated = terminated.or(e.terminated.take());
    e.last = p;
    e.deleted |= deleted;
}

/// Every pod event of the namespace until `stop`, per pod.
async fn record_pods(c: kube::Client, ns: String, stop: Arc<AtomicBool>) -> BTreeMap<String, Seen> {
    let api: Api<Pod> = Api::namespaced(c, &ns);
    let mut last: BTreeMap<String, Seen> = BTreeMap::new();
    let mut rv = "0".to_string();
    while !stop.load(Ordering::SeqCst) {
        let Ok(stream) = api.watch(&WatchParams::default().timeout(20), &rv).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let mut stream = stream.boxed();
        loop {
            let next = tokio::select! {
                e = stream.try_next() => e,
                () = async { while !stop.load(Ordering::SeqCst) { tokio::time::sleep(Duration::from_millis(100)).await } } => return last,
            };
            match next {
                Ok(Some(WatchEvent::Added(p) | WatchEvent::Modified(p))) => {
                    rv = p.metadata.resource_version.clone().unwrap_or(rv);
                    note(&mut last, p, false);
                }
                Ok(Some(WatchEvent::Deleted(p))) => {
                    rv = p.metadata.resource_version.clone().unwrap_or(rv);
                    note(&mut last, p, true);
                }
                Ok(Some(WatchEvent::Bookmark(_))) => {}
                // Expired resourceVersion or a broken stream: start over.
                Ok(Some(WatchEvent::Error(_))) | Err(_) => {
                    rv = "0".into();
                    break;
                }
                Ok(None) => break,
            }
        }
    }
    last
}

/// The node's Docker Engine (its socket).
fn engine_host() -> String {
    std::env::var("HAL9_TEST_DOCKER_HOST_NODE").unwrap_or_else(|_| {
        panic!("HAL9_TEST_DOCKER_HOST_NODE is not set: export the plane's env (scripts/k8s-node.sh start PLANE writes it)")
    })
}

/// The node's Docker Engine events of the namespace's serving containers
/// from `since` (unix seconds) until now.
fn engine_events(ns: &str, since: i64) -> Vec<serde_json::Value> {
    let host = engine_host();
    let o = Command::new("docker")
        .args([
            "-H",
            &host,
            "events",
            "--since",
            &since.to_string(),
            "--until",
            "0s",
        ])
        .args([
            "--filter",
            "type=container",
            "--filter",
            "event=kill",
            "--filter",
            "event=die",
        ])
        .args([
            "--filter",
            &format!("label=io.kubernetes.pod.namespace={ns}"),
        ])
        .args(["--filter", "label=io.kubernetes.container.name=hal9"])
        .args(["--format", "{{json .}}"])
        .output()
        .expect("docker (the client on the machine image)");
    assert!(
        o.status.success(),
        "docker events: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The signals the engine sent to `pod`'s serving container, and its exit
/// code and time (unix nanoseconds).
fn container_end(events: &[serde_json::Value], pod: &str) -> (Vec<String>, Option<(String, i64)>) {
    let mut signals = Vec::new();
    let mut died = None;
    for e in events {
        let attrs = &e["Actor"]["Attributes"];
        if attrs["io.kubernetes.pod.name"] != pod {
            continue;
        }
        match e["Action"].as_str() {
            Some("kill") => signals.push(attrs["signal"].as_str().unwrap_or("?").to_string()),
            Some("die") => {
                died = Some((
                    attrs["exitCode"].as_str().unwrap_or("?").to_string(),
                    e["timeNano"].as_i64().unwrap_or(0),
                ))
            }
            _ => {}
        }
    }
    (signals, died)
}

fn seconds(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> i64 {
    t.0.as_second()
}

#[test]
fn a_rolling_restart_drains_every_real_pod_within_its_grace_period_and_fails_no_request() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc.clone(), "hal9-rrestart").await;
        c.apply(&c.overlay());
        c.wait_ready(DEPLOYMENT, 3, READY_LIMIT).await;
        // The Service proxy routes by the Endpoints the endpoints controller keeps.
        let eps: Api<Endpoints> = Api::namespaced(c.client.clone(), &c.ns);
        let t0 = Instant::now();
        loop {
            let n = eps
                .get_opt(DEPLOYMENT)
                .await
                .ok()
                .flatten()
                .and_then(|e| e.subsets)
                .unwrap_or_default()
                .iter()
                .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
                .sum::<usize>();
            if n == 3 {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the Service has {n} ready endpoints, not 3 (is the endpoints controller running?)"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let old: Vec<Pod> = c.pods().await;
        let old_names: Vec<String> = old.iter().map(name_of).collect();
        assert_eq!(old_names.len(), 3, "{old_names:?}");
        let grace = old[0]
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap();

        // The runtime's own output of each old pod, followed until its
        // container exits: its last line is its drain report. Read from the
        // node's engine, not `kubectl logs`: the kubelet of another plane on
        // this machine may garbage-collect this one's /var/log/pods.
        let host = engine_host();
        let logs: Vec<(String, std::process::Child)> = old
            .iter()
            .map(|p| {
                let id = p
                    .status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .and_then(|cs| cs.iter().find(|c| c.name == "hal9"))
                    .and_then(|c| c.container_id.clone())
                    .unwrap_or_else(|| panic!("{}: no container id", name_of(p)));
                let child = Command::new("docker")
                    .args(["-H", &host, "logs", "-f"])
                    .arg(id.trim_start_matches("docker://"))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("docker");
                (name_of(p), child)
            })
            .collect();

        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let since = k8s_openapi::jiff::Timestamp::now().as_second() - 1;
        let recorder = {
            let (kc, ns, stop) = (kc.clone(), c.ns.clone(), stop.clone());
            std::thread::spawn(move || rt().block_on(async move { record_pods(client(&kc, None).await, ns, stop).await }))
        };
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (kc, ns, stop) = (kc.clone(), c.ns.clone(), stop.clone());
                std::thread::spawn(move || rt().block_on(async move { client_loop(client(&kc, None).await, ns, stop, start).await }))
            })
            .collect();
        // Traffic flows before the restart begins.
        tokio::time::sleep(Duration::from_secs(2)).await;

        let st = tempdir();
        let restart_t0 = Instant::now();
        let o = run(c.hal9ctl(st.path()).args([
            "restart", "--cluster", "-n", &c.ns, "--yes", "--wait", "300s", "-o", "json",
        ]));
        let restart_took = restart_t0.elapsed();
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        // The pods hal9ctl called done really are: three new ones, ready.
        let now = c.pods().await;
        let live: Vec<&Pod> = now.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect();
        assert_eq!(live.len(), 3, "{:#?}", c.pod_states().await);
        for p in &live {
            assert!(kubelet_ready(p), "{:#?}", c.pod_states().await);
            assert!(!old_names.contains(&name_of(p)), "{} was not replaced", name_of(p));
        }

        // Keep the traffic going while the last old pod drains and goes.
        let t1 = Instant::now();
        while c.pods().await.iter().any(|p| old_names.contains(&name_of(p))) {
            assert!(t1.elapsed() < Duration::from_secs(grace as u64 + 30), "{:#?}", c.pod_states().await);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::SeqCst);
        let mut traffic = Traffic::default();
        for h in clients {
            let t = h.join().unwrap();
            traffic.ok += t.ok;
            traffic.failed += t.failed;
            traffic.samples.extend(t.samples);
            for (k, v) in t.by_server {
                *traffic.by_server.entry(k).or_default() += v;
            }
        }
        let seen = recorder.join().unwrap();
        let engine = engine_events(&c.ns, since);
        let total = traffic.ok + traffic.failed;
        let duration = start.elapsed();
        // The figure benches/restart_traffic.sh reports (one line, grep-able).
        println!(
            "restart_traffic: requests={total} failed={} clients={CLIENTS} duration_s={:.1} restart_s={:.1} runtimes={}",
            traffic.failed,
            duration.as_secs_f64(),
            restart_took.as_secs_f64(),
            traffic.by_server.len()
        );
        println!("restart_traffic: per runtime {:?}", traffic.by_server);
        assert_eq!(
            traffic.failed, 0,
            "{} of {total} requests failed during the rolling restart: {:#?}",
            traffic.failed, traffic.samples
        );
        assert!(total >= 100, "too little traffic to judge: {total}");
        // Old and new runtimes both answered: the traffic crossed the restart.
        assert!(traffic.by_server.len() >= 6, "{:?}", traffic.by_server);

        for name in &old_names {
            let Seen {
                last: p,
                deleted,
                first_deletion,
                terminated,
            } = seen
                .get(name)
                .unwrap_or_else(|| panic!("no event of {name}"));
            assert!(deleted, "{name} was never deleted");
            let (deadline, pod_grace) =
                first_deletion.unwrap_or_else(|| panic!("{name}: never seen terminating"));
            assert_eq!(
                pod_grace, grace,
                "{name} was deleted with another grace period"
            );
            let asked = deadline - pod_grace;
            // What the node's container engine saw: the kubelet's stop is a
            // `kill` event with the signal, the exit a `die` with its code.
            let (signals, died) = container_end(&engine, name);
            // SIGTERM once; a SIGKILL (9) would mean the grace period ran out.
            assert_eq!(signals, ["15"], "{name}: signals sent {signals:?}");
            let (code, died_ns) = died.unwrap_or_else(|| panic!("{name}: no die event"));
            // Exit 0 is the runtime's drain finishing; an unhandled SIGTERM
            // would be 143, the SIGKILL at the deadline 137.
            assert_eq!(code, "0", "{name} exited {code}");
            let took = died_ns / 1_000_000_000 - asked;
            println!(
                "restart_traffic: {name} deletion → exit 0 in {took} s (grace {grace} s, preStop sleep 5 s)"
            );
            // The preStop sleep runs first, so the exit comes no earlier than 5 s
            // after the deletion (4 with whole-second timestamps).
            assert!(
                (4..grace).contains(&took),
                "{name}: deleted at {asked} s, exited {took} s later, grace {grace} s"
            );
            // The kubelet's own record, when it kept one: 1.20 may lose it
            // (ContainerStatusUnknown, "could not be located when the pod was
            // deleted") when the container is removed before its status is
            // written; the engine's events above are the record that stays.
            match terminated {
                Some(t) if t.reason.as_deref() != Some("ContainerStatusUnknown") => {
                    assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")), "{name}: {t:?}")
                }
                other => println!(
                    "restart_traffic: {name}: the kubelet kept no terminated state ({:?}; last {:?})",
                    other.as_ref().and_then(|t| t.reason.clone()),
                    p.status.as_ref().and_then(|s| s.phase.clone())
                ),
            }
        }
        for (name, child) in logs {
            let o = child.wait_with_output().unwrap();
            // `serve` reports on stdout and logs on stderr: both are its output.
            let out = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(out.contains("stopped after draining"), "{name}'s log:\n{out}");
            assert!(!out.contains("cut off at the drain timeout"), "{name}'s log:\n{out}");
        }
    });
}
