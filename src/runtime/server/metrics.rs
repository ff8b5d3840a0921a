//! Server-side metrics: HTTP requests by route and status, per-path
//! (flat/hierarchical) requests, errors and latency, shadow divergence.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::runtime::api::Path;
use crate::runtime::engine::metrics::{Histogram, header, sample};

#[derive(Debug, Default)]
pub struct PathMetrics {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub in_flight: AtomicU64,
    pub latency: Histogram,
}

#[derive(Debug, Default)]
pub struct ServerMetrics {
    http: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub flat: PathMetrics,
    pub hierarchical: PathMetrics,
    pub shadow_divergence: AtomicU64,
    pub shadow_compared: AtomicU64,
}

impl ServerMetrics {
    pub fn path(&self, p: Path) -> &PathMetrics {
        match p {
            Path::Flat => &self.flat,
            Path::Hierarchical => &self.hierarchical,
        }
    }

    pub fn record_http(&self, route: &'static str, status: u16) {
        if let Ok(mut m) = self.http.lock() {
            *m.entry((route, status)).or_insert(0) += 1;
        }
    }

    pub fn record_path(&self, p: Path, ok: bool, took: Duration) {
        let m = self.path(p);
        m.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            m.errors.fetch_add(1, Ordering::Relaxed);
        }
        m.latency.observe(took);
    }

    /// Each family is one group with its HELP and TYPE: the exposition
    /// format (and `promtool check metrics`) refuses interleaved families.
    pub fn write(&self, out: &mut String) {
        header(
            out,
            "hal9_http_requests_total",
            "HTTP requests by route and status.",
            "counter",
        );
        if let Ok(m) = self.http.lock() {
            for ((route, status), n) in m.iter() {
                sample(
                    out,
                    "hal9_http_requests_total",
                    &[("route", route), ("status", &status.to_string())],
                    n,
                );
            }
        }
        type Field = fn(&PathMetrics) -> &AtomicU64;
        let per_path: [(&str, &str, &str, Field); 3] = [
            (
                "hal9_path_requests_total",
                "Signals by migration path.",
                "counter",
                |m| &m.requests,
            ),
            (
                "hal9_path_errors_total",
                "Signals that failed, by migration path.",
                "counter",
                |m| &m.errors,
            ),
            (
                "hal9_path_in_flight",
                "Signals being processed now, by migration path.",
                "gauge",
                |m| &m.in_flight,
            ),
        ];
        for (name, help, kind, field) in per_path {
            header(out, name, help, kind);
            for p in [Path::Flat, Path::Hierarchical] {
                let v = field(self.path(p)).load(Ordering::Relaxed);
                sample(out, name, &[("path", p.as_str())], v);
            }
        }
        header(
            out,
            "hal9_path_duration_seconds",
            "Signal latency by migration path.",
            "histogram",
        );
        for p in [Path::Flat, Path::Hierarchical] {
            self.path(p).latency.write(
                out,
                "hal9_path_duration_seconds",
                &format!("path=\"{}\",", p.as_str()),
            );
        }
        header(
            out,
            "hal9_shadow_divergence_total",
            "Shadow-mode signals whose hierarchical answer differed from the flat one.",
            "counter",
        );
        sample(
            out,
            "hal9_shadow_divergence_total",
            &[],
            self.shadow_divergence.load(Ordering::Relaxed),
        );
        header(
            out,
            "hal9_shadow_compared_total",
            "Shadow-mode signals answered by both paths and compared.",
            "counter",
        );
        sample(
            out,
            "hal9_shadow_compared_total",
            &[],
            self.shadow_compared.load(Ordering::Relaxed),
        );
    }
}

/// The server's own gauges (admission, readiness, uptime), read by the
/// `/metrics` handler at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct ServerGauges {
    pub in_flight: u64,
    pub draining: bool,
    pub ready: bool,
    pub rejected: u64,
    pub max_in_flight: u32,
    pub rate_limit_rps: u32,
    pub loop_lag_seconds: f64,
    pub uptime_seconds: u64,
    pub hierarchical_percent: f64,
}

impl ServerGauges {
    pub fn write(&self, out: &mut String) {
        let rows: [(&str, &str, &str, String); 9] = [
            (
                "hal9_in_flight_requests",
                "Requests admitted and not yet answered.",
                "gauge",
                self.in_flight.to_string(),
            ),
            (
                "hal9_draining",
                "1 while the runtime drains before exit.",
                "gauge",
                u8::from(self.draining).to_string(),
            ),
            (
                "hal9_ready",
                "1 when the runtime accepts signals.",
                "gauge",
                u8::from(self.ready).to_string(),
            ),
            (
                "hal9_rejected_total",
                "Requests refused with 429 by the admission limits.",
                "counter",
                self.rejected.to_string(),
            ),
            (
                "hal9_limit_max_in_flight",
                "Admission limit on requests in flight.",
                "gauge",
                self.max_in_flight.to_string(),
            ),
            (
                "hal9_limit_rate_rps",
                "Admission limit on requests per second.",
                "gauge",
                self.rate_limit_rps.to_string(),
            ),
            (
                "hal9_event_loop_lag_seconds",
                "How late the event loop's last tick ran.",
                "gauge",
                self.loop_lag_seconds.to_string(),
            ),
            (
                "hal9_uptime_seconds",
                "Seconds since the runtime started.",
                "gauge",
                self.uptime_seconds.to_string(),
            ),
            (
                "hal9_migration_hierarchical_percent",
                "Share of signals sent to the hierarchical path.",
                "gauge",
                self.hierarchical_percent.to_string(),
            ),
        ];
        for (name, help, kind, value) in rows {
            header(out, name, help, kind);
            sample(out, name, &[], value);
        }
    }
}
