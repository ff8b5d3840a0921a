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
}

/// Causes before symptoms: a failing rollout or container, or pods that
/// cannot be scheduled, explain pods that are not ready, and restarts and
/// events echo all of them.
const CAUSE_ORDER: [&str; 7] = [
    "rollout",
    "containers",
    "scheduling",
    "autoscaler",
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
    }
}
