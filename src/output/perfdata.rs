//! Measured values behind a health verdict (latency, disk %, p99 …), with the
//! thresholds they were judged against: Nagios perfdata and Prometheus gauges
//! are both rendered from these.

use serde::Serialize;

/// One measurement: `'label'=value[UOM];warn;crit;min;max` in Nagios terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Perf {
    pub label: String,
    pub value: f64,
    /// One of the plugin guidelines' units: "", "s", "ms", "%", "B", "c".
    pub uom: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Perf {
    pub fn new(label: impl Into<String>, value: f64, uom: &'static str) -> Perf {
        Perf {
            label: label.into(),
            value,
            uom,
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }

    pub fn thresholds(mut self, warn: Option<f64>, crit: Option<f64>) -> Perf {
        self.warn = warn;
        self.crit = crit;
        self
    }

    pub fn range(mut self, min: Option<f64>, max: Option<f64>) -> Perf {
        self.min = min;
        self.max = max;
        self
    }

    /// A percentage: 0..100 is its range by definition.
    pub fn percent(label: impl Into<String>, value: f64, warn: f64, crit: f64) -> Perf {
        Perf::new(label, value, "%")
            .thresholds(Some(warn), Some(crit))
            .range(Some(0.0), Some(100.0))
    }
}
