//! `health -o nagios` and `health -o prometheus` as a monitoring system
//! reads them: the plugin guidelines' grammar, checked strictly, and promtool.

use crate::common::*;
use crate::oncall_metrics::promtool;

/// Host thresholds out of the way, so the test machine's load decides nothing.
fn config(port: u16) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nurl = \"http://127.0.0.1:{port}\"\n\n[health]\ndisk_warn_percent = 100.0\ndisk_crit_percent = 100.0\nmemory_warn_percent = 100.0\nmemory_crit_percent = 100.0\nload_warn_per_core = 100000.0\nload_crit_per_core = 100000.0\n"
    )
}

fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && s.parse::<f64>().is_ok()
}

/// A threshold range: `[@][start:]end`, start may be `~`, end may be empty after `:`.
fn is_range(s: &str) -> bool {
    let s = s.strip_prefix('@').unwrap_or(s);
    match s.split_once(':') {
        Some((start, end)) => {
            (start == "~" || is_number(start)) && (end.is_empty() || is_number(end))
        }
        None => is_number(s),
    }
}

/// One `'label'=value[UOM];[warn];[crit];[min];[max]` item.
fn check_perf_item(item: &str) -> Result<(String, f64, String), String> {
    let (label, rest) = if let Some(q) = item.strip_prefix('\'') {
        // A quote inside a quoted label is doubled.
        let mut label = String::new();
        let mut chars = q.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().map(|p| p.1) == Some('\'') {
                    chars.next();
                    label.push('\'');
                    continue;
                }
                end = Some(i);
                break;
            }
            label.push(c);
        }
        let end = end.ok_or(format!("unterminated label in {item:?}"))?;
        (label, &q[end + 1..])
    } else {
        let (l, _) = item.split_once('=').ok_or(format!("no = in {item:?}"))?;
        if l.contains(' ') {
            return Err(format!("unquoted label with a space: {item:?}"));
        }
        (l.to_string(), &item[l.len()..])
    };
    if label.is_empty() || label.contains('=') {
        return Err(format!("bad label in {item:?}"));
    }
    let rest = rest
        .strip_prefix('=')
        .ok_or(format!("no = after the label in {item:?}"))?;
    let fields: Vec<&str> = rest.split(';').collect();
    if fields.len() > 5 {
        return Err(format!("more than 5 fields in {item:?}"));
    }
    let num_end = fields[0]
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(fields[0].len());
    let (value, uom) = fields[0].split_at(num_end);
    if !is_number(value) {
        return Err(format!("value is not a number in {item:?}"));
    }
    if !["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom) {
        return Err(format!(
            "unit {uom:?} is not a plugin-guideline unit in {item:?}"
        ));
    }
    for (i, f) in fields.iter().enumerate().skip(1) {
        let ok = f.is_empty() || if i <= 2 { is_range(f) } else { is_number(f) };
        if !ok {
            return Err(format!("field {i} {f:?} is malformed in {item:?}"));
        }
    }
    Ok((label, value.parse().unwrap(), uom.to_string()))
}

/// Split perfdata on spaces outside quotes.
fn perf_items(perf: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in perf.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    items.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        items.push(cur);
    }
    items
}

struct Plugin {
    state: String,
    perf: Vec<(String, f64, String)>,
    details: Vec<String>,
}

/// The guidelines' output: `TEXT | PERFDATA` on the first line, then
/// detail lines without `|`; the state word matches the exit code.
fn parse_plugin(out: &str, code: i32) -> Plugin {
    let mut lines = out.lines();
    let first = lines.next().expect("a status line");
    let (text, perf) = match first.split_once(" | ") {
        Some((t, p)) => (t, p),
        None => (first, ""),
    };
    assert!(!text.contains('|'), "a | in the status text: {first}");
    let state = text
        .strip_prefix("HAL9 ")
        .and_then(|t| t.split(" - ").next())
        .unwrap_or_else(|| panic!("status line is not `HAL9 STATE - …`: {first}"))
        .to_string();
    let want = match code {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        3 => "UNKNOWN",
        other => panic!("exit {other} is not a plugin state"),
    };
    assert_eq!(state, want, "{out}");
    let perf = perf_items(perf)
        .iter()
        .map(|i| check_perf_item(i).unwrap_or_else(|e| panic!("{e}\n{out}")))
        .collect();
    let details: Vec<String> = lines.map(str::to_string).collect();
    for d in &details {
        assert!(!d.contains('|'), "a | in a detail line: {d}");
    }
    Plugin {
        state,
        perf,
        details,
    }
}

#[test]
fn the_strict_parser_refuses_what_the_guidelines_refuse() {
    for bad in [
        "disk /=5%",
        "'x'=5 %",
        "'x'=5GB",
        "'x'=1e-7s",
        "'x'=5;;;;;",
        "'x'=NaN",
        "'x=5",
    ] {
        assert!(check_perf_item(bad).is_err(), "{bad}");
    }
    assert!(check_perf_item("'a b'=5%;80;@10:90;0;100").is_ok());
    assert!(check_perf_item("'it''s'=0.5s;~:1;2").is_ok());
}

#[test]
fn nagios_output_of_a_healthy_runtime_follows_the_plugin_guidelines() {
    let port = free_port();
    let d = tempdir();
    // A foreground runtime logs to its stderr; a missing hal9.log is UNKNOWN.
    std::fs::write(d.path().join("hal9.log"), "").unwrap();
    let s = Server::start_in(
        d,
        Some(&config(port)),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    let o = run(hal9ctl(s.dir.path()).args(["health", "-o", "nagios"]));
    let out = stdout(&o);
    let p = parse_plugin(&out, o.status.code().unwrap());
    assert_eq!(p.state, "OK", "{out}");
    let labels: Vec<&str> = p.perf.iter().map(|x| x.0.as_str()).collect();
    for want in ["health_latency", "ready_latency", "memory", "load_per_core"] {
        assert!(labels.contains(&want), "{want} missing: {out}");
    }
    assert!(labels.iter().any(|l| l.starts_with("disk ")), "{out}");
    assert!(
        p.details
            .iter()
            .any(|d| d.starts_with("[OK] GET /health: ")),
        "{out}"
    );
}

#[test]
fn nagios_says_critical_with_exit_2_when_nothing_listens() {
    let port = free_port();
    let d = tempdir();
    std::fs::write(d.path().join("hal9.toml"), config(port)).unwrap();
    let o = run(hal9ctl(d.path()).args(["health", "-o", "nagios"]));
    let out = stdout(&o);
    let p = parse_plugin(&out, o.status.code().unwrap());
    assert_eq!(p.state, "CRITICAL", "{out}");
    assert!(
        p.details
            .iter()
            .any(|d| d.starts_with("[CRITICAL] GET /health")),
        "{out}"
    );
}

#[test]
fn monitoring_formats_are_refused_for_other_commands_before_they_act() {
    let d = tempdir();
    let o = run(hal9ctl(d.path()).args(["-o", "nagios", "disk", "usage"]));
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    assert!(stderr(&o).contains("only"), "{}", stderr(&o));
    let o = run(hal9ctl(d.path()).args(["health", "--textfile", "x.prom"]));
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    assert!(!d.path().join("x.prom").exists());
}

#[test]
fn prometheus_textfile_is_written_atomically_and_passes_promtool() {
    let port = free_port();
    let d = tempdir();
    // A foreground runtime logs to its stderr; a missing hal9.log is UNKNOWN.
    std::fs::write(d.path().join("hal9.log"), "").unwrap();
    let s = Server::start_in(
        d,
        Some(&config(port)),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    let dir = s.dir.path().join("textfiles");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("hal9.prom");
    std::fs::write(&path, "stale\n").unwrap();
    let o = run(hal9ctl(s.dir.path()).args([
        "health",
        "-o",
        "prometheus",
        "--textfile",
        path.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(&path).unwrap();
    let (code, said) = promtool(&text);
    assert_eq!((code, said.as_str()), (0, ""), "{text}");
    assert!(text.contains("check=\"GET /health\"} 0\n"), "{text}");
    assert!(text.contains("hal9_health_status{"), "{text}");
    let stamp: f64 = text
        .lines()
        .find(|l| l.starts_with("hal9_health_last_run_timestamp_seconds{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("a run timestamp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - stamp).abs() < 120.0, "{stamp} vs {now}");
    assert!(text.contains("hal9_health_run_duration_seconds{"), "{text}");
    // Only the final file is left: the temp file was renamed, not copied.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("hal9.prom")]);
}

#[test]
fn nagios_says_unknown_with_exit_3_when_a_check_could_not_run() {
    let port = free_port();
    let d = tempdir();
    // No hal9.log: the runtime-log check cannot run, and nothing else fails.
    let s = Server::start_in(
        d,
        Some(&config(port)),
        &["--listen", &format!("127.0.0.1:{port}")],
    );
    let o = run(hal9ctl(s.dir.path()).args(["health", "-o", "nagios"]));
    let out = stdout(&o);
    let p = parse_plugin(&out, o.status.code().unwrap());
    assert_eq!(p.state, "UNKNOWN", "{out}");
    assert!(
        p.details
            .iter()
            .any(|d| d.starts_with("[UNKNOWN] runtime log")),
        "{out}"
    );
}
