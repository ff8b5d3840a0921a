//! Issue 13, "a rollout that survives the operator's laptop": `--detach` runs
//! the engine as a Job on the real node, and `--abort`/`--pause` reach a run
//! on another machine through a request on the ConfigMap. Assertions read
//! the Job, the ConfigMap and the pods directly, not hal9ctl's wording.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::ListParams;

use super::harness::{TestCluster, kubeconfig, rt};
use super::node::RealPods;
use super::{full_doc, migration_cm, ready};
use crate::common::*;

const READY_LIMIT: Duration = Duration::from_secs(240);
const JOB_LIMIT: Duration = Duration::from_secs(300);

fn journal_on(cm: &ConfigMap) -> Option<serde_json::Value> {
    let text = cm
        .metadata
        .annotations
        .as_ref()?
        .get("hal9.io/rollback-journal")?;
    serde_json::from_str(text).ok()
}

fn applied(j: &serde_json::Value) -> usize {
    j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "applied")
        .count()
}

fn doc_on(cm: &ConfigMap) -> serde_json::Value {
    serde_json::from_str(&cm.data.as_ref().unwrap()["migration.json"]).unwrap()
}

/// Wait until the journal on the ConfigMap shows `n` applied steps.
async fn wait_applied(cms: &Api<ConfigMap>, n: usize, limit: Duration) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        if let Some(j) = cms
            .get("hal9-migration")
            .await
            .ok()
            .and_then(|c| journal_on(&c))
            && j["status"] == "running"
            && applied(&j) >= n
        {
            return j;
        }
        assert!(t0.elapsed() < limit, "{n} step(s) never checkpointed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn wait_child(mut child: Child, limit: Duration) -> std::process::Output {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("the running engine did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn an_abort_from_another_machine_stops_a_running_cluster_rollback_after_its_step() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-dabort").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            ready(d) == 1
        })
        .await;
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
        // Operator A: a long gate window after each of 4 steps.
        let a_dir = tempdir();
        let a = c
            .hal9ctl(a_dir.path())
            .args([
                "rollback",
                "--cluster",
                "-n",
                &c.ns,
                "--strategy",
                "gradual",
                "--to-phase",
                "flat",
                "--steps",
                "4",
                "--interval",
                "10m",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let running = wait_applied(&cms, 1, Duration::from_secs(30)).await;
        // Operator B, another state dir: the run is asked, not overwritten.
        let b_dir = tempdir();
        let b = run(c
            .hal9ctl(b_dir.path())
            .args([
                "rollback",
                "--cluster",
                "-n",
                &c.ns,
                "--abort",
                "-o",
                "json",
            ])
            .stdin(Stdio::null()));
        let a = wait_child(a, Duration::from_secs(60));
        assert_eq!(b.status.code(), Some(0), "{}\n{}", stdout(&b), stderr(&b));
        assert_eq!(a.status.code(), Some(1), "{}\n{}", stdout(&a), stderr(&a));
        let cm = cms.get("hal9-migration").await.unwrap();
        let j = journal_on(&cm).unwrap();
        assert_eq!(j["id"], running["id"]);
        assert_eq!(j["status"], "abandoned", "{j}");
        assert_eq!(applied(&j), 1, "stopped after its current step: {j}");
        assert_eq!(
            doc_on(&cm)["hierarchical_percent"],
            75.0,
            "the state stays where it is"
        );
        let reason = j["reason"].as_str().unwrap();
        assert!(reason.contains("at the request of"), "{reason}");
        assert!(
            !cm.metadata
                .annotations
                .unwrap()
                .contains_key("hal9.io/migration-request"),
            "the honoured request is cleared"
        );
    });
}

#[test]
fn a_pause_from_another_machine_stops_a_running_cluster_migration_resumably() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-dpause").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            ready(d) == 1
        })
        .await;
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let flat = serde_json::json!({"version": 1, "phase": "flat", "hierarchical_percent": 0.0,
            "flags": {}, "state_schema": 1, "snapshots": []});
        cms.create(&Default::default(), &migration_cm(&flat))
            .await
            .unwrap();
        let a_dir = tempdir();
        let a = c
            .hal9ctl(a_dir.path())
            .args([
                "migrate",
                "--cluster",
                "-n",
                &c.ns,
                "--to-phase",
                "canary",
                "--interval",
                "10m",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_applied(&cms, 1, Duration::from_secs(30)).await;
        let b_dir = tempdir();
        let b = run(c
            .hal9ctl(b_dir.path())
            .args(["migrate", "--cluster", "-n", &c.ns, "--pause", "-o", "json"])
            .stdin(Stdio::null()));
        let a = wait_child(a, Duration::from_secs(60));
        assert_eq!(b.status.code(), Some(0), "{}\n{}", stdout(&b), stderr(&b));
        assert!(
            json(&b)["next"].as_str().unwrap().contains("--continue"),
            "{}",
            stdout(&b)
        );
        assert_eq!(a.status.code(), Some(1), "{}\n{}", stdout(&a), stderr(&a));
        let j = journal_on(&cms.get("hal9-migration").await.unwrap()).unwrap();
        assert_eq!(j["status"], "interrupted", "resumable: {j}");
        assert_eq!(applied(&j), 1, "{j}");
    });
}

async fn job_of(c: &RealPods, name: &str) -> Job {
    Api::<Job>::namespaced(c.client.clone(), &c.ns)
        .get(name)
        .await
        .unwrap()
}

/// Wait for the Job to finish; its pod's container exit code.
async fn job_exit_code(c: &RealPods, name: &str) -> i32 {
    let t0 = Instant::now();
    loop {
        let st = job_of(c, name).await.status.unwrap_or_default();
        if st.succeeded.unwrap_or(0) + st.failed.unwrap_or(0) > 0 {
            let pods: Api<Pod> = Api::namespaced(c.client.clone(), &c.ns);
            let pod = pods
                .list(&ListParams::default().labels(&format!("job-name={name}")))
                .await
                .unwrap()
                .items
                .into_iter()
                .next()
                .unwrap();
            return pod.status.unwrap().container_statuses.unwrap()[0]
                .state
                .clone()
                .unwrap()
                .terminated
                .unwrap()
                .exit_code;
        }
        assert!(
            t0.elapsed() < JOB_LIMIT,
            "job {name} did not finish: {st:?}\n{:#?}",
            c.pod_states().await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn serving(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app.kubernetes.io/name"))
                == Some(&"hal9-server".to_string())
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

/// Start a detached run: the local hal9ctl exits once the Job's pod runs;
/// then every local process is gone (kill -9 for good measure).
fn detach(c: &RealPods, args: &[&str]) -> (std::process::Output, String) {
    let st = tempdir();
    let mut child = c
        .hal9ctl(st.path())
        .args(args)
        .args(["--cluster", "-n", &c.ns, "--detach", "--yes", "-o", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() && t0.elapsed() < Duration::from_secs(180) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let o = child.wait_with_output().unwrap();
    let v = json(&o);
    let name = v["job"]["name"].as_str().unwrap_or_default().to_string();
    (o, name)
}

#[test]
fn a_detached_gradual_rollback_finishes_in_the_cluster_after_the_local_hal9ctl_is_gone() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-detach").await;
        c.apply(&c.overlay());
        c.wait_ready("hal9-server", 3, READY_LIMIT).await;
        let (o, name) = detach(
            &c,
            &[
                "rollback",
                "--strategy",
                "gradual",
                "--to-phase",
                "state_migration",
                "--steps",
                "3",
                "--interval",
                "3s",
            ],
        );
        // Exit 0: the Job was created and its pod seen running, not finished.
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["job"]["state"], "active", "{v}");
        assert!(
            v["next"].as_str().unwrap().contains("status --cluster"),
            "{v}"
        );
        assert!(name.starts_with("hal9-rollback-"), "{v}");
        let spec = job_of(&c, &name).await.spec.unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        assert_eq!(
            spec.template.spec.unwrap().service_account_name.as_deref(),
            Some("hal9-migrator")
        );

        // Another machine sees it running.
        let other = tempdir();
        let s = run(c.hal9ctl(other.path()).args([
            "rollback",
            "status",
            "--cluster",
            "-n",
            &c.ns,
            "-o",
            "json",
        ]));
        assert_eq!(json(&s)["job"]["name"], name.as_str(), "{}", stdout(&s));

        assert_eq!(
            job_exit_code(&c, &name).await,
            0,
            "{:#?}",
            c.pod_states().await
        );
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let cm = cms.get("hal9-migration").await.unwrap();
        let doc = doc_on(&cm);
        assert_eq!(doc["phase"], "state_migration", "{doc}");
        assert_eq!(doc["hierarchical_percent"], 25.0, "{doc}");
        let j = journal_on(&cm).unwrap();
        assert_eq!(j["status"], "completed", "{j}");
        assert_eq!(applied(&j), 3, "{j}");
        let pods = serving(&c.pods().await);
        assert_eq!(pods.len(), 3, "{pods:?}");
        for p in &pods {
            let s = c.proxy_get(p, "/api/v1/status").await.unwrap();
            assert_eq!(s["migration"]["phase"], "state_migration", "{p}: {s}");
            assert_eq!(s["migration"]["hierarchical_percent"], 25.0, "{p}: {s}");
        }
        let s = run(c.hal9ctl(other.path()).args([
            "rollback",
            "status",
            "--cluster",
            "-n",
            &c.ns,
            "-o",
            "json",
        ]));
        let v = json(&s);
        assert_eq!(v["job"]["state"], "succeeded", "{v}");
        assert_eq!(v["job"]["exit_code"], 0, "{v}");
        assert_eq!(v["journal"]["status"], "completed", "{v}");
    });
}

#[test]
fn a_detached_run_whose_gate_fails_exits_the_job_with_the_code_of_a_local_run() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-dgate").await;
        // No pod ever passes its readiness probe: the "ready pods" gate fails.
        let unready = c.overlay().replace("path: /ready", "path: /never-ready");
        assert!(
            unready.contains("/never-ready"),
            "the overlay changed shape"
        );
        c.apply(&unready);
        let t0 = Instant::now();
        while c
            .pods()
            .await
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count()
            < 3
        {
            assert!(t0.elapsed() < READY_LIMIT, "{:#?}", c.pod_states().await);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let args = [
            "rollback",
            "--strategy",
            "gradual",
            "--to-phase",
            "state_migration",
            "--steps",
            "2",
            "--interval",
            "2s",
            "--on-failure",
            "pause",
        ];
        let st = tempdir();
        let local = run(c
            .hal9ctl(st.path())
            .args(args)
            .args(["--cluster", "-n", &c.ns, "--yes", "-o", "json"])
            .stdin(Stdio::null()));
        assert_eq!(
            local.status.code(),
            Some(1),
            "{}\n{}",
            stdout(&local),
            stderr(&local)
        );
        let ab = run(c
            .hal9ctl(st.path())
            .args(["rollback", "--cluster", "-n", &c.ns, "--abort"])
            .stdin(Stdio::null()));
        assert_eq!(
            ab.status.code(),
            Some(0),
            "{}\n{}",
            stdout(&ab),
            stderr(&ab)
        );

        let (o, name) = detach(&c, &args);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        assert_eq!(
            job_exit_code(&c, &name).await,
            1,
            "{:#?}",
            c.pod_states().await
        );
        let st = job_of(&c, &name).await.status.unwrap();
        assert_eq!(
            st.failed,
            Some(1),
            "a non-zero engine fails the Job: {st:?}"
        );
        let j = journal_on(
            &Api::<ConfigMap>::namespaced(c.client.clone(), &c.ns)
                .get("hal9-migration")
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(j["status"], "interrupted", "{j}");
    });
}

#[test]
fn an_abort_from_another_machine_reaches_a_detached_job_which_stops_after_its_step() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = RealPods::new(kc, "hal9-djabort").await;
        c.apply(&c.overlay());
        c.wait_ready("hal9-server", 3, READY_LIMIT).await;
        let (o, name) = detach(
            &c,
            &[
                "rollback",
                "--strategy",
                "gradual",
                "--to-phase",
                "state_migration",
                "--steps",
                "3",
                "--interval",
                "10m",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let running = wait_applied(&cms, 1, Duration::from_secs(120)).await;
        let other = tempdir();
        let b = run(c
            .hal9ctl(other.path())
            .args([
                "rollback",
                "--cluster",
                "-n",
                &c.ns,
                "--abort",
                "-o",
                "json",
            ])
            .stdin(Stdio::null()));
        assert_eq!(b.status.code(), Some(0), "{}\n{}", stdout(&b), stderr(&b));
        // Stopped by request, short of its target: the Job's engine exits 1.
        assert_eq!(
            job_exit_code(&c, &name).await,
            1,
            "{:#?}",
            c.pod_states().await
        );
        let cm = cms.get("hal9-migration").await.unwrap();
        let j = journal_on(&cm).unwrap();
        assert_eq!(j["id"], running["id"]);
        assert_eq!(j["status"], "abandoned", "{j}");
        assert_eq!(applied(&j), 1, "{j}");
        assert_eq!(
            doc_on(&cm)["version"],
            j["steps"][0]["version_after"],
            "nothing after step 1"
        );
    });
}
