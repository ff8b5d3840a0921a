//! `kubectl rollout undo`, the same way: put the previous ReplicaSet's pod
//! template back on the Deployment, then watch the rollout finish.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::PostParams;

use super::client::{Kube, Op, api_error};
use super::facts;
use super::rollout::Rollout;
use crate::exit::Failure;

use super::facts::REVISION;

fn revision(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
    meta.annotations.as_ref()?.get(REVISION)?.parse().ok()
}

/// Roll `name` back to its previous revision and wait up to `wait` for the
/// rollout. Returns "revision A → B", or "nothing changed: …" when the
/// write left the spec as it was.
pub async fn undo(kube: &Kube, name: &str, wait: Duration) -> Result<String, Failure> {
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let mut d = facts::deployment(kube, name).await?;
    let current = revision(&d.metadata).unwrap_or(0);
    let previous = facts::replica_sets(kube, &d)
        .await?
        .into_iter()
        .filter_map(|rs| {
            revision(&rs.metadata)
                .filter(|r| *r < current)
                .map(|r| (r, rs))
        })
        .max_by_key(|(r, _)| *r);
    let Some((prev, rs)) = previous else {
        return Err(Failure::critical(format!(
            "deployment {name} has no revision before {current} to roll back to"
        ))
        .with_next(format!(
            "kubectl rollout history deployment/{name} -n {}",
            kube.namespace
        )));
    };
    let Some(mut template) = rs.spec.and_then(|s| s.template) else {
        return Err(Failure::critical(format!(
            "the ReplicaSet of revision {prev} has no pod template"
        )));
    };
    // The ReplicaSet's own hash label is not part of the Deployment's template.
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove("pod-template-hash");
    }
    let Some(spec) = d.spec.as_mut() else {
        return Err(Failure::critical(format!("deployment {name} has no spec")));
    };
    spec.template = template;
    // A replace carries the resourceVersion we read: a concurrent change is a 409, not lost.
    let written = api
        .replace(name, &PostParams::default(), &d)
        .await
        .map_err(|e| api_error(kube, Op::named("update", "deployments", name), e))?;
    if !super::rollout::spec_changed(&d, &written) {
        return Ok(format!(
            "nothing changed: revision {prev} has the pod template deployment {name} already runs"
        ));
    }
    let generation = written.metadata.generation.unwrap_or(0);
    let (state, _) = super::rollout::watch(kube, name, generation, wait, |_| {}).await?;
    match state {
        Rollout::Complete => {
            let now = api
                .get(name)
                .await
                .map_err(|e| api_error(kube, Op::named("get", "deployments", name), e))?;
            Ok(format!(
                "revision {current} → {prev} (now revision {})",
                revision(&now.metadata).unwrap_or(0)
            ))
        }
        Rollout::Failed(m) => Err(Failure::critical(format!(
            "rolling {name} back to revision {prev} failed: {m}"
        ))),
        Rollout::Progressing(m) => Err(Failure::critical(format!(
            "rolling {name} back to revision {prev} did not finish within {}: {m}",
            humantime::format_duration(wait)
        ))
        .with_next(format!(
            "hal9ctl health --cluster -n {} --deployment {name}",
            kube.namespace
        ))),
    }
}
