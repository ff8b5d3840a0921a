//! Waiting on an applied change: a stuck rollout ends early with its
//! reason, and an API server that stops answering never turns an applied
//! action into a failed one.
//!
//! Stand-in on purpose: the crash loop is the stand-in's patched
//! CrashLoopBackOff status (the state a real node reports the same way).

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::harness::{Kubelet, TestCluster, exclusive, kubeconfig, rt};
use super::{ready, replicas};
use crate::common::*;

#[test]
fn a_crash_looping_restart_fails_within_30s_with_the_reason_not_at_the_wait() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-crashrestart").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        c.set_kubelet(Kubelet::CrashLoop);
        let st = tempdir();
        let t0 = Instant::now();
        let o = run(c.hal9ctl(st.path()).args([
            "restart",
            "--cluster",
            "-n",
            &c.ns,
            "--yes",
            "--wait",
            "5m",
        ]));
        let took = t0.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}\n{err}", stdout(&o));
        assert!(took < Duration::from_secs(30), "verdict after {took:?}");
        assert!(err.contains("CrashLoopBackOff"), "{err}");
        assert!(err.contains("last exit code 1"), "{err}");
        assert!(
            err.contains("new pod"),
            "the new ReplicaSet's pods are blamed: {err}"
        );
    });
}

/// The API server's pid, from the plane's dir (the kubeconfig's parent).
fn api_server_pid() -> Option<i32> {
    let kc = kubeconfig()?;
    let pid = std::fs::read_to_string(kc.parent()?.join("kube-apiserver.pid")).ok()?;
    pid.trim().parse().ok()
}

struct Frozen(nix::unistd::Pid);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGCONT);
    }
}

#[test]
fn a_frozen_api_server_during_the_wait_leaves_the_scale_applied_with_its_undo() {
    let kc = cluster_or_skip!();
    let Some(pid) = api_server_pid() else {
        eprintln!("no kube-apiserver.pid next to the kubeconfig; skipped");
        return;
    };
    rt().block_on(async {
        // Two namespaces: each scale holds its namespace's Lease
        // hal9-migration-lock, so two in one namespace would refuse each other.
        let c = TestCluster::new(kc.clone(), "hal9-frozen").await;
        let c2 = TestCluster::new(kc, "hal9-frozen-long").await;
        c.deployment("short", 1).await;
        c2.deployment("long", 1).await;
        for (c, d) in [(&c, "short"), (&c2, "long")] {
            c.wait_deployment(d, Duration::from_secs(60), "1 ready", |d| ready(d) == 1)
                .await;
        }
        // The other tests of this process wait from here on: their own API
        // calls would meet the freeze too.
        let _alone = exclusive(2);
        // Nothing becomes ready, so both wait for as long as they may.
        c.set_kubelet(Kubelet::Idle);
        c2.set_kubelet(Kubelet::Idle);
        let st = tempdir();
        let spawn = |c: &TestCluster, name: &str, wait: &str| {
            c.hal9ctl(st.path())
                .args([
                    "scale",
                    "--emergency",
                    "--replicas",
                    "2",
                    "--cluster",
                    "-n",
                    &c.ns,
                    "--deployment",
                    name,
                    "--wait",
                    wait,
                    "-o",
                    "json",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let short = spawn(&c, "short", "12s");
        let long = spawn(&c2, "long", "120s");
        for (c, d) in [(&c, "short"), (&c2, "long")] {
            c.wait_deployment(d, Duration::from_secs(30), "the scale written", |d| {
                replicas(d) == 2
            })
            .await;
        }
        let frozen = Frozen(nix::unistd::Pid::from_raw(pid));
        nix::sys::signal::kill(frozen.0, nix::sys::signal::Signal::SIGSTOP).unwrap();
        tokio::time::sleep(Duration::from_secs(20)).await;
        drop(frozen);
        c.set_kubelet(Kubelet::Ready);
        c2.set_kubelet(Kubelet::Ready);

        let o = short.wait_with_output().unwrap();
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(
            o.status.code(),
            Some(1),
            "applied, not confirmed: {out}\n{err}"
        );
        assert!(
            !err.contains("cannot reach"),
            "not reported as a failure: {err}"
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            v["undo"]
                .as_str()
                .unwrap_or_default()
                .starts_with("hal9ctl scale --restore --cluster"),
            "the undo is named: {out}"
        );
        assert!(out.contains("not confirmed"), "{out}");
        assert!(
            out.contains("replicas"),
            "what was applied is listed: {out}"
        );

        let o = long.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "the wait outlived the freeze and confirmed the scale: {}\n{}",
            stdout(&o),
            stderr(&o)
        );
    });
}
