//! `hal9ctl restart --cluster`: a rolling restart the way `kubectl rollout
//! restart` does it, watched to completion by the rollout-status rules.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::report::RestartReport;
use crate::cli::Ctx;
use crate::cluster::capacity::{
    SurgeFit, node_rooms, pod_spec_requests, resolve_strategy, surge_fit,
};
use crate::cluster::conflict_retry::unless_stale;
use crate::cluster::pod_state::{Readiness, containers_detail, scheduling_detail};
use crate::cluster::rollout::{Rollout, RolloutFacts};
use crate::cluster::{Kube, Op, Target, api_error, facts};
use crate::exit::{Exit, Failure};
use crate::output::changes::Change;

/// The pod-template annotation kubectl uses. (kube-rs's `Api::restart` uses
/// another key, which `kubectl rollout history` would not recognise.)
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The Deployment controller writes status right after every spec change,
/// so a restart racing another one conflicts more than once; each retry
/// re-reads and compares generations against the fresh object.
const WRITE_ATTEMPTS: u32 = 6;

pub async fn restart(
    ctx: &Ctx,
    kube: &Kube,
    t: &Target,
    wait: Duration,
    force: bool,
) -> Result<RestartReport, Failure> {
    let name = &t.deployment;
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let d = facts::deployment(kube, name).await?;
    let target_s = format!("deployment {}/{name}", t.namespace);
    let rf = RolloutFacts::of(&d);
    if let Some(refused) = super::plan::paused_refusal(rf.paused, t) {
        return Err(refused);
    }
    let mut warnings = Vec::new();
    match surge_check(kube, &d, name).await {
        SurgeFit::Fits => {}
        SurgeFit::Unknown { reason } => warnings.push(reason),
        SurgeFit::Blocked { reason, options } if force || ctx.global.dry_run => {
            if force {
                warnings.push(format!("{reason} (--force: going ahead anyway)"));
            } else {
                warnings.push(format!(
                    "without --dry-run this would be refused: {reason}; options: {}",
                    options.join("; ")
                ));
            }
        }
        SurgeFit::Blocked { reason, options } => {
            ctx.audit("restart", &target_s, &format!("refused: {reason}"));
            return Err(
                Failure::critical(format!("refused, nothing was changed: {reason}"))
                    .with_next(options.join("\n  or: ")),
            );
        }
    }
    let stamp = crate::system::clock::now_rfc3339();
    let previous = d
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT).cloned())
        .unwrap_or_else(|| "never".into());
    let changes = vec![Change::new(RESTARTED_AT, &previous, &stamp)];
    if ctx.global.dry_run {
        return Ok(RestartReport {
            target: target_s,
            action: "restart".into(),
            dry_run: true,
            changes,
            warnings,
            undo: None,
            summary: format!("would roll all {} pods", rf.desired),
            status: Exit::Ok,
        });
    }
    crate::output::prompt::confirm_or_refuse(
        &format!("restart every pod of {target_s} (rolling)"),
        ctx.global.yes,
        &format!("hal9ctl restart {} --yes", t.flags()),
    )?;
    let mut rv = d.metadata.resource_version.clone();
    let mut base = d.clone();
    let mut generation = None;
    let mut changed = true;
    for attempt in 1..=WRITE_ATTEMPTS {
        let patch = json!({
            "metadata": {"resourceVersion": rv},
            "spec": {"template": {"metadata": {"annotations": { RESTARTED_AT: stamp }}}}
        });
        let written = unless_stale(
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
            attempt < WRITE_ATTEMPTS,
            |e| api_error(kube, Op::named("patch", "deployments", name), e),
        )
        .await
        .inspect_err(|f| ctx.audit("restart", &target_s, &format!("failed: {f}")))?;
        if let Some(d2) = written {
            changed = crate::cluster::rollout::spec_changed(&base, &d2);
            generation = d2.metadata.generation;
            break;
        }
        let fresh = api
            .get(name)
            .await
            .map_err(|e| api_error(kube, Op::named("get", "deployments", name), e))?;
        rv = fresh.metadata.resource_version.clone();
        base = fresh;
    }
    let Some(generation) = generation else {
        ctx.audit(
            "restart",
            &target_s,
            &format!("failed: conflict {WRITE_ATTEMPTS} times"),
        );
        return Err(Failure::critical(format!(
            "{target_s} kept changing under us; nothing was restarted"
        ))
        .with_next("run the command again"));
    };
    if !changed {
        ctx.audit(
            "restart",
            &target_s,
            &format!("nothing changed: restartedAt was already {stamp}"),
        );
        return Ok(RestartReport {
            target: target_s,
            action: "restart".into(),
            dry_run: false,
            changes,
            warnings: warnings.clone(),
            undo: None,
            summary: format!(
                "nothing changed: the pod template already had restartedAt {stamp} (another restart this second), so this restart rolled no pod; run it again to roll them once more"
            ),
            status: Exit::Warning,
        });
    }
    ctx.audit("restart", &target_s, &format!("ok: restartedAt {stamp}"));

    let bar = crate::output::progress::spinner("waiting for the rollout", ctx.global.quiet);
    let watched = crate::cluster::rollout::watch(kube, name, generation, wait, |state| {
        bar.set_message(match state {
            Rollout::Progressing(m) => m.clone(),
            other => format!("{other:?}"),
        })
    })
    .await;
    bar.finish_and_clear();
    // The patch is in; an API that stops answering during the wait leaves
    // the restart done and only its outcome unknown.
    let (state, rf) = watched.map_err(|e| {
        Failure::unknown(format!(
            "applied: {target_s} got restartedAt {stamp} (generation {generation}), so its pods are being replaced; not confirmed: whether the rollout finished, because {}",
            e.message
        ))
        .with_next(format!(
            "hal9ctl health --cluster -n {ns} --deployment {name}   # undo: kubectl rollout undo deployment/{name} -n {ns}",
            ns = t.namespace
        ))
    })?;
    match state {
        Rollout::Complete => Ok(RestartReport {
            target: target_s,
            action: "restart".into(),
            dry_run: false,
            changes,
            warnings: warnings.clone(),
            undo: None,
            summary: format!(
                "rolled out: {} of {} pods updated and available",
                rf.available, rf.desired
            ),
            status: Exit::Ok,
        }),
        Rollout::Failed(m) => {
            Err(stuck(kube, t, &format!("the restart of {target_s} failed: {m}")).await)
        }
        Rollout::Progressing(m) => Err(stuck(
            kube,
            t,
            &format!(
                "the restart of {target_s} did not finish within {}: {m}",
                humantime::format_duration(wait)
            ),
        )
        .await),
    }
}

/// Gather the nodes' room and judge the first step of the rollout.
async fn surge_check(kube: &Kube, d: &Deployment, name: &str) -> SurgeFit {
    let per_pod = pod_spec_requests(d.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
    let rooms = node_rooms(kube).await;
    surge_fit(name, resolve_strategy(d), per_pod, rooms.as_deref())
}

/// A failure that names the stuck pods and why they are stuck.
async fn stuck(kube: &Kube, t: &Target, headline: &str) -> Failure {
    let mut why = Vec::new();
    if let Ok(f) = facts::gather(kube, &t.deployment).await {
        let readiness = Readiness::of(&f, RolloutFacts::of(&f.deployment).desired);
        if !matches!(readiness, Readiness::AllReady { .. }) {
            why.push(format!("pods ready: {}", readiness.detail()));
        }
        if let Some(d) = containers_detail(&f.pods) {
            why.push(format!("containers: {d}"));
        }
        if let Some(d) = scheduling_detail(&f) {
            why.push(format!("scheduling: {d}"));
        }
        let not_ready: Vec<&str> = f
            .pods
            .iter()
            .filter(|p| !crate::cluster::pod_state::pod_ready(p))
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        if !not_ready.is_empty() {
            why.push(format!("not ready: {}", not_ready.join(", ")));
        }
    }
    let detail = if why.is_empty() {
        String::new()
    } else {
        format!("\n  {}", why.join("\n  "))
    };
    Failure::critical(format!("{headline}{detail}")).with_next(format!(
        "hal9ctl health --cluster -n {} --deployment {}   # or roll back: kubectl rollout undo deployment/{} -n {}",
        t.namespace, t.deployment, t.deployment, t.namespace
    ))
}
