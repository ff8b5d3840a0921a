//! What a Deployment's pods say about themselves: ready or not, restarts,
//! why containers are stuck, why pods are not scheduled. Pure judgements on
//! gathered facts, shared by `health --cluster`, `restart --cluster`,
//! `scale` and rollback's cluster backend.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

use super::aggregate::aggregate;
use super::facts::{DeploymentFacts, POD_TEMPLATE_HASH};

/// Waiting reasons that mean the pod will not become ready by itself.
const BAD_WAITING: [&str; 4] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
];

/// The pod's Ready condition is True.
pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Every container status of a pod, init containers first and marked: an
/// init container that crash-loops keeps the main containers from ever
/// starting, so reading only `containerStatuses` sees a pod that merely waits.
pub fn statuses(p: &Pod) -> impl Iterator<Item = (bool, &ContainerStatus)> {
    let st = p.status.as_ref();
    let init = st
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|c| (true, c));
    let main = st
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|c| (false, c));
    init.chain(main)
}

/// In i64: each container's count is an i32, so their sum (and a sum over
/// pods) can overflow one.
pub fn restarts(p: &Pod) -> i64 {
    statuses(p).map(|(_, c)| i64::from(c.restart_count)).sum()
}

/// Why one container is stuck: its waiting reason (`Init:` for an init
/// container, as kubectl shows it) and, whatever it waits for, an OOM kill
/// as its current or last termination.
pub fn container_reason(init: bool, c: &ContainerStatus) -> Option<String> {
    let waiting = c
        .state
        .as_ref()
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.clone())
        .map(|w| if init { format!("Init:{w}") } else { w });
    let terminated_oom = |s: Option<&k8s_openapi::api::core::v1::ContainerState>| {
        s.and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.reason.as_deref())
            == Some("OOMKilled")
    };
    let oom = terminated_oom(c.state.as_ref()) || terminated_oom(c.last_state.as_ref());
    match (waiting, oom) {
        (Some(w), true) => Some(format!("{w} (OOMKilled)")),
        (Some(w), false) => Some(w),
        (None, true) => Some("OOMKilled".to_string()),
        (None, false) => None,
    }
}

/// The reasons the pod's containers are stuck, joined ("Init:CrashLoopBackOff;
/// ContainerCreating (OOMKilled)"); `None` when no container waits or was OOM-killed.
pub fn waiting_reason(p: &Pod) -> Option<String> {
    let reasons: Vec<String> = statuses(p)
        .filter_map(|(init, c)| container_reason(init, c))
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The stuck reasons that mean the pod will not become ready by itself.
pub fn bad_reasons(p: &Pod) -> Vec<String> {
    statuses(p)
        .filter_map(|(init, c)| container_reason(init, c))
        .filter(|r| {
            let r = r.strip_prefix("Init:").unwrap_or(r);
            r.contains("OOMKilled") || BAD_WAITING.iter().any(|b| r.starts_with(b))
        })
        .collect()
}

/// A pod of the Deployment's current revision. Without the current
/// ReplicaSet's hash nothing can be told apart, so every pod counts.
pub fn of_current_revision(p: &Pod, current_hash: Option<&str>) -> bool {
    match current_hash {
        None => true,
        Some(h) => {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(POD_TEMPLATE_HASH))
                .map(String::as_str)
                == Some(h)
        }
    }
}

/// The pod's name, `?` for a pod the API sent without one.
pub fn pod_name(p: &Pod) -> &str {
    p.metadata.name.as_deref().unwrap_or("?")
}

/// When an event last happened: its last timestamp, else its event time, else its creation.
pub fn event_time(e: &Event) -> Option<i64> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
}

/// The scheduler's reason a Pending pod has not been placed, from its events.
pub fn scheduling_reason(pod: &str, events: &[Event]) -> Option<String> {
    events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("Pod")
                && e.involved_object.name.as_deref() == Some(pod)
        })
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .max_by_key(|e| event_time(e))
        .and_then(|e| e.message.clone())
}

/// How many pods serve, against the Deployment's desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    ScaledToZero,
    AllReady {
        ready: i32,
        desired: i32,
    },
    /// Not one pod serves, of any revision: the service is down.
    NoneReady {
        desired: i32,
    },
    /// `ready` counts the current revision only; `old_ready` pods of an
    /// older revision still serve during a rollout.
    SomeReady {
        ready: i32,
        desired: i32,
        old_ready: i32,
    },
}

impl Readiness {
    /// A pod being deleted still reports Ready until it is gone; it does not count.
    pub fn of(f: &DeploymentFacts, desired: i32) -> Readiness {
        let serving = |p: &&Pod| pod_ready(p) && p.metadata.deletion_timestamp.is_none();
        let all = f.pods.iter().filter(serving).count();
        let current = f
            .pods
            .iter()
            .filter(serving)
            .filter(|p| of_current_revision(p, f.current_hash.as_deref()))
            .count();
        let ready = i32::try_from(current).unwrap_or(i32::MAX);
        let old_ready = i32::try_from(all - current).unwrap_or(i32::MAX);
        if desired == 0 {
            Readiness::ScaledToZero
        } else if ready >= desired {
            Readiness::AllReady { ready, desired }
        } else if ready == 0 && old_ready == 0 {
            Readiness::NoneReady { desired }
        } else {
            Readiness::SomeReady {
                ready,
                desired,
                old_ready,
            }
        }
    }

    pub fn detail(&self) -> String {
        match *self {
            Readiness::ScaledToZero => "the deployment is scaled to 0 replicas".to_string(),
            Readiness::AllReady { ready, desired } => format!("{ready}/{desired} ready"),
            Readiness::NoneReady { desired } => {
                format!("0/{desired} ready: the service has no ready pod")
            }
            Readiness::SomeReady {
                ready,
                desired,
                old_ready,
            } => {
                let old_note = if old_ready > 0 {
                    format!(
                        " of the current revision ({old_ready} of an older revision still serve)"
                    )
                } else {
                    String::new()
                };
                format!("{ready}/{desired} ready{old_note}")
            }
        }
    }
}

/// Pods whose containers will not become ready by themselves (crash loops,
/// image pull errors, OOM kills), each with its reasons; `None` when none.
pub fn containers_detail(pods: &[Pod]) -> Option<String> {
    let stuck: Vec<String> = pods
        .iter()
        .filter_map(|p| {
            let bad = bad_reasons(p);
            (!bad.is_empty()).then(|| format!("{} {}", pod_name(p), bad.join("; ")))
        })
        .collect();
    (!stuck.is_empty()).then(|| stuck.join("; "))
}

/// Every Pending pod and the scheduler's reason for it.
pub fn pending_reasons(f: &DeploymentFacts) -> Vec<(&str, String)> {
    f.pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .map(|p| {
            let why = scheduling_reason(pod_name(p), &f.events)
                .unwrap_or_else(|| "not scheduled yet".into());
            (pod_name(p), why)
        })
        .collect()
}

/// `N pending — reason (pods…)`; `None` when no pod is pending.
pub fn scheduling_detail(f: &DeploymentFacts) -> Option<String> {
    let reasons = pending_reasons(f);
    // Eighteen pods with one scheduler message are one line, not eighteen.
    let pending = aggregate(reasons.iter().map(|(p, r)| (*p, r.as_str())), "pod");
    (!pending.is_empty()).then(|| format!("{} pending — {}", reasons.len(), pending.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    fn pod(name: &str, ready: bool, hash: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.labels = Some([(POD_TEMPLATE_HASH.to_string(), hash.to_string())].into());
        p.status = Some(PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
        p
    }

    fn facts(pods: Vec<Pod>) -> DeploymentFacts {
        DeploymentFacts {
            deployment: Deployment::default(),
            pods,
            hpa: None,
            events: vec![],
            current_hash: Some("new".into()),
        }
    }

    #[test]
    fn readiness_counts_the_current_revision_and_names_the_old_pods_that_still_serve() {
        let f = facts(vec![
            pod("a", true, "new"),
            pod("b", true, "old"),
            pod("c", false, "new"),
        ]);
        let r = Readiness::of(&f, 3);
        assert_eq!(
            r,
            Readiness::SomeReady {
                ready: 1,
                desired: 3,
                old_ready: 1
            }
        );
        assert_eq!(
            r.detail(),
            "1/3 ready of the current revision (1 of an older revision still serve)"
        );
        let none = facts(vec![pod("c", false, "new")]);
        assert_eq!(
            Readiness::of(&none, 2).detail(),
            "0/2 ready: the service has no ready pod"
        );
        assert_eq!(Readiness::of(&none, 0), Readiness::ScaledToZero);
        let all = facts(vec![pod("a", true, "new")]);
        assert_eq!(Readiness::of(&all, 1).detail(), "1/1 ready");
    }

    #[test]
    fn no_stuck_containers_and_no_pending_pods_are_none() {
        let f = facts(vec![pod("a", true, "new")]);
        assert_eq!(containers_detail(&f.pods), None);
        assert_eq!(scheduling_detail(&f), None);
    }
}
