//! Where the migration state lives: the local runtime's admin API, or the
//! `hal9-migration` ConfigMap in the cluster. Both offer the same versioned
//! read and conditional write, so the rollback loop does not care which.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use crate::exit::Failure;
use crate::runtime::api::HealthStatus;
use crate::runtime::client::{ClientError, RuntimeClient};
use crate::runtime::migration::MigrationDoc;

use super::gates::{Samples, parse};

/// A conditional write lost the race: someone else changed the state.
#[derive(Debug)]
pub enum StepPutError {
    Stale,
    Other(Failure),
}

pub struct LocalBackend {
    pub client: RuntimeClient,
    pub token: String,
    pub url: String,
}

fn failure(url: &str, e: ClientError) -> Failure {
    e.into_admin_failure(url, None, "hal9ctl rollback status")
}

impl LocalBackend {
    pub fn new(url: &str, token: String) -> Result<LocalBackend, Failure> {
        let client =
            RuntimeClient::new(url, Duration::from_secs(10)).map_err(|e| failure(url, e))?;
        Ok(LocalBackend {
            client,
            token,
            url: url.to_string(),
        })
    }

    pub async fn get(&self) -> Result<MigrationDoc, Failure> {
        self.client
            .admin_get(&self.token, "/admin/migration")
            .await
            .map(|t| t.body)
            .map_err(|e| failure(&self.url, e))
    }

    pub async fn put(&self, doc: &MigrationDoc) -> Result<MigrationDoc, StepPutError> {
        match self
            .client
            .admin_put(&self.token, "/admin/migration", doc)
            .await
        {
            Ok(t) => Ok(t.body),
            Err(ClientError::Status {
                status: 409,
                code,
                message,
                ..
            }) if code == "stale_version" => {
                tracing::debug!("stale version: {message}");
                Err(StepPutError::Stale)
            }
            Err(ClientError::Status {
                status: 409,
                message,
                ..
            }) => Err(StepPutError::Other(Failure::critical(format!(
                "the runtime refused the step: {message}"
            )))),
            Err(e) => Err(StepPutError::Other(failure(&self.url, e))),
        }
    }

    pub async fn scrape(&self) -> Result<Samples, Failure> {
        self.client
            .metrics_text()
            .await
            .map(|t| parse(&t))
            .map_err(|e| failure(&self.url, e))
    }

    pub async fn ready(&self) -> bool {
        self.client
            .ready()
            .await
            .map(|t| t.body.ready)
            .unwrap_or(false)
    }

    pub async fn healthy(&self) -> Result<HealthStatus, Failure> {
        self.client
            .health()
            .await
            .map(|t| t.body.status)
            .map_err(|e| failure(&self.url, e))
    }
}

/// The cluster: the `hal9-migration` ConfigMap; gates judge the Deployment.
pub struct ClusterBackend {
    pub store: crate::cluster::migration::ConfigMapStore,
    pub target: crate::cluster::Target,
    /// The migration Lease this run holds: checked before every write, so a
    /// run that lost it stops instead of interleaving with the new holder.
    pub lease: Option<crate::cluster::lease::LeaseWatch>,
}

impl ClusterBackend {
    fn may_write(&self) -> Result<(), Failure> {
        self.lease.as_ref().map_or(Ok(()), |l| l.check())
    }
}

/// Where the migration state lives.
pub enum Backend {
    Local(LocalBackend),
    Cluster(ClusterBackend),
}

/// What a gate window compares against: metrics at its start, or each
/// serving pod's restart count (by uid) at its start.
pub enum Window {
    Metrics(Samples),
    Restarts(BTreeMap<String, i64>),
}

/// A judged window: its gates and, where they rest on requests, how many.
pub struct GateWindow {
    pub gates: Vec<super::gates::Gate>,
    pub requests: Option<f64>,
}

/// Whether the requests routed hierarchical before an immediate switch finished.
#[derive(Debug, Clone, PartialEq)]
pub enum Drain {
    Done,
    /// Still running when the wait ran out.
    Left(u64),
    /// Could not be measured; never reported as drained.
    Unknown(String),
}

/// What the final check measured after the last step.
pub struct Verified {
    pub problems: Vec<String>,
    /// What was confirmed, for the summary: only facts re-read just now.
    pub evidence: String,
}

/// A pod being deleted still shows in the list (and may still look ready)
/// until its grace period ends; it serves no new requests, so gates skip it.
fn serving(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
}

fn pod_restarts(f: &crate::cluster::facts::DeploymentFacts) -> BTreeMap<String, i64> {
    f.pods
        .iter()
        .filter(|p| serving(p))
        .map(|p| {
            let id = p
                .metadata
                .uid
                .clone()
                .or_else(|| p.metadata.name.clone())
                .unwrap_or_default();
            (id, crate::cluster::pod_state::restarts(p))
        })
        .collect()
}

/// `GET /metrics` of one pod through the API server's proxy, on the port its
/// first container declares (the runtime's default, 8080, if none).
async fn pod_hierarchical_in_flight(
    kube: &crate::cluster::client::Kube,
    p: &Pod,
) -> Result<u64, String> {
    let name = p.metadata.name.as_deref().ok_or("a pod without a name")?;
    let ns = p.metadata.namespace.as_deref().unwrap_or(&kube.namespace);
    let port = p
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.ports.as_ref())
        .and_then(|ports| ports.first())
        .map(|port| port.container_port)
        .unwrap_or(8080);
    let req = hyper::Request::builder()
        .uri(format!(
            "/api/v1/namespaces/{ns}/pods/{name}:{port}/proxy/metrics"
        ))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let text = tokio::time::timeout(Duration::from_secs(5), kube.client.request_text(req))
        .await
        .map_err(|_| "no answer within 5 s through the pod proxy".to_string())?
        .map_err(|e| match e {
            kube::Error::Api(s) => format!("the pod proxy answered {} {}", s.code, s.message),
            other => format!("through the pod proxy: {other}"),
        })?;
    let m = parse(&text);
    // No gauge is not zero: whatever answered is not a runtime we can read.
    m.get("hal9_path_in_flight{path=\"hierarchical\"}")
        .map(|n| *n as u64)
        .ok_or_else(|| "its /metrics has no hal9_path_in_flight gauge".to_string())
}

/// Restarts during the window on the pods that serve now; a pod that came up
/// during the window counts all of its restarts.
fn new_restarts(before: &BTreeMap<String, i64>, now: &BTreeMap<String, i64>) -> i64 {
    now.iter()
        .map(|(id, n)| (n - before.get(id).copied().unwrap_or(0)).max(0))
        .sum()
}

impl Backend {
    pub fn describe(&self) -> String {
        match self {
            Backend::Local(b) => b.url.clone(),
            Backend::Cluster(c) => c.store.describe(),
        }
    }

    /// Where this run writes, as a journal records it.
    pub async fn identity(&self) -> Result<super::resume::TargetId, Failure> {
        match self {
            Backend::Local(b) => Ok(super::resume::TargetId {
                describe: b.url.clone(),
                uid: None,
            }),
            Backend::Cluster(c) => {
                let (_, _, cm) = c.store.get().await?;
                Ok(super::resume::TargetId {
                    describe: c.store.describe(),
                    uid: cm.metadata.uid,
                })
            }
        }
    }

    pub async fn get(&self) -> Result<MigrationDoc, Failure> {
        match self {
            Backend::Local(b) => b.get().await,
            Backend::Cluster(c) => c.store.get().await.map(|(d, _, _)| d),
        }
    }

    pub async fn put(&self, doc: &MigrationDoc) -> Result<MigrationDoc, StepPutError> {
        match self {
            Backend::Local(b) => b.put(doc).await,
            Backend::Cluster(c) => {
                c.may_write().map_err(StepPutError::Other)?;
                c.store.put(doc).await.map_err(|e| match e {
                    crate::cluster::migration::PutError::Stale => StepPutError::Stale,
                    crate::cluster::migration::PutError::Rejected(r) => {
                        StepPutError::Other(Failure::critical(format!("refused: {r}")))
                    }
                    crate::cluster::migration::PutError::Other(f) => StepPutError::Other(f),
                })
            }
        }
    }

    async fn deployment_facts(
        c: &ClusterBackend,
    ) -> Result<crate::cluster::facts::DeploymentFacts, Failure> {
        crate::cluster::facts::gather(&c.store.kube, &c.target.deployment).await
    }

    pub async fn window_start(&self) -> Result<Window, Failure> {
        match self {
            Backend::Local(b) => b.scrape().await.map(Window::Metrics),
            Backend::Cluster(c) => Self::deployment_facts(c)
                .await
                .map(|f| Window::Restarts(pod_restarts(&f))),
        }
    }

    /// Judge the window that began at `start`.
    pub async fn gates(
        &self,
        start: &Window,
        th: super::gates::Thresholds,
    ) -> Result<GateWindow, Failure> {
        use super::gates::Gate;
        match (self, start) {
            (Backend::Local(b), Window::Metrics(before)) => {
                let after = b.scrape().await?;
                Ok(GateWindow {
                    gates: super::gates::evaluate(before, &after, b.ready().await, th),
                    requests: Some(super::gates::requests(before, &after)),
                })
            }
            (Backend::Cluster(c), Window::Restarts(before)) => {
                let f = Self::deployment_facts(c).await?;
                let desired = crate::cluster::rollout::RolloutFacts::of(&f.deployment).desired;
                let live: Vec<&Pod> = f.pods.iter().filter(|p| serving(p)).collect();
                let ready = live
                    .iter()
                    .filter(|p| crate::cluster::pod_state::pod_ready(p))
                    .count() as i32;
                let terminating = f.pods.len() - live.len();
                let looping: Vec<String> = live
                    .iter()
                    .filter_map(|p| {
                        crate::cluster::pod_state::waiting_reason(p)
                            .map(|r| format!("{} {r}", p.metadata.name.clone().unwrap_or_default()))
                    })
                    .collect();
                let now = pod_restarts(&f);
                Ok(GateWindow {
                    gates: vec![
                        Gate {
                            name: "ready pods".into(),
                            passed: ready >= desired,
                            value: if terminating > 0 {
                                format!(
                                    "{ready}/{desired} ({terminating} terminating, not counted)"
                                )
                            } else {
                                format!("{ready}/{desired}")
                            },
                        },
                        Gate {
                            name: "crash loops".into(),
                            passed: looping.is_empty(),
                            value: if looping.is_empty() {
                                "none".into()
                            } else {
                                looping.join(", ")
                            },
                        },
                        Gate {
                            name: "new restarts".into(),
                            passed: new_restarts(before, &now) == 0,
                            value: format!("{}", new_restarts(before, &now)),
                        },
                    ],
                    requests: None,
                })
            }
            _ => Err(Failure::critical(
                "internal: a gate window of the wrong kind",
            )),
        }
    }

    /// In the cluster: what every ready pod says about the step's `written`
    /// state, re-read until all confirm or `within` runs out. Locally there
    /// is one runtime, and the write answered from it.
    pub async fn confirm_step(
        &self,
        written: &MigrationDoc,
        within: Duration,
    ) -> Result<Option<crate::cluster::pod_confirm::Confirmation>, Failure> {
        let Backend::Cluster(c) = self else {
            return Ok(None);
        };
        let t0 = std::time::Instant::now();
        let conf = crate::cluster::pod_confirm::confirm(
            &c.store.kube,
            &c.target.deployment,
            written.version,
            written.hierarchical_percent,
            within,
        )
        .await?;
        tracing::debug!(
            "pods confirmed version {} in {} ms: {}",
            written.version,
            t0.elapsed().as_millis(),
            conf.summary()
        );
        Ok(Some(conf))
    }

    /// `--allow-no-traffic`: send `n` probe signals into the open window, keyed
    /// so they split over the paths as the current share routes users.
    pub async fn fill_with_probes(&self, n: u64) -> Result<u64, Failure> {
        let Backend::Local(b) = self else {
            return Ok(0);
        };
        let share = b.get().await?.share_bp();
        let prober = super::probe::Prober::new(&b.url).map_err(Failure::critical)?;
        let sent = prober.send_all(&super::probe::spread(share, n)).await.len();
        Ok(sent as u64)
    }

    /// Immediate: wait until the requests that were routed hierarchical before
    /// the switch have finished (the runtime's `hal9_path_in_flight` gauge).
    pub async fn drain_hierarchical(&self, within: std::time::Duration) -> Result<Drain, Failure> {
        let b = match self {
            Backend::Local(b) => b,
            Backend::Cluster(c) => return Self::drain_pods(c, within).await,
        };
        let deadline = std::time::Instant::now() + within;
        loop {
            let m = b.scrape().await?;
            let n = m
                .get("hal9_path_in_flight{path=\"hierarchical\"}")
                .copied()
                .unwrap_or(0.0) as u64;
            if n == 0 {
                return Ok(Drain::Done);
            }
            if std::time::Instant::now() >= deadline {
                return Ok(Drain::Left(n));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The pods' own `hal9_path_in_flight` gauges, read through the API
    /// server's pod proxy. A pod that cannot be read makes the drain unknown:
    /// the others being idle says nothing about it.
    async fn drain_pods(c: &ClusterBackend, within: Duration) -> Result<Drain, Failure> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let f = Self::deployment_facts(c).await?;
            let mut left = 0;
            for p in f.pods.iter().filter(|p| serving(p)) {
                match pod_hierarchical_in_flight(&c.store.kube, p).await {
                    Ok(n) => left += n,
                    Err(e) => {
                        return Ok(Drain::Unknown(format!(
                            "the in-flight requests of pod {} could not be read: {e}",
                            p.metadata.name.as_deref().unwrap_or("?")
                        )));
                    }
                }
            }
            if left == 0 {
                return Ok(Drain::Done);
            }
            if std::time::Instant::now() >= deadline {
                return Ok(Drain::Left(left));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// After the last step: re-read the state and compare it with the plan's
    /// target; locally, also send keyed probe signals and check that each took
    /// the path the share routes it to and answered clean, inside a window
    /// whose gates judge them.
    pub async fn verify(
        &self,
        th: super::gates::Thresholds,
        target: &super::plan::StepTarget,
    ) -> Result<Verified, Failure> {
        let mut problems = Vec::new();
        let doc = self.get().await?;
        if !target.reached_by(&doc) {
            problems.push(format!(
                "the state re-read from {} is {} at {:.2} %, not the target {} at {:.2} %",
                self.describe(),
                doc.phase,
                doc.hierarchical_percent,
                target.phase,
                target.hierarchical_percent
            ));
        }
        let start = self.window_start().await?;
        let evidence = match self {
            Backend::Local(b) => {
                let prober = super::probe::Prober::new(&b.url).map_err(Failure::critical)?;
                let keys = super::probe::covering(doc.share_bp(), 3);
                let results = prober.send_all(&keys).await;
                problems.extend(results.iter().filter_map(|r| r.problem()));
                let per = |p| keys.iter().filter(|k| k.expect == p).count();
                format!(
                    "state re-read; {} probe signal(s) took the paths {:.2} % routes ({} hierarchical, {} flat)",
                    keys.len(),
                    doc.hierarchical_percent,
                    per(crate::runtime::api::Path::Hierarchical),
                    per(crate::runtime::api::Path::Flat)
                )
            }
            Backend::Cluster(c) => {
                let conf = crate::cluster::pod_confirm::confirm(
                    &c.store.kube,
                    &c.target.deployment,
                    doc.version,
                    doc.hierarchical_percent,
                    Duration::from_secs(15),
                )
                .await?;
                if !conf.all_confirmed() {
                    problems.push(conf.summary());
                    problems.extend(conf.problems());
                }
                conf.summary()
            }
        };
        problems.extend(
            self.gates(&start, th)
                .await?
                .gates
                .into_iter()
                .filter(|g| !g.passed)
                .map(|g| format!("{}: {}", g.name, g.value)),
        );
        if let Backend::Local(b) = self
            && b.healthy().await? == HealthStatus::Unhealthy
        {
            problems.push("the runtime reports unhealthy".into());
        }
        Ok(Verified { problems, evidence })
    }

    /// The journal kept on the ConfigMap, for an operator on another machine.
    pub async fn remote_journal(&self) -> Option<super::journal::Journal> {
        let Backend::Cluster(c) = self else {
            return None;
        };
        let (_, _, cm) = c.store.get().await.ok()?;
        let text = cm
            .metadata
            .annotations
            .as_ref()?
            .get(crate::cluster::migration::JOURNAL_ANNOTATION)?;
        serde_json::from_str(text).ok()
    }

    /// Another unfinished rollback journaled on the ConfigMap: two rollbacks
    /// stepping the same state would undo each other's steps.
    pub async fn foreign_rollback(&self, id: &str) -> Option<super::journal::Journal> {
        self.remote_journal()
            .await
            .filter(|r| r.id != id && !r.status.is_finished())
    }

    /// Keep a copy of the journal beside the state, for operators elsewhere.
    /// It replaces only this rollback's own journal or a finished one.
    pub async fn checkpoint(&self, journal: &super::journal::Journal) {
        let Backend::Cluster(c) = self else {
            return;
        };
        if let Err(f) = c.may_write() {
            tracing::warn!("the checkpoint was not written: {f}");
            return;
        }
        let Ok(text) = serde_json::to_string(journal) else {
            return;
        };
        let may_replace = |there: &str| match serde_json::from_str::<super::journal::Journal>(there)
        {
            Ok(other) if other.id != journal.id && !other.status.is_finished() => Err(format!(
                "it holds rollback {}, unfinished, started by {} at {}",
                other.id, other.started_by, other.started_at
            )),
            _ => Ok(()),
        };
        if let Err(e) = c.store.checkpoint(&text, may_replace).await {
            tracing::warn!(
                "could not write the checkpoint to {}: {e}",
                c.store.describe()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_count_per_serving_pod_and_a_gone_pod_hides_nothing() {
        let before: BTreeMap<String, i64> = [("a".into(), 5), ("gone".into(), 9)].into();
        // "gone" left (its restarts vanish from any sum); "a" restarted once; "new" came up with 2.
        let now: BTreeMap<String, i64> = [("a".into(), 6), ("new".into(), 2)].into();
        assert_eq!(new_restarts(&before, &now), 3);
        assert_eq!(new_restarts(&now, &now), 0);
    }
}
