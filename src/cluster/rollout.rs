//! Rollout status, judged exactly the way `kubectl rollout status` judges it.

use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Rollout {
    /// Every replica is updated and available.
    Complete,
    /// Still moving; the text says what it waits for.
    Progressing(String),
    /// The Progressing condition passed its deadline.
    Failed(String),
}

impl Rollout {
    pub fn is_complete(&self) -> bool {
        matches!(self, Rollout::Complete)
    }
}

/// The counts the judgement needs, read off a Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloutFacts {
    pub generation: i64,
    pub observed_generation: i64,
    pub desired: i32,
    pub total: i32,
    pub updated: i32,
    pub available: i32,
    pub ready: i32,
    /// `reason` of the Progressing condition (`ProgressDeadlineExceeded` is fatal).
    pub progressing_reason: Option<String>,
    pub paused: bool,
}

impl RolloutFacts {
    pub fn of(d: &Deployment) -> RolloutFacts {
        let spec = d.spec.as_ref();
        let st = d.status.as_ref();
        RolloutFacts {
            generation: d.metadata.generation.unwrap_or(0),
            observed_generation: st.and_then(|s| s.observed_generation).unwrap_or(0),
            desired: spec.and_then(|s| s.replicas).unwrap_or(1),
            total: st.and_then(|s| s.replicas).unwrap_or(0),
            updated: st.and_then(|s| s.updated_replicas).unwrap_or(0),
            available: st.and_then(|s| s.available_replicas).unwrap_or(0),
            ready: st.and_then(|s| s.ready_replicas).unwrap_or(0),
            progressing_reason: st
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Progressing"))
                .and_then(|c| c.reason.clone()),
            paused: spec.and_then(|s| s.paused).unwrap_or(false),
        }
    }
}

/// observedGeneration ≥ generation; the Progressing condition has not passed
/// its deadline; updated == desired; total == updated; available ≥ updated.
pub fn judge(f: &RolloutFacts) -> Rollout {
    if f.observed_generation < f.generation {
        return Rollout::Progressing(
            "waiting for the deployment spec update to be observed".into(),
        );
    }
    if f.progressing_reason.as_deref() == Some("ProgressDeadlineExceeded") {
        return Rollout::Failed("the rollout exceeded its progress deadline".into());
    }
    if f.updated < f.desired {
        return Rollout::Progressing(format!(
            "{} of {} new replicas have been updated",
            f.updated, f.desired
        ));
    }
    if f.total > f.updated {
        return Rollout::Progressing(format!(
            "{} old replicas are pending termination",
            f.total - f.updated
        ));
    }
    if f.available < f.updated {
        return Rollout::Progressing(format!(
            "{} of {} updated replicas are available",
            f.available, f.updated
        ));
    }
    Rollout::Complete
}

/// Did a write change the Deployment's spec? The API server bumps
/// `metadata.generation` on every spec change and only then, so a write of
/// what was already there (a restartedAt stamped in the same second, an undo
/// to the template already running) leaves it as it was, and nothing rolls
/// out: a later "complete" would be someone else's rollout.
pub fn spec_changed(before: &Deployment, written: &Deployment) -> bool {
    written.metadata.generation.unwrap_or(0) > before.metadata.generation.unwrap_or(0)
}

/// Watch a Deployment until its rollout completes, fails, or `wait` runs
/// out, judging against `generation` (the one just written, so an older
/// observed generation never reads as done). `tick` sees each judgement.
/// New pods that crash-loop or cannot get their image end the watch as
/// `Failed` at once: the pods and ReplicaSets are watched with the
/// Deployment, since a pod's state changes none of the Deployment's
/// fields. API errors are retried until `wait` runs out; only then is the
/// last one returned. Returns the last judgement and the facts it was
/// made on.
pub async fn watch(
    kube: &super::Kube,
    name: &str,
    generation: i64,
    wait: std::time::Duration,
    mut tick: impl FnMut(&Rollout),
) -> Result<(Rollout, RolloutFacts), crate::exit::Failure> {
    use super::await_watch::{self, Ended, Look};
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::Pod;

    let deadline = std::time::Instant::now() + wait;
    let api: kube::Api<Deployment> = kube::Api::namespaced(kube.client.clone(), &kube.namespace);
    // The selector of an apps/v1 Deployment cannot change, so one read
    // names the pods and ReplicaSets for the whole wait.
    let d = super::wait_retry::until(deadline, || api.get(name))
        .await
        .map_err(|e| super::api_error(kube, super::Op::named("get", "deployments", name), e))?;
    let (deployments, mut feeds) = {
        let (s, f) = await_watch::named(api, "deployments", name);
        (s, vec![f])
    };
    let (pods, rss) = match super::facts::selector(&d) {
        Some(sel) => {
            let ns = || kube.client.clone();
            let (p, pf) = await_watch::labelled(
                kube::Api::<Pod>::namespaced(ns(), &kube.namespace),
                "pods",
                &sel,
            );
            let (r, rf) = await_watch::labelled(
                kube::Api::<ReplicaSet>::namespaced(ns(), &kube.namespace),
                "replicasets",
                &sel,
            );
            feeds.extend([pf, rf]);
            (Some(p), Some(r))
        }
        None => (None, None),
    };
    let ended = await_watch::until(deadline, feeds, || {
        let Some(d) = await_watch::objects(&deployments).into_iter().next() else {
            let gone = Rollout::Failed(format!("deployment {name} was deleted during the wait"));
            tick(&gone);
            return Look::Done((gone, RolloutFacts::default()));
        };
        let pods = pods.as_ref().map(await_watch::objects).unwrap_or_default();
        let rss = rss.as_ref().map(await_watch::objects).unwrap_or_default();
        let (state, rf) = judge_watched(&d, generation, &pods, &rss);
        tick(&state);
        match state {
            Rollout::Progressing(_) => Look::Waiting((state, rf)),
            _ => Look::Done((state, rf)),
        }
    })
    .await;
    match ended {
        Ended::Done(r) | Ended::OutOfTime(Some(r)) => Ok(r),
        Ended::OutOfTime(None) => Err(crate::exit::Failure::unknown(format!(
            "the API server at {} did not answer the watch of deployment {name} within the wait",
            kube.server
        ))
        .with_next("kubectl cluster-info   # is the API server up and is this the right context?")),
        Ended::Failed(w) => Err(w.failure(kube)),
    }
}

/// The judgement of one watched moment: the Deployment's own rules against
/// the generation just written, and, while it still moves, whether the
/// current ReplicaSet's pods are stuck.
pub fn judge_watched(
    d: &Deployment,
    generation: i64,
    pods: &[k8s_openapi::api::core::v1::Pod],
    rss: &[k8s_openapi::api::apps::v1::ReplicaSet],
) -> (Rollout, RolloutFacts) {
    let mut rf = RolloutFacts::of(d);
    rf.generation = rf.generation.max(generation);
    let mut state = judge(&rf);
    if matches!(state, Rollout::Progressing(_)) {
        let owned: Vec<_> = rss
            .iter()
            .filter(|rs| super::facts::owned_by(d, rs))
            .cloned()
            .collect();
        let hash = super::facts::current_hash(d, &owned);
        if let Some(why) = super::stuck::stuck_reason(pods, hash.as_deref()) {
            state = Rollout::Failed(format!("the new pods will not become ready: {why}"));
        }
    }
    (state, rf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> RolloutFacts {
        RolloutFacts {
            generation: 3,
            observed_generation: 3,
            desired: 4,
            total: 4,
            updated: 4,
            available: 4,
            ready: 4,
            progressing_reason: Some("NewReplicaSetAvailable".into()),
            paused: false,
        }
    }

    #[test]
    fn complete_only_when_every_rule_holds() {
        assert_eq!(judge(&done()), Rollout::Complete);
        let mut f = done();
        f.observed_generation = 2;
        assert!(matches!(judge(&f), Rollout::Progressing(m) if m.contains("observed")));
        let mut f = done();
        f.updated = 2;
        assert!(matches!(judge(&f), Rollout::Progressing(m) if m.contains("2 of 4 new")));
        let mut f = done();
        f.total = 6;
        assert!(matches!(judge(&f), Rollout::Progressing(m) if m.contains("2 old")));
        let mut f = done();
        f.available = 3;
        assert!(matches!(judge(&f), Rollout::Progressing(m) if m.contains("3 of 4 updated")));
    }

    #[test]
    fn a_write_that_left_the_generation_is_no_change() {
        let at = |g: i64| {
            let mut d = Deployment::default();
            d.metadata.generation = Some(g);
            d
        };
        assert!(spec_changed(&at(4), &at(5)));
        assert!(!spec_changed(&at(5), &at(5)), "a no-op patch");
        assert!(!spec_changed(
            &Deployment::default(),
            &Deployment::default()
        ));
    }

    #[test]
    fn a_passed_deadline_is_a_failure() {
        let mut f = done();
        f.updated = 1;
        f.progressing_reason = Some("ProgressDeadlineExceeded".into());
        assert!(matches!(judge(&f), Rollout::Failed(_)));
    }
}
