//! A cluster step passes only when the pods took what it wrote: the
//! ConfigMap changing is the write, not its effect. Pure.

use crate::cluster::pod_confirm::Confirmation;

use super::gates::Gate;

/// How long a step's pods get, after its window, to report its write: a pod
/// watching the ConfigMap sees a write within a second; one that has not
/// after the window and this is behind, and the gate says so.
pub const STEP_CONFIRM_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The "pods confirmed" gate of one step: passed only when every ready pod
/// reported the version and share written; otherwise it names the pods
/// that did not, by why (behind, not following, unreadable).
pub fn gate(c: &Confirmation) -> Gate {
    let mut value = c.summary();
    for p in c.problems() {
        value.push_str("; ");
        value.push_str(&p);
    }
    Gate {
        name: "pods confirmed".into(),
        passed: c.all_confirmed(),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::pod_confirm::{judge, said};

    #[test]
    fn every_pod_reporting_the_write_passes_with_the_count() {
        let g = gate(&judge(
            9,
            25.0,
            &[
                said("a", true, Ok((9, 25.0))),
                said("b", true, Ok((9, 25.0))),
            ],
        ));
        assert!(g.passed);
        assert_eq!(g.name, "pods confirmed");
        assert_eq!(g.value, "applied to the ConfigMap; 2 of 2 pods confirmed");
    }

    #[test]
    fn one_pod_behind_fails_the_step_and_is_named_with_what_it_runs() {
        let g = gate(&judge(
            9,
            25.0,
            &[
                said("a", true, Ok((9, 25.0))),
                said("b", true, Ok((8, 50.0))),
            ],
        ));
        assert!(!g.passed);
        assert_eq!(
            g.value,
            "applied to the ConfigMap; 1 of 2 pods confirmed; not confirmed: b runs version 8 at 50.00 %, not 9 at 25.00 %"
        );
    }

    #[test]
    fn a_pod_that_follows_no_configmap_and_an_unreadable_one_are_named_apart() {
        let g = gate(&judge(
            9,
            25.0,
            &[
                said("a", false, Ok((9, 25.0))),
                said("b", true, Err("the pod proxy answered 400")),
            ],
        ));
        assert!(!g.passed);
        assert!(
            g.value
                .starts_with("applied to the ConfigMap; 0 of 2 pods confirmed; ")
        );
        assert!(
            g.value
                .contains("does not follow a ConfigMap at all (started without --migration-source configmap:…), so nothing written there reaches it: a"),
            "{}",
            g.value
        );
        assert!(
            g.value
                .ends_with("could not be read: b (the pod proxy answered 400)"),
            "{}",
            g.value
        );
    }

    #[test]
    fn no_ready_pod_fails_the_step() {
        let g = gate(&judge(9, 25.0, &[]));
        assert!(!g.passed);
        assert_eq!(
            g.value,
            "applied to the ConfigMap; 0 of 0 pods confirmed; no ready pod to confirm the change"
        );
    }
}
