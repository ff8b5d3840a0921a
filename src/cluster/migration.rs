//! The migration state in the cluster: the ConfigMap `hal9-migration`, with
//! the document under `migration.json`, written with resourceVersion
//! preconditions, and rollback checkpoints as an annotation so another
//! operator on another machine can see or resume them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::client::{Kube, Op, api_error, is_conflict, is_not_found};
use super::conflict_retry::unless_stale;
use crate::exit::Failure;
use crate::runtime::migration::MigrationDoc;
use crate::runtime::migration::state::{MigrationError, apply_update};

pub const NAME: &str = "hal9-migration";
pub const KEY: &str = "migration.json";
pub const JOURNAL_ANNOTATION: &str = "hal9.io/rollback-journal";

/// A conditional write lost, or the document was refused.
#[derive(Debug)]
pub enum PutError {
    Stale,
    Rejected(MigrationError),
    Other(Failure),
}

/// Parse the document out of a ConfigMap (`None` when the key is absent).
pub fn doc_of(cm: &ConfigMap) -> Result<Option<MigrationDoc>, String> {
    match cm.data.as_ref().and_then(|d| d.get(KEY)) {
        None => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| format!("{KEY} is not a migration document: {e}")),
    }
}

pub struct ConfigMapStore {
    pub kube: Kube,
    pub name: String,
}

impl ConfigMapStore {
    fn api(&self) -> Api<ConfigMap> {
        Api::namespaced(self.kube.client.clone(), &self.kube.namespace)
    }

    pub fn describe(&self) -> String {
        format!("configmap {}/{}", self.kube.namespace, self.name)
    }

    /// The document and the ConfigMap's resourceVersion.
    pub async fn get(&self) -> Result<(MigrationDoc, Option<String>, ConfigMap), Failure> {
        let cm = self.api().get(&self.name).await.map_err(|e| {
            if is_not_found(&e) {
                Failure::critical(format!(
                    "{} does not exist, so there is no migration state to roll back",
                    self.describe()
                ))
                .with_next(format!("kubectl get configmaps -n {}", self.kube.namespace))
            } else {
                api_error(&self.kube, Op::named("get", "configmaps", &self.name), e)
            }
        })?;
        let doc = match doc_of(&cm) {
            Ok(Some(doc)) => doc,
            // Never a default: "full, version 0" read from an emptied ConfigMap
            // would plan a rollback of a migration nobody recorded.
            Ok(None) => {
                return Err(Failure::critical(format!(
                    "{} has no {KEY} key, so its migration state is unknown",
                    self.describe()
                ))
                .with_next(format!(
                    "kubectl get configmap {} -n {} -o yaml   # put the {KEY} key back",
                    self.name, self.kube.namespace
                )));
            }
            Err(e) => {
                return Err(
                    Failure::critical(format!("{}: {e}", self.describe())).with_next(format!(
                        "kubectl get configmap {} -n {} -o yaml",
                        self.name, self.kube.namespace
                    )),
                );
            }
        };
        Ok((doc, cm.metadata.resource_version.clone(), cm))
    }

    /// Validate `proposed` against the current document (same rules as the
    /// runtime's PUT), then write it with the resourceVersion precondition.
    pub async fn put(&self, proposed: &MigrationDoc) -> Result<MigrationDoc, PutError> {
        let (current, rv, _) = self.get().await.map_err(PutError::Other)?;
        let next = apply_update(&current, proposed).map_err(|e| match e {
            MigrationError::Stale { .. } => PutError::Stale,
            other => PutError::Rejected(other),
        })?;
        let body = serde_json::to_string_pretty(&next)
            .map_err(|e| PutError::Other(Failure::critical(e.to_string())))?;
        let patch = json!({"metadata": {"resourceVersion": rv}, "data": { KEY: body }});
        match self
            .api()
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(next),
            Err(e) if is_conflict(&e) => Err(PutError::Stale),
            Err(e) => Err(PutError::Other(api_error(
                &self.kube,
                Op::named("patch", "configmaps", &self.name),
                e,
            ))),
        }
    }

    /// Keep the rollback journal on the ConfigMap too, as a conditional
    /// write: `may_replace` sees the journal there now (if any) and says
    /// whether this one may take its place; a concurrent change is re-read.
    pub async fn checkpoint(
        &self,
        journal_json: &str,
        may_replace: impl Fn(&str) -> Result<(), String>,
    ) -> Result<(), Failure> {
        for _ in 0..3 {
            let cm = self.api().get(&self.name).await.map_err(|e| {
                api_error(&self.kube, Op::named("get", "configmaps", &self.name), e)
            })?;
            if let Some(there) = cm
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(JOURNAL_ANNOTATION))
            {
                may_replace(there).map_err(|why| {
                    Failure::critical(format!(
                        "{}: the journal there was not overwritten: {why}",
                        self.describe()
                    ))
                    .with_next("hal9ctl rollback status --cluster")
                })?;
            }
            let patch = checkpoint_patch(cm.metadata.resource_version.as_deref(), journal_json);
            let api = self.api();
            let written = unless_stale(
                api.patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch)),
                true,
                |e| api_error(&self.kube, Op::named("patch", "configmaps", &self.name), e),
            )
            .await?;
            if written.is_some() {
                return Ok(());
            }
        }
        Err(Failure::critical(format!(
            "{} kept changing while the rollback journal was written to it (409 three times)",
            self.describe()
        ))
        .with_next("hal9ctl rollback status --cluster"))
    }
}

/// The merge patch of a checkpoint: the annotation, conditional on the
/// resourceVersion it was read at, so it never lands on a ConfigMap that
/// changed since (another operator's journal, a new migration document).
pub fn checkpoint_patch(resource_version: Option<&str>, journal_json: &str) -> serde_json::Value {
    let mut ann = BTreeMap::new();
    ann.insert(JOURNAL_ANNOTATION.to_string(), journal_json.to_string());
    json!({"metadata": {"resourceVersion": resource_version, "annotations": ann}})
}

/// How long one watch of the followed ConfigMap lasts before the API server
/// ends it and the watcher opens the next. Under the client's read timeout:
/// a quiet watch outliving it is cut as an error, and the watcher's back-off
/// then grows to 30 s, so a pod (found on the test node) missed rollback
/// steps and the 15 s confirmation. Short also means a silently dead
/// connection is replaced within seconds.
const FOLLOW_WATCH_SECONDS: u32 = 6;
const _: () = assert!((FOLLOW_WATCH_SECONDS as u64) < super::client::CALL_TIMEOUT.as_secs());

/// Watch the ConfigMap and hand every new document to `apply`, until the
/// process ends. Watch errors are retried by the watcher's backoff.
pub async fn follow(kube: Kube, name: String, apply: impl Fn(MigrationDoc) + Send + 'static) {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let api: Api<ConfigMap> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let cfg = watcher::Config::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(FOLLOW_WATCH_SECONDS);
    let mut stream = watcher(api, cfg)
        .default_backoff()
        .applied_objects()
        .boxed();
    while let Some(item) = stream.next().await {
        match item {
            Ok(cm) => match doc_of(&cm) {
                Ok(Some(doc)) => apply(doc),
                Ok(None) => tracing::warn!(
                    "configmap {name} has no {KEY}; keeping the current migration state"
                ),
                Err(e) => {
                    tracing::error!("configmap {name}: {e}; keeping the current migration state")
                }
            },
            Err(e) => tracing::warn!("watching configmap {name}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(data: Option<(&str, &str)>) -> ConfigMap {
        ConfigMap {
            data: data.map(|(k, v)| [(k.to_string(), v.to_string())].into_iter().collect()),
            ..Default::default()
        }
    }

    #[test]
    fn a_checkpoint_is_conditional_on_the_version_it_read() {
        let p = checkpoint_patch(Some("4711"), "{\"id\":\"rb-1\"}");
        assert_eq!(p["metadata"]["resourceVersion"], "4711");
        assert_eq!(
            p["metadata"]["annotations"][JOURNAL_ANNOTATION],
            "{\"id\":\"rb-1\"}"
        );
    }

    #[test]
    fn a_missing_key_is_absent_not_a_default_and_garbage_names_the_key() {
        assert_eq!(doc_of(&cm(None)), Ok(None));
        assert_eq!(doc_of(&cm(Some(("other.json", "{}")))), Ok(None));
        let e = doc_of(&cm(Some((KEY, "{not json")))).unwrap_err();
        assert!(e.contains(KEY), "{e}");
    }
}
