//! The rollback loop: plan, journal, apply step by step, gate, resume.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::backend::Drain;
use super::backend::{Backend, ClusterBackend, LocalBackend, PutError};
use super::gates::{self, Thresholds, Verdict};
use super::journal::{
    GateResult, Journal, JournalDir, JournalStep, LockError, RollbackStatus, StepStatus,
};
use super::plan::{self, PlanError, StepTarget, Strategy};
use super::report::RollbackReport;
use super::resume::{self, ResumeRefusal};
use crate::cli::Ctx;
use crate::cli::args::{OnFailure, RollbackArgs};
use crate::exit::{Exit, Failure};
use crate::runtime::migration::MigrationDoc;
use crate::runtime::state::StateDir;
use crate::system::audit::current_user;

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

fn audit(ctx: &Ctx, target: &str, result: &str) {
    crate::system::audit::record_or_warn(&ctx.state_dir, "rollback-step", target, result);
}

fn io_failure(what: &str, e: std::io::Error) -> Failure {
    Failure::critical(format!("{what}: {e}"))
        .with_next("check the state dir's permissions and free space: hal9ctl disk usage")
}

pub fn thresholds(ctx: &Ctx, a: &RollbackArgs) -> Thresholds {
    let c = &ctx.config().rollback;
    Thresholds {
        max_error_rate: a.max_error_percent.unwrap_or(c.max_error_percent) / 100.0,
        max_p99_s: a.max_p99.unwrap_or(c.max_p99).as_secs_f64(),
    }
}

/// Set while Ctrl-C was pressed: the current step finishes, then the loop stops.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            f.store(true, Ordering::SeqCst);
        }
    });
    flag
}

/// Apply one step idempotently: if the runtime is already there (a resumed
/// step that had landed), nothing is written; a stale version is re-read once.
async fn apply_step(b: &Backend, target: &StepTarget) -> Result<MigrationDoc, Failure> {
    for _ in 0..3 {
        let cur = b.get().await?;
        if target.reached_by(&cur) {
            return Ok(cur);
        }
        // Re-checked before every write: someone may move the state while we run.
        let moves = resume::forward_moves(&StepTarget::of(&cur), target);
        if !moves.is_empty() {
            return Err(Failure::critical(format!(
                "refused: the next step would move the migration forward ({}); it was changed by someone else while the rollback ran",
                moves.join(", ")
            ))
            .with_next("hal9ctl rollback status   # then: hal9ctl rollback --abort"));
        }
        match b.put(&target.as_update(&cur)).await {
            Ok(doc) => return Ok(doc),
            Err(PutError::Stale) => continue,
            Err(PutError::Other(f)) => return Err(f),
        }
    }
    Err(
        Failure::critical("the migration state kept changing under the rollback (409 three times)")
            .with_next("hal9ctl rollback status   # someone else is changing it"),
    )
}

fn plan_error(e: PlanError) -> Failure {
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

/// The local runtime's admin API, or with `--cluster` the ConfigMap.
async fn backend(ctx: &Ctx, cluster: &crate::cli::args::ClusterArgs) -> Result<Backend, Failure> {
    if cluster.cluster {
        let target = crate::commands::health::target(ctx, cluster);
        let kube = crate::cluster::connect(&target).await?;
        let store = crate::cluster::migration::ConfigMapStore {
            kube,
            name: crate::cluster::migration::NAME.to_string(),
        };
        return Ok(Backend::Cluster(ClusterBackend { store, target }));
    }
    let token = crate::system::runtime_identity::proved_admin_token(
        &StateDir::new(&ctx.state_dir),
        &ctx.url,
    )?;
    Ok(Backend::Local(LocalBackend::new(&ctx.url, token)?))
}

pub async fn run(ctx: &Ctx, a: &RollbackArgs) -> anyhow::Result<RollbackReport> {
    let jd = JournalDir::new(&ctx.state_dir);
    if a.revision && a.strategy.is_some_and(|s| s != Strategy::Immediate) {
        return Err(Failure::usage("--revision goes with --strategy immediate")
            .with_next("hal9ctl rollback --cluster --strategy immediate --revision")
            .into());
    }
    let backend = backend(ctx, &a.cluster).await?;
    let _lock = match jd.lock() {
        Ok(l) => l,
        Err(LockError::Busy(p)) => {
            return Err(Failure::critical(format!(
                "refused: another rollback is running (it holds {})",
                p.display()
            ))
            .with_next("hal9ctl rollback status")
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
            if a.abort {
                j.status = RollbackStatus::Abandoned;
                j.reason = Some(format!("abandoned by {} at {}", current_user(), now()));
                jd.save(&j)
                    .map_err(|e| io_failure("cannot write the rollback journal", e))?;
                // Operators elsewhere read the ConfigMap's copy: it must say abandoned too,
                // or every later rollback there is asked to resume this one.
                backend.checkpoint(&j).await;
                audit(ctx, &j.target, &format!("abandoned rollback {}", j.id));
                let migration = backend.get().await.ok();
                return Ok(RollbackReport {
                    summary: format!(
                        "rollback {} abandoned after {} of {} steps; the migration state stays where it is",
                        j.id,
                        j.applied(),
                        j.steps.len()
                    ),
                    status: Exit::Ok,
                    dry_run: false,
                    migration,
                    journal: Some(j),
                    next: Some("hal9ctl rollback status".into()),
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
                let question = format!(
                    "an unfinished rollback {} ({} of {} steps applied) exists; resume it",
                    j.id,
                    j.applied(),
                    j.steps.len()
                );
                let yes = crate::output::prompt::confirm(
                    &question,
                    false,
                    "hal9ctl rollback --resume   # or: hal9ctl rollback --abort",
                )
                .map_err(|f| {
                    f.with_next("hal9ctl rollback --resume   # or: hal9ctl rollback --abort")
                })?;
                if !yes {
                    return Err(Failure::critical(format!(
                        "rollback {} is unfinished; nothing was changed",
                        j.id
                    ))
                    .with_next("hal9ctl rollback --resume   # or: hal9ctl rollback --abort")
                    .into());
                }
            }
            j.status = RollbackStatus::Running;
            j
        }
        _ if a.resume || a.abort => {
            let migration = backend.get().await.ok();
            return Ok(RollbackReport {
                summary: "no unfinished rollback to resume or abort".into(),
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
            let steps = match strategy {
                Strategy::Immediate => plan::immediate(&cur, a.to_phase),
                Strategy::Gradual => plan::gradual(
                    &cur,
                    a.to_phase,
                    a.steps.unwrap_or(ctx.config().rollback.steps),
                ),
                Strategy::Partial => plan::partial(&cur, a.to_phase, &a.components),
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
            let interval = a.interval.unwrap_or(ctx.config().rollback.interval);
            let j = Journal {
                id: format!(
                    "rb-{}-{}",
                    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                        .to_string()
                        .replace([':', '-'], ""),
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
            crate::output::prompt::confirm(
                &format!(
                    "roll the migration back from {} ({:.2} % hierarchical) in {} step(s)",
                    cur.phase,
                    cur.hierarchical_percent,
                    j.steps.len()
                ),
                ctx.global.yes,
                "hal9ctl rollback … --yes",
            )?;
            j
        }
    };
    jd.save(&journal)
        .map_err(|e| io_failure("cannot write the rollback journal", e))?;
    execute(ctx, a, &jd, &backend, &mut journal).await
}

async fn execute(
    ctx: &Ctx,
    a: &RollbackArgs,
    jd: &JournalDir,
    b: &Backend,
    j: &mut Journal,
) -> anyhow::Result<RollbackReport> {
    let interrupted = interrupt_flag();
    let th = thresholds(ctx, a);
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
        let doc = match apply_step(b, &target).await {
            Ok(d) => d,
            Err(f) => {
                j.status = RollbackStatus::Interrupted;
                j.reason = Some(format!("step {} failed: {f}", i + 1));
                save(j)?;
                audit(
                    ctx,
                    &j.target,
                    &format!("failed: step {} of {}: {f}", i + 1, j.id),
                );
                let f = if f.next.is_some() {
                    f
                } else {
                    f.with_next("hal9ctl rollback --resume")
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
        audit(
            ctx,
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
        if j.strategy == Strategy::Gradual && !last {
            let window = b.window_start().await?;
            let waited = tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(j.interval_ms)) => true,
                _ = wait_flag(&interrupted) => false,
            };
            if !waited {
                return interrupted_report(j, jd, b, "interrupted (Ctrl-C) after a completed step")
                    .await;
            }
            let min = ctx.config().rollback.min_requests;
            let mut judged = b.gates(&window, th).await?;
            let mut verdict = gates::judge(&judged.gates, judged.requests, min);
            let mut probes = 0;
            // No evidence yet: wait up to two more intervals for traffic, or,
            // when the operator allowed it, make the evidence with probes.
            let mut windows = 1;
            while let Verdict::Inconclusive { requests, min } = verdict {
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
                Verdict::Passed if judged.requests.is_some() => (
                    Vec::new(),
                    vec![format!("all gates passed on {seen:.0} requests{synthetic}")],
                ),
                Verdict::Passed => (Vec::new(), vec!["all gates passed".into()]),
                Verdict::Failed(f) => {
                    let mut d = f.clone();
                    if probes > 0 {
                        d.push(format!("window held{synthetic}"));
                    }
                    (f.clone(), d)
                }
                Verdict::Inconclusive { requests, min } => {
                    let d = format!(
                        "inconclusive: {requests:.0} requests in {windows} window(s) of {} ms (min_requests {min}){synthetic}",
                        j.interval_ms
                    );
                    (Vec::new(), vec![d])
                }
            };
            let inconclusive = matches!(verdict, Verdict::Inconclusive { .. });
            j.steps[i].gate = Some(GateResult {
                passed: failed.is_empty() && !inconclusive,
                detail: detail.clone(),
                inconclusive,
                synthetic_probes: probes,
            });
            if inconclusive {
                let reason = format!(
                    "gate inconclusive after step {}: {}; nothing was judged",
                    i + 1,
                    detail.join("; ")
                );
                j.status = RollbackStatus::Interrupted;
                j.reason = Some(reason.clone());
                save(j)?;
                audit(ctx, &j.target, &format!("paused {}: {reason}", j.id));
                bar.finish_and_clear();
                return Ok(RollbackReport {
                    summary: format!("paused: {reason}"),
                    status: Exit::Warning,
                    dry_run: false,
                    migration: b.get().await.ok(),
                    journal: Some(j.clone()),
                    next: Some(
                        "send traffic, then: hal9ctl rollback --resume   # or, to feed the gates probe signals: hal9ctl rollback --resume --allow-no-traffic".into(),
                    ),
                });
            }
            save(j)?;
            if !failed.is_empty() {
                let reason = format!("gate failed after step {}: {}", i + 1, failed.join("; "));
                match a.on_failure {
                    OnFailure::Pause => {
                        j.status = RollbackStatus::Interrupted;
                        j.reason = Some(reason.clone());
                        save(j)?;
                        audit(ctx, &j.target, &format!("paused {}: {reason}", j.id));
                        bar.finish_and_clear();
                        return Ok(RollbackReport {
                            summary: format!("paused: {reason}"),
                            status: Exit::Warning,
                            dry_run: false,
                            migration: b.get().await.ok(),
                            journal: Some(j.clone()),
                            next: Some(
                                "hal9ctl rollback --resume   # or: hal9ctl rollback --abort".into(),
                            ),
                        });
                    }
                    OnFailure::Abort => {
                        // Abort to immediate: skip the remaining intermediate steps, go to the target now.
                        let final_step = j.steps.last().cloned();
                        j.steps.truncate(i + 1);
                        if let Some(mut s) = final_step {
                            s.index = i + 1;
                            s.status = StepStatus::Pending;
                            j.steps.push(s);
                        }
                        j.reason = Some(format!("{reason}; aborted to the target at once"));
                        save(j)?;
                        audit(
                            ctx,
                            &j.target,
                            &format!("aborting {} to immediate: {reason}", j.id),
                        );
                    }
                }
            }
        }
        if interrupted.load(Ordering::SeqCst) && j.next_step().is_some() {
            return interrupted_report(j, jd, b, "interrupted (Ctrl-C) after a completed step")
                .await;
        }
    }
    bar.finish_and_clear();
    let aborted = j
        .reason
        .as_deref()
        .is_some_and(|r| r.contains("aborted to the target"));
    // Immediate and final steps: re-read the state, probe the paths, judge the window.
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    if j.strategy == Strategy::Immediate {
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
    j.status = if aborted {
        RollbackStatus::AbortedToTarget
    } else {
        RollbackStatus::Completed
    };
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
    for u in &unknown {
        evidence.push_str(&format!("; {u}"));
    }
    let (status, summary) = match (problems.is_empty(), aborted) {
        (true, false) => (
            Exit::Ok,
            format!(
                "rolled back to {} ({:.2} % hierarchical) in {} step(s); verified ({evidence})",
                migration.phase,
                migration.hierarchical_percent,
                j.steps.len()
            ),
        ),
        (true, true) => (
            Exit::Warning,
            format!(
                "a gate failed, so the rollback went straight to {} ({:.2} % hierarchical); verified ({evidence})",
                migration.phase, migration.hierarchical_percent
            ),
        ),
        (false, _) => (
            Exit::Critical,
            format!(
                "rolled back to {}, but verification failed: {} ({evidence})",
                migration.phase,
                problems.join("; ")
            ),
        ),
    };
    let mut next = (status != Exit::Ok).then(|| "hal9ctl health".to_string());
    let (status, summary) = match b {
        // --revision: the Deployment goes back to its previous template too.
        Backend::Cluster(c) if a.revision && j.strategy == Strategy::Immediate => {
            let wait = Duration::from_secs(300);
            let d = &c.target.deployment;
            let target = format!("deployment {}/{d}", c.target.namespace);
            match crate::cluster::undo::undo(&c.store.kube, d, wait).await {
                Ok(how) => {
                    audit(ctx, &target, &format!("ok: rollout undo {how}"));
                    (
                        status,
                        format!("{summary}; deployment {d} rolled back: {how}"),
                    )
                }
                // The migration state did go back: partly done, not a failure that hides it.
                Err(f) => {
                    audit(ctx, &target, &format!("failed: rollout undo: {f}"));
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
        next: Some("hal9ctl rollback --resume".into()),
    })
}

/// `hal9ctl rollback status`: the migration state and the running or last rollback.
pub async fn status(
    ctx: &Ctx,
    cluster: &crate::cli::args::ClusterArgs,
) -> anyhow::Result<RollbackReport> {
    let jd = JournalDir::new(&ctx.state_dir);
    let local = jd
        .load()
        .map_err(|e| io_failure("cannot read the rollback journal", e))?;
    let (migration, journal) = match backend(ctx, cluster).await {
        Ok(b) => {
            let remote = if local.is_none() {
                b.remote_journal().await
            } else {
                None
            };
            (b.get().await, local.or(remote))
        }
        Err(f) => (Err(f), local),
    };
    let running = jd.lock().is_err();
    let (summary, next) = match &journal {
        None => ("no rollback has run here".to_string(), None),
        Some(j) if j.status.is_finished() => {
            (format!("last rollback {} is {:?}", j.id, j.status), None)
        }
        Some(j) if running => (
            format!(
                "rollback {} is running: {} of {} steps applied",
                j.id,
                j.applied(),
                j.steps.len()
            ),
            None,
        ),
        Some(j) => (
            format!(
                "rollback {} is unfinished: {} of {} steps applied",
                j.id,
                j.applied(),
                j.steps.len()
            ),
            Some("hal9ctl rollback --resume   # or: hal9ctl rollback --abort".to_string()),
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
