//! `hal9ctl scale … --cluster`: HPA-aware emergency scale, restore, and a
//! plain scale that refuses to fight an HPA.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::plan::{
    self, EmergencyPlan, HpaBounds, ORIGINAL_ANNOTATION, Original, ReadBack, Resources, Want,
};
use super::report::{Change, ScaleReport};
use super::settings::ClusterScaleSettings;
use crate::cli::Ctx;
use crate::cluster::await_watch::{self, Ended, Look};
use crate::cluster::conflict_retry::unless_stale;
use crate::cluster::{Kube, Op, api_error, facts};
use crate::exit::{Exit, Failure};
use crate::system::audit::current_user;

/// An HPA clamping the replicas races every write; a few fresh re-reads
/// outlast its sync, and each retry re-plans from what it read.
const WRITE_ATTEMPTS: u32 = 4;

fn deployments(kube: &Kube) -> Api<Deployment> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn hpas(kube: &Kube) -> Api<HorizontalPodAutoscaler> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn ready_replicas(d: &Deployment) -> i32 {
    d.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

fn bounds(h: &HorizontalPodAutoscaler) -> HpaBounds {
    let s = h.spec.as_ref();
    HpaBounds {
        min: s.and_then(|s| s.min_replicas).unwrap_or(1),
        max: s.map(|s| s.max_replicas).unwrap_or(1),
    }
}

fn original_of(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<Original> {
    let raw = meta.annotations.as_ref()?.get(ORIGINAL_ANNOTATION)?;
    serde_json::from_str(raw).ok()
}

fn now() -> String {
    crate::system::clock::now_rfc3339()
}

/// What one pod of the Deployment requests.
fn pod_requests(d: &Deployment) -> Resources {
    let mut r = Resources::default();
    let containers = d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    for c in containers {
        if let Some(req) = c.resources.as_ref().and_then(|x| x.requests.as_ref()) {
            r.cpu_milli += req
                .get("cpu")
                .and_then(|q| plan::parse_quantity(&q.0, true))
                .unwrap_or(0.0);
            r.memory_bytes += req
                .get("memory")
                .and_then(|q| plan::parse_quantity(&q.0, false))
                .unwrap_or(0.0);
        }
    }
    r
}

/// Warn when N pods cannot fit into what the nodes can allocate.
async fn capacity_warning(kube: &Kube, d: &Deployment, n: i32) -> Option<String> {
    let per_pod = pod_requests(d);
    let Some(nodes) = facts::nodes(kube).await else {
        return Some("cannot list nodes, so whether the new pods fit was not checked".into());
    };
    let mut alloc = Resources::default();
    for node in &nodes {
        if let Some(a) = node.status.as_ref().and_then(|s| s.allocatable.as_ref()) {
            alloc.cpu_milli += a
                .get("cpu")
                .and_then(|q| plan::parse_quantity(&q.0, true))
                .unwrap_or(0.0);
            alloc.memory_bytes += a
                .get("memory")
                .and_then(|q| plan::parse_quantity(&q.0, false))
                .unwrap_or(0.0);
        }
    }
    // Node by node, what is already bound there counts: a cluster-wide sum
    // would promise room that is split across nodes or already taken.
    if let Some(rooms) = crate::cluster::capacity::node_rooms(kube).await
        && let Some(fit) = crate::cluster::capacity::placeable(per_pod, &rooms)
    {
        let running = i64::from(replicas(d).max(0));
        let more = i64::from(n) - running;
        if more > fit {
            return Some(format!(
                "{more} more pods request {:.0}m CPU and {:.2} GiB memory each, but the {} node(s) have room for {fit} more, node by node: the rest will stay Pending",
                per_pod.cpu_milli,
                per_pod.memory_bytes / 1073741824.0,
                rooms.len()
            ));
        }
    }
    let fit = plan::pods_that_fit(per_pod, alloc)?;
    (fit < i64::from(n)).then(|| {
        format!(
            "{n} pods request {:.0}m CPU and {:.1} GiB memory in all, but the {} node(s) can allocate {:.0}m and {:.1} GiB: at most {fit} fit, the rest will stay Pending",
            per_pod.cpu_milli * f64::from(n),
            per_pod.memory_bytes * f64::from(n) / 1073741824.0,
            nodes.len(),
            alloc.cpu_milli,
            alloc.memory_bytes / 1073741824.0
        )
    })
}

/// Patch an HPA's bounds with its resourceVersion as precondition; on a
/// conflict re-read once and re-plan from the fresh object.
async fn patch_hpa(
    kube: &Kube,
    name: &str,
    plan_bounds: impl Fn(HpaBounds) -> HpaBounds,
    annotation: Option<Option<String>>,
) -> Result<(HpaBounds, HpaBounds), Failure> {
    let api = hpas(kube);
    for attempt in 1..=WRITE_ATTEMPTS {
        let h = api
            .get(name)
            .await
            .map_err(|e| api_error(kube, Op::named("get", "horizontalpodautoscalers", name), e))?;
        let before = bounds(&h);
        let after = plan_bounds(before);
        let mut patch = json!({
            "metadata": {"resourceVersion": h.metadata.resource_version},
            "spec": {"minReplicas": after.min, "maxReplicas": after.max}
        });
        if let Some(a) = &annotation {
            patch["metadata"]["annotations"] = json!({ ORIGINAL_ANNOTATION: a });
        }
        let written = unless_stale(
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
            attempt < WRITE_ATTEMPTS,
            |e| {
                api_error(
                    kube,
                    Op::named("patch", "horizontalpodautoscalers", name),
                    e,
                )
            },
        )
        .await?;
        if written.is_some() {
            return Ok((before, after));
        }
    }
    Err(Failure::critical(format!(
        "HPA {name} kept changing under us; nothing more was written"
    ))
    .with_next("run the command again"))
}

/// Annotate the Deployment (with precondition), then scale it through the
/// scale subresource (with precondition). `decide` sees the fresh replica
/// count and returns the target, so a retry after a conflict re-plans.
async fn scale_deployment(
    kube: &Kube,
    name: &str,
    annotation: Option<Option<String>>,
    decide: impl Fn(i32) -> i32,
) -> Result<(i32, i32), Failure> {
    let api = deployments(kube);
    for attempt in 1..=WRITE_ATTEMPTS {
        let d = api
            .get(name)
            .await
            .map_err(|e| api_error(kube, Op::named("get", "deployments", name), e))?;
        let before = replicas(&d);
        let target = decide(before);
        let mut rv = d.metadata.resource_version.clone();
        if let Some(a) = &annotation {
            let patch = json!({"metadata": {"resourceVersion": rv, "annotations": { ORIGINAL_ANNOTATION: a }}});
            let Some(d2) = unless_stale(
                api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
                attempt < WRITE_ATTEMPTS,
                |e| api_error(kube, Op::named("patch", "deployments", name), e),
            )
            .await?
            else {
                continue;
            };
            rv = d2.metadata.resource_version;
        }
        if target == before {
            return Ok((before, target));
        }
        let patch = json!({"metadata": {"resourceVersion": rv}, "spec": {"replicas": target}});
        let written = unless_stale(
            api.patch_scale(name, &PatchParams::default(), &Patch::Merge(&patch)),
            attempt < WRITE_ATTEMPTS,
            |e| api_error(kube, Op::named("patch", "deployments/scale", name), e),
        )
        .await?;
        if written.is_some() {
            return Ok((before, target));
        }
    }
    Err(Failure::critical(format!(
        "deployment {name} kept changing under us; re-read {WRITE_ATTEMPTS} times and gave up"
    ))
    .with_next("run the command again"))
}

fn hpa_changes(hname: &str, before: HpaBounds, after: HpaBounds) -> Vec<Change> {
    vec![
        Change::new(&format!("HPA {hname} minReplicas"), before.min, after.min),
        Change::new(&format!("HPA {hname} maxReplicas"), before.max, after.max),
    ]
}

/// A later write failed after `done` landed. With nothing done the failure
/// stands as it is (its own exit code); otherwise this is partly done (exit
/// 1): the report lists what changed, why the rest failed and the undo.
fn partly(
    target: String,
    action: &str,
    done: Vec<Change>,
    failed: Failure,
    undo: Option<String>,
) -> Result<ScaleReport, Failure> {
    if done.is_empty() {
        return Err(failed);
    }
    let changed: Vec<String> = done
        .iter()
        .map(|c| format!("{} {}→{}", c.what, c.from, c.to))
        .collect();
    let mut warnings = vec![format!("not done: {}", failed.message)];
    if let Some(n) = &failed.next {
        warnings.push(format!("to allow it: {n}"));
    }
    Ok(ScaleReport {
        target,
        action: action.into(),
        dry_run: false,
        changes: done,
        warnings,
        undo,
        summary: format!(
            "partly done: {} changed, then a write failed: {}",
            changed.join(", "),
            failed.message
        ),
        status: Exit::Warning,
    })
}

/// What a Deployment and the number of its pods say about a write of
/// `generation`.
fn read_back(d: &Deployment, generation: i64, pods: usize) -> ReadBack {
    let st = d.status.as_ref();
    let want_generation = generation.max(d.metadata.generation.unwrap_or(0));
    ReadBack {
        replicas: replicas(d),
        observed: st.and_then(|s| s.observed_generation).unwrap_or(0) >= want_generation,
        counted: st.and_then(|s| s.replicas).unwrap_or(0),
        pods: i32::try_from(pods).unwrap_or(i32::MAX),
        ready: st.and_then(|s| s.ready_replicas).unwrap_or(0),
    }
}

/// The generation the API server gave our write: read after it, so it is
/// at least ours (generations only grow).
async fn written_generation(kube: &Kube, name: &str) -> Result<i64, Failure> {
    deployments(kube)
        .get(name)
        .await
        .map(|d| d.metadata.generation.unwrap_or(0))
        .map_err(|e| api_error(kube, Op::named("get", "deployments", name), e))
}

/// The HPA's bounds as the API server has them now (`None`: could not re-read).
async fn hpa_read_back(kube: &Kube, name: &str) -> Option<HpaBounds> {
    hpas(kube).get(name).await.ok().map(|h| bounds(&h))
}

/// What one scale write was meant to produce, for the verify step.
struct Intent {
    want: Want,
    /// An HPA whose bounds this scale set moves the replicas into `want` at
    /// its next sync, so a mismatch is waited out; without one a mismatch
    /// is someone else's write and waiting cannot help.
    hpa_converges: bool,
    /// The generation our write produced (or a later one).
    generation: i64,
    /// Ready pods worth waiting for (`plan::ready_floor`).
    floor: i32,
}

/// The verify step of every cluster scale: re-read until the controller has
/// acted on the write (`plan::settled`) and `floor` pods are ready, or the
/// wait runs out. Returns what it read last and, when short, why.
async fn settle(
    kube: &Kube,
    name: &str,
    intent: Intent,
    wait: Duration,
    quiet: bool,
) -> Result<(ReadBack, Vec<String>), Failure> {
    let Intent {
        want,
        hpa_converges,
        generation,
        floor,
    } = intent;
    let bar = crate::output::progress::bar(want.hi.max(0) as u64, quiet);
    bar.set_message(format!("waiting for {} replicas, {floor} ready", want.lo));
    let deadline = Instant::now() + wait;
    let stopped = |why: String, last: ReadBack| {
        // Retried until the wait ran out: the write stands, only its
        // outcome is unconfirmed, and the caller reports both.
        (
            last,
            vec![format!(
                "not confirmed: the API server stopped answering during the wait ({why}); what was applied above stands"
            )],
        )
    };
    let api = deployments(kube);
    // The selector of an apps/v1 Deployment cannot change: one read names
    // the pods to watch for the whole wait.
    let d = match crate::cluster::wait_retry::until(deadline, || api.get(name)).await {
        Ok(d) => d,
        Err(e) => {
            bar.finish_and_clear();
            let f = api_error(kube, Op::named("get", "deployments", name), e);
            return Ok(stopped(f.message, ReadBack::default()));
        }
    };
    let first = read_back(&d, generation, 0);
    let (deployment, feed) = await_watch::named(api, "deployments", name);
    let mut feeds = vec![feed];
    let pods = facts::selector(&d).map(|sel| {
        let (store, feed) = await_watch::labelled(
            Api::<k8s_openapi::api::core::v1::Pod>::namespaced(
                kube.client.clone(),
                &kube.namespace,
            ),
            "pods",
            &sel,
        );
        feeds.push(feed);
        store
    });
    let mismatch = |r: &ReadBack| {
        format!(
            "replicas read back as {}, not {}: something else changed them after this write",
            r.replicas, want.lo
        )
    };
    let ended = await_watch::until(deadline, feeds, || {
        let Some(d) = deployment.state().into_iter().next() else {
            return Look::Done((
                first,
                vec![format!(
                    "not confirmed: deployment {name} was deleted during the wait"
                )],
            ));
        };
        let r = read_back(&d, generation, pods.as_ref().map_or(0, |p| p.len()));
        bar.set_position(r.ready.max(0) as u64);
        if !want.contains(r.replicas) && !hpa_converges {
            return Look::Done((r, vec![mismatch(&r)]));
        }
        if plan::settled(want, &r) && r.ready >= floor.min(r.replicas) {
            return Look::Done((r, Vec::new()));
        }
        Look::Waiting((r, Vec::new()))
    })
    .await;
    bar.finish_and_clear();
    let r = match ended {
        Ended::Done(done) => return Ok(done),
        Ended::Failed(w) => return Ok(stopped(w.failure(kube).message, first)),
        Ended::OutOfTime(None) => {
            return Ok(stopped(
                "no answer to the watch within the wait".into(),
                first,
            ));
        }
        Ended::OutOfTime(Some((r, _))) => r,
    };
    if !want.contains(r.replicas) {
        return Ok((r, vec![mismatch(&r)]));
    }
    let mut why = Vec::new();
    if !r.observed {
        why.push("the Deployment controller has not observed the change yet".to_string());
    } else if r.pods > r.replicas {
        why.push(format!(
            "{} pods of the old size are still terminating",
            r.pods - r.replicas
        ));
    }
    // The write is done; failing to explain the shortfall must not hide it.
    match facts::gather(kube, name).await {
        Ok(f) => {
            why.extend(crate::cluster::pod_state::containers_detail(&f.pods));
            why.extend(crate::cluster::pod_state::scheduling_detail(&f));
        }
        Err(e) => why.push(format!("why pods are not ready is unknown: {e}")),
    }
    Ok((r, why))
}

pub async fn emergency(
    ctx: &Ctx,
    kube: &Kube,
    s: &ClusterScaleSettings,
    requested: Option<i32>,
) -> Result<ScaleReport, Failure> {
    let (t, wait) = (&s.target, s.wait);
    let name = &t.deployment;
    let d = facts::deployment(kube, name).await?;
    let hpa = facts::hpa_for(kube, name).await?;
    let current = replicas(&d);
    let ready_before = ready_replicas(&d);
    let p: EmergencyPlan = plan::emergency(
        current,
        requested,
        s.emergency_replicas,
        hpa.as_ref().map(bounds),
    );
    let mut warnings = Vec::new();
    if let Some(w) = capacity_warning(kube, &d, p.target).await {
        warnings.push(w);
    }
    let target_s = format!("deployment {}/{name}", t.namespace);
    let undo = format!("hal9ctl scale --restore {}", t.flags());
    let mut changes = vec![Change::new("replicas", current, p.target)];
    if let (Some(h), Some(b)) = (&hpa, p.hpa) {
        let before = bounds(h);
        changes.push(Change::new(
            &format!(
                "HPA {} minReplicas",
                h.metadata.name.as_deref().unwrap_or("?")
            ),
            before.min,
            b.min,
        ));
        changes.push(Change::new(
            &format!(
                "HPA {} maxReplicas",
                h.metadata.name.as_deref().unwrap_or("?")
            ),
            before.max,
            b.max,
        ));
    }
    if ctx.global.dry_run {
        return Ok(ScaleReport {
            target: target_s,
            action: "emergency".into(),
            dry_run: true,
            changes,
            warnings,
            undo: None,
            summary: format!("would scale to {} (never down)", p.target),
            status: Exit::Ok,
        });
    }

    let target_n = p.target;
    // What has landed so far: if a later write fails, the report names these
    // and the undo instead of hiding them behind the failure.
    let mut done: Vec<Change> = Vec::new();
    if let Some(h) = &hpa {
        let hname = h.metadata.name.clone().unwrap_or_default();
        let b = bounds(h);
        let ann = plan::first_record(original_of(&h.metadata).as_ref(), || Original {
            by: current_user(),
            at: now(),
            replicas: None,
            min_replicas: Some(b.min),
            max_replicas: Some(b.max),
            ready: None,
        })
        .map(|o| Some(serde_json::to_string(&o).unwrap_or_default()));
        let r = patch_hpa(
            kube,
            &hname,
            |b| HpaBounds {
                min: b.min.max(target_n),
                max: b.max.max(target_n),
            },
            ann,
        )
        .await;
        ctx.audit(
            "scale-hpa",
            &format!("hpa {}/{hname}", t.namespace),
            &r.as_ref()
                .map(|(b, a)| format!("ok: min {}→{}, max {}→{}", b.min, a.min, b.max, a.max))
                .unwrap_or_else(|e| format!("failed: {e}")),
        );
        let (before, after) = r?;
        done.extend(hpa_changes(&hname, before, after));
    }
    let ann = plan::first_record(original_of(&d.metadata).as_ref(), || Original {
        by: current_user(),
        at: now(),
        replicas: Some(current),
        min_replicas: None,
        max_replicas: None,
        ready: Some(ready_before),
    })
    .map(|o| Some(serde_json::to_string(&o).unwrap_or_default()));
    let r = scale_deployment(kube, name, ann, |fresh| fresh.max(target_n)).await;
    ctx.audit(
        "scale",
        &target_s,
        &r.as_ref()
            .map(|(b, a)| format!("ok: {b}→{a}"))
            .unwrap_or_else(|e| format!("failed: {e}")),
    );
    let (_, written_n) = match r {
        Ok(v) => v,
        Err(f) => return partly(target_s, "emergency", done, f, Some(undo)),
    };

    let generation = written_generation(kube, name).await?;
    let floor = plan::ready_floor(written_n, current, ready_before);
    // An emergency never scales down: more than asked (an HPA adding) is fine too.
    let want = Want {
        lo: written_n,
        hi: p.hpa.map_or(written_n, |b| b.max.max(written_n)),
    };
    let intent = Intent {
        want,
        hpa_converges: p.hpa.is_some(),
        generation,
        floor,
    };
    let (rb, why) = settle(kube, name, intent, wait, ctx.global.quiet).await?;
    let mut verified = plan::settled(want, &rb);
    if let Some(c) = changes.first_mut() {
        *c = c.clone().read_back(rb.replicas);
    }
    if let (Some(h), Some(want)) = (&hpa, p.hpa) {
        let got = hpa_read_back(kube, h.metadata.name.as_deref().unwrap_or_default()).await;
        verified &= got.is_some_and(|g| g.min >= want.min && g.max >= want.max);
        read_back_hpa(&mut changes, got);
    }
    changes.push(ready_row(ready_before, floor, rb.ready));
    let ready = rb.ready;
    let (status, summary) = if verified && ready >= written_n {
        (Exit::Ok, format!("{ready}/{written_n} replicas ready"))
    } else {
        warnings.extend(why);
        (
            Exit::Warning,
            if verified {
                format!(
                    "scaled to {written_n}, but only {ready} ready after {}",
                    humantime::format_duration(wait)
                )
            } else {
                format!(
                    "asked for {written_n}; what the API server reads back does not match yet (replicas {}, {ready} ready)",
                    rb.replicas
                )
            },
        )
    };
    Ok(ScaleReport {
        target: target_s,
        action: "emergency".into(),
        dry_run: false,
        changes,
        warnings,
        undo: Some(undo),
        summary,
        status,
    })
}

/// Fill the HPA rows ("HPA x minReplicas", "… maxReplicas") with what was read back.
fn read_back_hpa(changes: &mut [Change], got: Option<HpaBounds>) {
    for c in changes.iter_mut().filter(|c| c.what.starts_with("HPA ")) {
        let v = got.map(|b| {
            if c.what.ends_with("minReplicas") {
                b.min
            } else {
                b.max
            }
        });
        if let Some(v) = v {
            *c = c.clone().read_back(v);
        }
    }
}

pub async fn restore(
    ctx: &Ctx,
    kube: &Kube,
    s: &ClusterScaleSettings,
) -> Result<ScaleReport, Failure> {
    let (t, wait) = (&s.target, s.wait);
    let name = &t.deployment;
    let d = facts::deployment(kube, name).await?;
    let hpa = facts::hpa_for(kube, name).await?;
    let target_s = format!("deployment {}/{name}", t.namespace);
    let d_orig = original_of(&d.metadata);
    let h_orig = hpa
        .as_ref()
        .and_then(|h| original_of(&h.metadata).map(|o| (h.clone(), o)));
    if d_orig.is_none() && h_orig.is_none() {
        return Ok(ScaleReport {
            target: target_s,
            action: "restore".into(),
            dry_run: ctx.global.dry_run,
            changes: vec![],
            warnings: vec![],
            undo: None,
            summary: "nothing to restore: no emergency scale is recorded".into(),
            status: Exit::Ok,
        });
    }
    let mut changes = Vec::new();
    let restored_bounds = h_orig
        .as_ref()
        .map(|(h, o)| plan::restored_bounds(bounds(h), o));
    if let (Some((h, _)), Some(rb)) = (&h_orig, restored_bounds) {
        let b = bounds(h);
        let hname = h.metadata.name.as_deref().unwrap_or("?");
        changes.push(Change::new(
            &format!("HPA {hname} minReplicas"),
            b.min,
            rb.min,
        ));
        changes.push(Change::new(
            &format!("HPA {hname} maxReplicas"),
            b.max,
            rb.max,
        ));
    }
    let current = replicas(&d);
    let back_to = plan::restore_replicas(d_orig.as_ref(), restored_bounds);
    if let Some(r) = back_to {
        changes.push(Change::new("replicas", current, r));
    }
    if ctx.global.dry_run {
        return Ok(ScaleReport {
            target: target_s,
            action: "restore".into(),
            dry_run: true,
            changes,
            warnings: vec![],
            undo: None,
            summary: "would restore the recorded originals".into(),
            status: Exit::Ok,
        });
    }
    crate::output::prompt::confirm_or_refuse(
        &format!("restore {target_s} to its pre-emergency size (this removes capacity)"),
        ctx.global.yes,
        &format!("hal9ctl scale --restore {} --yes", t.flags()),
    )?;
    let mut done: Vec<Change> = Vec::new();
    if let (Some((h, _)), Some(rb)) = (&h_orig, restored_bounds) {
        let hname = h.metadata.name.clone().unwrap_or_default();
        let r = patch_hpa(kube, &hname, |_| rb, Some(None)).await;
        ctx.audit(
            "restore-hpa",
            &format!("hpa {}/{hname}", t.namespace),
            &r.as_ref()
                .map(|_| "ok".to_string())
                .unwrap_or_else(|e| format!("failed: {e}")),
        );
        let (before, after) = r?;
        done.extend(hpa_changes(&hname, before, after));
    }
    let target_n = back_to.unwrap_or(current);
    let ann = d_orig.as_ref().map(|_| None);
    let r = scale_deployment(kube, name, ann, |_| target_n).await;
    ctx.audit(
        "restore",
        &target_s,
        &r.as_ref()
            .map(|(b, a)| format!("ok: {b}→{a}"))
            .unwrap_or_else(|e| format!("failed: {e}")),
    );
    let (_, written_n) = match r {
        Ok(v) => v,
        Err(f) => {
            // The Deployment still carries its record, so running restore again finishes it.
            let finish = format!("hal9ctl scale --restore {} --yes", t.flags());
            return partly(target_s, "restore", done, f, None).map(|mut rep| {
                rep.warnings.push(format!(
                    "once the failed step is allowed, finish with: {finish}"
                ));
                rep
            });
        }
    };

    // Wait for what the restore changed, and for the readiness there was
    // before the emergency, not for pods that never served.
    let ready_now = ready_replicas(&d);
    let ready_before = d_orig.as_ref().and_then(|o| o.ready).unwrap_or(ready_now);
    let floor = plan::ready_floor(written_n, current, ready_before);
    let generation = written_generation(kube, name).await?;
    // With an HPA back in charge, any count within its restored bounds is its call.
    let want = match (&h_orig, restored_bounds) {
        (Some(_), Some(b)) => Want {
            lo: b.min.min(written_n),
            hi: b.max.max(written_n),
        },
        _ => Want::exactly(written_n),
    };
    let intent = Intent {
        want,
        hpa_converges: h_orig.is_some(),
        generation,
        floor,
    };
    let (rb, mut warnings) = settle(kube, name, intent, wait, ctx.global.quiet).await?;
    let mut verified = plan::settled(want, &rb);
    for c in changes.iter_mut().filter(|c| c.what == "replicas") {
        *c = c.clone().read_back(rb.replicas);
    }
    if let (Some((h, _)), Some(bounds_wanted)) = (&h_orig, restored_bounds) {
        let got = hpa_read_back(kube, h.metadata.name.as_deref().unwrap_or_default()).await;
        verified &= got == Some(bounds_wanted);
        read_back_hpa(&mut changes, got);
    }
    let (ready, got) = (rb.ready, rb.replicas);
    let floor = floor.min(got);
    changes.push(ready_row(ready_now, floor, ready));
    let (status, summary) = if !verified {
        (
            Exit::Warning,
            format!(
                "restore written, but not confirmed within {}: replicas read back {got}, {} pods present, {ready} ready",
                humantime::format_duration(wait),
                rb.pods
            ),
        )
    } else if ready < floor || (ready == 0 && got > 0) {
        (
            Exit::Warning,
            format!(
                "restored to {got} replicas, but only {ready} ready ({ready_before} were ready before the emergency)"
            ),
        )
    } else {
        if ready < got {
            warnings.push(format!(
                "{} of {got} pods are not ready, as before the emergency ({ready_before} ready then)",
                got - ready
            ));
        }
        (
            Exit::Ok,
            format!("restored: {got} replicas read back, {ready} ready"),
        )
    };
    Ok(ScaleReport {
        target: target_s,
        action: "restore".into(),
        dry_run: false,
        changes,
        warnings,
        undo: None,
        summary,
        status,
    })
}

/// The readiness a scale waited for, as a row next to what it changed.
fn ready_row(before: i32, floor: i32, got: i32) -> Change {
    Change::new("ready replicas", before, format!("≥ {floor}")).read_back(got)
}

pub async fn set_replicas(
    ctx: &Ctx,
    kube: &Kube,
    s: &ClusterScaleSettings,
    n: i32,
) -> Result<ScaleReport, Failure> {
    let (t, wait, force) = (&s.target, s.wait, s.force);
    let name = &t.deployment;
    let d = facts::deployment(kube, name).await?;
    let target_s = format!("deployment {}/{name}", t.namespace);
    let mut warnings = Vec::new();
    if let Some(h) = facts::hpa_for(kube, name).await? {
        let hname = h.metadata.name.as_deref().unwrap_or("?");
        match plan::hpa_scale_verdict(n, hname, bounds(&h), force, &target_s) {
            plan::HpaScaleVerdict::Refused { why, next_flags } => {
                ctx.audit(
                    "scale",
                    &target_s,
                    &format!("refused: HPA {hname} manages the replica count"),
                );
                return Err(Failure::critical(why).with_next(format!(
                    "hal9ctl scale {next_flags} {}   # raises the HPA floor too; or add --force",
                    t.flags()
                )));
            }
            plan::HpaScaleVerdict::Warned(w) => warnings.push(w),
        }
    }
    let current = replicas(&d);
    let mut changes = vec![Change::new("replicas", current, n)];
    if ctx.global.dry_run {
        return Ok(ScaleReport {
            target: target_s,
            action: "scale".into(),
            dry_run: true,
            changes,
            warnings,
            undo: None,
            summary: format!("would scale {current} → {n}"),
            status: Exit::Ok,
        });
    }
    if plan::scale_needs_confirmation(current, n) {
        crate::output::prompt::confirm_or_refuse(
            &format!("scale {target_s} down from {current} to {n}"),
            ctx.global.yes,
            &format!("hal9ctl scale --replicas {n} {} --yes", t.flags()),
        )?;
    }
    let r = scale_deployment(kube, name, None, |_| n).await;
    ctx.audit(
        "scale",
        &target_s,
        &r.as_ref()
            .map(|(b, a)| format!("ok: {b}→{a}"))
            .unwrap_or_else(|e| format!("failed: {e}")),
    );
    r?;
    let ready_now = ready_replicas(&d);
    let floor = plan::ready_floor(n, current, ready_now);
    let generation = written_generation(kube, name).await?;
    let intent = Intent {
        want: Want::exactly(n),
        hpa_converges: false,
        generation,
        floor,
    };
    let (rb, why) = settle(kube, name, intent, wait, ctx.global.quiet).await?;
    warnings.extend(why);
    for c in changes.iter_mut() {
        *c = c.clone().read_back(rb.replicas);
    }
    changes.push(ready_row(ready_now, floor, rb.ready));
    let ready = rb.ready;
    let (status, summary) = if plan::settled(Want::exactly(n), &rb) && ready >= n {
        (Exit::Ok, format!("{ready}/{n} replicas ready"))
    } else if rb.replicas != n {
        (
            Exit::Warning,
            format!(
                "scaled to {n}, but the replicas now read back as {}",
                rb.replicas
            ),
        )
    } else {
        (
            Exit::Warning,
            format!(
                "scaled to {n}: {} pods present, {ready} ready after {}",
                rb.pods,
                humantime::format_duration(wait)
            ),
        )
    };
    Ok(ScaleReport {
        target: target_s,
        action: "scale".into(),
        dry_run: false,
        changes,
        warnings,
        undo: Some(format!("hal9ctl scale --replicas {current} {}", t.flags())),
        summary,
        status,
    })
}
