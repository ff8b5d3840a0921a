//! Gathering what the cluster says about one Deployment: the Deployment, its
//! pods, the HPA that targets it, recent warning events, node capacity.

/// The annotation that records what an emergency scale changed, on both the
/// Deployment and the HPA, so `scale --restore` (from any machine) can undo it,
/// and health can say an emergency scale is in force.
pub const ORIGINAL_ANNOTATION: &str = "hal9.io/emergency-original";

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod};
use kube::Api;
use kube::api::ListParams;

use super::client::{Kube, Op, api_error, is_not_found};
use crate::exit::Failure;

/// The revision the Deployment controller stamps on a Deployment and its ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The label that ties a pod to the ReplicaSet (the template) it was made from.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Everything the cluster health check and the scale planner look at.
#[derive(Debug, Clone)]
pub struct DeploymentFacts {
    pub deployment: Deployment,
    pub pods: Vec<Pod>,
    pub hpa: Option<HorizontalPodAutoscaler>,
    pub events: Vec<Event>,
    /// `pod-template-hash` of the ReplicaSet of the Deployment's current
    /// revision: during a rollout only its pods serve the new template.
    pub current_hash: Option<String>,
}

/// The label selector of a Deployment as a list-call string (`app=hal9,tier=server`).
pub fn selector(d: &Deployment) -> Option<String> {
    let labels = d.spec.as_ref()?.selector.match_labels.as_ref()?;
    if labels.is_empty() {
        return None;
    }
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Read the Deployment; a missing one says whether the namespace is missing too.
pub async fn deployment(kube: &Kube, name: &str) -> Result<Deployment, Failure> {
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    match api.get(name).await {
        Ok(d) => Ok(d),
        Err(e) if is_not_found(&e) => {
            let ns_api: Api<Namespace> = Api::all(kube.client.clone());
            let ns = &kube.namespace;
            match ns_api.get_opt(ns).await {
                Ok(None) => Err(Failure::critical(format!("namespace {ns} does not exist"))
                    .with_next("kubectl get namespaces   # or pass -n NAMESPACE")),
                _ => Err(Failure::critical(format!(
                    "deployment {name} not found in namespace {ns}"
                ))
                .with_next(format!(
                    "kubectl get deployments -n {ns}   # or pass --deployment NAME"
                ))),
            }
        }
        Err(e) => Err(api_error(kube, Op::named("get", "deployments", name), e)),
    }
}

/// The HPA (autoscaling/v1, served everywhere) whose scale target is this Deployment.
pub async fn hpa_for(
    kube: &Kube,
    deployment: &str,
) -> Result<Option<HorizontalPodAutoscaler>, Failure> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error(kube, Op::new("list", "horizontalpodautoscalers"), e))?;
    Ok(list.items.into_iter().find(|h| {
        h.spec.as_ref().is_some_and(|s| {
            s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == deployment
        })
    }))
}

pub async fn pods(kube: &Kube, d: &Deployment) -> Result<Vec<Pod>, Failure> {
    let Some(sel) = selector(d) else {
        return Ok(Vec::new());
    };
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = api
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|e| api_error(kube, Op::new("list", "pods"), e))?;
    Ok(list.items)
}

pub async fn events(kube: &Kube) -> Result<Vec<Event>, Failure> {
    let api: Api<Event> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = api
        .list(&ListParams::default().fields("type=Warning"))
        .await
        .map_err(|e| api_error(kube, Op::new("list", "events"), e))?;
    Ok(list.items)
}

/// Nodes are cluster-scoped; an operator's namespaced Role may not list
/// them, so `None` means "unknown", not "no capacity".
pub async fn nodes(kube: &Kube) -> Option<Vec<Node>> {
    let api: Api<Node> = Api::all(kube.client.clone());
    api.list(&ListParams::default()).await.ok().map(|l| l.items)
}

/// The ReplicaSets this Deployment owns (by uid, not just by labels).
pub async fn replica_sets(kube: &Kube, d: &Deployment) -> Result<Vec<ReplicaSet>, Failure> {
    let Some(sel) = selector(d) else {
        return Ok(Vec::new());
    };
    let api: Api<ReplicaSet> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = api
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|e| api_error(kube, Op::new("list", "replicasets"), e))?;
    Ok(list
        .items
        .into_iter()
        .filter(|rs| owned_by(d, rs))
        .collect())
}

/// Does `d` own `rs`? Labels alone can match another Deployment's sets.
pub fn owned_by(d: &Deployment, rs: &ReplicaSet) -> bool {
    let uid = d.metadata.uid.as_ref();
    rs.metadata
        .owner_references
        .as_ref()
        .is_some_and(|o| o.iter().any(|o| Some(&o.uid) == uid))
}

/// The pod-template-hash of the ReplicaSet carrying the Deployment's
/// revision; `None` until the controller has made (and stamped) it.
pub fn current_hash(d: &Deployment, rss: &[ReplicaSet]) -> Option<String> {
    let rev = d.metadata.annotations.as_ref()?.get(REVISION)?;
    rss.iter()
        .find(|rs| {
            rs.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                == Some(rev)
        })
        .and_then(|rs| rs.metadata.labels.as_ref()?.get(POD_TEMPLATE_HASH).cloned())
}

pub async fn gather(kube: &Kube, name: &str) -> Result<DeploymentFacts, Failure> {
    let deployment = deployment(kube, name).await?;
    let (pods, hpa, events, rss) = tokio::try_join!(
        pods(kube, &deployment),
        hpa_for(kube, name),
        events(kube),
        replica_sets(kube, &deployment)
    )?;
    let current_hash = current_hash(&deployment, &rss);
    Ok(DeploymentFacts {
        deployment,
        pods,
        hpa,
        events,
        current_hash,
    })
}
