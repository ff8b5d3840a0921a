//! Did the pods take what was written to the ConfigMap? "Verified" is for
//! a change every ready pod reports back, never for a write alone.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Kube, facts, pod_proxy};
use crate::exit::Failure;

/// What one ready pod said about its migration state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodSaid {
    pub pod: String,
    /// The ConfigMap reference on its command line, if any.
    pub follows: Option<String>,
    /// `(version, hierarchical_percent)` from its `/api/v1/status`, or why it could not be read.
    pub read: Result<(u64, f64), String>,
}

/// The verdict over every ready pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Confirmation {
    pub total: usize,
    pub confirmed: Vec<String>,
    /// Pods that answered with another version or share.
    pub behind: Vec<String>,
    /// Pods started without `--migration-source configmap:…`.
    pub not_following: Vec<String>,
    pub unreadable: Vec<String>,
}

impl Confirmation {
    pub fn all_confirmed(&self) -> bool {
        self.total > 0 && self.confirmed.len() == self.total
    }

    /// "applied to the ConfigMap; N of M pods confirmed".
    pub fn summary(&self) -> String {
        format!(
            "applied to the ConfigMap; {} of {} pods confirmed",
            self.confirmed.len(),
            self.total
        )
    }

    /// One line per kind of pod that did not confirm, naming them.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.total == 0 {
            out.push("no ready pod to confirm the change".into());
        }
        if !self.not_following.is_empty() {
            out.push(format!(
                "does not follow a ConfigMap at all (started without --migration-source configmap:…), so nothing written there reaches it: {}",
                self.not_following.join(", ")
            ));
        }
        if !self.behind.is_empty() {
            out.push(format!("not confirmed: {}", self.behind.join("; ")));
        }
        if !self.unreadable.is_empty() {
            out.push(format!("could not be read: {}", self.unreadable.join("; ")));
        }
        out
    }
}

/// Compare what each pod reports with the `version` and `percent` written.
pub fn judge(version: u64, percent: f64, pods: &[PodSaid]) -> Confirmation {
    let mut c = Confirmation {
        total: pods.len(),
        ..Default::default()
    };
    for p in pods {
        if p.follows.is_none() {
            c.not_following.push(p.pod.clone());
            continue;
        }
        match &p.read {
            Err(e) => c.unreadable.push(format!("{} ({e})", p.pod)),
            Ok((v, pct)) if *v == version && (pct - percent).abs() < 0.005 => {
                c.confirmed.push(p.pod.clone())
            }
            Ok((v, pct)) => c.behind.push(format!(
                "{} runs version {v} at {pct:.2} %, not {version} at {percent:.2} %",
                p.pod
            )),
        }
    }
    c
}

/// Read every ready, serving pod of the Deployment through the pod proxy.
pub async fn read(kube: &Kube, deployment: &str) -> Result<Vec<PodSaid>, Failure> {
    let d = facts::deployment(kube, deployment).await?;
    let pods = facts::pods(kube, &d).await?;
    let ready: Vec<_> = pods
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(crate::cluster::pod_state::pod_ready)
        .collect();
    let reads = futures::future::join_all(ready.iter().map(|p| async move {
        let read = pod_proxy::get_json(kube, p, "/api/v1/status")
            .await
            .and_then(|v| {
                let m = &v["migration"];
                match (m["version"].as_u64(), m["hierarchical_percent"].as_f64()) {
                    (Some(ver), Some(pct)) => Ok((ver, pct)),
                    _ => Err("its /api/v1/status has no migration version and share".to_string()),
                }
            });
        PodSaid {
            pod: p.metadata.name.clone().unwrap_or_default(),
            follows: pod_proxy::follows_configmap(p),
            read,
        }
    }))
    .await;
    Ok(reads)
}

/// Re-read until every pod confirms or `within` runs out: a pod watching
/// the ConfigMap takes a moment to see a write. This one wait stays a
/// timed re-read: what confirms is each pod's own `/api/v1/status`
/// answer through the pod proxy, which no watch of an API object carries.
pub async fn confirm(
    kube: &Kube,
    deployment: &str,
    version: u64,
    percent: f64,
    within: Duration,
) -> Result<Confirmation, Failure> {
    let deadline = Instant::now() + within;
    loop {
        let c = judge(version, percent, &read(kube, deployment).await?);
        // A pod that follows no ConfigMap will not start to by waiting.
        let hopeless = !c.not_following.is_empty() || c.total == 0;
        if c.all_confirmed() || hopeless || Instant::now() >= deadline {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What a pod said, built from plain data for the judgement's unit tests
/// (here and in the rollback step gate's).
#[cfg(test)]
pub(crate) fn said(pod: &str, follows: bool, read: Result<(u64, f64), &str>) -> PodSaid {
    PodSaid {
        pod: pod.into(),
        follows: follows.then(|| "configmap:hal9/hal9-migration".into()),
        read: read.map_err(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_only_when_every_ready_pod_reports_the_written_state() {
        let c = judge(
            7,
            5.0,
            &[said("a", true, Ok((7, 5.0))), said("b", true, Ok((7, 5.0)))],
        );
        assert!(c.all_confirmed());
        assert_eq!(
            c.summary(),
            "applied to the ConfigMap; 2 of 2 pods confirmed"
        );
        assert!(c.problems().is_empty());
    }

    #[test]
    fn a_lagging_pod_and_an_unreadable_pod_are_named() {
        let c = judge(
            7,
            5.0,
            &[
                said("a", true, Ok((7, 5.0))),
                said("b", true, Ok((6, 25.0))),
                said("c", true, Err("no answer")),
            ],
        );
        assert!(!c.all_confirmed());
        assert_eq!(
            c.summary(),
            "applied to the ConfigMap; 1 of 3 pods confirmed"
        );
        let p = c.problems().join("\n");
        assert!(
            p.contains("b runs version 6 at 25.00 %, not 7 at 5.00 %"),
            "{p}"
        );
        assert!(p.contains("c (no answer)"), "{p}");
    }

    #[test]
    fn a_pod_that_follows_no_configmap_is_named_as_such_even_if_its_numbers_match() {
        // The shipped manifests' defect: the numbers may match by chance.
        let c = judge(7, 5.0, &[said("a", false, Ok((7, 5.0)))]);
        assert!(!c.all_confirmed());
        assert!(c.problems()[0].contains("does not follow a ConfigMap at all"));
        assert!(c.problems()[0].ends_with(": a"));
    }

    #[test]
    fn no_ready_pod_is_not_verified() {
        let c = judge(7, 5.0, &[]);
        assert!(!c.all_confirmed());
        assert_eq!(c.problems(), vec!["no ready pod to confirm the change"]);
    }
}
