//! The Prometheus text exposition the runtime writes on `/metrics`, read
//! back: parsed into samples, labels, and a p99 from two cumulative
//! histogram scrapes. Pure; shared by rollback's gates and health's SLO checks.

use std::collections::BTreeMap;

/// One scrape: `name{labels}` → value, labels kept in their text form.
pub type Samples = BTreeMap<String, f64>;

/// Parse the Prometheus text exposition (the subset the runtime writes).
pub fn parse(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The value is the last whitespace-separated field (no timestamps are written).
        if let Some((key, value)) = line.rsplit_once(' ')
            && let Ok(v) = value.parse::<f64>()
        {
            out.insert(key.trim().to_string(), v);
        }
    }
    out
}

/// One label's value of a sample key (`name{path="x",le="0.5"}`).
pub fn label(key: &str, name: &str) -> Option<String> {
    let start = key.find('{')?;
    let inner = key.get(start + 1..key.rfind('}')?)?;
    inner.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The metric name of a sample key, without its labels.
pub fn metric_name(key: &str) -> &str {
    key.split('{').next().unwrap_or(key)
}

/// p99 (seconds) from the difference of two cumulative histograms, by linear
/// interpolation inside the bucket, as Prometheus' histogram_quantile does.
pub fn p99(before: &Samples, after: &Samples, path: &str) -> Option<f64> {
    let name = "hal9_path_duration_seconds_bucket";
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .filter(|(k, _)| metric_name(k) == name && label(k, "path").as_deref() == Some(path))
        .filter_map(|(k, v)| {
            let le = label(k, "le")?;
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((bound, v - before.get(k).copied().unwrap_or(0.0)))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = 0.99 * total;
    let mut prev_bound = 0.0;
    let mut prev_count = 0.0;
    for (bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return Some(prev_bound);
            }
            let in_bucket = count - prev_count;
            let frac = if in_bucket > 0.0 {
                (rank - prev_count) / in_bucket
            } else {
                1.0
            };
            return Some(prev_bound + (bound - prev_bound) * frac);
        }
        prev_bound = bound;
        prev_count = count;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_with_a_brace_before_its_labels_is_no_label_not_a_panic() {
        // A pod's /metrics is input hal9ctl does not control.
        assert_eq!(label("x}{path=\"a\"", "path"), None);
        assert_eq!(label("x}{", "path"), None);
        assert_eq!(label("x{path=\"a\"}", "path").as_deref(), Some("a"));
    }

    #[test]
    fn parse_keeps_labels_in_their_text_form_and_skips_comments() {
        let s = parse("# HELP x\nhal9_requests_total{path=\"a\"} 3\nbroken\n");
        assert_eq!(s.len(), 1);
        assert_eq!(s.get("hal9_requests_total{path=\"a\"}"), Some(&3.0));
        assert_eq!(
            metric_name("hal9_requests_total{path=\"a\"}"),
            "hal9_requests_total"
        );
    }
}
