//! Connecting to the Kubernetes API the way kubectl does, with bounded
//! timeouts, and turning API errors into messages an operator can act on.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::config::ClusterConfig;
use crate::exit::{Exit, Failure};

/// How long any single API call may take; an unreachable API server must be
/// reported within 10 s (exit 3), not hang.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);

/// A connected client and where it points.
#[derive(Clone)]
pub struct Kube {
    pub client: Client,
    pub namespace: String,
    pub server: String,
}

/// Which cluster, namespace and Deployment a command acts on.
#[derive(Debug, Clone)]
pub struct Target {
    pub context: Option<String>,
    pub namespace: String,
    pub deployment: String,
}

impl Target {
    /// The shipped defaults (namespace hal9, Deployment hal9-server), for
    /// the unit tests of plans that take a target.
    #[cfg(test)]
    pub fn shipped() -> Target {
        Target {
            context: None,
            namespace: "hal9".into(),
            deployment: "hal9-server".into(),
        }
    }

    /// The target the operator named, with `[cluster]` filling in what they did not.
    pub fn resolve(
        context: Option<String>,
        namespace: Option<String>,
        deployment: Option<String>,
        cfg: &ClusterConfig,
    ) -> Target {
        Target {
            context,
            namespace: namespace.unwrap_or_else(|| cfg.namespace.clone()),
            deployment: deployment.unwrap_or_else(|| cfg.deployment.clone()),
        }
    }

    /// ` --context NAME` when a context was named, for the commands a report
    /// hands back: they must act on the same cluster as this run.
    pub fn context_flag(&self) -> String {
        self.context
            .as_ref()
            .map(|c| format!(" --context {c}"))
            .unwrap_or_default()
    }

    /// The hal9ctl flags that name this target: `--cluster -n NS --deployment NAME [--context C]`.
    pub fn flags(&self) -> String {
        format!(
            "--cluster -n {} --deployment {}{}",
            self.namespace,
            self.deployment,
            self.context_flag()
        )
    }
}

/// Build a client: kubeconfig (KUBECONFIG, ~/.kube/config) with an optional
/// context, else in-cluster config — the order kubectl uses.
pub async fn connect(target: &Target) -> Result<Kube, Failure> {
    install_crypto_provider();
    let mut config = match &target.context {
        Some(ctx) => {
            let kc = Kubeconfig::read().map_err(|e| {
                Failure::unknown(format!("cannot read kubeconfig: {e}"))
                    .with_next("export KUBECONFIG=/path/to/kubeconfig")
            })?;
            let opts = KubeConfigOptions {
                context: Some(ctx.clone()),
                ..Default::default()
            };
            Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| {
                    Failure::unknown(format!("kubeconfig context {ctx:?}: {e}"))
                        .with_next("kubectl config get-contexts")
                })?
        }
        None => Config::infer().await.map_err(|e| {
            Failure::unknown(format!(
                "no Kubernetes config found (KUBECONFIG, ~/.kube/config, in-cluster): {e}"
            ))
            .with_next("export KUBECONFIG=/path/to/kubeconfig, or pass --context NAME")
        })?,
    };
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(CALL_TIMEOUT);
    config.write_timeout = Some(CALL_TIMEOUT);
    let server = config.cluster_url.to_string();
    if config.accept_invalid_certs {
        warn_unverified_once(&server);
    }
    let client = Client::try_from(config)
        .map_err(|e| Failure::unknown(format!("cannot build a client for {server}: {e}")))?;
    Ok(Kube {
        client,
        namespace: target.namespace.clone(),
        server,
    })
}

/// kube itself warns on every TLS handshake when verification is off (the
/// CLI filters that); say it once per process, with where it comes from.
fn warn_unverified_once(server: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            "the API server certificate of {server} is not verified (insecure-skip-tls-verify in the kubeconfig)"
        );
    });
}

/// kube and reqwest share rustls with the ring provider; install it once so
/// rustls never has to guess (and panic) at run time.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What a call was trying to do, for error messages: "cannot patch
/// horizontalpodautoscalers in namespace hal9".
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    pub verb: &'a str,
    pub resource: &'a str,
    pub name: Option<&'a str>,
}

impl<'a> Op<'a> {
    pub fn new(verb: &'a str, resource: &'a str) -> Op<'a> {
        Op {
            verb,
            resource,
            name: None,
        }
    }

    pub fn named(verb: &'a str, resource: &'a str, name: &'a str) -> Op<'a> {
        Op {
            verb,
            resource,
            name: Some(name),
        }
    }
}

/// Is this error a 409 Conflict (a stale resourceVersion)?
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// Is this error a 404 Not Found?
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Map an API error to a Failure with the right exit code and next step.
pub fn api_error(kube: &Kube, op: Op<'_>, e: kube::Error) -> Failure {
    let ns = &kube.namespace;
    let what = match op.name {
        Some(n) => format!("{} {n}", op.resource),
        None => op.resource.to_string(),
    };
    match &e {
        kube::Error::Api(s) => match s.code {
            401 => Failure::unknown(format!(
                "the API server {} rejected our credentials (401 Unauthorized) while trying to {} {what}",
                kube.server, op.verb
            ))
            .with_next("kubectl config view --minify   # check the user and token of the current context"),
            403 => Failure::unknown(format!(
                "forbidden: cannot {} {} in namespace {ns} ({})",
                op.verb, op.resource, s.message
            ))
            .with_next(format!("kubectl auth can-i {} {} -n {ns}   # ask an admin for this verb", op.verb, op.resource)),
            404 => Failure::critical(format!("{what} not found in namespace {ns}: {}", s.message))
                .with_next(format!("kubectl get {} -n {ns}", op.resource)),
            409 => Failure::critical(format!(
                "conflict: {what} in namespace {ns} changed while we were writing it ({})",
                s.message
            ))
            .with_next("run the command again; it re-reads the current state"),
            _ => Failure::critical(format!("cannot {} {what} in namespace {ns}: {} ({})", op.verb, s.message, s.code)),
        },
        other => Failure::new(
            Exit::Unknown,
            format!("cannot reach the Kubernetes API at {} to {} {what}: {}", kube.server, op.verb, chain(other)),
        )
        .with_next("kubectl cluster-info   # is the API server up and is this the right context?"),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

#[cfg(test)]
mod target_tests {
    use super::*;

    #[test]
    fn flags_fill_in_from_config_and_a_named_context_is_carried_into_next_commands() {
        let cfg = ClusterConfig::default();
        let t = Target::resolve(None, Some("prod".into()), None, &cfg);
        assert_eq!(t.namespace, "prod");
        assert_eq!(t.deployment, cfg.deployment);
        assert_eq!(t.flags(), "--cluster -n prod --deployment hal9-server");
        let t = Target::resolve(Some("east".into()), None, Some("web".into()), &cfg);
        assert_eq!(t.namespace, cfg.namespace);
        assert_eq!(t.context_flag(), " --context east");
        assert_eq!(
            t.flags(),
            "--cluster -n hal9 --deployment web --context east"
        );
    }
}
