//! What `health --cluster` advises for each thing it finds wrong: a hal9ctl
//! command where one acts on it, kubectl where none does, and "needs a
//! human: …" where no command fixes it. Pure, so the no-loop proof
//! (`no_loop.rs`) can follow every piece of advice on plain data.

use crate::cluster::Target;
use crate::output::checks::Check;

use super::local::human;

/// Each way a cluster check can fail, with what its advice needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Issue {
    Paused,
    RolloutProgressing,
    RolloutFailed,
    ScaledToZero,
    /// No pod of any revision is ready; `pending` of them wait for a node.
    NoReadyPod {
        selector: String,
        pending: usize,
    },
    SomeNotReady {
        selector: String,
    },
    /// Crash loops, image pull errors, OOM kills. `rolling_out`: a new
    /// revision is on its way, so undoing it is the one command that acts.
    BadContainers {
        pod: String,
        rolling_out: bool,
    },
    Restarts {
        pod: String,
    },
    Pending {
        count: usize,
    },
    /// `emergency_done`: the HPA already carries an emergency scale's
    /// record, so advising another one would raise nothing and loop.
    HpaAtMax {
        hpa: String,
        emergency_done: bool,
    },
    WarningEvents,
    /// Something a pod's runtime says about itself (pod_inside.rs).
    Inside {
        pod: String,
        kind: InsideKind,
        emergency_done: bool,
    },
    /// Pods of the selector run different builds.
    VersionSkew {
        rolling_out: bool,
        selector: String,
    },
    /// The pod follows the ConfigMap but runs another migration state.
    Disagrees {
        pod: String,
    },
    /// The pod runs without `--migration-source configmap:…`.
    NotFollowing {
        pod: String,
    },
    ConfigMapUnreadable,
    /// A pod's SLO, judged on its own `/metrics`.
    PodSlo {
        pod: String,
        kind: SloKind,
        emergency_done: bool,
    },
}

/// What was found inside one pod, the worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum InsideKind {
    Unreadable,
    Unhealthy,
    Degraded,
    Breaker,
    AtLimit,
    Draining,
}

/// Which SLO failed: load (p99, in flight, 429s) is relieved by capacity,
/// errors and cold caches are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SloKind {
    Load,
    Errors,
    Cache,
    Unread,
}

/// Causes before symptoms: a failing rollout or container, or pods that
/// cannot be scheduled, explain pods that are not ready, and restarts and
/// events echo all of them.
const CAUSE_ORDER: [&str; 11] = [
    "rollout",
    "containers",
    "scheduling",
    "migration agreement",
    "pods inside",
    "version skew",
    "autoscaler",
    "pod slo",
    "pods ready",
    "restarts",
    "events",
];

/// The cluster checks in cause order; `CheckReport` then sorts them by
/// urgency, keeping this order within each rank.
pub fn by_cause(mut checks: Vec<Check>) -> Vec<Check> {
    checks.sort_by_key(|c| {
        CAUSE_ORDER
            .iter()
            .position(|n| *n == c.name)
            .unwrap_or(CAUSE_ORDER.len())
    });
    checks
}

fn flags(t: &Target) -> String {
    format!(" {}", t.flags())
}

fn kubectl_ns(t: &Target) -> String {
    format!(" -n {}{}", t.namespace, t.context_flag())
}

/// Pure: the next command for an issue of this deployment.
pub fn advise(issue: &Issue, t: &Target) -> String {
    let name = &t.deployment;
    let ns = kubectl_ns(t);
    match issue {
        Issue::Paused => format!("kubectl rollout resume deployment/{name}{ns}"),
        Issue::RolloutProgressing => format!("hal9ctl health{} --wait 5m", flags(t)),
        // hal9ctl rollback moves migrations, not Deployment revisions.
        Issue::RolloutFailed => format!(
            "kubectl rollout undo deployment/{name}{ns}   # then: kubectl describe deployment/{name}{ns}"
        ),
        Issue::ScaledToZero => format!("hal9ctl scale --replicas 2{}", flags(t)),
        Issue::NoReadyPod { pending, .. } if *pending > 0 => {
            advise(&Issue::Pending { count: *pending }, t)
        }
        Issue::NoReadyPod { selector, .. } => human(
            "no pod is ready and nothing above explains why",
            &format!("kubectl describe pods{ns} -l {selector}"),
        ),
        Issue::SomeNotReady { selector } => human(
            "some pods are not ready and no rollout is in progress",
            &format!("kubectl describe pods{ns} -l {selector}"),
        ),
        Issue::BadContainers {
            rolling_out: true, ..
        } => format!(
            "kubectl rollout undo deployment/{name}{ns}   # the new revision does not start"
        ),
        Issue::BadContainers { pod, .. } => human(
            "the running revision's containers fail",
            &format!("kubectl logs{ns} {pod} --previous"),
        ),
        Issue::Restarts { pod } => human(
            "containers restarted",
            &format!("kubectl logs{ns} {pod} --previous"),
        ),
        Issue::Pending { count } => human(
            &format!("{count} pod(s) cannot be scheduled: add node capacity or lower requests"),
            &format!("kubectl describe pods{ns} --field-selector status.phase=Pending"),
        ),
        Issue::HpaAtMax {
            emergency_done: false,
            ..
        } => format!("hal9ctl scale --emergency{}", flags(t)),
        Issue::HpaAtMax {
            hpa,
            emergency_done: true,
        } => human(
            "already emergency-scaled and at the raised maximum: add capacity or raise the HPA's max",
            &format!("kubectl describe hpa/{hpa}{ns}"),
        ),
        Issue::WarningEvents => human(
            "warning events",
            &format!(
                "kubectl get events{ns} --field-selector type=Warning --sort-by=.lastTimestamp"
            ),
        ),
        Issue::Inside {
            pod,
            kind: InsideKind::Unreadable,
            ..
        } => human(
            &format!("pod {pod}'s runtime could not be read through the pod proxy"),
            &format!(
                "kubectl get --raw /api/v1/namespaces/{}/pods/{pod}:8080/proxy/health",
                t.namespace
            ),
        ),
        Issue::Inside {
            pod,
            kind: InsideKind::Unhealthy | InsideKind::Degraded,
            ..
        } => human(
            &format!("pod {pod}'s runtime reports itself unhealthy or degraded"),
            &format!("kubectl logs{ns} {pod}"),
        ),
        Issue::Inside {
            pod,
            kind: InsideKind::Breaker,
            ..
        } => human(
            &format!("a command neuron keeps failing in pod {pod}, so its breaker opened"),
            &format!("kubectl logs{ns} {pod}"),
        ),
        // A drained runtime exits once its requests finish, and the kubelet
        // starts it again: waiting is the action.
        Issue::Inside {
            kind: InsideKind::Draining,
            ..
        } => format!("hal9ctl health{} --wait 2m", flags(t)),
        Issue::Inside {
            kind: InsideKind::AtLimit,
            emergency_done: false,
            ..
        }
        | Issue::PodSlo {
            kind: SloKind::Load,
            emergency_done: false,
            ..
        } => format!("hal9ctl scale --emergency{}", flags(t)),
        Issue::Inside {
            pod,
            kind: InsideKind::AtLimit,
            emergency_done: true,
        }
        | Issue::PodSlo {
            pod,
            kind: SloKind::Load,
            emergency_done: true,
        } => human(
            &format!(
                "pod {pod} is saturated although the Deployment was already emergency-scaled: add capacity or raise its limits"
            ),
            &format!("kubectl top pods{ns}"),
        ),
        Issue::PodSlo {
            pod,
            kind: SloKind::Errors,
            ..
        } => human(
            &format!("signals fail in pod {pod}"),
            &format!("kubectl logs{ns} {pod}"),
        ),
        Issue::PodSlo {
            pod,
            kind: SloKind::Cache,
            ..
        } => human(
            &format!(
                "pod {pod}'s cache hit rate is below its floor: raise [runtime] cache_capacity / cache_max_bytes in the hal9 ConfigMap"
            ),
            &format!(
                "kubectl get --raw /api/v1/namespaces/{}/pods/{pod}:8080/proxy/metrics",
                t.namespace
            ),
        ),
        Issue::PodSlo {
            pod,
            kind: SloKind::Unread,
            ..
        } => human(
            &format!("pod {pod}'s /metrics could not be read through the pod proxy"),
            &format!(
                "kubectl get --raw /api/v1/namespaces/{}/pods/{pod}:8080/proxy/metrics",
                t.namespace
            ),
        ),
        Issue::VersionSkew {
            rolling_out: true, ..
        } => advise(&Issue::RolloutProgressing, t),
        Issue::VersionSkew {
            rolling_out: false,
            selector,
        } => human(
            "pods of the Deployment's selector run different builds outside a rollout: a pod not made from its current template",
            &format!("kubectl get pods{ns} -l {selector} -o wide"),
        ),
        // The Deployment makes a new pod, and a new runtime reads the
        // ConfigMap before it serves.
        Issue::Disagrees { pod } => format!(
            "kubectl delete pod {pod}{ns}   # its ConfigMap watch is stuck; the new pod reads the ConfigMap at start"
        ),
        Issue::NotFollowing { pod } => human(
            &format!(
                "pod {pod} runs without --migration-source configmap:{}/{}, so rollbacks do not reach it",
                t.namespace,
                crate::cluster::migration::NAME
            ),
            &format!("kubectl get pod {pod}{ns} -o jsonpath={{.spec.containers[0].args}}"),
        ),
        Issue::ConfigMapUnreadable => human(
            "the migration ConfigMap could not be read",
            &format!(
                "kubectl get configmap {}{ns} -o yaml",
                crate::cluster::migration::NAME
            ),
        ),
    }
}
