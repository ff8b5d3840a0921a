//! `incident bundle --cluster` and `audit --cluster` against the test API
//! server, with stand-in pods (no kubelet, so their logs cannot be read:
//! those parts must be error files, not gaps).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use super::harness::{TestCluster, kubeconfig, rt};
use crate::common::*;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every credential the kubeconfig holds, as the strings that would leak.
fn kubeconfig_credentials(kc: &Path) -> Vec<String> {
    let text = fs::read_to_string(kc).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        for key in ["client-key-data:", "token:", "password:"] {
            if let Some(v) = l.strip_prefix(key) {
                out.push(v.trim().trim_matches('"').to_string());
            }
        }
        if let Some(p) = l.strip_prefix("client-key:") {
            let p = PathBuf::from(p.trim().trim_matches('"'));
            let p = if p.is_relative() {
                kc.parent().unwrap().join(p)
            } else {
                p
            };
            if let Ok(pem) = fs::read_to_string(&p) {
                out.extend(
                    pem.lines()
                        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
                        .map(String::from),
                );
            }
        }
    }
    out.retain(|s| s.len() >= 16);
    out
}

#[test]
fn a_cluster_bundle_has_the_deployment_and_its_objects_and_no_secret() {
    let Some(kc) = kubeconfig() else { return };
    rt().block_on(async {
        let c = TestCluster::new(kc.clone(), "hal9-incident").await;
        c.deployment("hal9-server", 2).await;
        c.hpa("hal9-server", 2, 4).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            d.status.as_ref().and_then(|s| s.ready_replicas) == Some(2)
        })
        .await;
        // A literal credential in the pod template, and a Secret in the namespace.
        let env_token = "env-token-value-0123456789abcdef";
        Api::<Deployment>::namespaced(c.client.clone(), &c.ns)
            .patch(
                "hal9-server",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "hal9", "env": [{"name": "HAL9_ADMIN_TOKEN", "value": env_token}]}
                ]}}}})),
            )
            .await
            .unwrap();
        let secret_value = "c2VjcmV0LWRhdGEtdGhhdC1tdXN0LW5vdC1sZWFr";
        Api::<Secret>::namespaced(c.client.clone(), &c.ns)
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "hal9-admin"}, "data": {"token": secret_value}}))
                    .unwrap(),
            )
            .await
            .unwrap();
        Api::<ConfigMap>::namespaced(c.client.clone(), &c.ns)
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "hal9-migration"},
                    "data": {"migration.json": "{\"version\":1,\"phase\":\"full\",\"hierarchical_percent\":100.0,\"flags\":{}}"}}))
                .unwrap(),
            )
            .await
            .unwrap();

        let st = tempdir();
        let out = st.path().join("c.tar.gz");
        let o = run(c
            .hal9ctl(st.path())
            .args(["incident", "bundle", "--cluster", "-n", &c.ns, "--since", "10m", "--out"])
            .arg(&out)
            .args(["-o", "json"]));
        // No local runtime and stand-in pods without logs: partial.
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        let files: Vec<&str> = v["parts"].as_array().unwrap().iter().map(|p| p["file"].as_str().unwrap()).collect();
        for f in [
            "cluster/deployment.json",
            "cluster/replicasets.json",
            "cluster/pods.json",
            "cluster/hpa.json",
            "cluster/events.json",
            "cluster/configmap-hal9-migration.json",
        ] {
            assert!(files.contains(&f), "{f} not in {files:?}");
        }
        let pod_logs: Vec<_> = files.iter().filter(|f| f.starts_with("cluster/logs/")).collect();
        assert_eq!(pod_logs.len(), 2, "one per pod container: {files:?}");

        let d = tempdir();
        let ok = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&out)
            .arg("-C")
            .arg(d.path())
            .status()
            .unwrap();
        assert!(ok.success());
        let root = fs::read_dir(d.path()).unwrap().next().unwrap().unwrap().path();
        let dep: serde_json::Value =
            serde_json::from_slice(&fs::read(root.join("cluster/deployment.json")).unwrap()).unwrap();
        assert_eq!(dep["metadata"]["name"], "hal9-server");
        assert!(dep["metadata"].get("managedFields").is_none());
        let pods: serde_json::Value = serde_json::from_slice(&fs::read(root.join("cluster/pods.json")).unwrap()).unwrap();
        assert!(!pods.as_array().unwrap().is_empty());
        let hpa: serde_json::Value = serde_json::from_slice(&fs::read(root.join("cluster/hpa.json")).unwrap()).unwrap();
        assert_eq!(hpa["spec"]["maxReplicas"], 4);

        let mut needles = kubeconfig_credentials(&kc);
        needles.push(env_token.to_string());
        needles.push(secret_value.to_string());
        for f in files_under(&root) {
            let bytes = fs::read(&f).unwrap();
            for n in &needles {
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                    "a credential ({}…) is in {}",
                    &n[..6],
                    f.display()
                );
            }
        }
    });
}

#[test]
fn audit_with_cluster_shows_the_journal_another_operator_left_in_the_configmap() {
    let Some(kc) = kubeconfig() else { return };
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-audit").await;
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let journal = json!({
            "id": "r1", "strategy": "gradual", "target": format!("configmap {}/hal9-migration", c.ns),
            "started_at": now, "started_by": "ana@laptop-7", "status": "completed", "direction": "back",
            "steps": [{"index": 0, "status": "applied", "applied_at": now,
                "target": {"phase": "flat", "hierarchical_percent": 0.0, "flags": {}, "state_schema": 1}}]
        });
        Api::<ConfigMap>::namespaced(c.client.clone(), &c.ns)
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "hal9-migration",
                    "annotations": {"hal9.io/rollback-journal": journal.to_string()}}}))
                .unwrap(),
            )
            .await
            .unwrap();
        let st = tempdir();
        hal9ctl::system::audit::AuditLog::new(st.path())
            .record(&hal9ctl::system::audit::Entry::new("scale", "deployment x", "ok"))
            .unwrap();
        let o = run(c.hal9ctl(st.path()).args(["audit", "--cluster", "-n", &c.ns, "--since", "1h", "-o", "json"]));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&o);
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "the local entry, the start and one step: {v}");
        let remote: Vec<_> = entries.iter().filter(|e| e["host"].as_str().unwrap().contains("laptop-7")).collect();
        assert_eq!(remote.len(), 2, "{v}");
        assert!(remote.iter().any(|e| e["action"] == "rollback-step"));
        assert_eq!(v["cluster_journal"], format!("configmap {}/hal9-migration", c.ns));

        // The export carries the cluster entries too.
        let o = run(c.hal9ctl(st.path()).args(["audit", "--cluster", "-n", &c.ns, "--export", "csv"]));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("rollback-start"), "{}", stdout(&o));
    });
}
