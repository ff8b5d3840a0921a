//! The rollback loop: plan, journal, apply step by step, gate, resume.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::backend::Drain;
use super::backend::{Backend, ClusterBackend, LocalBackend, StepPutError};
use super::direction::{self, Direction, ForwardError};
use super::gates::{self, GateVerdict};
use super::journal::{
    GateResult, Journal, JournalDir, JournalLockError, JournalStep, RollbackStatus, StepStatus,
};
use super::plan::{self, PlanError, RollbackStrategy, StepTarget};
use super::report::RollbackReport;
use super::resume::{self, ResumeRefusal};
use super::settings::{OnFailure, RollbackSettings};
use crate::cli::Ctx;
use crate::cluster::Target;
use crate::exit::{Exit, Failure};
use crate::runtime::migration::{MigrationDoc, Phase};
use crate::runtime::state::StateDir;
use crate::system::audit::current_user;
use crate::system::interrupt;

fn now() -> String {
    crate::system::clock::now_rfc3339()
}

fn io_failure(what: &str, e: std::io::Error) -> Failure {
    Failure::critical(format!("{what}: {e}"))
        .with_next("check the state dir's permissions and free space: hal9ctl disk usage")
}

/// Apply one step idempotently: if the runtime is already there (a resumed
/// step that had landed), nothing is written; a stale version is re-read once.
async fn apply_step(
    b: &Backend,
    target: &StepTarget,
    way: Direction,
) -> Result<MigrationDoc, Failure> {
    let cmd = way.command();
    for _ in 0..3 {
        let cur = b.get().await?;
        if target.reached_by(&cur) {
            return Ok(cur);
        }
        // Re-checked before every write: someone may move the state while we run.
        let moves = way.wrong_way(&StepTarget::of(&cur), target);
        if !moves.is_empty() {
            let against = match way {
                Direction::Back => "forward",
                Direction::Forward => "back",
            };
            return Err(Failure::critical(format!(
                "refused: the next step would move the migration {against} ({}); it was changed by someone else while the {cmd} ran",
                moves.join(", ")
            ))
            .with_next(format!("hal9ctl {cmd} status   # then: hal9ctl {cmd} --abort")));
        }
        match b.put(&target.as_update(&cur)).await {
            Ok(doc) => return Ok(doc),
            Err(StepPutError::Stale) => continue,
            Err(StepPutError::Other(f)) => return Err(f),
        }
    }
    Err(
        Failure::critical("the migration state kept changing under the rollback (409 three times)")
            .with_next("hal9ctl rollback status   # someone else is changing it"),
    )
}

pub(super) fn plan_error(e: PlanError) -> Failure {
    match e {
        PlanError::Forward { .. } | PlanError::Steps | PlanError::NoComponents => {
            Failure::usage(e.to_string())
        }
        PlanError::TooManySteps(_) => Failure::usage(e.to_string())
            .with_next("hal9ctl rollback --strategy gradual --steps 10 --interval 30s"),
        PlanError::NoSnapshot => Failure::critical(format!("refused: {e}"))
            .with_next("hal9ctl rollback --strategy partial --components routing,features"),
        PlanError::Nothing(..) => Failure::new(Exit::Ok, e.to_string()),
    }
}

fn resume_refused(r: ResumeRefusal) -> Failure {
    let next = match &r {
        ResumeRefusal::OtherTarget { .. } => {
            "hal9ctl rollback status   # resume against the journaled target, or: hal9ctl rollback --abort"
        }
        ResumeRefusal::Forward { .. } => {
            "hal9ctl rollback --abort   # then plan again from the current state: hal9ctl rollback --strategy …"
        }
    };
    Failure::critical(format!("refused: {r}; nothing was changed")).with_next(next)
}

pub(super) fn forward_error(e: ForwardError) -> Failure {
    match e {
        ForwardError::Nothing(..) => Failure::new(Exit::Ok, e.to_string()),
        ForwardError::Behind { target, .. } => Failure::usage(e.to_string()).with_next(format!(
            "hal9ctl rollback --strategy gradual --to-phase {target}"
        )),
        ForwardError::Steps | ForwardError::TooManySteps { .. } => Failure::usage(e.to_string())
            .with_next("hal9ctl migrate --to-phase full --steps 2 --interval 30s"),
    }
}

/// What `hal9ctl migrate` adds to a run of the engine: the forward plan's
/// target and what a failed gate does.
#[derive(Debug, Clone, Copy)]
pub struct ForwardRun {
    pub to: Option<Phase>,
    pub steps: u32,
    /// `--on-failure rollback`: go back to the last good phase, not pause.
    pub rollback_on_failure: bool,
}

/// The local runtime's admin API, or with `--cluster` the ConfigMap.
async fn backend(ctx: &Ctx, cluster: Option<&Target>) -> Result<Backend, Failure> {
    if let Some(target) = cluster {
        let target = target.clone();
        let kube = crate::cluster::connect(&target).await?;
        let store = crate::cluster::migration::ConfigMapStore {
            kube,
            name: crate::cluster::migration::NAME.to_string(),
        };
        return Ok(Backend::Cluster(ClusterBackend {
            store,
            target,
            lease: None,
        }));
    }
    let token = crate::system::runtime_identity::proved_admin_token(
        &StateDir::new(&ctx.state_dir),
        &ctx.url,
    )?;
    Ok(Backend::Local(LocalBackend::new(&ctx.url, token)?))
}

pub async fn rollback(ctx: &Ctx, a: &RollbackSettings) -> anyhow::Result<RollbackReport> {
    engine(ctx, a, None).await
}

/// One engine for both directions: `forward` is `Some` for `hal9ctl migrate`.
/// In the cluster the whole run holds the migration Lease.
pub async fn engine(
    ctx: &Ctx,
    a: &RollbackSettings,
    forward: Option<ForwardRun>,
) -> anyhow::Result<RollbackReport> {
    let lease =
        crate::commands::migration_lock::hold(ctx, a.cluster.as_ref(), a.steal_expired_lock);
    let held = match lease.await {
        Ok(h) => h,
        // A live run holds the Lease: `--abort` is a request to that run
        // (it stops after its step), never a write of ours under its Lease.
        Err(refused) if a.abort => return abort_without_lease(ctx, a, refused).await,
        Err(f) => return Err(f.into()),
    };
    let r = engine_held(ctx, a, forward, held.as_ref().map(|h| h.watch())).await;
    crate::commands::migration_lock::release(held).await;
    r
}

/// `--abort --cluster` while another run holds the Lease: ask that run to
/// stop through the ConfigMap. When nobody answers, the Lease's refusal
/// stands: its holder renews it, so it is not dead, and we write nothing.
async fn abort_without_lease(
    ctx: &Ctx,
    a: &RollbackSettings,
    refused: Failure,
) -> anyhow::Result<RollbackReport> {
    let backend = backend(ctx, a.cluster.as_ref()).await?;
    let jd = JournalDir::new(&ctx.state_dir);
    if let Some(j) = backend.remote_journal().await
        && !j.status.is_finished()
        && let Some(r) = super::request::abort_running(&jd, &backend, &j).await?
    {
        return Ok(r);
    }
    Err(refused.into())
}

async fn engine_held(
    ctx: &Ctx,
    a: &RollbackSettings,
    forward: Option<ForwardRun>,
    lease: Option<crate::cluster::lease::LeaseWatch>,
) -> anyhow::Result<RollbackReport> {
    let jd = JournalDir::new(&ctx.state_dir);
    let cmd = if forward.is_some() {
        "migrate"
    } else {
        "rollback"
    };
    let mut backend = backend(ctx, a.cluster.as_ref()).await?;
    if let Backend::Cluster(c) = &mut backend {
        c.lease = lease;
    }
    let _lock = match jd.lock() {
        Ok(l) => l,
        Err(JournalLockError::Busy(p)) => {
            return Err(Failure::critical(format!(
                "refused: another rollback or migration is running (it holds {})",
                p.display()
            ))
            .with_next(format!("hal9ctl {cmd} status"))
            .into());
        }
        Err(e) => return Err(Failure::critical(e.to_string()).into()),
    };
    let existing = jd
        .load()
        .map_err(|e| io_failure("cannot read the rollback journal", e))?;
    // In the cluster, a rollback started on another machine is resumable here:
    // its journal is kept on the ConfigMap.
    let existing = match existing {
        Some(j) if !j.status.is_finished() => Some(j),
        local => match backend.remote_journal().await {
            Some(remote) if !remote.status.is_finished() => Some(remote),
            _ => local,
        },
    };
    let mut journal = match existing {
        Some(mut j) if !j.status.is_finished() => {
            // A run elsewhere (another machine, a detached Job) is asked to stop.
            if a.abort
                && let Some(r) = super::request::abort_running(&jd, &backend, &j).await?
            {
                return Ok(r);
            }
            if a.abort {
                j.status = RollbackStatus::Abandoned;
                j.reason = Some(format!("abandoned by {} at {}", current_user(), now()));
                jd.save(&j)
                    .map_err(|e| io_failure("cannot write the rollback journal", e))?;
                // Operators elsewhere read the ConfigMap's copy: it must say abandoned too,
                // or every later rollback there is asked to resume this one.
                backend.checkpoint(&j).await;
                ctx.audit(
                    "rollback-step",
                    &j.target,
                    &format!("abandoned {} {}", j.direction.command(), j.id),
                );
                let migration = backend.get().await.ok();
                return Ok(RollbackReport {
                    summary: format!(
                        "{} {} abandoned after {} of {} steps; the migration state stays where it is",
                        j.direction.command(),
                        j.id,
                        j.applied(),
                        j.steps.len()
                    ),
                    status: Exit::Ok,
                    dry_run: false,
                    migration,
                    next: Some(format!("hal9ctl {} status", j.direction.command())),
                    journal: Some(j),
                });
            }
            let here = backend.identity().await?;
            let current = backend.get().await?;
            resume::check(&j, &here, &current).map_err(resume_refused)?;
            if let Some(other) = backend.foreign_rollback(&j.id).await {
                return Err(Failure::critical(format!(
                    "refused: {} carries another unfinished rollback, {}, started by {} at {}; resuming {} as well would step the same state twice; nothing was changed",
                    here.describe, other.id, other.started_by, other.started_at, j.id
                ))
                .with_next("hal9ctl rollback --abort   # drops the local one; then: hal9ctl rollback --resume --cluster")
                .into());
            }
            if !a.resume {
                let jc = j.direction.command();
                let again = format!("hal9ctl {jc} --resume   # or: hal9ctl {jc} --abort");
                let question = format!(
                    "an unfinished {jc} {} ({} of {} steps applied) exists; resume it",
                    j.id,
                    j.applied(),
                    j.steps.len()
                );
                let yes = crate::output::prompt::confirm(&question, false, &again)
                    .map_err(|f| f.with_next(again.clone()))?;
                if !yes {
                    return Err(Failure::critical(format!(
                        "{jc} {} is unfinished; nothing was changed",
                        j.id
                    ))
                    .with_next(again)
                    .into());
                }
            }
            super::request::clear(&backend, &j.id).await;
            j.status = RollbackStatus::Running;
            j
        }
        _ if a.resume || a.abort => {
            let migration = backend.get().await.ok();
            return Ok(RollbackReport {
                summary: format!("no unfinished {cmd} to resume or abort"),
                status: Exit::Ok,
                dry_run: false,
                migration,
                journal: None,
                next: None,
            });
        }
        _ => {
            let Some(strategy) = a.strategy else {
                return Err(Failure::usage(
                    "give --strategy immediate|gradual|partial (or --resume)",
                )
                .into());
            };
            let here = backend.identity().await?;
            let cur = backend.get().await?;
            let planned =
                forward.map(|f| direction::plan(&cur, f.to.unwrap_or(Phase::Full), f.steps));
            let steps = match (planned, strategy) {
                (Some(Ok(s)), _) => Ok(s),
                (Some(Err(ForwardError::Nothing(p, s))), _) => {
                    return Ok(RollbackReport {
                        summary: format!(
                            "nothing to migrate: already at {p} with {s:.2} % hierarchical"
                        ),
                        status: Exit::Ok,
                        dry_run: ctx.global.dry_run,
                        migration: Some(cur),
                        journal: None,
                        next: None,
                    });
                }
                (Some(Err(e)), _) => return Err(forward_error(e).into()),
                (None, strategy) => match strategy {
                    RollbackStrategy::Immediate => plan::immediate(&cur, a.to_phase),
                    RollbackStrategy::Gradual => plan::gradual(&cur, a.to_phase, a.steps),
                    RollbackStrategy::Partial => plan::partial(&cur, a.to_phase, &a.components),
                },
            };
            let steps = match steps {
                Ok(s) => s,
                Err(PlanError::Nothing(p, s)) => {
                    return Ok(RollbackReport {
                        summary: format!(
                            "nothing to roll back: already at {p} with {s:.2} % hierarchical"
                        ),
                        status: Exit::Ok,
                        dry_run: ctx.global.dry_run,
                        migration: Some(cur),
                        journal: None,
                        next: None,
                    });
                }
                Err(e) => return Err(plan_error(e).into()),
            };
            let interval = a.interval;
            let j = Journal {
                id: format!(
                    "{}-{}-{}",
                    if forward.is_some() { "mg" } else { "rb" },
                    now().replace([':', '-'], ""),
                    std::process::id()
                ),
                strategy,
                components: a.components.clone(),
                target: here.describe,
                target_uid: here.uid,
                started_at: now(),
                started_by: current_user(),
                status: RollbackStatus::Running,
                reason: None,
                interval_ms: interval.as_millis() as u64,
                direction: if forward.is_some() {
                    Direction::Forward
                } else {
                    Direction::Back
                },
                aborted_after: None,
                from_phase: Some(cur.phase),
                steps: steps
                    .into_iter()
                    .enumerate()
                    .map(|(index, target)| JournalStep {
                        index,
                        target,
                        status: StepStatus::Pending,
                        applied_at: None,
                        version_after: None,
                        gate: None,
                    })
                    .collect(),
            };
            if ctx.global.dry_run {
                return Ok(RollbackReport {
                    summary: format!(
                        "dry run: {} step(s) planned, nothing changed",
                        j.steps.len()
                    ),
                    status: Exit::Ok,
                    dry_run: true,
                    migration: Some(cur),
                    journal: Some(j),
                    next: None,
                });
            }
            let (verb, again) = match j.direction {
                Direction::Back => ("roll the migration back", "hal9ctl rollback … --yes"),
                Direction::Forward => ("move the migration forward", "hal9ctl migrate … --yes"),
            };
            crate::output::prompt::confirm_or_refuse(
                &format!(
                    "{verb} from {} ({:.2} % hierarchical) to {} in {} step(s)",
                    cur.phase,
                    cur.hierarchical_percent,
                    j.steps.last().map(|s| s.target.phase).unwrap_or(cur.phase),
                    j.steps.len()
                ),
                ctx.global.yes,
                again,
            )?;
            j
        }
    };
    jd.save(&journal)
        .map_err(|e| io_failure("cannot write the rollback journal", e))?;
    execute(ctx, a, forward, &jd, &backend, &mut journal).await
}

/// The run stops after a gate, resumable: the journal says why, the audit
/// log says what, and the report names the command that goes on.
#[allow(clippy::too_many_arguments)]
async fn halt(
    ctx: &Ctx,
    b: &Backend,
    jd: &JournalDir,
    j: &mut Journal,
    bar: &indicatif::ProgressBar,
    verb: &str,
    reason: &str,
    journal_reason: String,
    next: &str,
) -> anyhow::Result<RollbackReport> {
    j.status = RollbackStatus::Interrupted;
    j.reason = Some(journal_reason);
    jd.save(j)
        .map_err(|e| io_failure("cannot write the rollback journal", e))?;
    // A detached Job's state dir dies with its pod: the ConfigMap must say paused too.
    b.checkpoint(j).await;
    ctx.audit(
        "rollback-step",
        &j.target,
        &format!("{verb} {}: {reason}", j.id),
    );
    bar.finish_and_clear();
    Ok(RollbackReport {
        summary: format!("{verb}: {reason}"),
        status: Exit::Warning,
        dry_run: false,
        migration: b.get().await.ok(),
        journal: Some(j.clone()),
        next: Some(next.into()),
    })
}

async fn execute(
    ctx: &Ctx,
    a: &RollbackSettings,
    forward: Option<ForwardRun>,
    jd: &JournalDir,
    b: &Backend,
    j: &mut Journal,
) -> anyhow::Result<RollbackReport> {
    let cmd = j.direction.command();
    let mut notes: Vec<String> = Vec::new();
    let interrupted = interrupt::flag();
    let th = a.thresholds();
    let save = |j: &Journal| {
        jd.save(j)
            .map_err(|e| io_failure("cannot write the rollback journal", e))
    };
    let bar = crate::output::progress::bar(j.steps.len() as u64, ctx.global.quiet);
    bar.set_position(j.applied() as u64);
    while let Some(i) = j.next_step() {
        let target = j.steps[i].target.clone();
        bar.set_message(format!(
            "step {}: {} at {:.2} %",
            i + 1,
            target.phase,
            target.hierarchical_percent
        ));
        j.steps[i].status = StepStatus::Applying;
        save(j)?;
        let before = b.get().await.ok();
        let doc = match apply_step(b, &target, direction::of_step(j, i)).await {
            Ok(d) => d,
            Err(f) => {
                j.status = RollbackStatus::Interrupted;
                j.reason = Some(format!("step {} failed: {f}", i + 1));
                save(j)?;
                ctx.audit(
                    "rollback-step",
                    &j.target,
                    &format!("failed: step {} of {}: {f}", i + 1, j.id),
                );
                let f = if f.next.is_some() {
                    f
                } else {
                    f.with_next(format!("hal9ctl {cmd} --resume"))
                };
                return Err(f.into());
            }
        };
        j.steps[i].status = StepStatus::Applied;
        j.steps[i].applied_at = Some(now());
        j.steps[i].version_after = Some(doc.version);
        save(j)?;
        b.checkpoint(j).await;
        bar.set_position(j.applied() as u64);
        // Entering state_migration changes the data layout; the runtime
        // snapshots the flat state first. Said only when re-read.
        if before.is_some_and(|d| d.state_schema == 1) && doc.state_schema == 2 {
            let note = if doc.snapshots.contains(&Phase::StateMigration) {
                format!(
                    "step {}: entering {}, the runtime took a snapshot of the flat state (re-read: snapshots {:?})",
                    i + 1,
                    target.phase,
                    doc.snapshots
                )
            } else {
                format!(
                    "step {}: entering {}, but the state re-read lists no snapshot of the flat state",
                    i + 1,
                    target.phase
                )
            };
            bar.println(&note);
            notes.push(note);
        }
        ctx.audit(
            "rollback-step",
            &j.target,
            &format!(
                "ok: {} step {} → {} {:.2} %",
                j.id,
                i + 1,
                target.phase,
                target.hierarchical_percent
            ),
        );

        let last = i + 1 == j.steps.len();
        if j.strategy == RollbackStrategy::Gradual && !last {
            let window = b.window_start().await?;
            let waited = tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(j.interval_ms)) => true,
                _ = wait_flag(&interrupted) => false,
                r = super::request::arrives(b, &j.id) => {
                    return super::request::honour(ctx, b, jd, j, r).await;
                }
            };
            if !waited {
                return interrupted_report(j, jd, b, "interrupted (Ctrl-C) after a completed step")
                    .await;
            }
            let min = a.min_requests;
            let mut judged = b.gates(&window, th).await?;
            let mut verdict = gates::judge(&judged.gates, judged.requests, min);
            let mut probes = 0;
            // No evidence yet: wait up to two more intervals for traffic, or,
            // when the operator allowed it, make the evidence with probes.
            let mut windows = 1;
            while let GateVerdict::Inconclusive { requests, min } = verdict {
                if a.allow_no_traffic && probes == 0 {
                    probes = b
                        .fill_with_probes(min.saturating_sub(requests as u64))
                        .await?;
                } else if windows < 3 && !a.allow_no_traffic {
                    bar.set_message(format!(
                        "waiting for traffic: {requests:.0} of {min} requests after step {}",
                        i + 1
                    ));
                    let waited = tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(j.interval_ms)) => true,
                        _ = wait_flag(&interrupted) => false,
                        r = super::request::arrives(b, &j.id) => {
                            return super::request::honour(ctx, b, jd, j, r).await;
                        }
                    };
                    if !waited {
                        return interrupted_report(
                            j,
                            jd,
                            b,
                            "interrupted (Ctrl-C) after a completed step",
                        )
                        .await;
                    }
                    windows += 1;
                } else {
                    break;
                }
                judged = b.gates(&window, th).await?;
                verdict = gates::judge(&judged.gates, judged.requests, min);
            }
            // In the cluster the step counts only once the pods took its
            // write; that gate fails like any other, and the policy applies.
            let pods = b
                .confirm_step(&doc, super::pods_gate::STEP_CONFIRM_WITHIN)
                .await?;
            if let Some(c) = &pods {
                bar.println(format!(
                    "step {}: {} at {:.2} %: {}",
                    i + 1,
                    target.phase,
                    target.hierarchical_percent,
                    c.summary()
                ));
                judged.gates.push(super::pods_gate::gate(c));
                verdict = gates::judge(&judged.gates, judged.requests, min);
            }
            bar.set_message(
                judged
                    .gates
                    .iter()
                    .map(|g| format!("{} {}", g.name, g.value))
                    .collect::<Vec<_>>()
                    .join(" · "),
            );
            let seen = judged.requests.unwrap_or(0.0);
            let synthetic = if probes > 0 {
                format!(" ({probes} synthetic probe signals, --allow-no-traffic)")
            } else {
                String::new()
            };
            let (failed, detail) = match &verdict {
                GateVerdict::Passed if judged.requests.is_some() => (
                    Vec::new(),
                    vec![format!("all gates passed on {seen:.0} requests{synthetic}")],
                ),
                GateVerdict::Passed => {
                    let mut d = vec!["all gates passed".to_string()];
                    d.extend(pods.as_ref().map(|c| c.summary()));
                    (Vec::new(), d)
                }
                GateVerdict::Failed(f) => {
                    let mut d = f.clone();
                    if probes > 0 {
                        d.push(format!("window held{synthetic}"));
                    }
                    (f.clone(), d)
                }
                GateVerdict::Inconclusive { requests, min } => {
                    let d = format!(
                        "inconclusive: {requests:.0} requests in {windows} window(s) of {} ms (min_requests {min}){synthetic}",
                        j.interval_ms
                    );
                    (Vec::new(), vec![d])
                }
            };
            let inconclusive = matches!(verdict, GateVerdict::Inconclusive { .. });
            j.steps[i].gate = Some(GateResult {
                passed: failed.is_empty() && !inconclusive,
                detail: detail.clone(),
                inconclusive,
                synthetic_probes: probes,
                pods,
            });
            if inconclusive {
                let reason = format!(
                    "gate inconclusive after step {}: {}; nothing was judged",
                    i + 1,
                    detail.join("; ")
                );
                let journal_reason = reason.clone();
                return halt(
                    ctx,
                    b,
                    jd,
                    j,
                    &bar,
                    "paused",
                    &reason,
                    journal_reason,
                    "send traffic, then: hal9ctl rollback --resume   # or, to feed the gates probe signals: hal9ctl rollback --resume --allow-no-traffic",
                )
                .await;
            }
            save(j)?;
            if !failed.is_empty() {
                let reason = format!(
                    "gate failed after step {} in the {} ms window after it: {}",
                    i + 1,
                    j.interval_ms,
                    failed.join("; ")
                );
                match a.on_failure {
                    _ if forward.is_some_and(|f| f.rollback_on_failure) => {
                        let good = direction::last_good_phase(j, i);
                        let cur = b.get().await?;
                        let back = match plan::immediate(&cur, Some(good)) {
                            Ok(s) => s.into_iter().last(),
                            Err(PlanError::Nothing(..)) => None,
                            Err(e) => return Err(plan_error(e).into()),
                        };
                        if let Some(back) = back {
                            direction::abort_to(j, i, back);
                        }
                        j.reason = Some(format!(
                            "{reason}; --on-failure rollback: back to the last good phase {good}"
                        ));
                        save(j)?;
                        ctx.audit(
                            "rollback-step",
                            &j.target,
                            &format!("rolling {} back to {good}: {reason}", j.id),
                        );
                    }
                    _ if forward.is_some() => {
                        let journal_reason = format!("{reason}; stopped there");
                        return halt(
                            ctx,
                            b,
                            jd,
                            j,
                            &bar,
                            "stopped",
                            &reason,
                            journal_reason,
                            "hal9ctl migrate --resume   # or back to the last good phase: hal9ctl migrate --resume --on-failure rollback   # or: hal9ctl migrate --abort",
                        )
                        .await;
                    }
                    OnFailure::Pause => {
                        let journal_reason = reason.clone();
                        return halt(
                            ctx,
                            b,
                            jd,
                            j,
                            &bar,
                            "paused",
                            &reason,
                            journal_reason,
                            "hal9ctl rollback --resume   # or: hal9ctl rollback --abort",
                        )
                        .await;
                    }
                    OnFailure::Abort => {
                        // Skip the remaining intermediate steps, go to the target now.
                        if let Some(last) = j.steps.last().map(|s| s.target.clone()) {
                            direction::abort_to(j, i, last);
                        }
                        j.reason = Some(format!("{reason}; aborted to the target at once"));
                        save(j)?;
                        ctx.audit(
                            "rollback-step",
                            &j.target,
                            &format!("aborting {} to immediate: {reason}", j.id),
                        );
                    }
                }
            }
        }
        if j.next_step().is_some()
            && let Some(r) = super::request::pending(b, &j.id).await
        {
            return super::request::honour(ctx, b, jd, j, r).await;
        }
        if let Some(by) = jd.pause_requested()
            && j.next_step().is_some()
        {
            let _ = jd.clear_pause();
            ctx.audit(
                "rollback-step",
                &j.target,
                &format!("paused {} at the request of {by}", j.id),
            );
            let why = format!("paused after a completed step at the request of {by}");
            let mut r = interrupted_report(j, jd, b, &why).await?;
            r.status = Exit::Warning;
            r.next = Some(match j.direction {
                Direction::Forward => "hal9ctl migrate --continue".to_string(),
                Direction::Back => "hal9ctl rollback --resume".to_string(),
            });
            return Ok(r);
        }
        if interrupted.load(Ordering::SeqCst) && j.next_step().is_some() {
            return interrupted_report(j, jd, b, "interrupted (Ctrl-C) after a completed step")
                .await;
        }
    }
    bar.finish_and_clear();
    let aborted = direction::finished_status(j) == RollbackStatus::AbortedToTarget;
    // Immediate and final steps: re-read the state, probe the paths, judge the window.
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    if j.strategy == RollbackStrategy::Immediate {
        match b.drain_hierarchical(Duration::from_secs(30)).await? {
            Drain::Done => {}
            Drain::Left(n) => problems.push(format!(
                "{n} hierarchical request(s) still in flight after 30 s"
            )),
            Drain::Unknown(why) => unknown.push(format!("hierarchical drain unknown: {why}")),
        }
    }
    let final_target = j
        .steps
        .last()
        .map(|s| s.target.clone())
        .ok_or_else(|| Failure::critical("internal: a rollback journal without steps"))?;
    let verified = b.verify(th, &final_target).await?;
    problems.extend(verified.problems);
    j.status = direction::finished_status(j);
    save(j)?;
    b.checkpoint(j).await;
    let migration = b.get().await?;
    let probed: u64 = j
        .steps
        .iter()
        .filter_map(|s| s.gate.as_ref())
        .map(|g| g.synthetic_probes)
        .sum();
    let mut evidence = verified.evidence;
    if probed > 0 {
        evidence.push_str(&format!(
            "; the gates judged {probed} synthetic probe signal(s) (--allow-no-traffic)"
        ));
    }
    // A window paused as inconclusive and then resumed was never judged.
    let unjudged = j
        .steps
        .iter()
        .filter(|s| s.gate.as_ref().is_some_and(|g| g.inconclusive))
        .count();
    if unjudged > 0 {
        evidence.push_str(&format!(
            "; {unjudged} step window(s) were inconclusive and never judged"
        ));
    }
    for u in unknown.iter().chain(&notes) {
        evidence.push_str(&format!("; {u}"));
    }
    let (done, gone) = match j.direction {
        Direction::Back => ("rolled back to", "the rollback went straight to"),
        Direction::Forward => ("migrated to", "the migration went back to"),
    };
    let (status, summary) = match (problems.is_empty(), aborted) {
        (true, false) => (
            Exit::Ok,
            format!(
                "{done} {} ({:.2} % hierarchical) in {} step(s); verified ({evidence})",
                migration.phase,
                migration.hierarchical_percent,
                j.steps.len()
            ),
        ),
        (true, true) => (
            Exit::Warning,
            format!(
                "a gate failed, so {gone} {} ({:.2} % hierarchical); verified ({evidence})",
                migration.phase, migration.hierarchical_percent
            ),
        ),
        (false, _) => (
            Exit::Critical,
            format!(
                "{done} {}, but verification failed: {} ({evidence})",
                migration.phase,
                problems.join("; ")
            ),
        ),
    };
    let mut next = (status != Exit::Ok).then(|| "hal9ctl health".to_string());
    let (status, summary) = match b {
        // --revision: the Deployment goes back to its previous template too.
        Backend::Cluster(c) if a.revision && j.strategy == RollbackStrategy::Immediate => {
            let wait = Duration::from_secs(300);
            let d = &c.target.deployment;
            let target = format!("deployment {}/{d}", c.target.namespace);
            match crate::cluster::undo::undo(&c.store.kube, d, wait).await {
                Ok(how) => {
                    ctx.audit("rollback-step", &target, &format!("ok: rollout undo {how}"));
                    (
                        status,
                        format!("{summary}; deployment {d} rolled back: {how}"),
                    )
                }
                // The migration state did go back: partly done, not a failure that hides it.
                Err(f) => {
                    ctx.audit(
                        "rollback-step",
                        &target,
                        &format!("failed: rollout undo: {f}"),
                    );
                    next = Some(f.next.clone().unwrap_or_else(|| {
                        format!(
                            "kubectl rollout undo deployment/{d} -n {}",
                            c.target.namespace
                        )
                    }));
                    (
                        status.worst(Exit::Warning),
                        format!(
                            "partly done: {summary}; but deployment {d} was not rolled back: {}",
                            f.message
                        ),
                    )
                }
            }
        }
        _ => (status, summary),
    };
    Ok(RollbackReport {
        summary,
        status,
        dry_run: false,
        migration: Some(migration),
        journal: Some(j.clone()),
        next,
    })
}

async fn wait_flag(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn interrupted_report(
    j: &mut Journal,
    jd: &JournalDir,
    b: &Backend,
    why: &str,
) -> anyhow::Result<RollbackReport> {
    j.status = RollbackStatus::Interrupted;
    j.reason = Some(why.to_string());
    jd.save(j)
        .map_err(|e| io_failure("cannot write the rollback journal", e))?;
    b.checkpoint(j).await;
    Ok(RollbackReport {
        summary: format!(
            "{why}: {} of {} steps applied; the state is consistent",
            j.applied(),
            j.steps.len()
        ),
        status: Exit::Interrupted,
        dry_run: false,
        migration: b.get().await.ok(),
        journal: Some(j.clone()),
        next: Some(format!("hal9ctl {} --resume", j.direction.command())),
    })
}

/// `hal9ctl rollback status`: the migration state and the running or last rollback.
pub async fn status(ctx: &Ctx, cluster: Option<&Target>) -> anyhow::Result<RollbackReport> {
    let jd = JournalDir::new(&ctx.state_dir);
    let local = jd
        .load()
        .map_err(|e| io_failure("cannot read the rollback journal", e))?;
    let mut lease_holder = None;
    let (migration, journal) = match backend(ctx, cluster).await {
        Ok(b) => {
            let remote = if local.is_none() {
                b.remote_journal().await
            } else {
                None
            };
            if let Backend::Cluster(c) = &b {
                lease_holder = crate::cluster::lease::holder_now(&c.store.kube).await;
            }
            (b.get().await, local.or(remote))
        }
        Err(f) => (Err(f), local),
    };
    // In the cluster a live Lease means the run goes on elsewhere: not a resume.
    let running = jd.lock().is_err() || lease_holder.is_some();
    let (summary, next) = match &journal {
        None => ("no rollback or migration has run here".to_string(), None),
        Some(j) if j.status.is_finished() => (
            format!("last {} {} is {:?}", j.direction.command(), j.id, j.status),
            None,
        ),
        Some(j) if running => (
            format!(
                "{} {} is running: {} of {} steps applied{}",
                j.direction.command(),
                j.id,
                j.applied(),
                j.steps.len(),
                lease_holder
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            ),
            None,
        ),
        Some(j) => (
            format!(
                "{} {} is unfinished: {} of {} steps applied",
                j.direction.command(),
                j.id,
                j.applied(),
                j.steps.len()
            ),
            Some(format!(
                "hal9ctl {c} --resume   # or: hal9ctl {c} --abort",
                c = j.direction.command()
            )),
        ),
    };
    let (status, summary, migration) = match migration {
        Ok(m) => (Exit::Ok, summary, Some(m)),
        Err(f) => (
            Exit::Warning,
            format!("{summary}; the migration state could not be read: {f}"),
            None,
        ),
    };
    Ok(RollbackReport {
        summary,
        status,
        dry_run: false,
        migration,
        journal,
        next,
    })
}
