//! SLO checks from the runtime's own `/metrics`: two scrapes `[slo] window`
//! apart, judged by a pure function on the scraped text, so the same
//! judgement serves a local runtime and (through the pod proxy) each pod.

use std::collections::BTreeSet;

use crate::config::SloConfig;
use crate::output::checks::Check;
use crate::output::perfdata::Perf;
use crate::runtime::metrics_text::{Samples, label, metric_name, p99, parse};

fn sum(s: &Samples, name: &str, want: impl Fn(&str) -> bool) -> f64 {
    s.iter()
        .filter(|(k, _)| metric_name(k) == name && want(k))
        .map(|(_, v)| *v)
        .sum()
}

fn delta(before: &Samples, after: &Samples, name: &str, want: impl Fn(&str) -> bool) -> f64 {
    (sum(after, name, &want) - sum(before, name, &want)).max(0.0)
}

fn gauge(s: &Samples, name: &str) -> Option<f64> {
    s.iter()
        .find(|(k, _)| metric_name(k) == name)
        .map(|(_, v)| *v)
}

fn over(name: &str, value: f64, max: f64, detail: String, next: &str) -> Check {
    if value > max {
        Check::fail(name, detail, next)
    } else {
        Check::ok(name, detail)
    }
}

/// The SLO verdicts and their values for one window (`before` → `after`,
/// both Prometheus text). Rates on too little traffic are not judged.
pub fn judge(before: &str, after: &str, cfg: &SloConfig) -> (Vec<Check>, Vec<Perf>) {
    let (b, a) = (parse(before), parse(after));
    let mut checks = Vec::new();
    let mut perf = Vec::new();
    let min = cfg.min_requests as f64;
    let any = |_: &str| true;
    let requests = delta(&b, &a, "hal9_path_requests_total", any);
    let window = humantime::format_duration(cfg.window);
    if requests < min {
        checks.push(Check::ok(
            "slo signals",
            format!(
                "inconclusive: {requests:.0} signals in {window} (fewer than {}): latency and errors not judged",
                cfg.min_requests
            ),
        ));
    } else {
        let worst = ["flat", "hierarchical"]
            .iter()
            .filter_map(|p| p99(&b, &a, p))
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let max_p99 = cfg.max_p99.as_secs_f64();
        if let Some(p) = worst {
            perf.push(
                Perf::new("p99", p, "s")
                    .thresholds(None, Some(max_p99))
                    .range(Some(0.0), None),
            );
            checks.push(over(
                "slo p99 latency",
                p,
                max_p99,
                format!(
                    "p99 {:.0} ms over {requests:.0} signals in {window} (limit {:.0} ms)",
                    p * 1000.0,
                    max_p99 * 1000.0
                ),
                "hal9ctl health -o json (which neuron is slow: hal9_neuron_* in /metrics); hal9ctl scale --emergency",
            ));
        }
        let errors = delta(&b, &a, "hal9_path_errors_total", any);
        let rate = 100.0 * errors / requests;
        perf.push(Perf::percent(
            "error_rate",
            rate,
            cfg.max_error_percent,
            cfg.max_error_percent,
        ));
        checks.push(over(
            "slo error rate",
            rate,
            cfg.max_error_percent,
            format!(
                "{rate:.1} % of {requests:.0} signals failed in {window} (limit {} %)",
                cfg.max_error_percent
            ),
            "grep ERROR in the runtime log; curl URL/metrics | grep hal9_neuron_failed_total",
        ));
    }
    let layers: BTreeSet<String> = a
        .keys()
        .filter(|k| metric_name(k) == "hal9_cache_hits_total")
        .filter_map(|k| label(k, "layer"))
        .collect();
    for layer in layers {
        let of = |k: &str| label(k, "layer").as_deref() == Some(layer.as_str());
        let hits = delta(&b, &a, "hal9_cache_hits_total", of);
        let misses = delta(&b, &a, "hal9_cache_misses_total", of);
        if hits + misses < min {
            continue;
        }
        let rate = 100.0 * hits / (hits + misses);
        perf.push(
            Perf::percent(
                format!("cache_hit {layer}"),
                rate,
                cfg.min_cache_hit_percent,
                cfg.min_cache_hit_percent,
            )
            .thresholds(
                Some(cfg.min_cache_hit_percent),
                Some(cfg.min_cache_hit_percent),
            ),
        );
        let detail = format!(
            "{rate:.0} % hits of {:.0} lookups in {window} (floor {} %)",
            hits + misses,
            cfg.min_cache_hit_percent
        );
        let name = format!("slo cache {layer}");
        checks.push(if rate < cfg.min_cache_hit_percent {
            Check::warn(
                &name,
                detail,
                "check hal9_cache_evictions_total and raise [runtime] cache_capacity / cache_max_bytes",
            )
        } else {
            Check::ok(&name, detail)
        });
    }
    if let (Some(in_flight), Some(limit)) = (
        gauge(&a, "hal9_in_flight_requests"),
        gauge(&a, "hal9_limit_max_in_flight"),
    ) && limit > 0.0
    {
        let pct = 100.0 * in_flight / limit;
        perf.push(Perf::percent(
            "in_flight",
            pct,
            cfg.max_in_flight_percent,
            100.0,
        ));
        checks.push(over(
            "slo in flight",
            pct,
            cfg.max_in_flight_percent,
            format!("{in_flight:.0} of {limit:.0} admitted requests in flight ({pct:.0} %)"),
            "hal9ctl scale --emergency",
        ));
    }
    let http = delta(&b, &a, "hal9_http_requests_total", any);
    let rejected = delta(&b, &a, "hal9_rejected_total", any);
    if http >= min {
        let rate = 100.0 * rejected / http;
        perf.push(Perf::percent(
            "rejected_rate",
            rate,
            cfg.max_rejected_percent,
            cfg.max_rejected_percent,
        ));
        checks.push(over(
            "slo rejected",
            rate,
            cfg.max_rejected_percent,
            format!(
                "{rate:.1} % of {http:.0} requests answered 429 in {window} (limit {} %)",
                cfg.max_rejected_percent
            ),
            "hal9ctl scale --emergency",
        ));
    }
    (checks, perf)
}

/// Scrape the local runtime twice and add the SLO verdicts to the report.
/// A runtime that does not answer /metrics adds nothing: the HTTP checks
/// already say why.
pub async fn add_local(ctx: &crate::cli::Ctx, report: &mut crate::output::checks::CheckReport) {
    let cfg = &ctx.config().slo;
    if cfg.window.is_zero() {
        return;
    }
    let Ok(client) =
        crate::runtime::client::RuntimeClient::new(&ctx.url, ctx.config().health.timeout)
    else {
        return;
    };
    let Ok(before) = client.metrics_text().await else {
        return;
    };
    // A draining runtime is on its way out (its own check warns): a window
    // would outlive it and say nothing about the service.
    if gauge(&parse(&before), "hal9_draining").is_some_and(|d| d > 0.0) {
        return;
    }
    tokio::time::sleep(cfg.window).await;
    let (checks, perf) = match client.metrics_text().await {
        Ok(after) => judge(&before, &after, cfg),
        Err(e) => (
            vec![Check::unknown(
                "slo",
                format!("second /metrics scrape failed: {e}"),
                "hal9ctl health -v",
            )],
            Vec::new(),
        ),
    };
    report.checks.extend(checks);
    report.perf.extend(perf);
    report.status = crate::output::checks::verdict(&report.checks);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)] // one scrape's numbers, positional for compact tables
    fn text(
        req: u64,
        err: u64,
        slow: u64,
        hits: u64,
        misses: u64,
        in_flight: u64,
        http: u64,
        rejected: u64,
    ) -> String {
        format!(
            "hal9_path_requests_total{{path=\"flat\"}} {req}\nhal9_path_errors_total{{path=\"flat\"}} {err}\n\
             hal9_path_duration_seconds_bucket{{path=\"flat\",le=\"0.1\"}} {}\n\
             hal9_path_duration_seconds_bucket{{path=\"flat\",le=\"1\"}} {req}\n\
             hal9_path_duration_seconds_bucket{{path=\"flat\",le=\"+Inf\"}} {req}\n\
             hal9_cache_hits_total{{layer=\"L1\"}} {hits}\nhal9_cache_misses_total{{layer=\"L1\"}} {misses}\n\
             hal9_in_flight_requests {in_flight}\nhal9_limit_max_in_flight 10\n\
             hal9_http_requests_total{{route=\"/api/v1/signal\",status=\"200\"}} {http}\nhal9_rejected_total {rejected}\n",
            req - slow
        )
    }

    fn by<'a>(c: &'a [Check], n: &str) -> &'a Check {
        c.iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("{n}: {c:?}"))
    }

    #[test]
    fn a_quiet_window_judges_nothing_it_cannot() {
        let t = text(5, 1, 0, 0, 0, 0, 5, 0);
        let (c, _) = judge(&t, &text(8, 3, 3, 0, 3, 0, 8, 0), &SloConfig::default());
        assert_eq!(
            c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["slo signals", "slo in flight"]
        );
        assert!(
            c.iter().all(|c| c.status == crate::output::Mark::Ok),
            "{c:?}"
        );
    }

    #[test]
    fn each_slo_fires_on_its_own_signal() {
        let cfg = SloConfig::default();
        let base = text(100, 0, 0, 100, 0, 0, 100, 0);
        let healthy = text(200, 0, 0, 200, 0, 1, 200, 0);
        let (c, _) = judge(&base, &healthy, &cfg);
        assert!(
            c.iter().all(|c| c.status == crate::output::Mark::Ok),
            "{c:?}"
        );
        let (c, _) = judge(&base, &text(200, 0, 50, 200, 0, 1, 200, 0), &cfg);
        assert_eq!(by(&c, "slo p99 latency").status, crate::output::Mark::Fail);
        assert_eq!(by(&c, "slo error rate").status, crate::output::Mark::Ok);
        let (c, _) = judge(&base, &text(200, 2, 0, 200, 0, 1, 200, 0), &cfg);
        assert_eq!(by(&c, "slo error rate").status, crate::output::Mark::Fail);
        let (c, p) = judge(&base, &text(200, 0, 0, 110, 90, 1, 200, 0), &cfg);
        assert_eq!(by(&c, "slo cache L1").status, crate::output::Mark::Warn);
        assert!(
            p.iter()
                .any(|p| p.label == "cache_hit L1" && p.value == 10.0),
            "{p:?}"
        );
        let (c, _) = judge(&base, &text(200, 0, 0, 200, 0, 9, 200, 0), &cfg);
        assert_eq!(by(&c, "slo in flight").status, crate::output::Mark::Fail);
        let (c, _) = judge(&base, &text(200, 0, 0, 200, 0, 1, 200, 5), &cfg);
        assert_eq!(by(&c, "slo rejected").status, crate::output::Mark::Fail);
        assert!(
            by(&c, "slo rejected")
                .next
                .as_deref()
                .is_some_and(|n| n.contains("scale"))
        );
    }
}
