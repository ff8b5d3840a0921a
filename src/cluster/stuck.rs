//! A rollout that cannot finish, seen in its new pods long before
//! progressDeadlineSeconds (kubectl#738 waits the whole deadline).

use k8s_openapi::api::core::v1::Pod;

use super::aggregate::aggregate;
use super::facts::POD_TEMPLATE_HASH;

/// Container waiting reasons that no amount of waiting fixes by itself:
/// the container crashed and is backing off, or its image cannot be had.
const HOPELESS: &[&str] = &[
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// Why the new ReplicaSet's pods will not become ready, or `None` while
/// they still may. Only pods of `current_hash` count: an old pod that
/// crash-loops is what the rollout replaces, not a reason it fails.
pub fn stuck_reason(pods: &[Pod], current_hash: Option<&str>) -> Option<String> {
    let hash = current_hash?;
    let mut seen: Vec<(String, String)> = Vec::new();
    for p in pods {
        let labels = p.metadata.labels.as_ref();
        if labels
            .and_then(|l| l.get(POD_TEMPLATE_HASH))
            .map(String::as_str)
            != Some(hash)
        {
            continue;
        }
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let statuses = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref());
        for cs in statuses.into_iter().flatten() {
            let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
                continue;
            };
            let reason = w.reason.as_deref().unwrap_or_default();
            if HOPELESS.contains(&reason) {
                let exit = cs
                    .last_state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| format!(", last exit code {}", t.exit_code))
                    .unwrap_or_default();
                seen.push((
                    p.metadata.name.clone().unwrap_or_default(),
                    format!("container {} {reason}{exit}", cs.name),
                ));
            }
        }
    }
    if seen.is_empty() {
        return None;
    }
    let lines = aggregate(
        seen.iter().map(|(p, r)| (p.as_str(), r.as_str())),
        "new pod",
    );
    Some(lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, hash: &str, waiting: Option<&str>) -> Pod {
        let state = match waiting {
            Some(r) => serde_json::json!({"waiting": {"reason": r}}),
            None => serde_json::json!({"running": {}}),
        };
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"pod-template-hash": hash}},
            "status": {"containerStatuses": [{"name": "hal9", "image": "i", "imageID": "",
                "ready": false, "restartCount": 3, "state": state,
                "lastState": {"terminated": {"exitCode": 1}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn crash_looping_new_pods_are_stuck_with_the_reason() {
        let pods = [
            pod("new-1", "n", Some("CrashLoopBackOff")),
            pod("new-2", "n", Some("CrashLoopBackOff")),
            pod("old-1", "o", None),
        ];
        assert_eq!(
            stuck_reason(&pods, Some("n")).as_deref(),
            Some("2 new pods: container hal9 CrashLoopBackOff, last exit code 1")
        );
    }

    #[test]
    fn an_image_that_cannot_be_had_is_stuck() {
        let pods = [pod("new-1", "n", Some("ErrImageNeverPull"))];
        let r = stuck_reason(&pods, Some("n")).unwrap();
        assert!(
            r.starts_with("new pod new-1: container hal9 ErrImageNeverPull"),
            "{r}"
        );
    }

    #[test]
    fn starting_pods_and_old_crashing_pods_are_not_stuck() {
        let pods = [
            pod("new-1", "n", Some("ContainerCreating")),
            pod("old-1", "o", Some("CrashLoopBackOff")),
        ];
        assert_eq!(stuck_reason(&pods, Some("n")), None);
        // Until the new ReplicaSet is known, nothing can be blamed on it.
        assert_eq!(stuck_reason(&pods, None), None);
    }
}
