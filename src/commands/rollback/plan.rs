//! Pure rollback planning: from the current migration state and the
//! operator's choice to the list of states to step through. No I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::runtime::migration::state::{MigrationDoc, Phase, round_share};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RollbackStrategy {
    /// One step to the target phase.
    Immediate,
    /// The share moves to the target in N steps, gated on the runtime's metrics.
    Gradual,
    /// Only the named components.
    Partial,
}

impl RollbackStrategy {
    /// The flag's spelling, also what a detached Job is given.
    pub fn name(self) -> &'static str {
        match self {
            RollbackStrategy::Immediate => "immediate",
            RollbackStrategy::Gradual => "gradual",
            RollbackStrategy::Partial => "partial",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// The hierarchical share and the `hierarchical_routing` flag.
    Routing,
    /// The layer feature flags.
    Features,
    /// The migrated data (needs the snapshot taken when it was migrated).
    State,
}

impl Component {
    /// The `--components` spelling, also what a detached Job is given.
    pub fn name(self) -> &'static str {
        match self {
            Component::Routing => "routing",
            Component::Features => "features",
            Component::State => "state",
        }
    }
}

/// Where one step leaves the migration state. Applying a step is idempotent:
/// it sets these values whatever the version is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTarget {
    pub phase: Phase,
    pub hierarchical_percent: f64,
    pub flags: BTreeMap<String, bool>,
    pub state_schema: u32,
}

impl StepTarget {
    pub fn of(doc: &MigrationDoc) -> StepTarget {
        StepTarget {
            phase: doc.phase,
            hierarchical_percent: doc.hierarchical_percent,
            flags: doc.flags.clone(),
            state_schema: doc.state_schema,
        }
    }

    /// The PUT body that moves `current` to this step.
    pub fn as_update(&self, current: &MigrationDoc) -> MigrationDoc {
        MigrationDoc {
            version: current.version,
            phase: self.phase,
            hierarchical_percent: self.hierarchical_percent,
            flags: self.flags.clone(),
            state_schema: self.state_schema,
            snapshots: current.snapshots.clone(),
        }
    }

    /// Has the runtime reached this step? (Used to resume after a crash
    /// between "applying" and "applied".)
    pub fn reached_by(&self, doc: &MigrationDoc) -> bool {
        doc.phase == self.phase
            && (doc.hierarchical_percent - self.hierarchical_percent).abs() < 0.005
            && doc.state_schema == self.state_schema
            && self.flags.iter().all(|(k, v)| doc.flag(k) == *v)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("nothing to roll back: the migration is already at {0} with {1} % hierarchical")]
    Nothing(Phase, f64),
    #[error(
        "--to-phase {target} is not behind the current phase {current}; a rollback only goes back"
    )]
    Forward { current: Phase, target: Phase },
    #[error(
        "cannot roll back the migrated state: it was migrated to the hierarchical layout and no snapshot of the flat state exists (a rollback must not pretend). Roll back only routing and features with --strategy partial --components routing,features, or restore the data from backup"
    )]
    NoSnapshot,
    #[error("--steps must be at least 1")]
    Steps,
    #[error(
        "--steps {0} is more than {MAX_STEPS}: every step is journaled, and the journal must fit on the migration ConfigMap"
    )]
    TooManySteps(u32),
    #[error("--strategy partial needs --components (routing, features, state)")]
    NoComponents,
}

/// The most steps a gradual rollback takes. The journal of every step is
/// checkpointed as one ConfigMap annotation (the API server caps a
/// ConfigMap's annotations at 256 KiB; a step journals to ~520 bytes), and
/// the plan is allocated up front, so an unchecked count is an allocation
/// as large as the number typed.
pub const MAX_STEPS: u32 = 100;

/// The full target of rolling back to `to`, given what the current state allows.
fn target_of(current: &MigrationDoc, to: Phase) -> Result<StepTarget, PlanError> {
    let t = MigrationDoc::at_phase(to, 0);
    let needs_state_back = current.state_schema == 2 && t.state_schema == 1;
    if needs_state_back && !current.snapshots.contains(&Phase::StateMigration) {
        return Err(PlanError::NoSnapshot);
    }
    Ok(StepTarget {
        phase: to,
        hierarchical_percent: t.hierarchical_percent,
        flags: t.flags,
        state_schema: t.state_schema,
    })
}

fn check_direction(current: &MigrationDoc, to: Phase) -> Result<(), PlanError> {
    if to > current.phase {
        return Err(PlanError::Forward {
            current: current.phase,
            target: to,
        });
    }
    Ok(())
}

/// `--strategy immediate`: one step to the target phase (default: the previous one).
pub fn immediate(current: &MigrationDoc, to: Option<Phase>) -> Result<Vec<StepTarget>, PlanError> {
    let to = to.unwrap_or_else(|| current.phase.previous());
    check_direction(current, to)?;
    let target = target_of(current, to)?;
    if target.reached_by(current) {
        return Err(PlanError::Nothing(
            current.phase,
            current.hierarchical_percent,
        ));
    }
    Ok(vec![target])
}

/// `--strategy gradual`: the share moves linearly in `steps` steps; the last
/// step lands exactly on the target phase, share, flags and state.
pub fn gradual(
    current: &MigrationDoc,
    to: Option<Phase>,
    steps: u32,
) -> Result<Vec<StepTarget>, PlanError> {
    if steps == 0 {
        return Err(PlanError::Steps);
    }
    if steps > MAX_STEPS {
        return Err(PlanError::TooManySteps(steps));
    }
    let to = to.unwrap_or_else(|| current.phase.previous());
    check_direction(current, to)?;
    let target = target_of(current, to)?;
    if target.reached_by(current) {
        return Err(PlanError::Nothing(
            current.phase,
            current.hierarchical_percent,
        ));
    }
    let from = current.hierarchical_percent;
    let mut out = Vec::with_capacity(steps as usize);
    for i in 1..steps {
        let share = round_share(
            from + (target.hierarchical_percent - from) * f64::from(i) / f64::from(steps),
        );
        out.push(StepTarget {
            hierarchical_percent: share,
            ..StepTarget::of(current)
        });
    }
    out.push(target);
    Ok(out)
}

/// `--strategy partial`: only the named components go back to the target phase's values.
pub fn partial(
    current: &MigrationDoc,
    to: Option<Phase>,
    components: &[Component],
) -> Result<Vec<StepTarget>, PlanError> {
    if components.is_empty() {
        return Err(PlanError::NoComponents);
    }
    let to = to.unwrap_or_else(|| current.phase.previous());
    check_direction(current, to)?;
    let full = MigrationDoc::at_phase(to, 0);
    let mut t = StepTarget::of(current);
    if components.contains(&Component::Routing) {
        t.hierarchical_percent = full.hierarchical_percent;
        t.flags.insert(
            "hierarchical_routing".into(),
            full.flag("hierarchical_routing"),
        );
        t.flags
            .insert("shadow_mode".into(), full.flag("shadow_mode"));
    }
    if components.contains(&Component::Features) {
        for f in [
            "cognitive_layers",
            "protocol_layer",
            "substrate_layer",
            "intelligence_layer",
        ] {
            t.flags.insert(f.into(), full.flag(f));
        }
    }
    if components.contains(&Component::State) {
        if current.state_schema == 2
            && full.state_schema == 1
            && !current.snapshots.contains(&Phase::StateMigration)
        {
            return Err(PlanError::NoSnapshot);
        }
        t.state_schema = full.state_schema;
        t.flags
            .insert("state_migration".into(), full.flag("state_migration"));
    }
    // The phase label moves only when everything it stands for has moved.
    let all = [Component::Routing, Component::Features, Component::State]
        .iter()
        .all(|c| components.contains(c));
    if all {
        t.phase = to;
    }
    if t.reached_by(current) {
        return Err(PlanError::Nothing(
            current.phase,
            current.hierarchical_percent,
        ));
    }
    Ok(vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(p: Phase) -> MigrationDoc {
        let mut d = MigrationDoc::at_phase(p, 4);
        if p.migrates_state() {
            d.snapshots = vec![Phase::StateMigration];
        }
        d
    }

    #[test]
    fn gradual_reaches_zero_and_lands_exactly_on_the_target() {
        // The original gradual strategy started at 100 % and never reached 0.
        let steps = gradual(&at(Phase::Full), Some(Phase::Flat), 3).unwrap();
        let shares: Vec<f64> = steps.iter().map(|s| s.hierarchical_percent).collect();
        assert_eq!(shares, vec![66.67, 33.33, 0.0]);
        assert_eq!(
            steps.last().unwrap(),
            &target_of(&at(Phase::Full), Phase::Flat).unwrap()
        );
        assert!(
            steps[..2].iter().all(|s| s.phase == Phase::Full),
            "only the share moves before the last step"
        );
        let steps = gradual(&at(Phase::RampUp), None, 7).unwrap();
        assert_eq!(steps.len(), 7);
        assert_eq!(steps.last().unwrap().hierarchical_percent, 25.0);
        assert_eq!(steps.last().unwrap().phase, Phase::StateMigration);
    }

    #[test]
    fn immediate_defaults_to_the_previous_phase_and_flat_turns_everything_off() {
        let s = immediate(&at(Phase::Canary), None).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].phase, Phase::Shadow);
        assert!(s[0].flags["shadow_mode"]);
        let s = immediate(&at(Phase::Full), Some(Phase::Flat)).unwrap();
        assert!(s[0].flags.values().all(|v| !v));
        assert_eq!(s[0].state_schema, 1);
        assert_eq!(
            immediate(&at(Phase::Flat), None),
            Err(PlanError::Nothing(Phase::Flat, 0.0))
        );
        assert!(matches!(
            immediate(&at(Phase::Canary), Some(Phase::Full)),
            Err(PlanError::Forward { .. })
        ));
    }

    #[test]
    fn the_step_count_is_bounded_before_anything_is_allocated() {
        assert_eq!(
            gradual(&at(Phase::Full), None, u32::MAX),
            Err(PlanError::TooManySteps(u32::MAX))
        );
        assert_eq!(
            gradual(&at(Phase::Full), Some(Phase::Flat), MAX_STEPS)
                .unwrap()
                .len(),
            MAX_STEPS as usize
        );
    }

    #[test]
    fn state_without_snapshot_is_refused_but_routing_alone_is_allowed() {
        let mut d = MigrationDoc::at_phase(Phase::RampUp, 2);
        d.snapshots.clear();
        assert_eq!(
            immediate(&d, Some(Phase::Canary)),
            Err(PlanError::NoSnapshot)
        );
        assert_eq!(
            partial(&d, Some(Phase::Canary), &[Component::State]),
            Err(PlanError::NoSnapshot)
        );
        let s = partial(&d, Some(Phase::Canary), &[Component::Routing]).unwrap();
        assert_eq!(s[0].hierarchical_percent, 5.0);
        assert_eq!(
            s[0].phase,
            Phase::RampUp,
            "the phase label stays: state and features did not move"
        );
        assert!(s[0].flags["protocol_layer"], "features untouched");
        // Rolling back to a phase that keeps the hierarchical layout needs no snapshot.
        assert!(immediate(&d, Some(Phase::StateMigration)).is_ok());
    }

    #[test]
    fn partial_features_only() {
        let s = partial(
            &at(Phase::Full),
            Some(Phase::StateMigration),
            &[Component::Features],
        )
        .unwrap();
        assert!(!s[0].flags["protocol_layer"] && !s[0].flags["intelligence_layer"]);
        assert!(s[0].flags["cognitive_layers"]);
        assert_eq!(s[0].hierarchical_percent, 100.0);
    }

    #[test]
    fn reached_by_recognises_an_applied_step() {
        let d = at(Phase::RampUp);
        let s = &immediate(&d, None).unwrap()[0];
        let mut after = s.as_update(&d);
        after.version += 1;
        assert!(s.reached_by(&after));
        assert!(!s.reached_by(&d));
    }
}
