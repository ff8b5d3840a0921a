//! `kubectl hal9`: hal9ctl linked as kubectl-hal9, run by the real kubectl.

use std::time::Duration;

use super::harness::{TestCluster, kubeconfig, rt};
use super::ready;
use crate::common::*;

/// kubectl on PATH, with a dir holding kubectl-hal9 → the binary under test.
fn kubectl(
    c: &TestCluster,
    plugins: &std::path::Path,
    state: &std::path::Path,
) -> std::process::Command {
    let link = plugins.join("kubectl-hal9");
    if !link.exists() {
        std::os::unix::fs::symlink(BIN, &link).unwrap();
    }
    let path = format!(
        "{}:{}",
        plugins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut k = std::process::Command::new("kubectl");
    k.env_clear()
        .env("PATH", path)
        .env("HOME", state)
        .env("HAL9_STATE_DIR", state)
        .env("XDG_CONFIG_HOME", state.join("xdg-config"))
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", &c.kubeconfig)
        .current_dir(state);
    k
}

#[test]
fn kubectl_hal9_health_is_health_cluster_with_kubectls_context_and_namespace() {
    let kc = cluster_or_skip!();
    rt().block_on(async {
        let c = TestCluster::new(kc, "hal9-kplugin").await;
        c.deployment("hal9-server", 2).await;
        c.wait_deployment("hal9-server", Duration::from_secs(60), "2 ready", |d| {
            ready(d) == 2
        })
        .await;
        let st = tempdir();
        let plugins = tempdir();
        let ctx = stdout(&run(
            kubectl(&c, plugins.path(), st.path()).args(["config", "current-context"])
        ))
        .trim()
        .to_string();
        assert!(!ctx.is_empty());
        let o = run(kubectl(&c, plugins.path(), st.path()).args([
            "hal9",
            "health",
            "--context",
            &ctx,
            "-n",
            &c.ns,
            "-o",
            "json",
        ]));
        // The stand-in's pods run no runtime to look inside: unknown (3), not OK.
        assert_eq!(o.status.code(), Some(3), "{}\n{}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["facts"]["ready"], 2, "{v}");
        assert_eq!(v["root_cause"], "pods inside", "{v}");

        // The flags are honoured, not ignored: another context or namespace fails.
        let o = run(kubectl(&c, plugins.path(), st.path()).args([
            "hal9",
            "health",
            "--context",
            "no-such-context",
            "-n",
            &c.ns,
        ]));
        assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
        assert!(stderr(&o).contains("no-such-context"), "{}", stderr(&o));
        let o = run(kubectl(&c, plugins.path(), st.path()).args([
            "hal9",
            "health",
            "-n",
            &format!("{}-absent", c.ns),
            "-o",
            "json",
        ]));
        assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
    });
}
