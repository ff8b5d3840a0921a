//! Pure planning for `hal9ctl scale`: targets, HPA bounds, capacity. No I/O.

use serde::{Deserialize, Serialize};

pub use crate::cluster::quantity::{Resources, parse_quantity, pods_that_fit};
use crate::runtime::api::Limits;

pub use crate::cluster::facts::ORIGINAL_ANNOTATION;

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

/// The HPA bounds a restore writes back: the recorded originals, and the
/// bounds it has now for what was not recorded.
pub fn restored_bounds(now: HpaBounds, original: &Original) -> HpaBounds {
    HpaBounds {
        min: original.min_replicas.unwrap_or(now.min),
        max: original.max_replicas.unwrap_or(now.max),
    }
}

/// The replica count a restore goes back to: the recorded one, kept within
/// the restored HPA bounds (the HPA would move it there at its next sync).
/// `None` when the Deployment carries no recorded count.
pub fn restore_replicas(original: Option<&Original>, hpa: Option<HpaBounds>) -> Option<i32> {
    let r = original?.replicas?;
    Some(match hpa {
        Some(b) => r.clamp(b.min, b.max.max(b.min)),
        None => r,
    })
}

/// The annotation an emergency writes: `fresh`, unless a record is already
/// there. A second emergency must not overwrite the true originals with
/// the emergency's own values. `None` leaves the annotation as it is.
pub fn first_record(
    existing: Option<&Original>,
    fresh: impl FnOnce() -> Original,
) -> Option<Original> {
    match existing {
        Some(_) => None,
        None => Some(fresh()),
    }
}

/// A plain `scale --replicas N` where an HPA manages the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HpaScaleVerdict {
    /// Without `--force`: the HPA would undo it; the emergency path raises its floor.
    Refused { why: String, next_flags: String },
    /// With `--force`: go ahead, warned that the HPA may or will move it.
    Warned(String),
}

/// Pure: what a plain scale to `n` does about the HPA `hpa` (named `hname`).
pub fn hpa_scale_verdict(
    n: i32,
    hname: &str,
    b: HpaBounds,
    force: bool,
    target: &str,
) -> HpaScaleVerdict {
    if !force {
        return HpaScaleVerdict::Refused {
            why: format!(
                "refused: HPA {hname} manages {target} (min {}, max {}); it would undo a plain scale to {n}",
                b.min, b.max
            ),
            next_flags: format!("--emergency --replicas {n}"),
        };
    }
    HpaScaleVerdict::Warned(if n < b.min || n > b.max {
        format!(
            "HPA {hname} (min {}, max {}) manages the replica count and will set {n} back to {} at its next sync",
            b.min,
            b.max,
            n.clamp(b.min, b.max.max(b.min))
        )
    } else {
        format!(
            "HPA {hname} (min {}, max {}) manages the replica count and may change {n} at its next sync",
            b.min, b.max
        )
    })
}

/// A plain scale that removes pods asks first (a terminal prompt or `--yes`);
/// one that adds or keeps them does not.
pub fn scale_needs_confirmation(current: i32, n: i32) -> bool {
    n < current
}

#[cfg(test)]
mod cluster_policy_tests {
    use super::*;

    fn original(replicas: Option<i32>, min: Option<i32>, max: Option<i32>) -> Original {
        Original {
            by: "op".into(),
            at: "2026-01-01T00:00:00Z".into(),
            replicas,
            min_replicas: min,
            max_replicas: max,
            ready: None,
        }
    }

    #[test]
    fn a_restore_goes_back_to_the_recorded_count_within_the_restored_hpa_bounds() {
        let o = original(Some(10), None, None);
        assert_eq!(restore_replicas(Some(&o), None), Some(10));
        let b = HpaBounds { min: 2, max: 5 };
        assert_eq!(restore_replicas(Some(&o), Some(b)), Some(5));
        let low = original(Some(1), None, None);
        assert_eq!(restore_replicas(Some(&low), Some(b)), Some(2));
        // A max below the min (a hand-edited HPA) must not make clamp panic.
        let odd = HpaBounds { min: 4, max: 3 };
        assert_eq!(restore_replicas(Some(&o), Some(odd)), Some(4));
        assert_eq!(
            restore_replicas(Some(&original(None, None, None)), Some(b)),
            None
        );
        assert_eq!(restore_replicas(None, None), None);
    }

    #[test]
    fn restored_bounds_keep_what_was_not_recorded() {
        let now = HpaBounds { min: 12, max: 20 };
        assert_eq!(
            restored_bounds(now, &original(None, Some(2), None)),
            HpaBounds { min: 2, max: 20 }
        );
        assert_eq!(
            restored_bounds(now, &original(None, Some(2), Some(6))),
            HpaBounds { min: 2, max: 6 }
        );
    }

    #[test]
    fn a_second_emergency_keeps_the_first_record() {
        let first = original(Some(3), None, None);
        let second = original(Some(6), None, None);
        assert_eq!(first_record(Some(&first), || second.clone()), None);
        assert_eq!(first_record(None, || second.clone()), Some(second));
    }

    #[test]
    fn a_plain_scale_under_an_hpa_is_refused_unless_forced() {
        let b = HpaBounds { min: 2, max: 5 };
        match hpa_scale_verdict(8, "web", b, false, "deployment hal9/hal9-server") {
            HpaScaleVerdict::Refused { why, next_flags } => {
                assert!(
                    why.contains("HPA web manages deployment hal9/hal9-server (min 2, max 5)"),
                    "{why}"
                );
                assert_eq!(next_flags, "--emergency --replicas 8");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            hpa_scale_verdict(8, "web", b, true, "d"),
            HpaScaleVerdict::Warned(
                "HPA web (min 2, max 5) manages the replica count and will set 8 back to 5 at its next sync".into()
            )
        );
        let HpaScaleVerdict::Warned(w) = hpa_scale_verdict(3, "web", b, true, "d") else {
            panic!("forced is never refused")
        };
        assert!(w.ends_with("may change 3 at its next sync"), "{w}");
    }

    #[test]
    fn only_a_scale_down_asks() {
        assert!(scale_needs_confirmation(5, 3));
        assert!(!scale_needs_confirmation(5, 5));
        assert!(!scale_needs_confirmation(5, 8));
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
}
