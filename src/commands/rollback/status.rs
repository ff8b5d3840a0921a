//! `rollback status` / `migrate status`: with `--cluster`, the cluster's own
//! state (the ConfigMap's document and journal annotation) and whether the
//! pods run it, not a local runtime or a journal left by a local run.

use serde::Serialize;

use super::journal::Journal;
use super::report::RollbackReport;
use crate::cli::Ctx;
use crate::cluster::Target;
use crate::cluster::pod_confirm::{self, Confirmation};
use crate::exit::Exit;
use crate::output::{Mark, Report, Styles, to_value};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    #[serde(flatten)]
    pub report: RollbackReport,
    /// With `--cluster`: which ready pods run the ConfigMap's version and
    /// share; `None` for a local runtime or when the ConfigMap was unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<Confirmation>,
}

/// Pure: the local journal only describes this cluster when it was written
/// against this ConfigMap; otherwise the ConfigMap's own copy is the record.
pub fn journal_for(
    local: Option<Journal>,
    remote: Option<Journal>,
    configmap: &str,
) -> Option<Journal> {
    match local {
        Some(j) if j.target == configmap => Some(j),
        _ => remote,
    }
}

/// Pure: a state no pod has confirmed is not the state that serves.
pub fn with_pods(mut report: RollbackReport, pods: Option<Confirmation>) -> StatusReport {
    if let Some(c) = &pods
        && !c.all_confirmed()
    {
        report.status = report.status.worst(Exit::Warning);
        report.summary = format!(
            "{}; the pods do not all run it: {}",
            report.summary,
            c.problems().join("; ")
        );
    }
    StatusReport { report, pods }
}

pub async fn status(ctx: &Ctx, cluster: Option<&Target>) -> anyhow::Result<StatusReport> {
    let mut report = super::run::status(ctx, cluster).await?;
    let Some(target) = cluster else {
        return Ok(StatusReport { report, pods: None });
    };
    let kube = crate::cluster::connect(target).await?;
    let store = crate::cluster::migration::ConfigMapStore {
        kube: kube.clone(),
        name: crate::cluster::migration::NAME.to_string(),
    };
    let remote = super::backend::Backend::Cluster(super::backend::ClusterBackend {
        store,
        target: target.clone(),
        lease: None,
    });
    let describe = remote.describe();
    if report
        .journal
        .as_ref()
        .is_some_and(|j| j.target != describe)
    {
        report.journal = journal_for(
            report.journal.take(),
            remote.remote_journal().await,
            &describe,
        );
    }
    let Some(doc) = report.migration.clone() else {
        return Ok(StatusReport { report, pods: None });
    };
    let pods = match pod_confirm::read(&kube, &target.deployment).await {
        Ok(said) => Some(pod_confirm::judge(
            doc.version,
            doc.hierarchical_percent,
            &said,
        )),
        Err(f) => {
            report.status = report.status.worst(Exit::Unknown);
            report.summary = format!("{}; the pods could not be read: {f}", report.summary);
            None
        }
    };
    Ok(with_pods(report, pods))
}

impl Report for StatusReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = self.report.render(st);
        if let Some(c) = &self.pods {
            let mark = if c.all_confirmed() {
                Mark::Ok
            } else {
                Mark::Warn
            };
            out.push_str(&format!(
                "{} pods: {} of {} ready pods run the ConfigMap's version and share\n",
                st.mark(mark),
                c.confirmed.len(),
                c.total
            ));
            for p in c.problems() {
                out.push_str(&format!("  {p}\n"));
            }
        }
        out
    }

    fn exit(&self) -> Exit {
        self.report.exit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::pod_confirm::{PodSaid, judge};

    fn report() -> RollbackReport {
        RollbackReport {
            summary: "last rollback r1 is Completed".into(),
            status: Exit::Ok,
            dry_run: false,
            migration: None,
            journal: None,
            next: None,
        }
    }

    fn journal(target: &str) -> Journal {
        serde_json::from_value(serde_json::json!({
            "id": "r1", "strategy": "immediate", "target": target,
            "started_at": "2026-01-01T00:00:00Z", "started_by": "me",
            "status": "completed", "steps": [], "interval_ms": 0
        }))
        .unwrap()
    }

    #[test]
    fn a_local_runs_journal_does_not_stand_for_the_clusters() {
        let cm = "configmap hal9/hal9-migration";
        let local = journal("http://127.0.0.1:8080");
        let mut remote = journal(cm);
        remote.id = "r2".into();
        assert_eq!(
            journal_for(Some(local.clone()), Some(remote.clone()), cm).map(|j| j.id),
            Some("r2".into())
        );
        assert!(journal_for(Some(local), None, cm).is_none());
        assert_eq!(
            journal_for(Some(journal(cm)), Some(remote), cm).map(|j| j.id),
            Some("r1".into())
        );
    }

    #[test]
    fn a_state_not_every_pod_runs_is_a_warning_naming_the_pods() {
        let said = |pod: &str, v: u64| PodSaid {
            pod: pod.into(),
            follows: Some("configmap:hal9/hal9-migration".into()),
            read: Ok((v, 5.0)),
        };
        let s = with_pods(report(), Some(judge(3, 5.0, &[said("a", 3), said("b", 2)])));
        assert_eq!(s.report.status, Exit::Warning);
        assert!(
            s.report.summary.contains("b runs version 2"),
            "{}",
            s.report.summary
        );
        let s = with_pods(report(), Some(judge(3, 5.0, &[said("a", 3)])));
        assert_eq!(s.report.status, Exit::Ok);
        let v = s.to_json();
        assert_eq!(v["pods"]["confirmed"][0], "a", "{v}");
        assert_eq!(v["summary"], "last rollback r1 is Completed", "{v}");
    }
}
