//! What each flag of the migration document switches in the runtime.
//!
//! The flags are read once per PUT into a bit set the hot path loads
//! without a lock. Every flag in `state::FLAGS` has an entry in `GATES`
//! except `state_migration`, which is not a switch but the read-out of
//! `state_schema` (the data layout only a snapshot can change back).

use super::state::MigrationDoc;
use crate::runtime::layer::Layer;

const ROUTING: u8 = 1;
const SHADOW: u8 = 1 << 1;
const COGNITIVE: u8 = 1 << 2;
const PROTOCOL: u8 = 1 << 3;
const INTELLIGENCE: u8 = 1 << 4;
const SUBSTRATE: u8 = 1 << 5;

/// Each switch flag and the bit it sets.
const GATES: [(&str, u8); 6] = [
    ("hierarchical_routing", ROUTING),
    ("shadow_mode", SHADOW),
    ("cognitive_layers", COGNITIVE),
    ("protocol_layer", PROTOCOL),
    ("intelligence_layer", INTELLIGENCE),
    ("substrate_layer", SUBSTRATE),
];

/// The flag that is a read-out of the data layout, not a switch.
pub const SCHEMA_FLAG: &str = "state_migration";

/// The switches as `GET /api/v1/status` shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InEffect {
    pub hierarchical_routing: bool,
    pub shadow: bool,
    /// Layers a signal may go on to on the hierarchical path.
    pub open_layers: Vec<Layer>,
    /// Whether `command` neurons run on the hierarchical path.
    pub command_neurons: bool,
}

/// The switches in effect for one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features(u8);

impl Features {
    /// The hierarchical architecture at full strength: a runtime without a
    /// migration document, and the shadow run that is compared with flat.
    pub const ALL: Features =
        Features(ROUTING | SHADOW | COGNITIVE | PROTOCOL | INTELLIGENCE | SUBSTRATE);

    pub fn of(doc: &MigrationDoc) -> Features {
        Features(
            GATES
                .iter()
                .filter(|(name, _)| doc.flag(name))
                .fold(0, |acc, (_, bit)| acc | bit),
        )
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn from_bits(bits: u8) -> Features {
        Features(bits & Features::ALL.0)
    }

    /// Off: every request takes the flat path, whatever the share says.
    pub fn routes_hierarchical(self) -> bool {
        self.0 & ROUTING != 0
    }

    /// On: a request answered flat also runs hierarchically, to count divergence.
    pub fn shadow(self) -> bool {
        self.0 & SHADOW != 0
    }

    /// What the hot path applies now, for `GET /api/v1/status`: read from
    /// the same bits a signal reads, so a verify step sees the switches in
    /// effect, not only the stored document.
    pub fn in_effect(self) -> InEffect {
        InEffect {
            hierarchical_routing: self.routes_hierarchical(),
            shadow: self.shadow(),
            open_layers: Layer::ALL
                .into_iter()
                .filter(|l| self.gate(*l, false).is_none())
                .collect(),
            command_neurons: self.0 & SUBSTRATE != 0,
        }
    }

    /// The flag that keeps a neuron off the hierarchical path, if any is off.
    /// L1 is the entry of both architectures and never gated by a layer flag.
    pub fn gate(self, layer: Layer, runs_a_command: bool) -> Option<&'static str> {
        let layer_flag = match layer {
            Layer::L1 => None,
            Layer::L2 | Layer::L3 => Some(("cognitive_layers", COGNITIVE)),
            Layer::L4 => Some(("protocol_layer", PROTOCOL)),
            Layer::L5 => Some(("intelligence_layer", INTELLIGENCE)),
        };
        let command_flag = runs_a_command.then_some(("substrate_layer", SUBSTRATE));
        [layer_flag, command_flag]
            .into_iter()
            .flatten()
            .find(|(_, bit)| self.0 & bit == 0)
            .map(|(name, _)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::migration::state::{FLAGS, Phase};

    #[test]
    fn every_flag_is_a_switch_or_the_schema_read_out() {
        for flag in FLAGS {
            let switch = GATES.iter().any(|(name, _)| *name == flag);
            assert!(switch ^ (flag == SCHEMA_FLAG), "{flag} has no effect");
        }
        let union = GATES.iter().fold(0u8, |acc, (_, b)| acc | b);
        assert_eq!(
            union.count_ones() as usize,
            GATES.len(),
            "two flags share a bit"
        );
    }

    #[test]
    fn each_phase_opens_the_layers_the_table_says() {
        let open = |p: Phase| -> Vec<Layer> {
            let f = Features::of(&MigrationDoc::at_phase(p, 0));
            Layer::ALL
                .into_iter()
                .filter(|l| f.gate(*l, false).is_none())
                .collect()
        };
        assert_eq!(open(Phase::Flat), [Layer::L1]);
        assert_eq!(open(Phase::Canary), [Layer::L1]);
        assert_eq!(
            open(Phase::StateMigration),
            [Layer::L1, Layer::L2, Layer::L3]
        );
        assert_eq!(
            open(Phase::RampUp),
            [Layer::L1, Layer::L2, Layer::L3, Layer::L4]
        );
        assert_eq!(open(Phase::Full), Layer::ALL);
        let canary = Features::of(&MigrationDoc::at_phase(Phase::Canary, 0));
        assert!(canary.routes_hierarchical() && !canary.shadow());
        assert_eq!(canary.gate(Layer::L1, true), Some("substrate_layer"));
        let ramp = Features::of(&MigrationDoc::at_phase(Phase::RampUp, 0));
        assert_eq!(ramp.gate(Layer::L5, true), Some("intelligence_layer"));
        assert_eq!(ramp.gate(Layer::L4, true), None);
        assert!(!Features::of(&MigrationDoc::at_phase(Phase::Flat, 0)).routes_hierarchical());
        assert_eq!(Features::from_bits(Features::ALL.bits()), Features::ALL);
    }
}
