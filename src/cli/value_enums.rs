//! How the parser spells the library's plain enums. The mapping lives here so
//! that output/ and commands/ stay free of clap (no cli → commands → cli loop).

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::commands::audit::AuditExport;
use crate::commands::rollback::plan::{Component, Strategy};
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

impl ValueEnum for Strategy {
    fn value_variants<'a>() -> &'a [Self] {
        &[Strategy::Immediate, Strategy::Gradual, Strategy::Partial]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Strategy::Immediate => {
                PossibleValue::new("immediate").help("One step to the target phase")
            }
            Strategy::Gradual => PossibleValue::new("gradual")
                .help("The share moves to the target in N steps, gated on the runtime's metrics"),
            Strategy::Partial => PossibleValue::new("partial").help("Only the named components"),
        })
    }
}

impl ValueEnum for Component {
    fn value_variants<'a>() -> &'a [Self] {
        &[Component::Routing, Component::Features, Component::State]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Component::Routing => PossibleValue::new("routing")
                .help("The hierarchical share and the `hierarchical_routing` flag"),
            Component::Features => PossibleValue::new("features").help("The layer feature flags"),
            Component::State => PossibleValue::new("state")
                .help("The migrated data (needs the snapshot taken when it was migrated)"),
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

    #[test]
    fn every_variant_has_a_flag_spelling_that_parses_back() {
        for f in OutputFormat::value_variants() {
            let name = f.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(OutputFormat::from_str(&name.unwrap(), false).ok(), Some(*f));
        }
        for s in Strategy::value_variants() {
            let name = s.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(Strategy::from_str(&name.unwrap(), false).ok(), Some(*s));
        }
        for c in Component::value_variants() {
            let name = c.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(Component::from_str(&name.unwrap(), false).ok(), Some(*c));
        }
        for e in AuditExport::value_variants() {
            let name = e.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(AuditExport::from_str(&name.unwrap(), false).ok(), Some(*e));
        }
    }
}
