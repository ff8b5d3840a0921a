//! How the parser spells the library's plain enums. The mapping lives here so
//! that output/ and commands/ stay free of clap (no cli → commands → cli loop).
//! The spellings themselves are the enums' own `name()`: a detached Job's
//! command line is written with them, without clap.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::commands::audit::AuditExport;
use crate::commands::rollback::plan::{Component, RollbackStrategy};
use crate::commands::rollback::settings::{ForwardOnFailure, OnFailure};
use crate::output::OutputFormat;

impl ValueEnum for OutputFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Nagios,
            OutputFormat::Prometheus,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            OutputFormat::Table => PossibleValue::new("table"),
            OutputFormat::Json => PossibleValue::new("json"),
            OutputFormat::Nagios => PossibleValue::new("nagios")
                .help("Nagios plugin format (health only): status line, perfdata, details"),
            OutputFormat::Prometheus => {
                PossibleValue::new("prometheus").help("node_exporter textfile format (health only)")
            }
        })
    }
}

impl ValueEnum for RollbackStrategy {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            RollbackStrategy::Immediate,
            RollbackStrategy::Gradual,
            RollbackStrategy::Partial,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let v = PossibleValue::new(self.name());
        Some(match self {
            RollbackStrategy::Immediate => v.help("One step to the target phase"),
            RollbackStrategy::Gradual => {
                v.help("The share moves to the target in N steps, gated on the runtime's metrics")
            }
            RollbackStrategy::Partial => v.help("Only the named components"),
        })
    }
}

impl ValueEnum for Component {
    fn value_variants<'a>() -> &'a [Self] {
        &[Component::Routing, Component::Features, Component::State]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let v = PossibleValue::new(self.name());
        Some(match self {
            Component::Routing => {
                v.help("The hierarchical share and the `hierarchical_routing` flag")
            }
            Component::Features => v.help("The layer feature flags"),
            Component::State => {
                v.help("The migrated data (needs the snapshot taken when it was migrated)")
            }
        })
    }
}

impl ValueEnum for OnFailure {
    fn value_variants<'a>() -> &'a [Self] {
        &[OnFailure::Abort, OnFailure::Pause]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let v = PossibleValue::new(self.name());
        Some(match self {
            OnFailure::Abort => v.help("Go straight to the target (immediate)"),
            OnFailure::Pause => v.help("Stop and wait for --resume or --abort"),
        })
    }
}

impl ValueEnum for ForwardOnFailure {
    fn value_variants<'a>() -> &'a [Self] {
        &[ForwardOnFailure::Stop, ForwardOnFailure::Rollback]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let v = PossibleValue::new(self.name());
        Some(match self {
            ForwardOnFailure::Stop => {
                v.help("Stop after the failed step and wait for --resume or --abort")
            }
            ForwardOnFailure::Rollback => v.help("Go back to the last phase whose gates passed"),
        })
    }
}

impl ValueEnum for AuditExport {
    fn value_variants<'a>() -> &'a [Self] {
        &[AuditExport::Json, AuditExport::Csv]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            AuditExport::Json => PossibleValue::new("json"),
            AuditExport::Csv => PossibleValue::new("csv"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: ValueEnum + PartialEq + std::fmt::Debug>() {
        for v in T::value_variants() {
            let name = v.to_possible_value().map(|p| p.get_name().to_string());
            assert_eq!(T::from_str(&name.unwrap(), false).ok().as_ref(), Some(v));
        }
    }

    #[test]
    fn every_variant_has_a_flag_spelling_that_parses_back() {
        round_trips::<OutputFormat>();
        round_trips::<RollbackStrategy>();
        round_trips::<Component>();
        round_trips::<OnFailure>();
        round_trips::<ForwardOnFailure>();
        round_trips::<AuditExport>();
    }
}
