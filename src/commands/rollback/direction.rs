//! The engine's direction: `rollback` walks the migration back, `migrate`
//! walks it forward, through the same journal, gates, lock and resume. Pure:
//! the forward plan, the moves a step makes against its direction, and the
//! rewrite of a journal whose gate failed.

use serde::{Deserialize, Serialize};

use super::journal::{Journal, JournalStep, RollbackStatus, StepStatus};
use super::plan::{MAX_STEPS, StepTarget};
use super::resume::forward_moves;
use crate::runtime::migration::state::{MigrationDoc, Phase, round_share};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `hal9ctl rollback`. The default, so journals written before there was
    /// a direction read as the rollbacks they are.
    #[default]
    Back,
    /// `hal9ctl migrate`.
    Forward,
}

impl Direction {
    pub fn command(self) -> &'static str {
        match self {
            Direction::Back => "rollback",
            Direction::Forward => "migrate",
        }
    }

    /// What a step from `from` to `to` moves against this direction; empty
    /// when it only goes this way (or stays).
    pub fn wrong_way(self, from: &StepTarget, to: &StepTarget) -> Vec<String> {
        match self {
            Direction::Back => forward_moves(from, to),
            Direction::Forward => backward_moves(from, to),
        }
    }
}

/// What a step from `from` to `to` moves back. `shadow_mode` is the one flag
/// a forward step may turn off: from canary on, real traffic decides.
pub fn backward_moves(from: &StepTarget, to: &StepTarget) -> Vec<String> {
    let mut moves = Vec::new();
    if to.phase < from.phase {
        moves.push(format!("phase {} → {}", from.phase, to.phase));
    }
    if to.hierarchical_percent + 0.005 < from.hierarchical_percent {
        moves.push(format!(
            "hierarchical {:.2} % → {:.2} %",
            from.hierarchical_percent, to.hierarchical_percent
        ));
    }
    if to.state_schema < from.state_schema {
        moves.push("state layout hierarchical → flat".to_string());
    }
    for (flag, was) in &from.flags {
        let on = to.flags.get(flag).copied().unwrap_or(false);
        if *was && !on && flag != "shadow_mode" {
            moves.push(format!("flag {flag} on → off"));
        }
    }
    moves
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForwardError {
    #[error("nothing to migrate: the migration is already at {0} with {1} % hierarchical")]
    Nothing(Phase, f64),
    #[error(
        "--to-phase {target} is behind the current phase {current}; a migration only goes forward (to go back: hal9ctl rollback --to-phase {target})"
    )]
    Behind { current: Phase, target: Phase },
    #[error("--steps must be at least 1")]
    Steps,
    #[error(
        "--steps {steps} per phase makes {total} steps from {from} to {to}, more than {MAX_STEPS}: every step is journaled, and the journal must fit on the migration ConfigMap"
    )]
    TooManySteps {
        steps: u32,
        total: u64,
        from: Phase,
        to: Phase,
    },
}

fn phase_target(p: Phase, at_least_schema: u32) -> StepTarget {
    let mut t = StepTarget::of(&MigrationDoc::at_phase(p, 0));
    // A layout already migrated stays migrated: going forward never asks
    // the runtime to put the data back.
    t.state_schema = t.state_schema.max(at_least_schema);
    t
}

/// The forward walk from the current state to `to`, one phase at a time.
/// Where a phase raises the share, it rises in `steps` steps inside the
/// phase before it (only the share moves); the last step of each phase
/// lands exactly on that phase's share, flags and state layout.
pub fn plan(
    current: &MigrationDoc,
    to: Phase,
    steps: u32,
) -> Result<Vec<StepTarget>, ForwardError> {
    if steps == 0 {
        return Err(ForwardError::Steps);
    }
    if to < current.phase {
        return Err(ForwardError::Behind {
            current: current.phase,
            target: to,
        });
    }
    let phases: Vec<Phase> = Phase::ALL
        .iter()
        .copied()
        .filter(|p| *p >= current.phase && *p <= to)
        .collect();
    let mut from = StepTarget::of(current);
    let mut out = Vec::new();
    for p in phases {
        let target = phase_target(p, from.state_schema);
        if target.reached_by(&from.as_update(current)) {
            continue;
        }
        let rise = target.hierarchical_percent - from.hierarchical_percent;
        let sub = if rise > 0.005 { steps } else { 1 };
        let total = out.len() as u64 + u64::from(sub);
        if total > u64::from(MAX_STEPS) {
            return Err(ForwardError::TooManySteps {
                steps,
                total,
                from: current.phase,
                to,
            });
        }
        let start = from.hierarchical_percent;
        for i in 1..sub {
            out.push(StepTarget {
                hierarchical_percent: round_share(start + rise * f64::from(i) / f64::from(sub)),
                ..from.clone()
            });
        }
        out.push(target.clone());
        from = target;
    }
    if out.is_empty() {
        return Err(ForwardError::Nothing(
            current.phase,
            current.hierarchical_percent,
        ));
    }
    Ok(out)
}

/// The direction step `index` of `j` moves in: a forward journal whose
/// gate failed with `--on-failure rollback` ends in steps that go back.
pub fn of_step(j: &Journal, index: usize) -> Direction {
    match j.aborted_after {
        Some(a) if index > a && j.direction == Direction::Forward => Direction::Back,
        _ => j.direction,
    }
}

/// A gate failed after step `failed`: drop the steps not yet applied and go
/// to `to` in one step. Recorded as a field, so the outcome survives any
/// later reason (an interrupted or failed abort step, a resume).
pub fn abort_to(j: &mut Journal, failed: usize, to: StepTarget) {
    j.steps.truncate(failed + 1);
    j.steps.push(JournalStep {
        index: failed + 1,
        target: to,
        status: StepStatus::Pending,
        applied_at: None,
        version_after: None,
        gate: None,
    });
    j.aborted_after = Some(failed);
}

/// How a run whose steps are all applied ended.
pub fn finished_status(j: &Journal) -> RollbackStatus {
    if j.aborted_after.is_some() {
        RollbackStatus::AbortedToTarget
    } else {
        RollbackStatus::Completed
    }
}

/// `--on-failure rollback`: the last phase the forward walk fully reached
/// and saw pass its gates before step `failed`, else the phase it started at.
pub fn last_good_phase(j: &Journal, failed: usize) -> Phase {
    let started = j.from_phase.unwrap_or(Phase::Flat);
    j.steps
        .iter()
        .take(failed)
        .filter(|s| s.status == StepStatus::Applied)
        .filter(|s| s.gate.as_ref().is_some_and(|g| g.passed))
        .filter(|s| {
            (s.target.hierarchical_percent - s.target.phase.share()).abs() < 0.005
                && s.target.flags == s.target.phase.flags()
        })
        .map(|s| s.target.phase)
        .max()
        .unwrap_or(started)
        .max(started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::rollback::plan::{self, RollbackStrategy};

    fn journal(direction: Direction, steps: Vec<StepTarget>) -> Journal {
        Journal {
            id: "mg-1".into(),
            strategy: RollbackStrategy::Gradual,
            components: vec![],
            target: "http://127.0.0.1:8080".into(),
            target_uid: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            started_by: "op".into(),
            status: RollbackStatus::Running,
            reason: None,
            interval_ms: 0,
            direction,
            aborted_after: None,
            from_phase: Some(Phase::Flat),
            steps: steps
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

    #[test]
    fn a_fresh_runtime_walks_every_phase_and_lands_exactly_on_full() {
        let flat = MigrationDoc::at_phase(Phase::Flat, 0);
        let s = plan(&flat, Phase::Full, 1).unwrap();
        let phases: Vec<Phase> = s.iter().map(|t| t.phase).collect();
        assert_eq!(
            phases,
            vec![
                Phase::Shadow,
                Phase::Canary,
                Phase::StateMigration,
                Phase::RampUp,
                Phase::Full
            ]
        );
        assert_eq!(
            s.last().unwrap(),
            &StepTarget::of(&MigrationDoc::at_phase(Phase::Full, 0))
        );
        let mut from = StepTarget::of(&flat);
        for t in &s {
            assert!(backward_moves(&from, t).is_empty(), "{from:?} → {t:?}");
            from = t.clone();
        }
    }

    #[test]
    fn the_share_rises_inside_the_phase_before_and_flat_to_shadow_is_one_step() {
        let flat = MigrationDoc::at_phase(Phase::Flat, 0);
        let s = plan(&flat, Phase::StateMigration, 4).unwrap();
        let got: Vec<(Phase, f64)> = s
            .iter()
            .map(|t| (t.phase, t.hierarchical_percent))
            .collect();
        assert_eq!(
            got,
            vec![
                (Phase::Shadow, 0.0),
                (Phase::Shadow, 1.25),
                (Phase::Shadow, 2.5),
                (Phase::Shadow, 3.75),
                (Phase::Canary, 5.0),
                (Phase::Canary, 10.0),
                (Phase::Canary, 15.0),
                (Phase::Canary, 20.0),
                (Phase::StateMigration, 25.0),
            ]
        );
        assert_eq!(s[7].state_schema, 1, "the data stays flat until the phase");
        assert_eq!(s[8].state_schema, 2);
    }

    #[test]
    fn backwards_nothing_and_too_many_steps_are_refused() {
        let canary = MigrationDoc::at_phase(Phase::Canary, 3);
        assert!(matches!(
            plan(&canary, Phase::Shadow, 1),
            Err(ForwardError::Behind { .. })
        ));
        assert_eq!(
            plan(&canary, Phase::Canary, 1),
            Err(ForwardError::Nothing(Phase::Canary, 5.0))
        );
        assert_eq!(plan(&canary, Phase::Full, 0), Err(ForwardError::Steps));
        assert!(matches!(
            plan(
                &MigrationDoc::at_phase(Phase::Flat, 0),
                Phase::Full,
                u32::MAX
            ),
            Err(ForwardError::TooManySteps { .. })
        ));
    }

    #[test]
    fn a_phase_left_half_rolled_back_is_completed_first() {
        // A gradual rollback paused at canary with 2 %: forward to canary restores 5 %.
        let mut d = MigrationDoc::at_phase(Phase::Canary, 3);
        d.hierarchical_percent = 2.0;
        let s = plan(&d, Phase::Canary, 1).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].hierarchical_percent, 5.0);
    }

    #[test]
    fn the_other_way_is_named_for_each_direction() {
        let canary = StepTarget::of(&MigrationDoc::at_phase(Phase::Canary, 0));
        let ramp = StepTarget::of(&MigrationDoc::at_phase(Phase::RampUp, 0));
        assert!(Direction::Forward.wrong_way(&canary, &ramp).is_empty());
        let m = Direction::Forward.wrong_way(&ramp, &canary).join(", ");
        assert!(
            m.contains("phase ramp_up → canary") && m.contains("state layout"),
            "{m}"
        );
        assert!(Direction::Back.wrong_way(&ramp, &canary).is_empty());
        assert!(!Direction::Back.wrong_way(&canary, &ramp).is_empty());
    }

    #[test]
    fn an_aborted_run_stays_aborted_whatever_its_reason_says_later() {
        // Before: "aborted" was read from the words "aborted to the target" in
        // the reason, which an interrupted abort step overwrote.
        let full = {
            let mut d = MigrationDoc::at_phase(Phase::Full, 0);
            d.snapshots = vec![Phase::StateMigration];
            d
        };
        let steps = plan::gradual(&full, Some(Phase::Flat), 4).unwrap();
        let last = steps.last().cloned().unwrap();
        let mut j = journal(Direction::Back, steps);
        j.steps[0].status = StepStatus::Applied;
        abort_to(&mut j, 0, last.clone());
        assert_eq!(j.steps.len(), 2);
        assert_eq!(j.steps[1].index, 1);
        assert_eq!(j.steps[1].target, last);
        j.reason = Some("interrupted (Ctrl-C) after a completed step".into());
        j.steps[1].status = StepStatus::Applied;
        assert_eq!(finished_status(&j), RollbackStatus::AbortedToTarget);
        assert_eq!(of_step(&j, 1), Direction::Back);
        let untouched = journal(Direction::Back, vec![last]);
        assert_eq!(finished_status(&untouched), RollbackStatus::Completed);
    }

    #[test]
    fn a_forward_run_rolled_back_on_failure_goes_back_to_its_last_good_phase() {
        let flat = MigrationDoc::at_phase(Phase::Flat, 0);
        let steps = plan(&flat, Phase::RampUp, 2).unwrap();
        let mut j = journal(Direction::Forward, steps);
        // shadow, shadow 2.5, canary, canary 15, state_migration, state_migration 50, ramp_up
        for (i, s) in j.steps.iter_mut().take(4).enumerate() {
            s.status = StepStatus::Applied;
            s.gate = Some(crate::commands::rollback::journal::GateResult {
                passed: i < 3,
                detail: vec![],
                inconclusive: false,
                synthetic_probes: 0,
                pods: None,
            });
        }
        assert_eq!(last_good_phase(&j, 3), Phase::Canary);
        assert_eq!(last_good_phase(&j, 1), Phase::Shadow);
        assert_eq!(last_good_phase(&j, 0), Phase::Flat);
        // A phase whose own gate failed is not good.
        j.steps[2].gate.as_mut().unwrap().passed = false;
        assert_eq!(last_good_phase(&j, 3), Phase::Shadow);
        let back = StepTarget::of(&MigrationDoc::at_phase(Phase::Canary, 0));
        abort_to(&mut j, 3, back);
        assert_eq!(of_step(&j, 3), Direction::Forward);
        assert_eq!(of_step(&j, 4), Direction::Back);
        assert_eq!(j.steps.len(), 5);
    }
}
