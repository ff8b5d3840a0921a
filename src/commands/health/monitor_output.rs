//! `health` as a monitoring check: the perfdata behind the local verdict,
//! the run's timing, and the atomic node_exporter textfile.

use std::time::{Instant, SystemTime};

use anyhow::Context as _;

use super::local::{LocalFacts, Probe};
use crate::config::HealthConfig;
use crate::exit::Failure;
use crate::output::OutputFormat;
use crate::output::checks::{CheckReport, RunTiming};
use crate::output::perfdata::Perf;

/// The command a report format was asked for, as far as the format cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatRequester {
    /// `health`, and whether `--textfile` was given.
    Health {
        textfile: bool,
    },
    OtherCommand,
}

/// `-o nagios|prometheus` fit only a check report: refuse them before any
/// other command runs (a destructive one must not act and then fail to print).
pub fn refuse_elsewhere(format: OutputFormat, by: FormatRequester) -> Result<(), Failure> {
    let monitoring = matches!(format, OutputFormat::Nagios | OutputFormat::Prometheus);
    match by {
        FormatRequester::Health { textfile } => {
            if textfile && format != OutputFormat::Prometheus {
                return Err(Failure::usage("--textfile writes the Prometheus format")
                    .with_next("hal9ctl health -o prometheus --textfile PATH"));
            }
            Ok(())
        }
        FormatRequester::OtherCommand if monitoring => Err(Failure::usage(
            "-o nagios and -o prometheus are formats of `hal9ctl health` only",
        )
        .with_next("use -o json or -o table with this command")),
        FormatRequester::OtherCommand => Ok(()),
    }
}

fn latency(label: &str, p: &Probe<impl Sized>, timeout_ms: f64) -> Option<Perf> {
    match p {
        Probe::Answer { latency_ms, .. } => Some(
            Perf::new(label, *latency_ms, "ms")
                .thresholds(None, Some(timeout_ms))
                .range(Some(0.0), None),
        ),
        _ => None,
    }
}

/// The numbers the local checks judged, with their thresholds.
pub fn local_perf(f: &LocalFacts, cfg: &HealthConfig) -> Vec<Perf> {
    let timeout_ms = cfg.timeout.as_secs_f64() * 1000.0;
    let mut perf: Vec<Perf> = [
        latency("health_latency", &f.health, timeout_ms),
        latency("ready_latency", &f.ready, timeout_ms),
    ]
    .into_iter()
    .flatten()
    .collect();
    for d in &f.disks {
        perf.push(Perf::percent(
            format!("disk {}", d.mount_point.display()),
            d.percent,
            cfg.disk_warn_percent,
            cfg.disk_crit_percent,
        ));
    }
    if let Some(m) = f.memory_percent {
        perf.push(Perf::percent(
            "memory",
            m,
            cfg.memory_warn_percent,
            cfg.memory_crit_percent,
        ));
    }
    if let Some(l) = f.load1 {
        perf.push(
            Perf::new("load_per_core", l / f.cores.max(1) as f64, "")
                .thresholds(Some(cfg.load_warn_per_core), Some(cfg.load_crit_per_core))
                .range(Some(0.0), None),
        );
    }
    perf
}

/// Stamp the run's start and duration, and write the textfile when asked.
pub fn finish(
    mut report: CheckReport,
    started: SystemTime,
    t0: Instant,
    textfile: Option<&std::path::Path>,
) -> anyhow::Result<CheckReport> {
    report.run = Some(RunTiming {
        started_unix: started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        duration_s: t0.elapsed().as_secs_f64(),
    });
    if let Some(path) = textfile {
        crate::output::prom_textfile::write(path, &crate::output::prom_textfile::render(&report))
            .with_context(|| format!("writing the textfile {}", path.display()))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    #[test]
    fn monitoring_formats_are_refused_for_any_command_but_health() {
        use FormatRequester::*;
        for f in [OutputFormat::Nagios, OutputFormat::Prometheus] {
            assert!(refuse_elsewhere(f, Health { textfile: false }).is_ok());
            let e = refuse_elsewhere(f, OtherCommand).unwrap_err();
            assert_eq!(e.exit, Exit::Usage);
            assert_eq!(
                e.message,
                "-o nagios and -o prometheus are formats of `hal9ctl health` only"
            );
        }
        for f in [OutputFormat::Table, OutputFormat::Json] {
            assert!(refuse_elsewhere(f, OtherCommand).is_ok());
        }
    }

    #[test]
    fn a_textfile_is_refused_unless_the_format_is_prometheus() {
        let by = FormatRequester::Health { textfile: true };
        assert!(refuse_elsewhere(OutputFormat::Prometheus, by).is_ok());
        for f in [
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Nagios,
        ] {
            let e = refuse_elsewhere(f, by).unwrap_err();
            assert_eq!(e.exit, Exit::Usage);
            assert_eq!(e.message, "--textfile writes the Prometheus format");
            assert_eq!(
                e.next.as_deref(),
                Some("hal9ctl health -o prometheus --textfile PATH")
            );
        }
    }
}
