//! The Lease hal9-migration-lock across "machines": two hal9ctl processes
//! with their own state dirs and their own kubeconfig users (the admin, and
//! hal9-limited bound to the shipped operator Role) against the test API
//! server. A short [lease] keeps the expiry waits to seconds.

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use super::harness::{TestCluster, kubeconfig, rt};
use super::{full_doc, migration_cm, ready, replicas};
use crate::common::*;

/// Expires 3 s after the last renewal, renewed every second.
pub(super) fn short_lease_config(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("lease.toml");
    std::fs::write(&p, "[lease]\nduration = \"3s\"\nrenew_every = \"1s\"\n").unwrap();
    p
}

/// hal9-limited gets the namespaced half of the shipped operator Role.
fn bind_operator_role(c: &TestCluster) {
    let mut child = std::process::Command::new("kubectl")
        .args([
            "--kubeconfig",
            c.kubeconfig.to_str().unwrap(),
            "apply",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(super::rbac::operator_role_for(&c.ns).as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

async fn lease(c: &TestCluster) -> Option<Lease> {
    Api::<Lease>::namespaced(c.client.clone(), &c.ns)
        .get_opt("hal9-migration-lock")
        .await
        .unwrap()
}

fn holder(l: &Option<Lease>) -> Option<String> {
    l.as_ref()?.spec.as_ref()?.holder_identity.clone()
}

fn journal_on(cm: &ConfigMap) -> Option<serde_json::Value> {
    let text = cm
        .metadata
        .annotations
        .as_ref()?
        .get("hal9.io/rollback-journal")?;
    serde_json::from_str(text).ok()
}

/// Operator A: a gradual rollback full → flat in 4 steps, 3 s apart, as the
/// admin; returned once step 1 is applied and checkpointed and A holds the Lease.
// The child is handed to the caller, which waits for it; clippy cannot see past the return.
#[allow(clippy::zombie_processes)]
async fn start_first_operator(
    c: &TestCluster,
    st: &std::path::Path,
    cfg: &std::path::Path,
) -> Child {
    let mut child = c
        .hal9ctl(st)
        .args(["-c", cfg.to_str().unwrap()])
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
            "-o",
            "json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
    let t0 = Instant::now();
    loop {
        let applied = cms
            .get("hal9-migration")
            .await
            .ok()
            .and_then(|cm| journal_on(&cm))
            .is_some_and(|j| j["steps"][0]["status"] == "applied");
        let held =
            holder(&lease(c).await).is_some_and(|h| h.contains(&format!(":{}:", child.id())));
        if applied && held {
            return child;
        }
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "operator A never held the lease and applied step 1: {}",
                stderr(&o)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn setup(prefix: &str) -> TestCluster {
    let kc = kubeconfig().unwrap();
    let c = TestCluster::new(kc, prefix).await;
    c.deployment("hal9-server", 1).await;
    c.wait_deployment("hal9-server", Duration::from_secs(60), "1 ready", |d| {
        ready(d) == 1
    })
    .await;
    Api::<ConfigMap>::namespaced(c.client.clone(), &c.ns)
        .create(&Default::default(), &migration_cm(&full_doc()))
        .await
        .unwrap();
    bind_operator_role(&c);
    c
}

#[test]
fn a_second_operator_is_refused_naming_the_first_then_takes_over_after_kill_9_and_resumes_its_journal()
 {
    rt().block_on(async {
        let c = setup("hal9-lease").await;
        let cfg_dir = tempdir();
        let cfg = short_lease_config(cfg_dir.path());
        let a_dir = tempdir();
        let mut a = start_first_operator(&c, a_dir.path(), &cfg).await;
        let b_dir = tempdir();
        let b = |args: &[&str]| {
            let mut cmd = c.hal9ctl(b_dir.path());
            cmd.args(["-c", cfg.to_str().unwrap()])
                .args(args)
                .args([
                    "--cluster",
                    "--context",
                    "hal9-limited",
                    "-n",
                    &c.ns,
                    "--yes",
                ])
                .stdin(Stdio::null());
            run(&mut cmd)
        };

        // Another command of the family, another machine: refused in one line.
        let o = b(&["migrate", "--to-phase", "full"]);
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("hal9-migration-lock"))
            .collect();
        assert_eq!(lines.len(), 1, "{err}");
        let line = lines[0];
        assert!(
            line.contains(&format!(
                "is held by {}@",
                hal9ctl::system::audit::current_user()
            )),
            "{line}"
        );
        assert!(
            line.contains(&format!("(pid {}: hal9ctl", a.id())),
            "{line}"
        );
        assert!(
            line.contains("rollback --cluster"),
            "A's command is named: {line}"
        );
        assert!(line.contains(" since 20"), "{line}");
        assert!(line.contains("expires at"), "{line}");
        assert!(line.contains("--steal-expired-lock"), "{line}");
        assert!(!err.contains("\nnext:"), "one line: {err}");
        assert!(
            !b_dir.path().join("rollback/journal.json").exists(),
            "B planned nothing"
        );

        // Status from B's machine: running elsewhere, under the Lease, not "resume it".
        let s = b(&["rollback", "status"]);
        let out = stdout(&s);
        assert!(
            out.contains("is running") && out.contains(&format!("(pid {}: hal9ctl", a.id())),
            "{out}"
        );
        assert!(!out.contains("--resume"), "{out}");

        // Even asked to steal, an unexpired Lease is not taken.
        let o = b(&["rollback", "--resume", "--steal-expired-lock"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("is held by"), "{}", stderr(&o));
        assert!(
            holder(&lease(&c).await)
                .unwrap()
                .contains(&format!(":{}:", a.id()))
        );

        let a_pid = a.id();
        a.kill().unwrap(); // SIGKILL: no release, no renewal
        a.wait().unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let left = journal_on(&cms.get("hal9-migration").await.unwrap()).unwrap();
        assert_ne!(left["status"], "completed", "{left}");

        // Without the flag B is told to use it once the Lease has expired.
        let t0 = Instant::now();
        let o = loop {
            let o = b(&["rollback", "--resume"]);
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            if stderr(&o).contains("expired at") {
                break o;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "the lease never expired: {}",
                stderr(&o)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let err = stderr(&o);
        assert!(err.contains(&format!("(pid {a_pid}: hal9ctl")), "{err}");
        assert!(
            err.contains("taken over only on request: hal9ctl")
                && err.contains("--steal-expired-lock"),
            "{err}"
        );
        assert!(
            holder(&lease(&c).await)
                .unwrap()
                .contains(&format!(":{a_pid}:")),
            "not taken without the flag"
        );

        // With it, B takes over and resumes A's journal from the ConfigMap.
        let o = b(&["rollback", "--resume", "--steal-expired-lock", "-o", "json"]);
        let v = json(&o);
        // Stand-in pods run no runtime the pod proxy can reach: no pod confirms the write.
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        assert_eq!(v["journal"]["id"], left["id"], "{v}");
        assert_eq!(v["migration"]["phase"], "flat", "{v}");
        // Its first resumed step's gate found no pod that follows the
        // ConfigMap, and the default policy went straight to the target.
        assert_eq!(v["journal"]["status"], "aborted_to_target", "{v}");
        let steps = v["journal"]["steps"].as_array().unwrap();
        assert!(steps.iter().all(|s| s["status"] == "applied"), "{v}");
        assert_eq!(steps.len(), 3, "A's step, B's first, then the target: {v}");
        // Released at the end: free for the next operator, and counted as a new holder.
        let l = lease(&c).await.unwrap();
        let spec = l.spec.clone().unwrap();
        assert_eq!(spec.holder_identity, None, "{l:?}");
        assert!(spec.lease_transitions.unwrap_or(0) >= 1, "{l:?}");
        assert!(
            l.metadata
                .annotations
                .unwrap()
                .contains_key("hal9.io/lock-released")
        );
    });
}

#[test]
fn scale_emergency_and_restore_are_refused_while_a_rollback_holds_the_lease() {
    rt().block_on(async {
        let c = setup("hal9-lscale").await;
        let cfg_dir = tempdir();
        let cfg = short_lease_config(cfg_dir.path());
        let a_dir = tempdir();
        let mut a = start_first_operator(&c, a_dir.path(), &cfg).await;
        let b_dir = tempdir();
        for action in ["--emergency", "--restore"] {
            let o = run(c
                .hal9ctl(b_dir.path())
                .args([
                    "scale",
                    action,
                    "--cluster",
                    "--context",
                    "hal9-limited",
                    "-n",
                    &c.ns,
                    "--yes",
                    "--wait",
                    "1s",
                ])
                .stdin(Stdio::null()));
            assert_eq!(
                o.status.code(),
                Some(2),
                "{action}: {}\n{}",
                stdout(&o),
                stderr(&o)
            );
            let err = stderr(&o);
            assert!(
                err.contains(&format!("(pid {}: hal9ctl", a.id()))
                    && err.contains("rollback --cluster"),
                "{err}"
            );
        }
        let d = c.get_deployment("hal9-server").await;
        assert_eq!(replicas(&d), 1, "nothing was scaled");
        assert!(
            !d.metadata
                .annotations
                .unwrap_or_default()
                .contains_key("hal9.io/emergency-original")
        );
        a.kill().unwrap();
        a.wait().unwrap();
    });
}

#[test]
fn a_run_whose_lease_was_taken_stops_before_its_next_write_and_leaves_the_new_holder_alone() {
    rt().block_on(async {
        let c = setup("hal9-llost").await;
        let cfg_dir = tempdir();
        let cfg = short_lease_config(cfg_dir.path());
        let a_dir = tempdir();
        let a = start_first_operator(&c, a_dir.path(), &cfg).await;
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), &c.ns);
        let doc = |cm: &ConfigMap| -> serde_json::Value {
            serde_json::from_str(&cm.data.as_ref().unwrap()["migration.json"]).unwrap()
        };
        let after_step_1 = doc(&cms.get("hal9-migration").await.unwrap())["version"].clone();
        // Another holder (a partitioned A's Lease, taken over elsewhere).
        let leases: Api<Lease> = Api::namespaced(c.client.clone(), &c.ns);
        let mut l = leases.get("hal9-migration-lock").await.unwrap();
        let spec = l.spec.as_mut().unwrap();
        spec.holder_identity = Some("mallory@elsewhere:1:feed".into());
        spec.renew_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
            k8s_openapi::jiff::Timestamp::now(),
        ));
        spec.lease_duration_seconds = Some(60);
        leases
            .replace("hal9-migration-lock", &Default::default(), &l)
            .await
            .unwrap();

        let o = a.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("stopped before the next write"), "{err}");
        assert!(
            err.contains("held by mallory@elsewhere:1:feed now"),
            "{err}"
        );
        let now = doc(&cms.get("hal9-migration").await.unwrap());
        assert_eq!(
            now["version"], after_step_1,
            "no step after the loss: {now}"
        );
        let j: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(a_dir.path().join("rollback/journal.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(j["status"], "interrupted", "{j}");
        assert_eq!(
            holder(&lease(&c).await).as_deref(),
            Some("mallory@elsewhere:1:feed"),
            "the loser did not release the new holder's lease"
        );
    });
}

#[test]
fn ctrl_c_releases_the_lease() {
    rt().block_on(async {
        let c = setup("hal9-lint").await;
        let cfg_dir = tempdir();
        let cfg = short_lease_config(cfg_dir.path());
        let a_dir = tempdir();
        let a = start_first_operator(&c, a_dir.path(), &cfg).await;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(a.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let o = a.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{}\n{}", stdout(&o), stderr(&o));
        let l = lease(&c).await;
        assert_eq!(holder(&l), None, "released, not left to expire: {l:?}");
    });
}
