//! Server-side metrics: HTTP requests by route and status, per-path
//! (flat/hierarchical) requests, errors and latency, shadow divergence.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::runtime::api::Path;
use crate::runtime::engine::metrics::Histogram;

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

    pub fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP hal9_http_requests_total HTTP requests by route and status.\n# TYPE hal9_http_requests_total counter"
        );
        if let Ok(m) = self.http.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "hal9_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hal9_path_requests_total Signals by migration path.\n# TYPE hal9_path_requests_total counter\n# TYPE hal9_path_errors_total counter\n# TYPE hal9_path_in_flight gauge"
        );
        for p in [Path::Flat, Path::Hierarchical] {
            let m = self.path(p);
            let n = p.as_str();
            let _ = writeln!(
                out,
                "hal9_path_requests_total{{path=\"{n}\"}} {}",
                m.requests.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                out,
                "hal9_path_errors_total{{path=\"{n}\"}} {}",
                m.errors.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                out,
                "hal9_path_in_flight{{path=\"{n}\"}} {}",
                m.in_flight.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hal9_path_duration_seconds Signal latency by migration path.\n# TYPE hal9_path_duration_seconds histogram"
        );
        for p in [Path::Flat, Path::Hierarchical] {
            self.path(p).latency.write(
                out,
                "hal9_path_duration_seconds",
                &format!("path=\"{}\",", p.as_str()),
            );
        }
        let _ = writeln!(
            out,
            "# HELP hal9_shadow_divergence_total Shadow-mode signals whose hierarchical answer differed from the flat one.\n# TYPE hal9_shadow_divergence_total counter\nhal9_shadow_divergence_total {}",
            self.shadow_divergence.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE hal9_shadow_compared_total counter\nhal9_shadow_compared_total {}",
            self.shadow_compared.load(Ordering::Relaxed)
        );
    }
}
