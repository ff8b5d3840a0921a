//! The report formats the Printer knows. Plain data: the flag that picks one
//! lives in cli/, so output/ does not depend on the parser.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    /// Nagios plugin format (health only): status line, perfdata, details.
    Nagios,
    /// node_exporter textfile-collector format (health only).
    Prometheus,
}
