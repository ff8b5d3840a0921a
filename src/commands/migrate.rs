//! `hal9ctl migrate`: the forward direction of the rollback engine. Its
//! settings map its flags onto the engine's (rollback/settings.rs); it adds
//! `--pause`, which reaches a running migration through a request beside its journal.

use crate::cli::Ctx;
use crate::commands::rollback::journal::JournalDir;
use crate::commands::rollback::report::RollbackReport;
use crate::commands::rollback::run;
use crate::commands::rollback::settings::MigrateSettings;
use crate::exit::{Exit, Failure};
use crate::system::audit::current_user;

pub async fn run(ctx: &Ctx, s: &MigrateSettings) -> anyhow::Result<RollbackReport> {
    let jd = JournalDir::new(&ctx.state_dir);
    if s.pause {
        if let Some(target) = &s.engine.cluster {
            return crate::commands::rollback::request::pause_cluster(ctx, target).await;
        }
        return pause(&jd);
    }
    if s.clears_pause() {
        jd.clear_pause()
            .map_err(|e| Failure::critical(format!("cannot clear the pause request: {e}")))?;
    }
    run::engine(ctx, &s.engine, Some(s.forward)).await
}

/// `migrate --cluster --detach`: the same forward run, as a Job in the cluster.
pub async fn detach(
    ctx: &Ctx,
    s: &MigrateSettings,
) -> anyhow::Result<crate::commands::rollback::detach::DetachReport> {
    use crate::commands::rollback::detach;
    detach::start_job(
        ctx,
        &s.engine,
        Some(s.forward),
        detach::migrate_argv(s),
        s.engine.image.as_deref(),
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
