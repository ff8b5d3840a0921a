//! The cluster forward migration on stand-in pods, which follow no
//! ConfigMap: `migrate --cluster` stops after its first step, its gate
//! naming them, journaled on the ConfigMap, under the migration Lease; a
//! single step (no window to gate) still writes, snapshots, and is said
//! unconfirmed. A forward walk whose pods confirm every step is in
//! real_pods_steps.rs.

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
fn a_cluster_migration_stops_at_its_first_step_that_no_pod_confirms() {
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
        // The default --on-failure stop: exit 1, resumable, one step applied.
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        let summary = v["summary"].as_str().unwrap();
        assert!(
            summary.starts_with("stopped: gate failed after step 1"),
            "{v}"
        );
        assert!(
            summary.contains("pods confirmed: applied to the ConfigMap; 0 of 2 pods confirmed"),
            "{v}"
        );
        assert!(
            summary.contains("does not follow a ConfigMap at all"),
            "{v}"
        );
        assert!(summary.contains("hal9-server-"), "the pods are named: {v}");
        assert!(
            v["next"]
                .as_str()
                .unwrap()
                .contains("hal9ctl migrate --resume"),
            "{v}"
        );
        let cm = cms.get("hal9-migration").await.unwrap();
        let now = doc(&cm);
        assert_eq!(
            now["phase"], "shadow",
            "only the first step was written: {now}"
        );
        let j = journal(&cm);
        assert_eq!(j["direction"], "forward", "{j}");
        assert_eq!(j["status"], "interrupted", "{j}");
        assert_eq!(
            phases(&j),
            ["shadow", "canary", "state_migration", "ramp_up", "full"]
        );
        let steps = j["steps"].as_array().unwrap();
        assert_eq!(steps[0]["status"], "applied", "{j}");
        assert_eq!(steps[0]["gate"]["passed"], false, "{j}");
        assert_eq!(
            steps[0]["gate"]["pods"]["not_following"]
                .as_array()
                .unwrap()
                .len(),
            2,
            "{j}"
        );
        assert!(steps[1..].iter().all(|s| s["status"] == "pending"), "{j}");
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
        // Exit 1: no pod confirms the ConfigMap's state, and status says so
        // rather than vouch for it.
        assert_eq!(s.status.code(), Some(1), "{}", stderr(&s));
        assert_eq!(json(&s)["journal"]["id"], j["id"]);
        assert!(json(&s)["pods"].is_object(), "{}", stdout(&s));

        let o = hal9(&["migrate", "--abort"]);
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
        assert_eq!(
            journal(&cms.get("hal9-migration").await.unwrap())["status"],
            "abandoned"
        );

        // One step has no window to gate: it is written (with the snapshot
        // entering state_migration takes) and said unconfirmed at the end.
        let o = hal9(&["migrate", "--to-phase", "canary"]);
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let o = hal9(&["migrate", "--to-phase", "state_migration", "--steps", "1"]);
        let v = json(&o);
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let summary = v["summary"].as_str().unwrap();
        assert!(!summary.contains("verified ("), "{summary}");
        assert!(summary.contains("0 of 2 pods confirmed"), "{summary}");
        assert!(
            summary.contains("took a snapshot of the flat state"),
            "the snapshot is said when entering state_migration: {v}"
        );
        let now = doc(&cms.get("hal9-migration").await.unwrap());
        assert_eq!(now["phase"], "state_migration", "{now}");
        assert_eq!(
            now["snapshots"],
            serde_json::json!(["state_migration"]),
            "{now}"
        );

        let o = hal9(&["rollback", "--strategy", "immediate", "--to-phase", "flat"]);
        let v = json(&o);
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let cm = cms.get("hal9-migration").await.unwrap();
        let now = doc(&cm);
        assert_eq!(now["phase"], "flat", "{now}");
        assert_eq!(now["hierarchical_percent"], 0.0, "{now}");
        let j = journal(&cm);
        assert_eq!(j["direction"], "back", "{j}");
        assert_eq!(j["id"], v["journal"]["id"]);
        // Every run released the Lease.
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
                >= 5,
            "{entries:?}"
        );
    });
}
