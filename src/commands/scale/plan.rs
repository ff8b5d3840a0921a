//! Pure planning for `hal9ctl scale`: targets, HPA bounds, capacity. No I/O.

use serde::{Deserialize, Serialize};

use crate::runtime::api::Limits;

/// The annotation that records what an emergency scale changed, on both the
/// Deployment and the HPA, so `--restore` (from any machine) can undo it.
pub const ORIGINAL_ANNOTATION: &str = "hal9.io/emergency-original";

/// What was there before the emergency: who raised it, when, and the old values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Original {
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// Ready replicas before the emergency: a restore waits for that much
    /// readiness again, never for pods that did not serve before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HpaBounds {
    pub min: i32,
    pub max: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmergencyPlan {
    pub current: i32,
    pub target: i32,
    /// New HPA bounds, when an HPA targets the Deployment.
    pub hpa: Option<HpaBounds>,
}

/// N = max(requested or the config's emergency size, 2 × current, current):
/// an emergency scale never scales down. The HPA's min is raised to N (or
/// it would undo the scale) and its max to at least N.
pub fn emergency(
    current: i32,
    requested: Option<i32>,
    config_size: i32,
    hpa: Option<HpaBounds>,
) -> EmergencyPlan {
    let floor = requested.unwrap_or(config_size);
    let target = floor.max(current.saturating_mul(2)).max(current).max(1);
    let hpa = hpa.map(|b| HpaBounds {
        min: b.min.max(target),
        max: b.max.max(target),
    });
    EmergencyPlan {
        current,
        target,
        hpa,
    }
}

/// What the verify step read back from the API server after a scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadBack {
    /// `spec.replicas` as the API server has it now.
    pub replicas: i32,
    /// The Deployment controller has observed the generation we wrote.
    pub observed: bool,
    /// `status.replicas`: the pods the controller counts, terminating ones excluded.
    pub counted: i32,
    /// Every pod of the Deployment still present, terminating ones included.
    pub pods: i32,
    /// `status.readyReplicas`, meaningful once `observed`.
    pub ready: i32,
}

/// The replica counts a scale accepts as done: exactly what was written,
/// or, while an HPA governs, anything within the bounds this scale gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub lo: i32,
    pub hi: i32,
}

impl Want {
    pub fn exactly(n: i32) -> Want {
        Want { lo: n, hi: n }
    }

    pub fn contains(&self, n: i32) -> bool {
        (self.lo..=self.hi).contains(&n)
    }
}

/// A scale has taken effect: the controller saw it, the replicas read back
/// are wanted, and the pods it removed are gone (a status from before the
/// write satisfies none of these).
pub fn settled(want: Want, r: &ReadBack) -> bool {
    r.observed && want.contains(r.replicas) && r.counted == r.replicas && r.pods == r.replicas
}

/// The readiness worth waiting for after a scale to `target`: the ready pods
/// there were before (plus every pod a scale-up adds), never more than `target`.
pub fn ready_floor(target: i32, before: i32, ready_before: i32) -> i32 {
    let added = target.saturating_sub(before).max(0);
    ready_before.saturating_add(added).min(target).max(0)
}

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

/// What `scale --emergency` does to the local runtime's admission limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalEmergencyPlan {
    pub wanted: Limits,
    /// Record `current` for `--restore` first. Only the first emergency
    /// records (a second must not overwrite the true originals), and limits
    /// that need no raising leave nothing to restore.
    pub record_current: bool,
    /// Nothing to write: the runtime is already at (or above) the emergency limits.
    pub already: bool,
}

/// Raise, never lower: each limit becomes the larger of now and the emergency value.
pub fn emergency_limits(current: Limits, emergency: Limits) -> Limits {
    Limits {
        max_in_flight: current.max_in_flight.max(emergency.max_in_flight),
        rate_limit_rps: current.rate_limit_rps.max(emergency.rate_limit_rps),
    }
}

pub fn plan_local_emergency(
    current: Limits,
    emergency: Limits,
    already_recorded: bool,
) -> LocalEmergencyPlan {
    let wanted = emergency_limits(current, emergency);
    LocalEmergencyPlan {
        wanted,
        record_current: !already_recorded && current != wanted,
        already: current == wanted,
    }
}

#[cfg(test)]
mod local_emergency_tests {
    use super::*;

    fn l(max_in_flight: u32, rate_limit_rps: u32) -> Limits {
        Limits {
            max_in_flight,
            rate_limit_rps,
        }
    }

    #[test]
    fn raises_each_limit_and_never_lowers_one() {
        let p = plan_local_emergency(l(4096, 100), l(2048, 10_000), false);
        assert_eq!(p.wanted, l(4096, 10_000));
        assert!(p.record_current && !p.already);
    }

    #[test]
    fn a_second_emergency_keeps_the_first_record() {
        let p = plan_local_emergency(l(10, 10), l(100, 100), true);
        assert_eq!(p.wanted, l(100, 100));
        assert!(!p.record_current);
    }

    #[test]
    fn limits_already_above_the_emergency_need_no_write_and_no_record() {
        let p = plan_local_emergency(l(500, 500), l(100, 100), false);
        assert_eq!(p.wanted, l(500, 500));
        assert!(p.already && !p.record_current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emergency_never_scales_down() {
        // The original script's 20 replicas would have scaled 30 down to 20.
        assert_eq!(emergency(30, None, 20, None).target, 60);
        assert_eq!(emergency(30, Some(10), 20, None).target, 60);
        assert_eq!(emergency(3, None, 20, None).target, 20);
        assert_eq!(emergency(3, Some(4), 20, None).target, 6);
        assert_eq!(emergency(0, Some(5), 20, None).target, 5);
        assert_eq!(emergency(0, Some(0), 0, None).target, 1);
    }

    #[test]
    fn hpa_bounds_follow_the_target() {
        let p = emergency(5, Some(8), 20, Some(HpaBounds { min: 5, max: 30 }));
        assert_eq!(p.target, 10);
        assert_eq!(p.hpa, Some(HpaBounds { min: 10, max: 30 }));
        let p = emergency(5, Some(50), 20, Some(HpaBounds { min: 5, max: 30 }));
        assert_eq!(p.hpa, Some(HpaBounds { min: 50, max: 50 }));
        let p = emergency(5, None, 20, Some(HpaBounds { min: 40, max: 60 }));
        assert_eq!(
            p.hpa,
            Some(HpaBounds { min: 40, max: 60 }),
            "bounds are never lowered"
        );
    }

    #[test]
    fn a_status_from_before_the_write_is_not_settled() {
        // 20 → 3: the old status (20 ready) must not read as done.
        let stale = ReadBack {
            replicas: 3,
            observed: false,
            counted: 20,
            pods: 20,
            ready: 20,
        };
        assert!(!settled(Want::exactly(3), &stale));
        let seen = ReadBack {
            observed: true,
            ..stale
        };
        assert!(!settled(Want::exactly(3), &seen), "old pods still counted");
        let draining = ReadBack {
            counted: 3,
            pods: 5,
            ..seen
        };
        assert!(
            !settled(Want::exactly(3), &draining),
            "old pods still terminating"
        );
        let done = ReadBack {
            pods: 3,
            ready: 2,
            ..draining
        };
        assert!(settled(Want::exactly(3), &done));
        // An HPA moving it within the bounds the restore gave it is still done.
        let hpa = ReadBack {
            replicas: 4,
            counted: 4,
            pods: 4,
            ..done
        };
        assert!(settled(Want { lo: 3, hi: 4 }, &hpa));
        assert!(!settled(Want::exactly(3), &hpa));
        let undone = ReadBack {
            replicas: 6,
            ..done
        };
        assert!(
            !settled(Want::exactly(3), &undone),
            "someone else set the replicas"
        );
    }

    #[test]
    fn the_ready_floor_is_what_served_before() {
        // 2 of 3 fit before the emergency: a restore to 3 waits for 2, not 3.
        assert_eq!(ready_floor(3, 20, 2), 2);
        assert_eq!(ready_floor(3, 20, 20), 3);
        assert_eq!(ready_floor(3, 20, 0), 0);
        // A scale-up waits for every pod it adds on top of those that served.
        assert_eq!(ready_floor(8, 3, 3), 8);
        assert_eq!(ready_floor(8, 3, 2), 7);
        assert_eq!(ready_floor(0, 3, 3), 0);
    }

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
