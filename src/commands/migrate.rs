//! `hal9ctl migrate`: the forward direction of the rollback engine. It maps
//! its flags onto the engine's and adds `--pause`, which reaches a running
//! migration through a request beside its journal.

use crate::cli::Ctx;
use crate::cli::args::{ForwardOnFailure, MigrateArgs, OnFailure, RollbackArgs};
use crate::commands::rollback::journal::JournalDir;
use crate::commands::rollback::plan::Strategy;
use crate::commands::rollback::report::RollbackReport;
use crate::commands::rollback::run::{self, ForwardRun};
use crate::exit::{Exit, Failure};
use crate::system::audit::current_user;

fn engine_args(a: &MigrateArgs) -> RollbackArgs {
    RollbackArgs {
        sub: None,
        cluster: a.cluster.clone(),
        lock: a.lock.clone(),
        // Every forward step but the last is gated, as a gradual rollback's are.
        strategy: Some(Strategy::Gradual),
        to_phase: a.to_phase,
        steps: a.steps,
        interval: a.interval,
        components: Vec::new(),
        resume: a.resume || a.continue_,
        abort: a.abort,
        on_failure: OnFailure::Pause,
        revision: false,
        max_error_percent: a.max_error_percent,
        max_p99: a.max_p99,
        allow_no_traffic: a.allow_no_traffic,
        // The engine runs here; a detached run is the Job's own engine.
        detach: Default::default(),
    }
}

pub async fn run(ctx: &Ctx, a: &MigrateArgs) -> anyhow::Result<RollbackReport> {
    let jd = JournalDir::new(&ctx.state_dir);
    if a.pause {
        if a.cluster.cluster {
            return crate::commands::rollback::request::pause_cluster(ctx, &a.cluster).await;
        }
        return pause(&jd);
    }
    if a.resume || a.continue_ || a.abort {
        jd.clear_pause()
            .map_err(|e| Failure::critical(format!("cannot clear the pause request: {e}")))?;
    }
    let forward = ForwardRun {
        to: a.to_phase,
        steps: a.steps.unwrap_or(1),
        rollback_on_failure: a.on_failure == ForwardOnFailure::Rollback,
    };
    let mut rb = engine_args(a);
    if a.resume || a.continue_ || a.abort {
        rb.strategy = None;
    }
    run::engine(ctx, &rb, Some(forward)).await
}

/// `migrate --cluster --detach`: the same forward run, as a Job in the cluster.
pub async fn detach(
    ctx: &Ctx,
    a: &MigrateArgs,
) -> anyhow::Result<crate::commands::rollback::detach::DetachReport> {
    use crate::commands::rollback::detach;
    let forward = ForwardRun {
        to: a.to_phase,
        steps: a.steps.unwrap_or(1),
        rollback_on_failure: a.on_failure == ForwardOnFailure::Rollback,
    };
    let mut rb = engine_args(a);
    if a.resume || a.continue_ {
        rb.strategy = None;
    }
    let r = detach::Resolved::of(ctx, a.steps, a.interval);
    detach::run(
        ctx,
        &rb,
        Some(forward),
        detach::migrate_argv(a, &r),
        a.detach.image.as_deref(),
    )
    .await
}

/// Ask the process that holds the lock to stop after its current step.
fn pause(jd: &JournalDir) -> anyhow::Result<RollbackReport> {
    if jd.lock().is_ok() {
        return Ok(RollbackReport {
            summary: "no migration is running here; nothing to pause".into(),
            status: Exit::Ok,
            dry_run: false,
            migration: None,
            journal: jd.load().ok().flatten(),
            next: Some("hal9ctl migrate status".into()),
        });
    }
    jd.request_pause(&current_user())
        .map_err(|e| Failure::critical(format!("cannot write the pause request: {e}")))?;
    Ok(RollbackReport {
        summary: "pause requested: the running migration stops after its current step".into(),
        status: Exit::Ok,
        dry_run: false,
        migration: None,
        journal: jd.load().ok().flatten(),
        next: Some("hal9ctl migrate status   # then: hal9ctl migrate --continue".into()),
    })
}
