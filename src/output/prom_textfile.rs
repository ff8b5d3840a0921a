//! `health -o prometheus [--textfile PATH]`: the node_exporter textfile
//! collector format. One gauge per check (0 ok, 1 warning, 2 critical,
//! 3 unknown, the exit-code scale), the measured values, and when the run
//! happened and how long it took, so a stale file can be alerted on.

use std::collections::BTreeMap;
use std::path::Path;

use super::checks::CheckReport;
use super::styles::Mark;
use crate::exit::Exit;
use crate::runtime::engine::metrics::{header, sample};

fn code(m: Mark) -> u8 {
    match m {
        Mark::Ok => 0,
        Mark::Warn => 1,
        Mark::Fail => 2,
        Mark::Unknown => 3,
    }
}

pub fn render(r: &CheckReport) -> String {
    let mut out = String::new();
    let target = r.target.as_str();
    header(
        &mut out,
        "hal9_health_check_status",
        "Verdict of one hal9ctl health check: 0 ok, 1 warning, 2 critical, 3 unknown.",
        "gauge",
    );
    // Two checks of one name (it happens with --wait) would be a duplicate series.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &r.checks {
        let n = seen.entry(c.name.as_str()).or_insert(0);
        *n += 1;
        let name = if *n == 1 {
            c.name.clone()
        } else {
            format!("{} #{n}", c.name)
        };
        sample(
            &mut out,
            "hal9_health_check_status",
            &[("target", target), ("check", &name)],
            code(c.status),
        );
    }
    header(
        &mut out,
        "hal9_health_status",
        "Worst verdict of the hal9ctl health run, on the same scale.",
        "gauge",
    );
    let overall = match r.status {
        Exit::Ok => 0,
        Exit::Warning => 1,
        Exit::Critical => 2,
        _ => 3,
    };
    sample(
        &mut out,
        "hal9_health_status",
        &[("target", target)],
        overall,
    );
    let finite: Vec<_> = r.perf.iter().filter(|p| p.value.is_finite()).collect();
    if !finite.is_empty() {
        header(
            &mut out,
            "hal9_health_value",
            "A value hal9ctl health measured, in the unit named by the unit label.",
            "gauge",
        );
        let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
        for p in finite {
            if seen.insert(p.label.as_str(), ()).is_some() {
                continue;
            }
            let unit = if p.uom.is_empty() { "1" } else { p.uom };
            sample(
                &mut out,
                "hal9_health_value",
                &[("target", target), ("measure", &p.label), ("unit", unit)],
                p.value,
            );
        }
    }
    if let Some(run) = &r.run {
        header(
            &mut out,
            "hal9_health_last_run_timestamp_seconds",
            "When the hal9ctl health run started, in Unix seconds.",
            "gauge",
        );
        sample(
            &mut out,
            "hal9_health_last_run_timestamp_seconds",
            &[("target", target)],
            run.started_unix,
        );
        header(
            &mut out,
            "hal9_health_run_duration_seconds",
            "How long the hal9ctl health run took.",
            "gauge",
        );
        sample(
            &mut out,
            "hal9_health_run_duration_seconds",
            &[("target", target)],
            run.duration_s,
        );
    }
    out
}

/// Replace the textfile atomically: node_exporter reads only `*.prom` and
/// the temp file is `.NAME.*.tmp`, so it never scrapes half a file.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    crate::system::fsio::write_atomic(path, text.as_bytes(), 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::checks::Check;
    use crate::output::checks::RunTiming;
    use crate::output::perfdata::Perf;

    #[test]
    fn one_gauge_per_check_and_the_run_time() {
        let mut r = CheckReport::new(
            "local \"x\"",
            vec![
                Check::ok("memory", "10 %"),
                Check::unknown("load", "?", "uptime"),
                Check::ok("memory", "again"),
            ],
            serde_json::Value::Null,
        );
        r.perf = vec![Perf::percent("memory", 10.0, 80.0, 90.0)];
        r.run = Some(RunTiming {
            started_unix: 1_700_000_000.5,
            duration_s: 0.25,
        });
        let out = render(&r);
        assert!(
            out.contains("hal9_health_check_status{target=\"local \\\"x\\\"\",check=\"load\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("check=\"memory #2\"} 0\n"), "{out}");
        assert!(
            out.contains("hal9_health_status{target=\"local \\\"x\\\"\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("measure=\"memory\",unit=\"%\"} 10\n"), "{out}");
        assert!(
            out.contains(
                "hal9_health_last_run_timestamp_seconds{target=\"local \\\"x\\\"\"} 1700000000.5\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("hal9_health_run_duration_seconds{target=\"local \\\"x\\\"\"} 0.25\n"),
            "{out}"
        );
    }
}
