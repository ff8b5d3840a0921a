//! May a journaled rollback be resumed against this backend, from this
//! state? Pure: the journal, where this run points, and the state read now.
//!
//! A journal is a list of absolute states to step through. Replayed against
//! another runtime or ConfigMap, or after someone moved the migration by hand
//! past the next step, it would write states nobody planned: on another
//! target, or *forward* on this one. Both are refused here, naming what differs.

use super::journal::Journal;
use super::plan::StepTarget;
use crate::runtime::migration::MigrationDoc;

/// Where a rollback writes: what the journal records and what this run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetId {
    /// A runtime URL, or `configmap NS/NAME`.
    pub describe: String,
    /// The ConfigMap's uid: the same namespace and name in another cluster,
    /// or a re-created ConfigMap, is another target.
    pub uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeRefusal {
    #[error(
        "rollback {id} was journaled against {journaled}, but this run targets {here}; its steps belong to the other one"
    )]
    OtherTarget {
        id: String,
        journaled: String,
        here: String,
    },
    #[error(
        "step {step} of {command} {id} would move the migration {against} ({moves}): the state was changed after it was journaled"
    )]
    Forward {
        id: String,
        step: usize,
        moves: String,
        /// `rollback` or `migrate`: the journal's own command.
        command: &'static str,
        /// The way the journal does not go: "forward" for a rollback.
        against: &'static str,
    },
}

/// A URL as the runtime client would reach it: scheme and host in lower
/// case, no default port, no trailing slash.
fn normalize(target: &str) -> String {
    match reqwest::Url::parse(target) {
        Ok(u) if u.has_host() => u.as_str().trim_end_matches('/').to_string(),
        _ => target.trim().to_string(),
    }
}

fn describe(t: &TargetId) -> String {
    match &t.uid {
        Some(uid) => format!("{} (uid {uid})", t.describe),
        None => t.describe.clone(),
    }
}

pub fn same_target(journaled: &TargetId, here: &TargetId) -> bool {
    if normalize(&journaled.describe) != normalize(&here.describe) {
        return false;
    }
    // A journal from before uids were recorded matches on the name alone.
    match (&journaled.uid, &here.uid) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// What a step from `from` to `to` would move forward; empty when it only
/// goes back (or stays). `shadow_mode` is the one flag a rollback may turn
/// on: shadow is the phase before canary.
pub fn forward_moves(from: &StepTarget, to: &StepTarget) -> Vec<String> {
    let mut moves = Vec::new();
    if to.phase > from.phase {
        moves.push(format!("phase {} → {}", from.phase, to.phase));
    }
    if to.hierarchical_percent > from.hierarchical_percent + 0.005 {
        moves.push(format!(
            "hierarchical {:.2} % → {:.2} %",
            from.hierarchical_percent, to.hierarchical_percent
        ));
    }
    if to.state_schema > from.state_schema {
        moves.push("state layout flat → hierarchical".to_string());
    }
    for (flag, on) in &to.flags {
        let was = from.flags.get(flag).copied().unwrap_or(false);
        if *on && !was && flag != "shadow_mode" {
            moves.push(format!("flag {flag} off → on"));
        }
    }
    moves
}

/// Check a journal before its remaining steps are replayed: same target,
/// and every remaining step goes back from the one before it, starting at
/// the state read now.
pub fn check(j: &Journal, here: &TargetId, current: &MigrationDoc) -> Result<(), ResumeRefusal> {
    let journaled = TargetId {
        describe: j.target.clone(),
        uid: j.target_uid.clone(),
    };
    if !same_target(&journaled, here) {
        return Err(ResumeRefusal::OtherTarget {
            id: j.id.clone(),
            journaled: describe(&journaled),
            here: describe(here),
        });
    }
    let Some(next) = j.next_step() else {
        return Ok(());
    };
    let mut from = StepTarget::of(current);
    for (i, step) in j.steps.iter().enumerate().skip(next) {
        let way = super::direction::of_step(j, i);
        let moves = way.wrong_way(&from, &step.target);
        if !moves.is_empty() {
            return Err(ResumeRefusal::Forward {
                id: j.id.clone(),
                step: i + 1,
                moves: moves.join(", "),
                command: j.direction.command(),
                against: match way {
                    super::direction::Direction::Back => "forward",
                    super::direction::Direction::Forward => "back",
                },
            });
        }
        from = step.target.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::rollback::journal::{JournalStep, RollbackStatus, StepStatus};
    use crate::commands::rollback::plan::{self, RollbackStrategy};
    use crate::runtime::migration::state::Phase;

    fn journal(from: &MigrationDoc, to: Phase, steps: u32) -> Journal {
        Journal {
            id: "rb-1".into(),
            strategy: RollbackStrategy::Gradual,
            components: vec![],
            target: "http://127.0.0.1:8080".into(),
            target_uid: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            started_by: "op".into(),
            status: RollbackStatus::Interrupted,
            reason: None,
            interval_ms: 0,
            direction: Default::default(),
            aborted_after: None,
            from_phase: None,
            steps: plan::gradual(from, Some(to), steps)
                .unwrap()
                .into_iter()
                .enumerate()
                .map(|(index, target)| JournalStep {
                    index,
                    target,
                    status: StepStatus::Pending,
                    applied_at: None,
                    version_after: None,
                    gate: None,
                })
                .collect(),
        }
    }

    fn here(describe: &str) -> TargetId {
        TargetId {
            describe: describe.into(),
            uid: None,
        }
    }

    fn full() -> MigrationDoc {
        let mut d = MigrationDoc::at_phase(Phase::Full, 4);
        d.snapshots = vec![Phase::StateMigration];
        d
    }

    #[test]
    fn the_same_runtime_resumes_from_where_it_stopped() {
        let mut j = journal(&full(), Phase::Flat, 4);
        j.steps[0].status = StepStatus::Applied;
        let after_first = j.steps[0].target.as_update(&full());
        assert_eq!(
            check(&j, &here("http://127.0.0.1:8080/"), &after_first),
            Ok(())
        );
        // The step in flight when it was killed may or may not have landed.
        j.steps[1].status = StepStatus::Applying;
        let landed = j.steps[1].target.as_update(&after_first);
        assert_eq!(check(&j, &here("HTTP://127.0.0.1:8080"), &landed), Ok(()));
        assert_eq!(check(&j, &here("http://127.0.0.1:8080"), &full()), Ok(()));
    }

    #[test]
    fn another_runtime_or_configmap_is_refused_naming_both() {
        let j = journal(&full(), Phase::Flat, 2);
        let e = check(&j, &here("http://127.0.0.1:9090"), &full()).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("http://127.0.0.1:8080") && m.contains("http://127.0.0.1:9090"));
        let mut j = journal(&full(), Phase::Flat, 2);
        j.target = "configmap a/hal9-migration".into();
        j.target_uid = Some("u1".into());
        assert!(matches!(
            check(&j, &here("configmap b/hal9-migration"), &full()),
            Err(ResumeRefusal::OtherTarget { .. })
        ));
        let same_name_other_uid = TargetId {
            describe: "configmap a/hal9-migration".into(),
            uid: Some("u2".into()),
        };
        let m = check(&j, &same_name_other_uid, &full())
            .unwrap_err()
            .to_string();
        assert!(m.contains("uid u1") && m.contains("uid u2"), "{m}");
    }

    #[test]
    fn a_state_moved_back_by_hand_past_the_next_step_is_refused() {
        let mut j = journal(&full(), Phase::Flat, 4);
        j.steps[0].status = StepStatus::Applied;
        let by_hand = MigrationDoc::at_phase(Phase::Flat, 9);
        let e = check(&j, &here("http://127.0.0.1:8080"), &by_hand).unwrap_err();
        match e {
            ResumeRefusal::Forward { step, moves, .. } => {
                assert_eq!(step, 2);
                assert!(moves.contains("phase flat → full"), "{moves}");
                assert!(moves.contains("0.00 % → 50.00 %"), "{moves}");
                assert!(moves.contains("state layout"), "{moves}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_tampered_journal_whose_later_step_goes_forward_is_refused() {
        let mut j = journal(&full(), Phase::Flat, 3);
        j.steps[2].target = StepTarget::of(&full());
        assert!(matches!(
            check(&j, &here("http://127.0.0.1:8080"), &full()),
            Err(ResumeRefusal::Forward { step: 3, .. })
        ));
    }

    #[test]
    fn rolling_canary_back_to_shadow_turns_shadow_mode_on_and_is_not_forward() {
        let canary = MigrationDoc::at_phase(Phase::Canary, 1);
        let s = &plan::immediate(&canary, None).unwrap()[0];
        assert!(forward_moves(&StepTarget::of(&canary), s).is_empty());
    }
}
