//! `hal9ctl health --cluster`: rollout, pods, HPA and recent warning events of
//! the Deployment, each judged into a check with a next step.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
use serde_json::json;

use crate::cluster::facts::{self, DeploymentFacts, POD_TEMPLATE_HASH};
use crate::cluster::rollout::{Rollout, RolloutFacts, judge};
use crate::cluster::{Kube, Target};
use crate::exit::Failure;
use crate::output::checks::{Check, CheckReport};

use super::cluster_advice::{Issue, advise};

/// Waiting reasons that mean the pod will not become ready by itself.
const BAD_WAITING: [&str; 4] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
];
/// Warning events older than this are history, not the current incident.
pub const EVENT_WINDOW_S: i64 = 600;

pub async fn check(kube: &Kube, target: &Target) -> Result<CheckReport, Failure> {
    let facts = facts::gather(kube, &target.deployment).await?;
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let mut checks = super::cluster_advice::by_cause(plan(&facts, target, now));
    super::oom::add_cluster_notes(kube, &facts.pods, &mut checks).await;
    let rf = RolloutFacts::of(&facts.deployment);
    let facts_json = json!({
        "server": kube.server,
        "desired": rf.desired,
        "ready": rf.ready,
        "updated": rf.updated,
        "available": rf.available,
        "rollout": judge(&rf),
        "pods": facts.pods.iter().map(pod_summary).collect::<Vec<_>>(),
        "hpa": facts.hpa.as_ref().map(|h| json!({
            "name": h.metadata.name,
            "min": h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1),
            "max": h.spec.as_ref().map(|s| s.max_replicas),
            "current": h.status.as_ref().map(|s| s.current_replicas),
        })),
    });
    Ok(CheckReport::new(
        format!("deployment {}/{}", target.namespace, target.deployment),
        checks,
        facts_json,
    ))
}

fn pod_summary(p: &Pod) -> serde_json::Value {
    json!({
        "name": p.metadata.name,
        "phase": p.status.as_ref().and_then(|s| s.phase.clone()),
        "ready": pod_ready(p),
        "restarts": restarts(p),
        "waiting": waiting_reason(p),
    })
}

pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Every container status of a pod, init containers first and marked: an
/// init container that crash-loops keeps the main containers from ever
/// starting, so reading only `containerStatuses` sees a pod that merely waits.
fn statuses(p: &Pod) -> impl Iterator<Item = (bool, &ContainerStatus)> {
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
fn container_reason(init: bool, c: &ContainerStatus) -> Option<String> {
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
fn bad_reasons(p: &Pod) -> Vec<String> {
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
fn of_current_revision(p: &Pod, current_hash: Option<&str>) -> bool {
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

fn pod_name(p: &Pod) -> &str {
    p.metadata.name.as_deref().unwrap_or("?")
}

fn event_time(e: &Event) -> Option<i64> {
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
fn scheduling_reason(pod: &str, events: &[Event]) -> Option<String> {
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

/// Pure: facts in, checks out. `now` is Unix seconds.
pub fn plan(f: &DeploymentFacts, t: &Target, now: i64) -> Vec<Check> {
    let mut checks = Vec::new();
    let rf = RolloutFacts::of(&f.deployment);

    checks.push(if rf.paused {
        Check::warn(
            "rollout",
            "the deployment is paused: changes to it are not rolled out",
            advise(&Issue::Paused, t),
        )
    } else {
        match judge(&rf) {
            Rollout::Complete => Check::ok(
                "rollout",
                format!(
                    "complete: {} updated, {} available",
                    rf.updated, rf.available
                ),
            ),
            Rollout::Progressing(m) => Check::warn(
                "rollout",
                format!("in progress: {m}"),
                advise(&Issue::RolloutProgressing, t),
            ),
            Rollout::Failed(m) => Check::fail("rollout", m, advise(&Issue::RolloutFailed, t)),
        }
    });

    let serving = |p: &&Pod| pod_ready(p) && p.metadata.deletion_timestamp.is_none();
    let ready = f
        .pods
        .iter()
        .filter(serving)
        .filter(|p| of_current_revision(p, f.current_hash.as_deref()))
        .count() as i32;
    let old_ready = f.pods.iter().filter(serving).count() as i32 - ready;
    let old_note = if old_ready > 0 {
        format!(" of the current revision ({old_ready} of an older revision still serve)")
    } else {
        String::new()
    };
    let desired = rf.desired;
    checks.push(if desired == 0 {
        Check::warn(
            "pods ready",
            "the deployment is scaled to 0 replicas",
            advise(&Issue::ScaledToZero, t),
        )
    } else if ready >= desired {
        Check::ok("pods ready", format!("{ready}/{desired} ready"))
    } else if ready == 0 && old_ready == 0 {
        Check::fail(
            "pods ready",
            format!("0/{desired} ready: the service has no ready pod"),
            advise(
                &Issue::NoReadyPod {
                    selector: facts::selector(&f.deployment).unwrap_or_default(),
                    pending: f
                        .pods
                        .iter()
                        .filter(|p| {
                            p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending")
                        })
                        .count(),
                },
                t,
            ),
        )
    } else {
        Check::warn(
            "pods ready",
            format!("{ready}/{desired} ready{old_note}"),
            advise(
                &Issue::SomeNotReady {
                    selector: facts::selector(&f.deployment).unwrap_or_default(),
                },
                t,
            ),
        )
    });

    let stuck: Vec<String> = f
        .pods
        .iter()
        .filter_map(|p| {
            let bad = bad_reasons(p);
            (!bad.is_empty()).then(|| format!("{} {}", pod_name(p), bad.join("; ")))
        })
        .collect();
    checks.push(match stuck.first() {
        None => Check::ok(
            "containers",
            "no crash loops, image pull errors or OOM kills",
        ),
        Some(_) => {
            let first = f
                .pods
                .iter()
                .find(|p| !bad_reasons(p).is_empty())
                .map(pod_name)
                .unwrap_or("POD");
            // A new revision on its way (not merely a pod of the running one down).
            let rolling_out = !rf.paused
                && (rf.updated < rf.desired
                    || rf.total > rf.updated
                    || matches!(judge(&rf), Rollout::Failed(_)));
            Check::fail(
                "containers",
                stuck.join("; "),
                advise(
                    &Issue::BadContainers {
                        pod: first.to_string(),
                        rolling_out,
                    },
                    t,
                ),
            )
        }
    });

    let restarted: Vec<String> = f
        .pods
        .iter()
        .filter(|p| restarts(p) > 0)
        .map(|p| format!("{} ×{}", pod_name(p), restarts(p)))
        .collect();
    checks.push(if restarted.is_empty() {
        Check::ok("restarts", "no container restarts")
    } else {
        Check::warn(
            "restarts",
            restarted.join(", "),
            advise(
                &Issue::Restarts {
                    pod: restarted[0].split(' ').next().unwrap_or("POD").to_string(),
                },
                t,
            ),
        )
    });

    let pending_reasons: Vec<(&str, String)> = f
        .pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .map(|p| {
            let why = scheduling_reason(pod_name(p), &f.events)
                .unwrap_or_else(|| "not scheduled yet".into());
            (pod_name(p), why)
        })
        .collect();
    // Eighteen pods with one scheduler message are one line, not eighteen.
    let pending = crate::cluster::aggregate::aggregate(
        pending_reasons.iter().map(|(p, r)| (*p, r.as_str())),
        "pod",
    );
    checks.push(if pending.is_empty() {
        Check::ok("scheduling", "no pending pods")
    } else {
        Check::warn(
            "scheduling",
            format!("{} pending — {}", pending_reasons.len(), pending.join("; ")),
            advise(
                &Issue::Pending {
                    count: pending_reasons.len(),
                },
                t,
            ),
        )
    });

    checks.push(match &f.hpa {
        None => Check::ok("autoscaler", "no HPA targets this deployment"),
        Some(h) => {
            let spec = h.spec.as_ref();
            let min = spec.and_then(|s| s.min_replicas).unwrap_or(1);
            let max = spec.map(|s| s.max_replicas).unwrap_or(0);
            let current = h.status.as_ref().map(|s| s.current_replicas).unwrap_or(0);
            let hname = h.metadata.name.as_deref().unwrap_or("?");
            let detail = format!("HPA {hname}: current {current}, min {min}, max {max}");
            if max > 0 && current >= max {
                Check::warn(
                    "autoscaler",
                    format!("{detail}: at its maximum, it cannot add capacity"),
                    advise(
                        &Issue::HpaAtMax {
                            hpa: hname.to_string(),
                            emergency_done: h.metadata.annotations.as_ref().is_some_and(|a| {
                                a.contains_key(crate::commands::scale::plan::ORIGINAL_ANNOTATION)
                            }),
                        },
                        t,
                    ),
                )
            } else {
                Check::ok("autoscaler", detail)
            }
        }
    });

    let recent: Vec<&Event> = f
        .events
        .iter()
        .filter(|e| event_time(e).is_some_and(|t| now - t <= EVENT_WINDOW_S))
        .collect();
    checks.push(if recent.is_empty() {
        Check::ok("events", "no warning events in the last 10 minutes")
    } else {
        let mut lines: Vec<String> = recent
            .iter()
            .take(5)
            .map(|e| {
                format!(
                    "{}/{} {}: {}",
                    e.involved_object.kind.as_deref().unwrap_or("?"),
                    e.involved_object.name.as_deref().unwrap_or("?"),
                    e.reason.as_deref().unwrap_or("?"),
                    e.message.as_deref().unwrap_or("").trim()
                )
            })
            .collect();
        if recent.len() > 5 {
            lines.push(format!("… and {} more", recent.len() - 5));
        }
        Check::warn(
            "events",
            format!(
                "{} warning event(s) in the last 10 minutes: {}",
                recent.len(),
                lines.join("; ")
            ),
            advise(&Issue::WarningEvents, t),
        )
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;

    fn target() -> Target {
        Target {
            context: None,
            namespace: "hal9".into(),
            deployment: "hal9-server".into(),
        }
    }

    fn deployment(desired: i32, ready: i32) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "hal9-server", "namespace": "hal9", "generation": 2},
            "spec": {"replicas": desired, "selector": {"matchLabels": {"app": "hal9"}},
                     "template": {"metadata": {"labels": {"app": "hal9"}}, "spec": {"containers": [{"name": "hal9", "image": "hal9"}]}}},
            "status": {"observedGeneration": 2, "replicas": desired, "updatedReplicas": desired,
                       "availableReplicas": ready, "readyReplicas": ready}
        }))
        .unwrap()
    }

    fn pod(name: &str, ready: bool, waiting: Option<&str>, restarts: i32) -> Pod {
        let state = match waiting {
            Some(r) => json!({"waiting": {"reason": r}}),
            None => json!({"running": {}}),
        };
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "status": {"phase": if ready { "Running" } else { "Pending" },
                       "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                       "containerStatuses": [{"name": "hal9", "image": "hal9", "imageID": "", "ready": ready,
                                              "restartCount": restarts, "state": state}]}
        }))
        .unwrap()
    }

    fn by_name<'a>(cs: &'a [Check], n: &str) -> &'a Check {
        cs.iter().find(|c| c.name == n).unwrap()
    }

    #[test]
    fn eighteen_pods_pending_for_one_reason_are_one_line() {
        let mut pods = Vec::new();
        let mut events = Vec::new();
        for i in 0..18 {
            let name = format!("p{i}");
            pods.push(pod(&name, false, None, 0));
            events.push(
                serde_json::from_value::<Event>(json!({
                    "metadata": {"name": format!("e{i}")},
                    "involvedObject": {"kind": "Pod", "name": name},
                    "reason": "FailedScheduling", "type": "Warning",
                    "message": "0/1 nodes are available: 1 Insufficient cpu."
                }))
                .unwrap(),
            );
        }
        pods.push(pod("lone", false, None, 0));
        let f = DeploymentFacts {
            deployment: deployment(19, 0),
            pods,
            hpa: None,
            events,
            current_hash: None,
        };
        let cs = plan(&f, &target(), 0);
        let c = by_name(&cs, "scheduling");
        assert_eq!(
            c.detail,
            "19 pending — 18 pods: 0/1 nodes are available: 1 Insufficient cpu.; pod lone: not scheduled yet"
        );
    }

    #[test]
    fn healthy_deployment_is_all_ok() {
        let f = DeploymentFacts {
            deployment: deployment(2, 2),
            pods: vec![pod("a", true, None, 0), pod("b", true, None, 0)],
            hpa: None,
            events: vec![],
            current_hash: None,
        };
        let cs = plan(&f, &target(), 0);
        assert!(
            cs.iter().all(|c| c.status == crate::output::Mark::Ok),
            "{cs:#?}"
        );
    }

    #[test]
    fn crash_loop_is_critical_with_a_logs_command() {
        let f = DeploymentFacts {
            deployment: deployment(2, 1),
            pods: vec![
                pod("a", true, None, 0),
                pod("b", false, Some("CrashLoopBackOff"), 7),
            ],
            hpa: None,
            events: vec![],
            current_hash: None,
        };
        let cs = plan(&f, &target(), 0);
        let c = by_name(&cs, "containers");
        assert_eq!(c.status, crate::output::Mark::Fail);
        assert!(c.detail.contains("b CrashLoopBackOff"));
        assert!(
            c.next
                .as_deref()
                .unwrap()
                .contains("kubectl logs -n hal9 b --previous")
        );
        assert_eq!(by_name(&cs, "restarts").status, crate::output::Mark::Warn);
        assert_eq!(by_name(&cs, "pods ready").status, crate::output::Mark::Warn);
    }

    #[test]
    fn hpa_at_max_warns_and_old_events_are_ignored() {
        let hpa = serde_json::from_value(json!({
            "metadata": {"name": "hal9-server"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "hal9-server"}, "minReplicas": 2, "maxReplicas": 2},
            "status": {"currentReplicas": 2, "desiredReplicas": 2}
        }))
        .unwrap();
        let event: Event = serde_json::from_value(json!({
            "metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "a"},
            "type": "Warning", "reason": "BackOff", "message": "back-off", "lastTimestamp": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        let f = DeploymentFacts {
            deployment: deployment(2, 2),
            pods: vec![pod("a", true, None, 0), pod("b", true, None, 0)],
            hpa: Some(hpa),
            events: vec![event],
            current_hash: None,
        };
        let t0 = k8s_openapi::jiff::Timestamp::from_second(1_767_225_600)
            .unwrap()
            .as_second();
        let cs = plan(&f, &target(), t0 + 60);
        assert_eq!(by_name(&cs, "autoscaler").status, crate::output::Mark::Warn);
        assert!(
            by_name(&cs, "autoscaler")
                .next
                .as_deref()
                .unwrap()
                .contains("scale --emergency")
        );
        assert_eq!(by_name(&cs, "events").status, crate::output::Mark::Warn);
        let cs = plan(&f, &target(), t0 + 3600);
        assert_eq!(by_name(&cs, "events").status, crate::output::Mark::Ok);
    }

    fn facts(pods: Vec<Pod>) -> DeploymentFacts {
        DeploymentFacts {
            deployment: deployment(2, 2),
            pods,
            hpa: None,
            events: vec![],
            current_hash: None,
        }
    }

    #[test]
    fn an_init_container_crash_loop_is_a_crash_loop_with_restarts() {
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "a"},
            "status": {"phase": "Pending",
                       "conditions": [{"type": "Ready", "status": "False"}],
                       "initContainerStatuses": [{"name": "migrate", "image": "hal9", "imageID": "", "ready": false,
                           "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                           "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}],
                       "containerStatuses": [{"name": "hal9", "image": "hal9", "imageID": "", "ready": false,
                           "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]}
        }))
        .unwrap();
        let cs = plan(&facts(vec![p, pod("b", true, None, 0)]), &target(), 0);
        let c = by_name(&cs, "containers");
        assert_eq!(c.status, crate::output::Mark::Fail, "{c:?}");
        assert!(c.detail.contains("a Init:CrashLoopBackOff"), "{c:?}");
        let r = by_name(&cs, "restarts");
        assert_eq!(r.status, crate::output::Mark::Warn, "{r:?}");
        assert!(r.detail.contains("a ×5"), "{r:?}");
    }

    #[test]
    fn an_oom_kill_is_seen_whatever_else_the_container_waits_for() {
        for waiting in [
            "ContainerCreating",
            "CreateContainerError",
            "RunContainerError",
        ] {
            let p: Pod = serde_json::from_value(json!({
                "metadata": {"name": "a"},
                "status": {"phase": "Running",
                           "conditions": [{"type": "Ready", "status": "False"}],
                           "containerStatuses": [
                               {"name": "sidecar", "image": "s", "imageID": "", "ready": true, "restartCount": 0,
                                "state": {"running": {}}},
                               {"name": "hal9", "image": "hal9", "imageID": "", "ready": false, "restartCount": 1,
                                "state": {"waiting": {"reason": waiting}},
                                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
            }))
            .unwrap();
            let cs = plan(&facts(vec![p, pod("b", true, None, 0)]), &target(), 0);
            let c = by_name(&cs, "containers");
            assert_eq!(c.status, crate::output::Mark::Fail, "{waiting}: {c:?}");
            assert!(c.detail.contains("OOMKilled"), "{waiting}: {c:?}");
        }
        // An OOM kill in the second container, the first merely waiting, is still seen.
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "a"},
            "status": {"phase": "Running",
                       "containerStatuses": [
                           {"name": "sidecar", "image": "s", "imageID": "", "ready": false, "restartCount": 0,
                            "state": {"waiting": {"reason": "ContainerCreating"}}},
                           {"name": "hal9", "image": "hal9", "imageID": "", "ready": false, "restartCount": 1,
                            "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
        }))
        .unwrap();
        let cs = plan(&facts(vec![p]), &target(), 0);
        assert!(
            by_name(&cs, "containers").detail.contains("OOMKilled"),
            "{cs:#?}"
        );
    }

    #[test]
    fn pods_of_the_old_replicaset_are_not_counted_ready() {
        let with_hash = |name: &str, hash: &str| {
            let mut p = pod(name, true, None, 0);
            p.metadata.labels = Some([("pod-template-hash".to_string(), hash.to_string())].into());
            p
        };
        // Mid-rollout: 2 old pods serve, the one new pod is not ready yet.
        let mut new = pod("new", false, None, 0);
        new.metadata.labels = Some([("pod-template-hash".to_string(), "new".to_string())].into());
        let f = DeploymentFacts {
            deployment: deployment(2, 2),
            pods: vec![with_hash("old-1", "old"), with_hash("old-2", "old"), new],
            hpa: None,
            events: vec![],
            current_hash: Some("new".into()),
        };
        let c = by_name(&plan(&f, &target(), 0), "pods ready").clone();
        assert_ne!(c.status, crate::output::Mark::Ok, "{c:?}");
        assert!(c.detail.starts_with("0/2"), "{c:?}");
    }
}
