//! `health -o nagios`: the Nagios plugin output format (also what Icinga,
//! Naemon and Sensu read), from a check report.
//!
//! One status line `HAL9 STATE - summary | perfdata`, then one detail line per
//! check; the exit code (0/1/2/3) is the report's. The text part may not hold
//! `|` (it starts perfdata), so it is replaced.

use std::fmt::Write as _;

use super::checks::CheckReport;
use super::perfdata::Perf;
use super::styles::Mark;
use crate::exit::Exit;

fn state(e: Exit) -> &'static str {
    match e {
        Exit::Ok => "OK",
        Exit::Warning => "WARNING",
        Exit::Critical => "CRITICAL",
        _ => "UNKNOWN",
    }
}

fn mark_state(m: Mark) -> &'static str {
    match m {
        Mark::Ok => "OK",
        Mark::Warn => "WARNING",
        Mark::Fail => "CRITICAL",
        Mark::Unknown => "UNKNOWN",
    }
}

/// Plugin text is one line per item and never contains `|`.
fn text(s: &str) -> String {
    s.replace('|', "/").replace(['\n', '\r'], " ")
}

/// A perfdata number: plain decimal, no exponent, no NaN (the grammar is `[-0-9.]`).
fn number(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let s = format!("{:.6}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    Some(if s == "-0" { "0".into() } else { s.to_string() })
}

fn opt(v: Option<f64>) -> String {
    v.and_then(number).unwrap_or_default()
}

/// `'label'=value[UOM];warn;crit;min;max`; the label is quoted, a quote in it
/// doubled, and `=` (which ends a label) replaced.
pub fn perf_item(p: &Perf) -> Option<String> {
    let value = number(p.value)?;
    let label = p.label.replace('\'', "''").replace('=', "_");
    Some(format!(
        "'{label}'={value}{};{};{};{};{}",
        p.uom,
        opt(p.warn),
        opt(p.crit),
        opt(p.min),
        opt(p.max)
    ))
}

pub fn render(r: &CheckReport) -> String {
    let bad: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status != Mark::Ok)
        .map(|c| c.name.as_str())
        .collect();
    let summary = if bad.is_empty() {
        format!("{} checks passed", r.checks.len())
    } else {
        format!(
            "{} of {} checks not OK: {}",
            bad.len(),
            r.checks.len(),
            bad.join(", ")
        )
    };
    let mut out = format!("HAL9 {} - {}: {}", state(r.status), r.target, summary);
    out = text(&out);
    let perf: Vec<String> = r.perf.iter().filter_map(perf_item).collect();
    if !perf.is_empty() {
        out.push_str(" | ");
        out.push_str(&perf.join(" "));
    }
    out.push('\n');
    for c in &r.checks {
        let mut line = format!("[{}] {}: {}", mark_state(c.status), c.name, c.detail);
        if let Some(next) = &c.next {
            let _ = write!(line, " (next: {next})");
        }
        out.push_str(&text(&line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::checks::Check;

    #[test]
    fn status_line_perfdata_and_details() {
        let mut r = CheckReport::new(
            "local runtime http://127.0.0.1:1",
            vec![
                Check::ok("GET /health", "healthy"),
                Check::fail("disk /", "95 % | full", "hal9ctl disk cleanup"),
            ],
            serde_json::Value::Null,
        );
        r.perf = vec![
            Perf::percent("disk /", 95.0, 80.0, 90.0),
            Perf::new("it's=odd", 1.5e-7, "s"),
            Perf::new("nan", f64::NAN, ""),
        ];
        let out = render(&r);
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some(
                "HAL9 CRITICAL - local runtime http://127.0.0.1:1: 1 of 2 checks not OK: disk / \
                 | 'disk /'=95%;80;90;0;100 'it''s_odd'=0s;;;;"
            )
        );
        // Detail lines follow the report's order: by urgency, the root cause first.
        assert_eq!(
            lines.next(),
            Some("[CRITICAL] disk /: 95 % / full (next: hal9ctl disk cleanup)")
        );
        assert_eq!(lines.next(), Some("[OK] GET /health: healthy"));
        assert_eq!(lines.next(), None);
    }
}
