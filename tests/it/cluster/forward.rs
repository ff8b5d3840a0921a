//! The cluster forward migration: a Deployment whose pods follow the
//! hal9-migration ConfigMap walks flat → full with `migrate --cluster` and
//! back to flat with `rollback --cluster`, each step gated and journaled on
//! the ConfigMap, under the migration Lease.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use super::harness::{TestCluster, kubeconfig, rt};
use super::{migration_cm, ready};
use crate::common::*;
use hal9ctl::runtime::migration::{MigrationDoc, Phase};

fn doc(cm: &ConfigMap) -> serde_json::Value {
    serde_json::from_str(&cm.data.as_ref().unwrap()["migration.json"]).unwrap()
}

fn journal(cm: &ConfigMap) -> serde_json::Value {
    serde_json::from_str(&cm.metadata.annotations.as_ref().unwrap()["hal9.io/rollback-journal"])
        .unwrap()
}

fn phases(j: &serde_json::Value) -> Vec<String> {
    j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"]["phase"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_cluster_walks_forward_flat_to_full_and_back_to_flat_gated_and_journaled() {
    let kc = kubeconfig().unwrap();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-forward").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let flat = serde_json::to_value(MigrationDoc::at_phase(Phase::Flat, 1)).unwrap();
        cms.create(&Default::default(), &migration_cm(&flat))
            .await
            .unwrap();
        let cfg_dir = tempdir();
        let cfg = super::lease::short_lease_config(cfg_dir.path());
        let st = tempdir();
        let hal9 = |args: &[&str]| {
            let mut cmd = c.hal9ctl(st.path());
            cmd.args(["-c", cfg.to_str().unwrap()])
                .args(args)
                .args(["--cluster", "-n", &c.ns, "--yes", "-o", "json"])
                .stdin(std::process::Stdio::null());
            run(&mut cmd)
        };

        let o = hal9(&["migrate", "--to-phase", "full", "--interval", "300ms"]);
        let v = json(&o);
        // Stand-in pods run no runtime the pod proxy can reach: the final
        // verification cannot confirm the write on any pod, and says so.
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        assert!(
            v["summary"].as_str().unwrap().contains("pods confirmed"),
            "{v}"
        );
        let cm = cms.get("hal9-migration").await.unwrap();
        let now = doc(&cm);
        assert_eq!(now["phase"], "full", "{now}");
        assert_eq!(now["hierarchical_percent"], 100.0, "{now}");
        assert_eq!(
            now["snapshots"],
            serde_json::json!(["state_migration"]),
            "{now}"
        );
        let j = journal(&cm);
        assert_eq!(j["direction"], "forward", "{j}");
        assert_eq!(
            phases(&j),
            ["shadow", "canary", "state_migration", "ramp_up", "full"]
        );
        let steps = j["steps"].as_array().unwrap();
        assert!(steps.iter().all(|s| s["status"] == "applied"), "{j}");
        // Every step but the last was judged by the cluster gates.
        for s in &steps[..steps.len() - 1] {
            assert_eq!(s["gate"]["passed"], true, "{s}");
            let detail = s["gate"]["detail"].to_string();
            assert!(detail.contains("all gates passed"), "{s}");
        }
        assert!(
            v["summary"]
                .as_str()
                .unwrap()
                .contains("took a snapshot of the flat state"),
            "the snapshot is said when entering state_migration: {v}"
        );
        // `migrate status` from another machine shows the ConfigMap's journal.
        let elsewhere = tempdir();
        let s = run(c.hal9ctl(elsewhere.path()).args([
            "migrate",
            "status",
            "--cluster",
            "-n",
            &c.ns,
            "-o",
            "json",
        ]));
        assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
        assert_eq!(json(&s)["journal"]["id"], j["id"]);

        let o = hal9(&[
            "rollback",
            "--strategy",
            "gradual",
            "--to-phase",
            "flat",
            "--steps",
            "3",
            "--interval",
            "300ms",
        ]);
        let v = json(&o);
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let cm = cms.get("hal9-migration").await.unwrap();
        let now = doc(&cm);
        assert_eq!(now["phase"], "flat", "{now}");
        assert_eq!(now["hierarchical_percent"], 0.0, "{now}");
        let j = journal(&cm);
        assert_eq!(j["direction"], "back", "{j}");
        assert_eq!(j["id"], v["journal"]["id"]);
        let steps = j["steps"].as_array().unwrap();
        assert!(steps.iter().all(|s| s["status"] == "applied"), "{j}");
        assert!(
            steps[..steps.len() - 1]
                .iter()
                .all(|s| s["gate"]["passed"] == true),
            "{j}"
        );
        // Both runs released the Lease.
        let l =
            Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(c.client.clone(), &c.ns)
                .get("hal9-migration-lock")
                .await
                .unwrap();
        assert_eq!(l.spec.unwrap().holder_identity, None);
        let (entries, _) = hal9ctl::system::audit::AuditLog::new(st.path())
            .read()
            .unwrap();
        assert!(
            entries
                .iter()
                .filter(|e| e.action == "rollback-step")
                .count()
                >= 8,
            "{entries:?}"
        );
    });
}
