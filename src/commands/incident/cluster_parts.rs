//! The cluster parts of a bundle, scoped to the hal9 Deployment the way
//! `kubectl cluster-info dump` is scoped to a namespace: the Deployment,
//! its ReplicaSets, pods and HPA, the events about them, the ConfigMap
//! hal9-migration, and the pods' logs for the window. Secrets are never read;
//! env values whose names look like credentials are blanked.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kube::Api;
use kube::api::{ListParams, LogParams};
use serde_json::Value;

use super::archive::Gathered;
use crate::cluster::{Target, connect, facts};

/// At most this many pods' logs: a Deployment scaled to 300 must not make a
/// bundle nobody can open.
const MAX_POD_LOGS: usize = 20;
const LIST_CAP: usize = 16 * 1024 * 1024;

/// Env names whose values are credentials.
pub fn secretish(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSW",
        "CREDENTIAL",
        "PRIVATE",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "AUTH",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Drop managedFields (noise, and large) and blank credential-like env
/// values and the last-applied annotation (it repeats the env).
pub fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(meta)) = m.get_mut("metadata") {
                meta.remove("managedFields");
                if let Some(Value::Object(a)) = meta.get_mut("annotations") {
                    a.remove("kubectl.kubernetes.io/last-applied-configuration");
                }
            }
            if let Some(Value::Array(env)) = m.get_mut("env") {
                for e in env.iter_mut() {
                    let hide = e.get("name").and_then(Value::as_str).is_some_and(secretish);
                    if hide && let Some(val) = e.get_mut("value") {
                        *val = Value::String("[redacted by hal9ctl]".into());
                    }
                }
            }
            for (_, child) in m.iter_mut() {
                scrub(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

fn part<T: serde::Serialize>(obj: &T) -> Gathered {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    scrub(&mut v);
    let g = Gathered::json(&v);
    Gathered::capped(g.data, LIST_CAP)
}

/// The kubeconfig's credentials, so the archive gate can keep them out even
/// if something echoed one.
pub fn kubeconfig_secrets() -> Vec<String> {
    use secrecy::ExposeSecret;
    let Ok(kc) = kube::config::Kubeconfig::read() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in kc.auth_infos {
        let Some(auth) = a.auth_info else { continue };
        for s in [&auth.token, &auth.password, &auth.client_key_data]
            .into_iter()
            .flatten()
        {
            out.push(s.expose_secret().to_string());
        }
        if let Some(p) = &auth.client_key
            && let Ok(text) = std::fs::read_to_string(p)
        {
            out.extend(
                text.lines()
                    .filter(|l| !l.starts_with("-----"))
                    .map(str::to_string),
            );
        }
    }
    out
}

type Part = (String, &'static str, Result<Gathered, String>);

/// Every cluster part, in order; a part that could not be read carries why.
pub async fn gather(
    t: &Target,
    since: Duration,
    log_cap: u64,
    progress: &indicatif::ProgressBar,
) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    let err = |f: crate::exit::Failure| {
        let mut s = f.message.clone();
        if let Some(n) = &f.next {
            s.push_str(&format!("\nnext: {n}"));
        }
        s
    };
    progress.set_message("cluster: connecting");
    let kube = match connect(t).await {
        Ok(k) => k,
        Err(e) => {
            out.push(("cluster/api".into(), "json", Err(err(e))));
            return out;
        }
    };
    progress.set_message("cluster: deployment");
    let d = match facts::deployment(&kube, &t.deployment).await {
        Ok(d) => d,
        Err(e) => {
            out.push(("cluster/deployment".into(), "json", Err(err(e))));
            out.push(configmap(&kube).await);
            return out;
        }
    };
    out.push(("cluster/deployment".into(), "json", Ok(part(&d))));
    let mut names: Vec<String> = vec![t.deployment.clone(), crate::cluster::migration::NAME.into()];
    progress.set_message("cluster: replicasets");
    match facts::replica_sets(&kube, &d).await {
        Ok(rss) => {
            names.extend(rss.iter().filter_map(|r| r.metadata.name.clone()));
            out.push(("cluster/replicasets".into(), "json", Ok(part(&rss))));
        }
        Err(e) => out.push(("cluster/replicasets".into(), "json", Err(err(e)))),
    }
    progress.set_message("cluster: pods");
    let pods = match facts::pods(&kube, &d).await {
        Ok(p) => {
            names.extend(p.iter().filter_map(|p| p.metadata.name.clone()));
            out.push(("cluster/pods".into(), "json", Ok(part(&p))));
            p
        }
        Err(e) => {
            out.push(("cluster/pods".into(), "json", Err(err(e))));
            Vec::new()
        }
    };
    progress.set_message("cluster: hpa");
    match facts::hpa_for(&kube, &t.deployment).await {
        Ok(h) => {
            names.extend(h.as_ref().and_then(|h| h.metadata.name.clone()));
            out.push(("cluster/hpa".into(), "json", Ok(part(&h))));
        }
        Err(e) => out.push(("cluster/hpa".into(), "json", Err(err(e)))),
    }
    progress.set_message("cluster: events");
    out.push((
        "cluster/events".into(),
        "json",
        events(&kube, &names, since).await,
    ));
    out.push(configmap(&kube).await);
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    for p in pods.iter().take(MAX_POD_LOGS) {
        let Some(pod) = p.metadata.name.as_deref() else {
            continue;
        };
        let containers = p
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default();
        for c in containers {
            progress.set_message(format!("cluster: log of {pod}/{}", c.name));
            let lp = LogParams {
                container: Some(c.name.clone()),
                since_seconds: Some(since.as_secs().max(1) as i64),
                limit_bytes: Some(log_cap as i64),
                timestamps: true,
                ..LogParams::default()
            };
            let r = match tokio::time::timeout(
                crate::cluster::client::CALL_TIMEOUT,
                api.logs(pod, &lp),
            )
            .await
            {
                Ok(Ok(text)) => Ok(Gathered {
                    truncated: text.len() as u64 >= log_cap,
                    data: text.into_bytes(),
                }),
                Ok(Err(e)) => Err(format!("logs of pod {pod} container {}: {e}", c.name)),
                Err(_) => Err(format!(
                    "logs of pod {pod} container {}: no answer within {:?}",
                    c.name,
                    crate::cluster::client::CALL_TIMEOUT
                )),
            };
            out.push((format!("cluster/logs/{pod}_{}", c.name), "log", r));
        }
    }
    if pods.len() > MAX_POD_LOGS {
        out.push((
            "cluster/logs/omitted".into(),
            "txt",
            Ok(Gathered::whole(
                format!(
                    "{} more pods' logs were left out (the bundle keeps {MAX_POD_LOGS}); kubectl logs -n {} POD\n",
                    pods.len() - MAX_POD_LOGS,
                    kube.namespace
                )
                .into_bytes(),
            )),
        ));
    }
    out
}

async fn configmap(kube: &crate::cluster::Kube) -> Part {
    let api: Api<ConfigMap> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let name = crate::cluster::migration::NAME;
    let r = match api.get_opt(name).await {
        Ok(Some(cm)) => Ok(part(&cm)),
        Ok(None) => Err(format!(
            "configmap {}/{name} does not exist (no migration state in the cluster)",
            kube.namespace
        )),
        Err(e) => Err(format!("get configmap {}/{name}: {e}", kube.namespace)),
    };
    (format!("cluster/configmap-{name}"), "json", r)
}

/// The namespace's events about the objects named, in the window.
async fn events(
    kube: &crate::cluster::Kube,
    names: &[String],
    since: Duration,
) -> Result<Gathered, String> {
    let api: Api<Event> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("list events in namespace {}: {e}", kube.namespace))?;
    let cutoff = std::time::SystemTime::now().checked_sub(since);
    let keep: Vec<&Event> = list
        .items
        .iter()
        .filter(|e| {
            e.involved_object
                .name
                .as_ref()
                .is_some_and(|n| names.contains(n))
        })
        .filter(|e| {
            let when = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
                .or_else(|| {
                    e.metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|t| t.0.to_string())
                });
            match (
                cutoff,
                when.and_then(|w| humantime::parse_rfc3339_weak(&w).ok()),
            ) {
                (Some(c), Some(w)) => w >= c,
                // Without a time it is kept: a gap is worse than an extra line.
                _ => true,
            }
        })
        .collect();
    Ok(part(&keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_env_values_and_managed_fields_go() {
        let mut v = serde_json::json!({
            "metadata": {"name": "p", "managedFields": [{"x": 1}]},
            "spec": {"containers": [{"name": "c", "env": [
                {"name": "HAL9_ADMIN_TOKEN", "value": "abc123abc123"},
                {"name": "DB_PASSWORD", "value": "pw"},
                {"name": "RUST_LOG", "value": "info"},
                {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
            ]}]}
        });
        scrub(&mut v);
        let text = v.to_string();
        assert!(!text.contains("abc123abc123"), "{text}");
        assert!(!text.contains("\"pw\""), "{text}");
        assert!(text.contains("\"info\""), "{text}");
        assert!(!text.contains("managedFields"), "{text}");
        assert!(
            text.contains("secretKeyRef"),
            "a reference is no secret: {text}"
        );
    }
}
