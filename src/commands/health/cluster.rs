//! `hal9ctl health --cluster`: rollout, pods, HPA and recent warning events of
//! the Deployment, each judged into a check with a next step.

use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::json;

use crate::cluster::facts::{self, DeploymentFacts};
use crate::cluster::pod_state::{
    Readiness, bad_reasons, containers_detail, event_time, pending_reasons, pod_name, pod_ready,
    restarts, scheduling_detail, waiting_reason,
};
use crate::cluster::rollout::{Rollout, RolloutFacts, judge};
use crate::cluster::{Kube, Target};
use crate::exit::Failure;
use crate::output::checks::{Check, CheckReport};

use super::cluster_advice::{Issue, advise};

/// Warning events older than this are history, not the current incident.
pub const EVENT_WINDOW_S: i64 = 600;

pub async fn check(
    kube: &Kube,
    target: &Target,
    slo: &crate::config::SloConfig,
) -> Result<CheckReport, Failure> {
    let facts = facts::gather(kube, &target.deployment).await?;
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let rf = RolloutFacts::of(&facts.deployment);
    // What the pods say about themselves, beside what etcd says about them.
    let inside = super::pod_inside::gather(kube, &facts, slo).await;
    let mut checks = plan(&facts, target, now);
    checks.extend(super::pod_inside::plan(
        &inside,
        &facts,
        target,
        rolling_out(&rf),
    ));
    let mut checks = super::cluster_advice::by_cause(checks);
    super::oom::add_cluster_notes(kube, &facts.pods, &mut checks).await;
    let facts_json = json!({
        "server": kube.server,
        "desired": rf.desired,
        "ready": rf.ready,
        "updated": rf.updated,
        "available": rf.available,
        "rollout": judge(&rf),
        "pods": facts.pods.iter().map(pod_summary).collect::<Vec<_>>(),
        "inside": inside.to_json(),
        "hpa": facts.hpa.as_ref().map(|h| json!({
            "name": h.metadata.name,
            "min": h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1),
            "max": h.spec.as_ref().map(|s| s.max_replicas),
            "current": h.status.as_ref().map(|s| s.current_replicas),
        })),
    });
    let mut report = CheckReport::new(
        format!("deployment {}/{}", target.namespace, target.deployment),
        checks,
        facts_json,
    );
    // For -o nagios: ready pods, with the desired count as the range's max.
    report.perf.push(
        crate::output::perfdata::Perf::new("ready_pods", f64::from(rf.ready), "")
            .range(Some(0.0), Some(f64::from(rf.desired))),
    );
    Ok(report)
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

/// A new revision on its way (not merely a pod of the running one down).
fn rolling_out(rf: &RolloutFacts) -> bool {
    !rf.paused
        && (rf.updated < rf.desired
            || rf.total > rf.updated
            || matches!(judge(rf), Rollout::Failed(_)))
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

    let desired = rf.desired;
    let readiness = Readiness::of(f, desired);
    checks.push(match readiness {
        Readiness::ScaledToZero => Check::warn(
            "pods ready",
            readiness.detail(),
            advise(&Issue::ScaledToZero, t),
        ),
        Readiness::AllReady { .. } => Check::ok("pods ready", readiness.detail()),
        Readiness::NoneReady { .. } => Check::fail(
            "pods ready",
            readiness.detail(),
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
        ),
        Readiness::SomeReady { .. } => Check::warn(
            "pods ready",
            readiness.detail(),
            advise(
                &Issue::SomeNotReady {
                    selector: facts::selector(&f.deployment).unwrap_or_default(),
                },
                t,
            ),
        ),
    });

    checks.push(match containers_detail(&f.pods) {
        None => Check::ok(
            "containers",
            "no crash loops, image pull errors or OOM kills",
        ),
        Some(stuck) => {
            let first = f
                .pods
                .iter()
                .find(|p| !bad_reasons(p).is_empty())
                .map(pod_name)
                .unwrap_or("POD");
            let rolling_out = rolling_out(&rf);
            Check::fail(
                "containers",
                stuck,
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

    let pending_reasons = pending_reasons(f);
    let pending = scheduling_detail(f);
    checks.push(match pending {
        None => Check::ok("scheduling", "no pending pods"),
        Some(detail) => Check::warn(
            "scheduling",
            detail,
            advise(
                &Issue::Pending {
                    count: pending_reasons.len(),
                },
                t,
            ),
        ),
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
                                a.contains_key(crate::cluster::facts::ORIGINAL_ANNOTATION)
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
        // Eight BackOffs of one pod are one line with "(x8 over 15s)", as kubectl says it.
        let mut lines = crate::cluster::aggregate::aggregate_events(recent.iter().map(|e| {
            crate::cluster::aggregate::EventLine {
                kind: e.involved_object.kind.as_deref().unwrap_or("?"),
                name: e.involved_object.name.as_deref().unwrap_or("?"),
                reason: e.reason.as_deref().unwrap_or("?"),
                message: e.message.as_deref().unwrap_or("").trim(),
                count: e
                    .count
                    .or_else(|| e.series.as_ref().and_then(|s| s.count))
                    .map_or(1, |c| u64::try_from(c).unwrap_or(1)),
                first: e.first_timestamp.as_ref().map(|t| t.0.as_second()),
                last: event_time(e),
            }
        }));
        let shown = lines.len().min(5);
        let more = lines.split_off(shown).len();
        if more > 0 {
            lines.push(format!("… and {more} more"));
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
        Target::shipped()
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
    fn identical_warning_events_are_one_line_with_their_count() {
        let t0 = 1_767_225_600;
        let at = |s: i64| {
            k8s_openapi::jiff::Timestamp::from_second(t0 + s)
                .unwrap()
                .to_string()
        };
        let mut events: Vec<Event> = (0..6)
            .map(|i| {
                serde_json::from_value(json!({
                    "metadata": {"name": format!("e{i}")},
                    "involvedObject": {"kind": "Pod", "name": format!("p{i}")},
                    "type": "Warning", "reason": "FailedScheduling", "count": 3,
                    "message": "0/1 nodes are available: 1 Insufficient cpu.",
                    "firstTimestamp": at(0), "lastTimestamp": at(15)
                }))
                .unwrap()
            })
            .collect();
        events.push(
            serde_json::from_value(json!({
                "metadata": {"name": "b"}, "involvedObject": {"kind": "Pod", "name": "a"},
                "type": "Warning", "reason": "BackOff", "count": 8,
                "message": "Back-off restarting failed container",
                "firstTimestamp": at(5), "lastTimestamp": at(20)
            }))
            .unwrap(),
        );
        let mut f = facts(vec![pod("a", true, None, 0), pod("b", true, None, 0)]);
        f.events = events;
        let c = by_name(&plan(&f, &target(), t0 + 30), "events").clone();
        assert_eq!(
            c.detail,
            "7 warning event(s) in the last 10 minutes: 6 Pods FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu. (x18 over 15s); \
             Pod/a BackOff: Back-off restarting failed container (x8 over 15s)"
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
