//! Kubernetes resource quantities ("500m", "2", "1Gi") and how many pods of
//! one size fit into what a node can allocate. Pure.

use serde::Serialize;

/// Sum of a quantity given as Kubernetes strings ("500m", "2", "1Gi"),
/// in milli-units for CPU and bytes for memory.
pub fn parse_quantity(q: &str, cpu: bool) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => {
            if cpu {
                1000.0
            } else {
                1.0
            }
        }
        "m" => {
            if cpu {
                1.0
            } else {
                0.001
            }
        }
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        _ => return None,
    };
    Some(n * mult)
}

/// Resources one pod requests and the cluster can allocate (milli-CPU, bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Resources {
    pub cpu_milli: f64,
    pub memory_bytes: f64,
}

/// How many pods of `per_pod` fit into `allocatable` (`None` if the pod requests nothing).
pub fn pods_that_fit(per_pod: Resources, allocatable: Resources) -> Option<i64> {
    let by_cpu = (per_pod.cpu_milli > 0.0)
        .then(|| (allocatable.cpu_milli / per_pod.cpu_milli).floor() as i64);
    let by_mem = (per_pod.memory_bytes > 0.0)
        .then(|| (allocatable.memory_bytes / per_pod.memory_bytes).floor() as i64);
    match (by_cpu, by_mem) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_fit() {
        assert_eq!(parse_quantity("500m", true), Some(500.0));
        assert_eq!(parse_quantity("2", true), Some(2000.0));
        assert_eq!(parse_quantity("1Gi", false), Some(1073741824.0));
        assert_eq!(parse_quantity("bogus", false), None);
        let pod = Resources {
            cpu_milli: 1000.0,
            memory_bytes: 2.0 * 1073741824.0,
        };
        let node = Resources {
            cpu_milli: 4000.0,
            memory_bytes: 8.0 * 1073741824.0,
        };
        assert_eq!(pods_that_fit(pod, node), Some(4));
        assert_eq!(pods_that_fit(Resources::default(), node), None);
    }
}
