//! `hal9ctl restart --cluster`: a rolling restart the way `kubectl rollout
//! restart` does it, watched to completion by the rollout-status rules.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::cli::Ctx;
use crate::cluster::client::is_conflict;
use crate::cluster::rollout::{Rollout, RolloutFacts};
use crate::cluster::{Kube, Op, Target, api_error, facts};
use crate::commands::health::cluster::plan as health_plan;
use crate::commands::scale::report::{Change, ScaleReport};
use crate::exit::{Exit, Failure};
use crate::output::Mark;

/// The pod-template annotation kubectl uses. (kube-rs's `Api::restart` uses
/// another key, which `kubectl rollout history` would not recognise.)
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The Deployment controller writes status right after every spec change,
/// so a restart racing another one conflicts more than once; each retry
/// re-reads and compares generations against the fresh object.
const WRITE_ATTEMPTS: u32 = 4;

pub async fn restart(
    ctx: &Ctx,
    kube: &Kube,
    t: &Target,
    wait: Duration,
) -> Result<ScaleReport, Failure> {
    let name = &t.deployment;
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let d = facts::deployment(kube, name).await?;
    let target_s = format!("deployment {}/{name}", t.namespace);
    let rf = RolloutFacts::of(&d);
    if rf.paused {
        return Err(Failure::critical(format!(
            "refused: {target_s} is paused, so a restart would never roll out"
        ))
        .with_next(format!(
            "kubectl rollout resume deployment/{name} -n {}   # then restart again",
            t.namespace
        )));
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
        return Ok(ScaleReport {
            target: target_s,
            action: "restart".into(),
            dry_run: true,
            changes,
            warnings: vec![],
            undo: None,
            summary: format!("would roll all {} pods", rf.desired),
            status: Exit::Ok,
        });
    }
    let ctx_flag = t
        .context
        .as_ref()
        .map(|c| format!(" --context {c}"))
        .unwrap_or_default();
    crate::output::prompt::confirm(
        &format!("restart every pod of {target_s} (rolling)"),
        ctx.global.yes,
        &format!(
            "hal9ctl restart --cluster -n {} --deployment {name}{ctx_flag} --yes",
            t.namespace
        ),
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
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(d2) => {
                changed = crate::cluster::rollout::spec_changed(&base, &d2);
                generation = d2.metadata.generation;
                break;
            }
            Err(e) if is_conflict(&e) && attempt < WRITE_ATTEMPTS => {
                let fresh = api
                    .get(name)
                    .await
                    .map_err(|e| api_error(kube, Op::named("get", "deployments", name), e))?;
                rv = fresh.metadata.resource_version.clone();
                base = fresh;
            }
            Err(e) => {
                let f = api_error(kube, Op::named("patch", "deployments", name), e);
                record(ctx, &target_s, &format!("failed: {f}"));
                return Err(f);
            }
        }
    }
    let Some(generation) = generation else {
        record(
            ctx,
            &target_s,
            &format!("failed: conflict {WRITE_ATTEMPTS} times"),
        );
        return Err(Failure::critical(format!(
            "{target_s} kept changing under us; nothing was restarted"
        ))
        .with_next("run the command again"));
    };
    if !changed {
        record(
            ctx,
            &target_s,
            &format!("nothing changed: restartedAt was already {stamp}"),
        );
        return Ok(ScaleReport {
            target: target_s,
            action: "restart".into(),
            dry_run: false,
            changes,
            warnings: vec![],
            undo: None,
            summary: format!(
                "nothing changed: the pod template already had restartedAt {stamp} (another restart this second), so this restart rolled no pod; run it again to roll them once more"
            ),
            status: Exit::Warning,
        });
    }
    record(ctx, &target_s, &format!("ok: restartedAt {stamp}"));

    let bar = crate::output::progress::spinner("waiting for the rollout", ctx.global.quiet);
    let (state, rf) = crate::cluster::rollout::watch(kube, name, generation, wait, |state| {
        bar.set_message(match state {
            Rollout::Progressing(m) => m.clone(),
            other => format!("{other:?}"),
        })
    })
    .await?;
    bar.finish_and_clear();
    match state {
        Rollout::Complete => Ok(ScaleReport {
            target: target_s,
            action: "restart".into(),
            dry_run: false,
            changes,
            warnings: vec![],
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

/// A failure that names the stuck pods and why they are stuck.
async fn stuck(kube: &Kube, t: &Target, headline: &str) -> Failure {
    let mut why = Vec::new();
    if let Ok(f) = facts::gather(kube, &t.deployment).await {
        let now = k8s_openapi::jiff::Timestamp::now().as_second();
        for c in health_plan(&f, t, now) {
            if c.status != Mark::Ok
                && ["pods ready", "containers", "scheduling"].contains(&c.name.as_str())
            {
                why.push(format!("{}: {}", c.name, c.detail));
            }
        }
        let not_ready: Vec<&str> = f
            .pods
            .iter()
            .filter(|p| !crate::commands::health::cluster::pod_ready(p))
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

fn record(ctx: &Ctx, target: &str, result: &str) {
    crate::system::audit::record_or_warn(&ctx.state_dir, "restart", target, result);
}
