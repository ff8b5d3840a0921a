//! Gates of a gradual rollback step, judged on the runtime's own metrics for
//! the step's window (the difference of two `/metrics` scrapes). Pure.

use serde::Serialize;

// The scrape parser is shared with health's SLO checks, so it lives in runtime/.
pub use crate::runtime::metrics_text::{Samples, label, metric_name, p99, parse};

fn sum_where(s: &Samples, name: &str, path: &str) -> f64 {
    s.iter()
        .filter(|(k, _)| metric_name(k) == name && label(k, "path").as_deref() == Some(path))
        .map(|(_, v)| *v)
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    pub max_error_rate: f64,
    pub max_p99_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    pub name: String,
    pub passed: bool,
    pub value: String,
}

/// Requests on both paths in the window: the evidence the gates rest on.
pub fn requests(before: &Samples, after: &Samples) -> f64 {
    ["flat", "hierarchical"]
        .iter()
        .map(|p| {
            sum_where(after, "hal9_path_requests_total", p)
                - sum_where(before, "hal9_path_requests_total", p)
        })
        .sum()
}

/// A window's verdict. A failed gate is evidence even on few requests; a
/// pass is only a pass on at least the minimum, else nothing was judged.
#[derive(Debug, Clone, PartialEq)]
pub enum GateVerdict {
    Passed,
    Failed(Vec<String>),
    Inconclusive { requests: f64, min: u64 },
}

/// `requests` is `None` where the gates do not rest on requests (the
/// cluster's gates judge pod state, which is there without traffic).
pub fn judge(gates: &[Gate], requests: Option<f64>, min: u64) -> GateVerdict {
    let failed: Vec<String> = gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("{}: {}", g.name, g.value))
        .collect();
    if !failed.is_empty() {
        return GateVerdict::Failed(failed);
    }
    match requests {
        Some(n) if n < min as f64 => GateVerdict::Inconclusive { requests: n, min },
        _ => GateVerdict::Passed,
    }
}

/// Judge one step window.
pub fn evaluate(before: &Samples, after: &Samples, ready: bool, t: Thresholds) -> Vec<Gate> {
    let mut gates = Vec::new();
    for path in ["flat", "hierarchical"] {
        let req = sum_where(after, "hal9_path_requests_total", path)
            - sum_where(before, "hal9_path_requests_total", path);
        let err = sum_where(after, "hal9_path_errors_total", path)
            - sum_where(before, "hal9_path_errors_total", path);
        let rate = if req > 0.0 { err / req } else { 0.0 };
        gates.push(Gate {
            name: format!("{path} error rate"),
            passed: rate <= t.max_error_rate,
            value: format!(
                "{:.2} % of {req:.0} requests (max {:.2} %; metric hal9_path_errors_total / hal9_path_requests_total)",
                rate * 100.0,
                t.max_error_rate * 100.0
            ),
        });
        let p = p99(before, after, path);
        gates.push(Gate {
            name: format!("{path} p99"),
            passed: p.is_none_or(|p| p <= t.max_p99_s),
            value: match p {
                Some(p) => format!(
                    "{:.1} ms (max {:.0} ms; metric hal9_path_duration_seconds)",
                    p * 1000.0,
                    t.max_p99_s * 1000.0
                ),
                None => "no requests in the window".into(),
            },
        });
    }
    gates.push(Gate {
        name: "ready".into(),
        passed: ready,
        value: if ready {
            "ready".into()
        } else {
            "not ready".into()
        },
    });
    let open: Vec<String> = after
        .iter()
        .filter(|(k, v)| metric_name(k) == "hal9_breaker_state" && **v >= 2.0)
        .filter_map(|(k, _)| label(k, "neuron"))
        .collect();
    gates.push(Gate {
        name: "circuit breakers".into(),
        passed: open.is_empty(),
        value: if open.is_empty() {
            "none open".into()
        } else {
            format!("open: {}", open.join(", "))
        },
    });
    gates
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        max_error_rate: 0.01,
        max_p99_s: 0.5,
    };

    fn scrape(req: f64, err: f64, fast: f64, slow: f64, breaker: f64) -> Samples {
        parse(&format!(
            "# TYPE x counter\n\
             hal9_path_requests_total{{path=\"hierarchical\"}} {req}\n\
             hal9_path_errors_total{{path=\"hierarchical\"}} {err}\n\
             hal9_path_duration_seconds_bucket{{path=\"hierarchical\",le=\"0.1\"}} {fast}\n\
             hal9_path_duration_seconds_bucket{{path=\"hierarchical\",le=\"1\"}} {}\n\
             hal9_path_duration_seconds_bucket{{path=\"hierarchical\",le=\"+Inf\"}} {}\n\
             hal9_breaker_state{{neuron=\"llm\"}} {breaker}\n",
            fast + slow,
            fast + slow
        ))
    }

    #[test]
    fn a_clean_window_passes() {
        let g = evaluate(
            &scrape(100.0, 0.0, 100.0, 0.0, 0.0),
            &scrape(300.0, 1.0, 300.0, 0.0, 0.0),
            true,
            T,
        );
        assert!(g.iter().all(|g| g.passed), "{g:#?}");
    }

    #[test]
    fn errors_latency_readiness_and_breakers_fail_their_gates() {
        let before = scrape(100.0, 0.0, 100.0, 0.0, 0.0);
        let g = evaluate(&before, &scrape(200.0, 10.0, 100.0, 100.0, 2.0), false, T);
        let failed: Vec<&str> = g
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(
            failed,
            vec![
                "hierarchical error rate",
                "hierarchical p99",
                "ready",
                "circuit breakers"
            ]
        );
    }

    #[test]
    fn a_window_below_the_minimum_is_inconclusive_unless_a_gate_failed() {
        let quiet = scrape(100.0, 0.0, 100.0, 0.0, 0.0);
        let g = evaluate(&quiet, &quiet, true, T);
        assert!(
            g.iter().all(|g| g.passed),
            "no requests pass every threshold"
        );
        assert_eq!(
            judge(&g, Some(requests(&quiet, &quiet)), 20),
            GateVerdict::Inconclusive {
                requests: 0.0,
                min: 20
            }
        );
        let busy = scrape(120.0, 0.0, 120.0, 0.0, 0.0);
        assert_eq!(
            judge(&g, Some(requests(&quiet, &busy)), 20),
            GateVerdict::Passed
        );
        assert_eq!(judge(&g, None, 20), GateVerdict::Passed, "pod-state gates");
        let bad = evaluate(&quiet, &scrape(101.0, 1.0, 101.0, 0.0, 0.0), true, T);
        assert!(
            matches!(judge(&bad, Some(1.0), 20), GateVerdict::Failed(f) if f[0].contains("error rate"))
        );
    }

    #[test]
    fn p99_interpolates_inside_the_bucket() {
        let before = Samples::new();
        let after = scrape(100.0, 0.0, 50.0, 50.0, 0.0);
        let p = p99(&before, &after, "hierarchical").unwrap();
        assert!((p - 0.982).abs() < 1e-9, "{p}");
        assert_eq!(p99(&before, &before, "hierarchical"), None);
    }
}
