//! The migration from the flat architecture to the hierarchical one: phases,
//! the hierarchical share, feature flags, and a version for optimistic concurrency.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::features::SCHEMA_FLAG;

/// The phases in order. `Flat` is "before the migration": everything off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Flat,
    Shadow,
    Canary,
    StateMigration,
    RampUp,
    Full,
}

pub const FLAGS: [&str; 7] = [
    "shadow_mode",
    "hierarchical_routing",
    "state_migration",
    "cognitive_layers",
    "protocol_layer",
    "substrate_layer",
    "intelligence_layer",
];

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Flat,
        Phase::Shadow,
        Phase::Canary,
        Phase::StateMigration,
        Phase::RampUp,
        Phase::Full,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Flat => "flat",
            Phase::Shadow => "shadow",
            Phase::Canary => "canary",
            Phase::StateMigration => "state_migration",
            Phase::RampUp => "ramp_up",
            Phase::Full => "full",
        }
    }

    /// The hierarchical share the phase runs at, in percent.
    pub fn share(self) -> f64 {
        match self {
            Phase::Flat | Phase::Shadow => 0.0,
            Phase::Canary => 5.0,
            Phase::StateMigration => 25.0,
            Phase::RampUp => 75.0,
            Phase::Full => 100.0,
        }
    }

    /// The flags this phase switches on (each phase keeps those of the phases before it,
    /// except `shadow_mode`, which only Shadow uses: from Canary on, real traffic decides).
    pub fn flags(self) -> BTreeMap<String, bool> {
        let on: &[&str] = match self {
            Phase::Flat => &[],
            Phase::Shadow => &["shadow_mode"],
            Phase::Canary => &["hierarchical_routing"],
            Phase::StateMigration => &[
                "hierarchical_routing",
                "state_migration",
                "cognitive_layers",
            ],
            Phase::RampUp => &[
                "hierarchical_routing",
                "state_migration",
                "cognitive_layers",
                "protocol_layer",
                "substrate_layer",
            ],
            Phase::Full => &[
                "hierarchical_routing",
                "state_migration",
                "cognitive_layers",
                "protocol_layer",
                "substrate_layer",
                "intelligence_layer",
            ],
        };
        FLAGS
            .iter()
            .map(|f| (f.to_string(), on.contains(f)))
            .collect()
    }

    pub fn previous(self) -> Phase {
        let i = Phase::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Phase::ALL[i.saturating_sub(1)]
    }

    /// Whether being in this phase means data was migrated in a way that
    /// cannot be undone without a snapshot.
    pub fn migrates_state(self) -> bool {
        self >= Phase::StateMigration
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown phase {0:?}: expected one of flat, shadow, canary, state_migration, ramp_up, full"
)]
pub struct UnknownPhase(pub String);

impl FromStr for Phase {
    type Err = UnknownPhase;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        match norm.as_str() {
            "flat" => Ok(Phase::Flat),
            "shadow" => Ok(Phase::Shadow),
            "canary" => Ok(Phase::Canary),
            "state_migration" | "statemigration" => Ok(Phase::StateMigration),
            "ramp_up" | "rampup" => Ok(Phase::RampUp),
            "full" => Ok(Phase::Full),
            _ => Err(UnknownPhase(s.to_string())),
        }
    }
}

/// The document of `GET|PUT /admin/migration` (ARCHITECTURE §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationDoc {
    pub version: u64,
    pub phase: Phase,
    pub hierarchical_percent: f64,
    pub flags: BTreeMap<String, bool>,
    /// Which data layout the runtime's state is in: 1 flat, 2 hierarchical.
    /// Entering StateMigration moves it to 2; only a snapshot brings it back.
    #[serde(default = "flat_schema")]
    pub state_schema: u32,
    /// Phases for which a snapshot of the state they replaced exists.
    #[serde(default)]
    pub snapshots: Vec<Phase>,
}

fn flat_schema() -> u32 {
    1
}

/// A runtime with no recorded migration runs the hierarchical architecture
/// it was built for. It never held flat data, so it has no snapshot to roll
/// state back to — and a rollback says so instead of pretending.
impl Default for MigrationDoc {
    fn default() -> Self {
        MigrationDoc::at_phase(Phase::Full, 0)
    }
}

impl MigrationDoc {
    pub fn at_phase(phase: Phase, version: u64) -> MigrationDoc {
        MigrationDoc {
            version,
            phase,
            hierarchical_percent: phase.share(),
            flags: phase.flags(),
            state_schema: if phase.migrates_state() { 2 } else { 1 },
            snapshots: Vec::new(),
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.get(name).copied().unwrap_or(false)
    }

    /// The share in hundredths of a percent: the unit the router compares buckets with.
    pub fn share_bp(&self) -> u32 {
        percent_to_bp(self.hierarchical_percent)
    }
}

/// 0–100 % → 0–10 000 hundredths of a percent, rounded.
pub fn percent_to_bp(p: f64) -> u32 {
    (p.clamp(0.0, 100.0) * 100.0).round() as u32
}

/// Round to 0.01 %: the precision the share is kept at.
pub fn round_share(p: f64) -> f64 {
    f64::from(percent_to_bp(p)) / 100.0
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "stale version {given}: the migration state is at version {current}; read it again and retry"
    )]
    Stale { given: u64, current: u64 },
    #[error("hierarchical_percent {0} is outside 0–100")]
    Share(f64),
    #[error("unknown flag {0:?}")]
    UnknownFlag(String),
    #[error(
        "cannot roll state back to the flat layout: the data was migrated when entering {0}, and no snapshot of the state before it exists"
    )]
    NoSnapshot(Phase),
    #[error("state_schema {0} is not 1 (flat) or 2 (hierarchical)")]
    Schema(u32),
}

/// The body of `PUT /admin/migration`: `version` (the one it was read at)
/// plus the fields to change. A field left out keeps its current value, so
/// a client that does not know `state_schema` cannot roll the data layout
/// back by omission. `flags`, when named, is the whole flag set: flags
/// missing from it are off, as in the phase table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationPatch {
    pub version: u64,
    pub phase: Option<Phase>,
    pub hierarchical_percent: Option<f64>,
    pub flags: Option<BTreeMap<String, bool>>,
    pub state_schema: Option<u32>,
    /// Accepted so that a document read by GET can be sent back whole;
    /// snapshots are taken and consumed by the runtime, never set by a client.
    #[serde(default, rename = "snapshots")]
    _snapshots: Option<serde::de::IgnoredAny>,
}

impl MigrationPatch {
    /// The whole document this patch proposes on top of `current`.
    pub fn over(&self, current: &MigrationDoc) -> MigrationDoc {
        MigrationDoc {
            version: self.version,
            phase: self.phase.unwrap_or(current.phase),
            hierarchical_percent: self
                .hierarchical_percent
                .unwrap_or(current.hierarchical_percent),
            flags: self.flags.clone().unwrap_or_else(|| current.flags.clone()),
            state_schema: self.state_schema.unwrap_or(current.state_schema),
            snapshots: current.snapshots.clone(),
        }
    }
}

/// Validate a proposed document against the current one and produce the next
/// stored state: version bumped, share rounded, snapshots kept and taken.
pub fn apply_update(
    current: &MigrationDoc,
    proposed: &MigrationDoc,
) -> Result<MigrationDoc, MigrationError> {
    if proposed.version != current.version {
        return Err(MigrationError::Stale {
            given: proposed.version,
            current: current.version,
        });
    }
    if !(0.0..=100.0).contains(&proposed.hierarchical_percent)
        || proposed.hierarchical_percent.is_nan()
    {
        return Err(MigrationError::Share(proposed.hierarchical_percent));
    }
    if let Some(bad) = proposed.flags.keys().find(|k| !FLAGS.contains(&k.as_str())) {
        return Err(MigrationError::UnknownFlag(bad.clone()));
    }
    if !(1..=2).contains(&proposed.state_schema) {
        return Err(MigrationError::Schema(proposed.state_schema));
    }
    let mut snapshots = current.snapshots.clone();
    // Entering a state-migrating phase from before one: the flat state is
    // what it replaces, so snapshot it before the layout changes.
    if proposed.state_schema == 2
        && current.state_schema == 1
        && !snapshots.contains(&Phase::StateMigration)
    {
        snapshots.push(Phase::StateMigration);
    }
    if proposed.state_schema == 1 && current.state_schema == 2 {
        if !snapshots.contains(&Phase::StateMigration) {
            return Err(MigrationError::NoSnapshot(Phase::StateMigration));
        }
        // The snapshot is consumed: the state is flat again.
        snapshots.retain(|p| *p != Phase::StateMigration);
    }
    let mut flags = Phase::Flat.flags();
    flags.extend(proposed.flags.clone());
    // `state_migration` reports the layout the data is in; only
    // `state_schema` (through a snapshot) changes that, so the flag cannot
    // claim a layout the state is not in.
    flags.insert(SCHEMA_FLAG.to_string(), proposed.state_schema == 2);
    Ok(MigrationDoc {
        version: current.version + 1,
        phase: proposed.phase,
        hierarchical_percent: round_share(proposed.hierarchical_percent),
        flags,
        state_schema: proposed.state_schema,
        snapshots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_match_the_table() {
        assert_eq!(Phase::Canary.share(), 5.0);
        assert!(Phase::Shadow.flags()["shadow_mode"]);
        assert!(!Phase::Canary.flags()["shadow_mode"]);
        assert!(Phase::RampUp.flags()["substrate_layer"]);
        assert!(!Phase::RampUp.flags()["intelligence_layer"]);
        assert!(Phase::Full.flags().values().filter(|v| **v).count() == 6);
        assert_eq!(Phase::Canary.previous(), Phase::Shadow);
        assert_eq!(Phase::Flat.previous(), Phase::Flat);
        assert_eq!("ramp-up".parse::<Phase>(), Ok(Phase::RampUp));
    }

    #[test]
    fn stale_versions_are_refused() {
        let cur = MigrationDoc::at_phase(Phase::Canary, 7);
        let mut p = cur.clone();
        p.version = 6;
        assert_eq!(
            apply_update(&cur, &p),
            Err(MigrationError::Stale {
                given: 6,
                current: 7
            })
        );
        p.version = 7;
        p.hierarchical_percent = 12.3456;
        let next = apply_update(&cur, &p).unwrap();
        assert_eq!(next.version, 8);
        assert_eq!(next.hierarchical_percent, 12.35);
    }

    #[test]
    fn entering_state_migration_snapshots_and_rollback_consumes_it() {
        let cur = MigrationDoc::at_phase(Phase::Canary, 1);
        let mut p = MigrationDoc::at_phase(Phase::StateMigration, 1);
        p.snapshots = vec![];
        let next = apply_update(&cur, &p).unwrap();
        assert_eq!(next.snapshots, vec![Phase::StateMigration]);
        let mut back = MigrationDoc::at_phase(Phase::Canary, next.version);
        back.state_schema = 1;
        let after = apply_update(&next, &back).unwrap();
        assert_eq!(after.state_schema, 1);
        assert!(after.snapshots.is_empty());
    }

    fn patch(json: &str) -> MigrationPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name() {
        let cur = MigrationDoc::at_phase(Phase::Full, 4);
        let p = patch(r#"{"version":4,"phase":"ramp_up","hierarchical_percent":75.0}"#);
        let next = apply_update(&cur, &p.over(&cur)).unwrap();
        assert_eq!(next.phase, Phase::RampUp);
        assert_eq!(next.state_schema, 2, "schema left out stays hierarchical");
        assert_eq!(next.flags, cur.flags, "flags left out stay");
        let only_share = patch(r#"{"version":5,"hierarchical_percent":80.0}"#);
        let after = apply_update(&next, &only_share.over(&next)).unwrap();
        assert_eq!(
            (after.phase, after.hierarchical_percent),
            (Phase::RampUp, 80.0)
        );
    }

    #[test]
    fn a_patch_needs_a_version_and_known_fields() {
        assert!(serde_json::from_str::<MigrationPatch>(r#"{"phase":"full"}"#).is_err());
        assert!(
            serde_json::from_str::<MigrationPatch>(r#"{"version":1,"phasse":"full"}"#).is_err()
        );
        let whole = serde_json::to_string(&MigrationDoc::at_phase(Phase::Canary, 2)).unwrap();
        assert!(
            serde_json::from_str::<MigrationPatch>(&whole).is_ok(),
            "a GET document goes back whole"
        );
    }

    #[test]
    fn state_migration_reports_the_schema_and_cannot_be_set_apart_from_it() {
        let cur = MigrationDoc::at_phase(Phase::Canary, 1);
        let mut p = cur.clone();
        p.flags.insert("state_migration".into(), true);
        let next = apply_update(&cur, &p).unwrap();
        assert!(!next.flag("state_migration"), "the data is still flat");
        let mut p = MigrationDoc::at_phase(Phase::StateMigration, next.version);
        p.flags.clear();
        let after = apply_update(&next, &p).unwrap();
        assert!(after.flag("state_migration"), "the data was migrated");
    }

    #[test]
    fn state_rollback_without_a_snapshot_is_refused() {
        // A runtime that started directly in ramp_up never took the snapshot.
        let cur = MigrationDoc::at_phase(Phase::RampUp, 3);
        let mut back = MigrationDoc::at_phase(Phase::Canary, 3);
        back.state_schema = 1;
        assert_eq!(
            apply_update(&cur, &back),
            Err(MigrationError::NoSnapshot(Phase::StateMigration))
        );
    }
}
