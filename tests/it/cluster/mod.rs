//! hal9ctl against a real Kubernetes API server (the project's test control plane).

mod harness;
mod incident;
mod node;
mod real_pods;
mod real_pods_inside;
mod real_pods_oom;
mod real_pods_restart;
mod real_pods_revision;
mod real_pods_scale;
mod real_pods_steps;

use std::time::{Duration, Instant};

use harness::{Kubelet, TestCluster, kubeconfig, rt};

use crate::common::*;

fn replicas(d: &k8s_openapi::api::apps::v1::Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

fn ready(d: &k8s_openapi::api::apps::v1::Deployment) -> i32 {
    d.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

macro_rules! cluster_or_skip {
    () => {
        match kubeconfig() {
            Some(k) => k,
            None => return,
        }
    };
}

/// The stand-in's pods are Ready in etcd but run no runtime: what etcd says
/// is OK, and what no pod could say is unknown, never OK. (The same checks
/// on real pods, all OK: real_pods_inside.rs.)
#[test]
fn health_of_a_ready_stand_in_deployment_is_ok_outside_and_unknown_inside() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-health").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["health", "--cluster", "-n", &c.ns, "-o", "json"]));
        assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["facts"]["ready"], 2);
        for check in v["checks"].as_array().unwrap() {
            if check["name"] == "pods inside" || check["name"] == "pod slo" {
                assert_eq!(check["status"], "unknown", "{check}");
                let d = check["detail"].as_str().unwrap();
                assert!(
                    d.contains("could not be read") || d.contains("not judged"),
                    "{check}"
                );
            } else {
                assert_eq!(check["status"], "ok", "{check}");
            }
        }
        assert_eq!(v["root_cause"], "pods inside", "{v:#}");

        // As a Nagios check: UNKNOWN (3), and the ready pods in the perfdata.
        let o =
            run(c
                .hal9ctl(st.path())
                .args(["health", "--cluster", "-n", &c.ns, "-o", "nagios"]));
        assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
        let first = stdout(&o).lines().next().unwrap_or_default().to_string();
        assert!(first.starts_with("HAL9 UNKNOWN"), "{first}");
        assert!(first.contains("'ready_pods'=2;;;0;2"), "{first}");
    });
}

#[test]
fn health_reports_a_stuck_rollout_and_a_crash_loop() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-stuck").await;
        c.set_kubelet(Kubelet::Idle);
        c.deployment("hal9-server", 2).await;
        let st = tempdir();
        // Nothing becomes ready: the rollout is stuck and the service has no ready pod.
        let t0 = Instant::now();
        let o = loop {
            let o =
                run(c
                    .hal9ctl(st.path())
                    .args(["health", "--cluster", "-n", &c.ns, "-o", "json"]));
            if json(&o)["facts"]["pods"].as_array().map(|p| p.len()) == Some(2)
                || t0.elapsed() > Duration::from_secs(30)
            {
                break o;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        let v = json(&o);
        let by = |n: &str| {
            v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == n)
                .unwrap()
                .clone()
        };
        assert_eq!(by("pods ready")["status"], "fail");
        assert_eq!(by("rollout")["status"], "warn");
        assert_eq!(by("scheduling")["status"], "warn");
        assert!(
            by("pods ready")["next"]
                .as_str()
                .unwrap()
                .contains("kubectl describe pods")
        );

        c.set_kubelet(Kubelet::CrashLoop);
        let t0 = Instant::now();
        let o = loop {
            let o = run(c
                .hal9ctl(st.path())
                .args(["health", "--cluster", "-n", &c.ns]));
            if stdout(&o).contains("CrashLoopBackOff") || t0.elapsed() > Duration::from_secs(30) {
                break o;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        let out = stdout(&o);
        assert!(out.contains("CrashLoopBackOff"), "{out}");
        assert!(out.contains("--previous"), "a next step is printed: {out}");

        // --wait gives up with 2 when the deployment never becomes healthy.
        let o =
            run(c
                .hal9ctl(st.path())
                .args(["health", "--cluster", "-n", &c.ns, "--wait", "2s"]));
        assert_eq!(o.status.code(), Some(2));
    });
}

#[test]
fn emergency_scale_without_hpa_doubles_and_restore_undoes_it() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-scale").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
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
            "60s",
            "-o",
            "json",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert!(
            v["undo"]
                .as_str()
                .unwrap()
                .starts_with("hal9ctl scale --restore --cluster")
        );
        let d = c.get_deployment("hal9-server").await;
        assert_eq!(replicas(&d), 4, "max(3, 2 x 2, 2) = 4");
        assert_eq!(ready(&d), 4);
        assert!(
            d.metadata
                .annotations
                .unwrap()
                .contains_key("hal9.io/emergency-original")
        );

        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--restore",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "30s",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let d = c.get_deployment("hal9-server").await;
        assert_eq!(replicas(&d), 2);
        assert!(
            !d.metadata
                .annotations
                .unwrap_or_default()
                .contains_key("hal9.io/emergency-original")
        );
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--restore",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
        ]));
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("nothing to restore"), "{}", stdout(&o));

        let (entries, _) = hal9ctl::system::audit::AuditLog::new(st.path())
            .read()
            .unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e.action == "scale" && e.result.starts_with("ok: 2→4")),
            "{entries:?}"
        );
    });
}

#[test]
fn emergency_scale_raises_the_hpa_floor_and_never_scales_down() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-hpa").await;
        c.deployment("hal9-server", 3).await;
        c.hpa("hal9-server", 3, 4).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "3 ready", |d| {
            ready(d) == 3
        })
        .await;
        let st = tempdir();

        // A plain scale would be undone by the HPA: refused without --force.
        let o =
            run(c
                .hal9ctl(st.path())
                .args(["scale", "--replicas", "8", "--cluster", "-n", &c.ns]));
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("HPA hal9-server manages"),
            "{}",
            stderr(&o)
        );
        assert_eq!(replicas(&c.get_deployment("hal9-server").await), 3);

        // The requested 2 is below current: the target is 2 x 3 = 6, never fewer than 3.
        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--emergency",
            "--replicas",
            "2",
            "--cluster",
            "-n",
            &c.ns,
            "--wait",
            "60s",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let h = c.get_hpa("hal9-server").await;
        let spec = h.spec.clone().unwrap();
        assert_eq!(spec.min_replicas, Some(6));
        assert_eq!(spec.max_replicas, 6);
        let orig: serde_json::Value =
            serde_json::from_str(&h.metadata.annotations.unwrap()["hal9.io/emergency-original"])
                .unwrap();
        assert_eq!(orig["min_replicas"], 3);
        assert_eq!(orig["max_replicas"], 4);
        // The HPA controller syncs every second here: it must now hold 6, not undo it.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(replicas(&c.get_deployment("hal9-server").await), 6);

        let o = run(c.hal9ctl(st.path()).args([
            "scale",
            "--restore",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "30s",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let spec = c.get_hpa("hal9-server").await.spec.unwrap();
        assert_eq!((spec.min_replicas, spec.max_replicas), (Some(3), 4));
        c.wait_deployment(
            "hal9-server",
            Duration::from_secs(30),
            "back within HPA bounds",
            |d| replicas(d) <= 4,
        )
        .await;
    });
}

#[test]
fn restart_rolls_every_pod_and_a_stuck_restart_times_out_naming_pods() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-restart").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "restart",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "90s",
        ]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let d = c.get_deployment("hal9-server").await;
        let ann = d
            .spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap();
        assert!(ann.contains_key("kubectl.kubernetes.io/restartedAt"));

        // No terminal and no --yes: refused, nothing changed.
        let before = c.get_deployment("hal9-server").await.metadata.generation;
        let o = run(c
            .hal9ctl(st.path())
            .args(["restart", "--cluster", "-n", &c.ns])
            .stdin(std::process::Stdio::null()));
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            c.get_deployment("hal9-server").await.metadata.generation,
            before
        );

        c.set_kubelet(Kubelet::Idle);
        let o = run(c.hal9ctl(st.path()).args([
            "restart",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "3s",
        ]));
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("did not finish within 3s"), "{err}");
        assert!(
            err.contains("not ready: hal9-server-"),
            "stuck pods are named: {err}"
        );
    });
}

#[test]
fn restart_refuses_a_paused_deployment() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-paused").await;
        c.deployment("hal9-server", 1).await;
        let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        api.patch(
            "hal9-server",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {"paused": true}})),
        )
        .await
        .unwrap();
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["restart", "--cluster", "-n", &c.ns, "--yes"]));
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("paused"), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("kubectl rollout resume"),
            "{}",
            stderr(&o)
        );
    });
}

#[test]
fn missing_deployment_and_namespace_are_named() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-missing").await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "health",
            "--cluster",
            "-n",
            &c.ns,
            "--deployment",
            "nope",
        ]));
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains(&format!("deployment nope not found in namespace {}", c.ns)),
            "{}",
            stderr(&o)
        );
        let o =
            run(c
                .hal9ctl(st.path())
                .args(["health", "--cluster", "-n", "hal9-no-such-namespace"]));
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("namespace hal9-no-such-namespace does not exist"),
            "{}",
            stderr(&o)
        );
    });
}

#[test]
fn forbidden_names_the_missing_verb_and_resource() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-rbac").await;
        c.deployment("hal9-server", 1).await;
        c.hpa("hal9-server", 1, 2).await;
        // The limited user may read, but not patch HPAs.
        let role = serde_json::json!({
            "metadata": {"name": "read-only"},
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list", "patch"]},
                      {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list"]},
                      {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list"]},
                      {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]}]
        });
        let binding = serde_json::json!({
            "metadata": {"name": "read-only"},
            "subjects": [{"kind": "User", "name": "hal9-limited", "apiGroup": "rbac.authorization.k8s.io"}],
            "roleRef": {"kind": "Role", "name": "read-only", "apiGroup": "rbac.authorization.k8s.io"}
        });
        let roles: kube::Api<k8s_openapi::api::rbac::v1::Role> = kube::Api::namespaced(c.client.clone(), &c.ns);
        roles.create(&Default::default(), &serde_json::from_value(role).unwrap()).await.unwrap();
        let rbs: kube::Api<k8s_openapi::api::rbac::v1::RoleBinding> = kube::Api::namespaced(c.client.clone(), &c.ns);
        rbs.create(&Default::default(), &serde_json::from_value(binding).unwrap()).await.unwrap();
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args(["scale", "--emergency", "--cluster", "--context", "hal9-limited", "-n", &c.ns, "--wait", "1s"]));
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("cannot patch horizontalpodautoscalers in namespace {}", c.ns)), "{}", stderr(&o));
        let spec = c.get_hpa("hal9-server").await.spec.unwrap();
        assert_eq!(spec.min_replicas, Some(1), "nothing was half-done");
    });
}

#[test]
fn an_unreachable_api_server_is_unknown_within_ten_seconds() {
    // Needs no control plane: a loopback port nobody listens on.
    let d = tempdir();
    let port = free_port();
    let kc = d.path().join("kubeconfig");
    std::fs::write(&kc, format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: dead\n  context: {{cluster: dead, user: u}}\ncurrent-context: dead\n"
    )).unwrap();
    let t0 = Instant::now();
    let o = run(hal9ctl(d.path())
        .args(["health", "--cluster"])
        .env("KUBECONFIG", &kc));
    let took = t0.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&o)
    );
    // A bound on the behaviour (exit 3 "within 10 s"), not a performance goal.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn the_manifests_apply_to_a_real_api_server() {
    let kc = cluster_or_skip!();
    let root = repo_root().join("deploy/kubernetes");
    // The namespace in the manifests is `hal9`; apply into a fresh one so
    // parallel tests and reruns never share state.
    let ns = format!("hal9-manifests-{}", std::process::id());
    let apply = |file: &std::path::Path| {
        let text = std::fs::read_to_string(file)
            .unwrap()
            .replace("namespace: hal9\n", &format!("namespace: {ns}\n"))
            .replace("name: hal9\n", &format!("name: {ns}\n"))
            // Objects in etcd only: the real node's scheduler must not place
            // production-sized pods (1 cpu each) next to the real-pod tests.
            .replace(
                "      terminationGracePeriodSeconds: 60\n",
                "      terminationGracePeriodSeconds: 60\n      schedulerName: hal9-stand-in\n",
            );
        let mut child = std::process::Command::new("kubectl")
            .args(["--kubeconfig", kc.to_str().unwrap(), "apply", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl (on the machine image; scripts/test.sh relies on it)");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut unserved = Vec::new();
    for f in &files {
        let o = apply(f);
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.success() {
            continue;
        }
        // 1.20 serves neither autoscaling/v2 nor policy/v1: say so, apply the compat file.
        assert!(
            err.contains("no matches for kind"),
            "{}: {err}",
            f.display()
        );
        let name = f.file_name().unwrap().to_str().unwrap();
        eprintln!(
            "{name}: this API server does not serve its API version; applying deploy/kubernetes/compat instead"
        );
        unserved.push(name.to_string());
    }
    assert_eq!(
        unserved,
        vec!["40-hpa.yaml", "50-pdb.yaml"],
        "only the HPA v2 and PDB v1 need the compat files on 1.20"
    );
    for f in ["compat/40-hpa-v1.yaml", "compat/50-pdb-v1beta1.yaml"] {
        let o = apply(&root.join(f));
        assert!(
            o.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    rt().block_on(async {
        let c = harness::client(&kc, None).await;
        let d: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
            kube::Api::namespaced(c.clone(), &ns);
        let dep = d.get("hal9-server").await.unwrap();
        // hal9ctl's selectors come from the Deployment: they must select its own pod template.
        let sel = dep
            .spec
            .as_ref()
            .unwrap()
            .selector
            .match_labels
            .clone()
            .unwrap();
        let labels = dep
            .spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .clone()
            .unwrap();
        assert!(sel.iter().all(|(k, v)| labels.get(k) == Some(v)));
        let pod = &dep.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(pod.termination_grace_period_seconds, Some(60));
        let ctr = &pod.containers[0];
        assert_eq!(
            ctr.readiness_probe
                .as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .as_deref(),
            Some("/ready")
        );
        assert_eq!(
            ctr.liveness_probe
                .as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .as_deref(),
            Some("/health")
        );
        assert!(ctr.lifecycle.as_ref().unwrap().pre_stop.is_some());
        // The pods follow the shipped migration ConfigMap, as the shipped ServiceAccount.
        let args = ctr.args.clone().unwrap();
        assert!(
            args.windows(2)
                .any(|w| w[0] == "--migration-source" && w[1] == "configmap:hal9/hal9-migration"),
            "{args:?}"
        );
        assert_eq!(pod.service_account_name.as_deref(), Some("hal9-server"));
        let cm: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.clone(), &ns);
        let doc: serde_json::Value = serde_json::from_str(
            &cm.get("hal9-migration").await.unwrap().data.unwrap()["migration.json"],
        )
        .unwrap();
        assert_eq!(
            (doc["phase"].as_str(), doc["version"].as_u64()),
            (Some("full"), Some(0))
        );
        let role: kube::Api<k8s_openapi::api::rbac::v1::Role> =
            kube::Api::namespaced(c.clone(), &ns);
        let rules = role
            .get("hal9-server-migration")
            .await
            .unwrap()
            .rules
            .unwrap();
        assert_eq!(rules.len(), 1, "{rules:?}");
        assert_eq!(
            rules[0].resource_names.as_deref(),
            Some(&["hal9-migration".to_string()][..])
        );
        assert_eq!(rules[0].verbs, ["get", "list", "watch"]);
        // hal9ctl sees the HPA through autoscaling/v1 and judges the Deployment.
        let st = tempdir();
        let o = run(hal9ctl(st.path()).env("KUBECONFIG", &kc).args([
            "health",
            "--cluster",
            "-n",
            &ns,
            "-o",
            "json",
        ]));
        let v = json(&o);
        assert!(v["facts"]["hpa"]["name"] == "hal9-server", "{v}");
        let _ = kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(c)
            .delete(&ns, &Default::default())
            .await;
    });
}

#[test]
fn a_runtime_following_the_configmap_follows_a_cluster_rollback() {
    let kc = cluster_or_skip!();
    let rt = rt();
    let doc = serde_json::json!({
        "version": 5, "phase": "ramp_up", "hierarchical_percent": 75.0,
        "flags": {"hierarchical_routing": true, "state_migration": true, "cognitive_layers": true, "protocol_layer": true, "substrate_layer": true},
        "state_schema": 2, "snapshots": ["state_migration"]
    });
    let (c, cms) = rt.block_on(async {
        let c = TestCluster::new(kc.clone(), "hal9-migr").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| ready(d) == 2).await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(c.client.clone(), &c.ns);
        let cm = serde_json::json!({"metadata": {"name": "hal9-migration"}, "data": {"migration.json": doc.to_string()}});
        cms.create(&Default::default(), &serde_json::from_value(cm).unwrap()).await.unwrap();
        (c, cms)
    });

    // A local runtime that follows the ConfigMap (kubeconfig found the way kubectl finds it).
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join(".kube")).unwrap();
    std::fs::copy(&kc, dir.path().join(".kube/config")).unwrap();
    let source = format!("configmap:{}/hal9-migration", c.ns);
    let s = Server::start_in(dir, None, &["--migration-source", &source]);
    assert_eq!(
        s.admin("GET", "/admin/migration", None).json()["phase"],
        "ramp_up"
    );
    let put = s.admin("PUT", "/admin/migration", Some(doc.clone()));
    assert_eq!(put.status, 409);
    assert_eq!(put.json()["error"]["code"], "managed_externally");

    let st = tempdir();
    let o = run(c
        .hal9ctl(st.path())
        .args([
            "rollback",
            "--cluster",
            "-n",
            &c.ns,
            "--strategy",
            "gradual",
            "--to-phase",
            "canary",
            "--steps",
            "3",
            "--interval",
            "300ms",
            "--yes",
            "-o",
            "json",
        ])
        .stdin(std::process::Stdio::null()));
    // The Deployment's pods were started without --migration-source (the
    // shipped manifests' defect): the ConfigMap changed, their routing did
    // not, and "verified" would be the original sin.
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let summary = v["summary"].as_str().unwrap();
    assert!(!summary.contains("verified ("), "{summary}");
    assert!(
        summary.contains("applied to the ConfigMap; 0 of 2 pods confirmed"),
        "{summary}"
    );
    assert!(
        summary.contains("does not follow a ConfigMap at all"),
        "{summary}"
    );
    assert!(
        summary.contains("hal9-server-"),
        "the pods are named: {summary}"
    );
    // Already the first step's gate saw it, named the pods, and the default
    // policy (abort) went straight to the target.
    assert_eq!(v["journal"]["status"], "aborted_to_target", "{v}");
    let gates = &v["journal"]["steps"][0]["gate"];
    assert_eq!(gates["passed"], false, "{gates}");
    let detail = gates["detail"].to_string();
    assert!(
        detail.contains("pods confirmed: applied to the ConfigMap; 0 of 2 pods confirmed"),
        "{detail}"
    );
    assert!(
        detail.contains("does not follow a ConfigMap at all"),
        "{detail}"
    );
    assert!(
        detail.contains("hal9-server-"),
        "the pods are named: {detail}"
    );
    assert_eq!(v["journal"]["steps"].as_array().unwrap().len(), 2, "{v}");

    let cm = rt.block_on(cms.get("hal9-migration")).unwrap();
    let now: serde_json::Value = serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
    assert_eq!(now["phase"], "canary");
    assert_eq!(now["hierarchical_percent"], 5.0);
    assert_eq!(
        now["version"], 7,
        "the first step, then the target: two conditional writes"
    );
    let checkpoint: serde_json::Value =
        serde_json::from_str(&cm.metadata.annotations.unwrap()["hal9.io/rollback-journal"])
            .unwrap();
    assert_eq!(
        checkpoint["status"], "aborted_to_target",
        "another operator can see the rollback on the ConfigMap"
    );

    // The runtime followed it through the watch.
    let t0 = Instant::now();
    loop {
        let m = s.admin("GET", "/admin/migration", None).json();
        if m["phase"] == "canary" {
            assert_eq!(m["hierarchical_percent"], 5.0);
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the runtime did not follow: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = run(c
        .hal9ctl(st.path())
        .args(["rollback", "status", "--cluster", "-n", &c.ns]));
    assert!(stdout(&o).contains("phase canary"), "{}", stdout(&o));
    // Another operator, another machine (no local journal): the checkpoint on the ConfigMap shows the rollback.
    let elsewhere = tempdir();
    let o = run(c.hal9ctl(elsewhere.path()).args([
        "rollback",
        "status",
        "--cluster",
        "-n",
        &c.ns,
        "-o",
        "json",
    ]));
    let v = json(&o);
    assert_eq!(v["journal"]["status"], "aborted_to_target", "{v}");
    assert_eq!(v["journal"]["steps"].as_array().unwrap().len(), 2);
    drop(s);
    drop(c);
}

#[test]
fn immediate_with_revision_also_restores_the_previous_template() {
    let kc = cluster_or_skip!();
    let rt = rt();
    let c = rt.block_on(async {
        let c = TestCluster::new(kc.clone(), "hal9-undo").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "revision 1 ready", |d| ready(d) == 1).await;
        // Revision 2: a new template (a bad deploy).
        let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> = kube::Api::namespaced(c.client.clone(), &c.ns);
        let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"hal9.io/build": "bad"}}}}});
        api.patch("hal9-server", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
        c.wait_deployment("hal9-server", Duration::from_secs(60), "revision 2 rolled out", |d| {
            d.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).map(String::as_str) == Some("2")
                && d.status.as_ref().is_some_and(|s| s.updated_replicas == Some(1) && s.available_replicas == Some(1) && s.replicas == Some(1))
        })
        .await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(c.client.clone(), &c.ns);
        let doc = serde_json::json!({"version": 1, "phase": "canary", "hierarchical_percent": 5.0, "flags": {"hierarchical_routing": true}, "state_schema": 1, "snapshots": []});
        let cm = serde_json::json!({"metadata": {"name": "hal9-migration"}, "data": {"migration.json": doc.to_string()}});
        cms.create(&Default::default(), &serde_json::from_value(cm).unwrap()).await.unwrap();
        c
    });
    let st = tempdir();
    let o = run(c.hal9ctl(st.path()).args([
        "rollback",
        "--cluster",
        "-n",
        &c.ns,
        "--strategy",
        "gradual",
        "--revision",
        "--yes",
    ]));
    assert_eq!(
        o.status.code(),
        Some(64),
        "--revision is for immediate only"
    );
    let o = run(c
        .hal9ctl(st.path())
        .args([
            "rollback",
            "--cluster",
            "-n",
            &c.ns,
            "--strategy",
            "immediate",
            "--revision",
            "--yes",
            "-o",
            "json",
        ])
        .stdin(std::process::Stdio::null()));
    // Stand-in pods run no runtime the pod proxy can reach: no pod confirms the write.
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("pods confirmed"), "{}", stdout(&o));
    let v = json(&o);
    assert_eq!(v["migration"]["phase"], "shadow");
    assert!(
        v["summary"].as_str().unwrap().contains("revision 2 → 1"),
        "{v}"
    );
    rt.block_on(async {
        let d = c.get_deployment("hal9-server").await;
        let ann = d
            .spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap_or_default();
        assert!(
            !ann.contains_key("hal9.io/build"),
            "the previous template is back: {ann:?}"
        );
        assert_eq!(
            d.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"],
            "3"
        );
    });
    drop(c);
}

/// Bind the kubeconfig's `hal9-limited` user to a Role with exactly `rules` in the test namespace.
/// The migration Lease is always granted: every writing cluster command takes it
/// first, and these tests are about the verbs after it.
async fn limit_to(c: &TestCluster, rules: serde_json::Value) {
    let mut rules = rules;
    if let Some(r) = rules.as_array_mut() {
        r.push(serde_json::json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]}));
    }
    let role = serde_json::json!({"metadata": {"name": "limited"}, "rules": rules});
    let binding = serde_json::json!({
        "metadata": {"name": "limited"},
        "subjects": [{"kind": "User", "name": "hal9-limited", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "Role", "name": "limited", "apiGroup": "rbac.authorization.k8s.io"}
    });
    let roles: kube::Api<k8s_openapi::api::rbac::v1::Role> =
        kube::Api::namespaced(c.client.clone(), &c.ns);
    roles
        .create(&Default::default(), &serde_json::from_value(role).unwrap())
        .await
        .unwrap();
    let rbs: kube::Api<k8s_openapi::api::rbac::v1::RoleBinding> =
        kube::Api::namespaced(c.client.clone(), &c.ns);
    rbs.create(
        &Default::default(),
        &serde_json::from_value(binding).unwrap(),
    )
    .await
    .unwrap();
}

#[test]
fn a_forbidden_deployment_write_after_the_hpa_write_is_partly_done_and_names_the_undo() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-part").await;
        c.deployment("hal9-server", 1).await;
        c.hpa("hal9-server", 1, 2).await;
        // Ready before the emergency, so the restore's "ready as before" is
        // about the restore, not about how fast the stand-in started the pod.
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            d.status.as_ref().and_then(|s| s.ready_replicas) == Some(1)
        })
        .await;
        // May raise the HPA, may not write the Deployment.
        limit_to(
            &c,
            serde_json::json!([
                {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale", "replicasets"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "patch"]},
                {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list", "watch"]}
            ]),
        )
        .await;
        let st = tempdir();
        let o = run(c.hal9ctl(st.path()).args([
            "scale", "--emergency", "--replicas", "3", "--cluster", "--context", "hal9-limited", "-n", &c.ns, "--wait", "1s", "-o", "json",
        ]));
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        let summary = v["summary"].as_str().unwrap();
        assert!(summary.contains("partly done"), "{v}");
        assert!(summary.contains("HPA hal9-server minReplicas 1→3"), "{v}");
        assert!(
            v["warnings"].to_string().contains(&format!("cannot patch deployments in namespace {}", c.ns)),
            "{v}"
        );
        let undo = v["undo"].as_str().unwrap().to_string();
        assert!(undo.starts_with("hal9ctl scale --restore --cluster"), "{undo}");
        assert_eq!(c.get_hpa("hal9-server").await.spec.unwrap().min_replicas, Some(3), "the HPA write landed");

        // The undo it names works with the same permissions.
        let mut argv = shlex::split(&undo).unwrap();
        argv.remove(0);
        argv.extend(["--yes".to_string(), "--wait".to_string(), "1s".to_string()]);
        let o = run(c.hal9ctl(st.path()).args(&argv));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let spec = c.get_hpa("hal9-server").await.spec.unwrap();
        assert_eq!((spec.min_replicas, spec.max_replicas), (Some(1), 2));
    });
}

fn migration_cm(doc: &serde_json::Value) -> k8s_openapi::api::core::v1::ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "hal9-migration"},
        "data": {"migration.json": doc.to_string()}
    }))
    .unwrap()
}

fn full_doc() -> serde_json::Value {
    serde_json::json!({
        "version": 3, "phase": "full", "hierarchical_percent": 100.0,
        "flags": {"hierarchical_routing": true, "state_migration": true, "cognitive_layers": true,
                  "protocol_layer": true, "substrate_layer": true, "intelligence_layer": true},
        "state_schema": 2, "snapshots": ["state_migration"]
    })
}

/// A gradual cluster rollback full → flat in 4 steps, killed with SIGKILL
/// once step 1 is applied and checkpointed on the ConfigMap: an unfinished
/// journal in `st` and its copy on the ConfigMap.
async fn cluster_rollback_killed_after_one_step(c: &TestCluster, st: &std::path::Path) {
    let mut child = c
        .hal9ctl(st)
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
            "3s",
            "--yes",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(c.client.clone(), &c.ns);
    let journal = st.join("rollback/journal.json");
    let t0 = Instant::now();
    loop {
        let local = std::fs::read_to_string(&journal).is_ok_and(|t| t.contains("\"applied\""));
        let remote = cms.get("hal9-migration").await.ok().is_some_and(|cm| {
            cm.metadata
                .annotations
                .and_then(|a| a.get("hal9.io/rollback-journal").cloned())
                .is_some_and(|t| t.contains("\"applied\""))
        });
        if local && remote {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "step 1 never applied and checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The killed run's Lease would hold off the next command until it expires
    // (tests/it/cluster/lease.rs covers that); these tests are about the
    // journal, so an admin frees it as `kubectl delete lease` would.
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(c.client.clone(), &c.ns);
    leases
        .delete("hal9-migration-lock", &Default::default())
        .await
        .unwrap();
}

#[test]
fn a_configmap_without_the_migration_key_is_an_error_naming_the_key() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-nokey").await;
        // A healthy Deployment: only the ConfigMap is wrong.
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| ready(d) == 1).await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        let cm = serde_json::json!({"metadata": {"name": "hal9-migration"}, "data": {"notes": "emptied by hand"}});
        cms.create(&Default::default(), &serde_json::from_value(cm).unwrap()).await.unwrap();
        let before = cms.get("hal9-migration").await.unwrap();
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["rollback", "--cluster", "-n", &c.ns, "--strategy", "immediate", "--yes"])
            .stdin(std::process::Stdio::null()));
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("configmap {}/hal9-migration has no migration.json key", c.ns)), "{err}");
        let after = cms.get("hal9-migration").await.unwrap();
        assert_eq!(after.data, before.data, "nothing was written: {:?}", after.data);
        assert_eq!(after.metadata.resource_version, before.metadata.resource_version);
        // Status says why it cannot show the state, instead of showing "full".
        let o = run(c.hal9ctl(st.path()).args(["rollback", "status", "--cluster", "-n", &c.ns]));
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("has no migration.json key"), "{}", stdout(&o));
        assert!(!stdout(&o).contains("phase full"), "{}", stdout(&o));
    });
}

#[test]
fn resume_against_a_recreated_configmap_is_refused_naming_both_uids() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-reuid").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            ready(d) == 1
        })
        .await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        let first = cms
            .create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
        let st = tempdir();
        cluster_rollback_killed_after_one_step(&c, st.path()).await;
        // Same namespace and name, another object: not the state the journal stepped.
        cms.delete("hal9-migration", &Default::default())
            .await
            .unwrap();
        let second = cms
            .create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
        let o = run(c
            .hal9ctl(st.path())
            .args(["rollback", "--cluster", "-n", &c.ns, "--resume", "--yes"])
            .stdin(std::process::Stdio::null()));
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(first.metadata.uid.as_deref().unwrap()),
            "{err}"
        );
        assert!(
            err.contains(second.metadata.uid.as_deref().unwrap()),
            "{err}"
        );
        let now = cms.get("hal9-migration").await.unwrap();
        assert_eq!(
            now.metadata.resource_version, second.metadata.resource_version,
            "nothing was written"
        );
    });
}

#[test]
fn a_resume_never_overwrites_another_operators_unfinished_rollback_on_the_configmap() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-two").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| ready(d) == 1).await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc())).await.unwrap();
        let mine = tempdir();
        cluster_rollback_killed_after_one_step(&c, mine.path()).await;
        // Meanwhile another operator's rollback is journaled on the ConfigMap.
        let mut theirs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(mine.path().join("rollback/journal.json")).unwrap()).unwrap();
        theirs["id"] = "rb-other-machine".into();
        theirs["started_by"] = "other-operator".into();
        theirs["status"] = "interrupted".into();
        let patch = serde_json::json!({"metadata": {"annotations": {"hal9.io/rollback-journal": theirs.to_string()}}});
        cms.patch("hal9-migration", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
        let before = cms.get("hal9-migration").await.unwrap();
        let o = run(c
            .hal9ctl(mine.path())
            .args(["rollback", "--cluster", "-n", &c.ns, "--resume", "--yes"])
            .stdin(std::process::Stdio::null()));
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("rb-other-machine") && err.contains("other-operator"), "{err}");
        let after = cms.get("hal9-migration").await.unwrap();
        assert_eq!(after.metadata.resource_version, before.metadata.resource_version, "nothing was written");
    });
}

#[test]
fn an_abort_on_another_machine_is_seen_on_the_configmap_and_frees_it() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-abort").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
            ready(d) == 1
        })
        .await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc()))
            .await
            .unwrap();
        let first = tempdir();
        cluster_rollback_killed_after_one_step(&c, first.path()).await;
        // Another operator, no local journal: abandons the one journaled on the ConfigMap.
        let other = tempdir();
        let o =
            run(c
                .hal9ctl(other.path())
                .args(["rollback", "--cluster", "-n", &c.ns, "--abort"]));
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        let cm = cms.get("hal9-migration").await.unwrap();
        let j: serde_json::Value =
            serde_json::from_str(&cm.metadata.annotations.unwrap()["hal9.io/rollback-journal"])
                .unwrap();
        assert_eq!(j["status"], "abandoned", "{j}");
        // A third operator may now start a new rollback without being asked to resume the old one.
        let third = tempdir();
        let o = run(c
            .hal9ctl(third.path())
            .args([
                "rollback",
                "--cluster",
                "-n",
                &c.ns,
                "--strategy",
                "immediate",
                "--yes",
                "-o",
                "json",
            ])
            .stdin(std::process::Stdio::null()));
        // Stand-in pods run no runtime the pod proxy can reach: no pod confirms the write.
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("pods confirmed"), "{}", stdout(&o));
        assert_eq!(json(&o)["migration"]["phase"], "ramp_up");
    });
}

#[test]
fn gates_survive_restart_counts_that_overflow_a_32_bit_sum() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-restarts").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| ready(d) == 2).await;
        // Long-lived pods of a flapping container: each count fits in i32, their sum does not.
        let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(c.client.clone(), &c.ns);
        for p in pods.list(&Default::default()).await.unwrap().items {
            let status = serde_json::json!({"status": {"containerStatuses": [{"name": "hal9", "image": "hal9ctl:test", "imageID": "",
                "ready": true, "restartCount": i32::MAX, "started": true, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}});
            pods.patch_status(p.metadata.name.as_deref().unwrap(), &Default::default(), &kube::api::Patch::Merge(&status)).await.unwrap();
        }
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        cms.create(&Default::default(), &migration_cm(&full_doc())).await.unwrap();
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["rollback", "--cluster", "-n", &c.ns, "--strategy", "gradual", "--steps", "2", "--interval", "200ms", "--yes", "-o", "json"])
            .stdin(std::process::Stdio::null()));
        // Stand-in pods follow no ConfigMap: the first step's gate fails on
        // that alone, and the restart gate beside it sums without overflow.
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("pods confirmed"), "{}", stdout(&o));
        let v = json(&o);
        let gate = &v["journal"]["steps"][0]["gate"];
        assert_eq!(gate["passed"], false, "{v}");
        let failed: Vec<&str> = gate["detail"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        assert_eq!(failed.len(), 1, "only the pods gate failed: {failed:?}");
        assert!(failed[0].starts_with("pods confirmed: applied to the ConfigMap; 0 of 2 pods confirmed"), "{failed:?}");
        assert_eq!(v["migration"]["phase"], "ramp_up", "{v}");
    });
}

#[test]
fn a_forbidden_rollout_undo_after_the_migration_went_back_is_partly_done() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-undo403").await;
        c.deployment("hal9-server", 1).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| ready(d) == 1).await;
        // Revision 2 (a bad deploy), so there is a revision to go back to.
        let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> = kube::Api::namespaced(c.client.clone(), &c.ns);
        let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"hal9.io/build": "bad"}}}}});
        api.patch("hal9-server", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
        c.wait_deployment("hal9-server", Duration::from_secs(60), "revision 2", |d| {
            d.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).map(String::as_str) == Some("2")
        })
        .await;
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(c.client.clone(), &c.ns);
        let doc = serde_json::json!({"version": 1, "phase": "canary", "hierarchical_percent": 5.0, "flags": {"hierarchical_routing": true}, "state_schema": 1, "snapshots": []});
        cms.create(&Default::default(), &migration_cm(&doc)).await.unwrap();
        // May write the migration ConfigMap, may not update the Deployment.
        limit_to(
            &c,
            serde_json::json!([
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "patch"]},
                {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": ["get", "list"]},
                {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list"]}
            ]),
        )
        .await;
        let st = tempdir();
        let o = run(c
            .hal9ctl(st.path())
            .args(["rollback", "--cluster", "--context", "hal9-limited", "-n", &c.ns, "--strategy", "immediate", "--revision", "--yes", "-o", "json"])
            .stdin(std::process::Stdio::null()));
        // 2, not 1: besides the forbidden undo, no stand-in pod confirms the migration write.
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        let summary = v["summary"].as_str().unwrap();
        assert!(summary.contains("partly done") && summary.contains("rolled back to shadow"), "{v}");
        assert!(summary.contains("deployment hal9-server was not rolled back"), "{v}");
        assert!(summary.contains("forbidden: cannot update deployments"), "{v}");
        assert!(v["next"].as_str().unwrap().contains("kubectl"), "{v}");
        let cm = cms.get("hal9-migration").await.unwrap();
        let now: serde_json::Value = serde_json::from_str(&cm.data.unwrap()["migration.json"]).unwrap();
        assert_eq!(now["phase"], "shadow", "the migration write landed");
    });
}

mod claims;
mod detach;
mod forward;
mod lease;

mod gates;
mod rbac;
mod surge;

mod kubectl_plugin;
mod waits;
