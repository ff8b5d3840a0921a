//! `hal9ctl scale --emergency` on the local runtime: raise its admission
//! limits, record the previous ones, and put them back with `--restore`.

use std::time::Duration;

use super::plan::plan_local_emergency;
use super::report::{Change, ScaleReport};
use super::settings::LocalScaleSettings;
use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::runtime::api::Limits;
use crate::runtime::client::{ClientError, RuntimeClient};
use crate::runtime::state::StateDir;

use crate::system::fsio::write_atomic;
use crate::system::runtime_identity;

/// The previous limits, kept in the state dir until `--restore`.
pub const SAVED: &str = "scale-emergency.json";

fn client_failure(ctx: &Ctx, e: ClientError) -> Failure {
    let token_file = StateDir::new(&ctx.state_dir).admin_token_file();
    e.into_admin_failure(&ctx.url, Some(&token_file), "hal9ctl health")
}

fn proved_runtime(ctx: &Ctx) -> Result<(), Failure> {
    runtime_identity::prove_for_admin(&StateDir::new(&ctx.state_dir), &ctx.url)
}

fn token(ctx: &Ctx) -> Result<String, Failure> {
    runtime_identity::proved_admin_token(&StateDir::new(&ctx.state_dir), &ctx.url)
}

fn audit(ctx: &Ctx, action: &str, result: &str) {
    ctx.audit(action, &format!("runtime {}", ctx.url), result);
}

fn limit_changes(from: Limits, to: Limits) -> Vec<Change> {
    vec![
        Change::new("max_in_flight", from.max_in_flight, to.max_in_flight),
        Change::new("rate_limit_rps", from.rate_limit_rps, to.rate_limit_rps),
    ]
}

/// Set the limits (unless they already are), audit it, and read them back:
/// a command that prints success without checking it is a defect.
async fn set_and_verify(
    ctx: &Ctx,
    client: &RuntimeClient,
    token: &str,
    current: Limits,
    wanted: Limits,
    action: &str,
) -> Result<(), Failure> {
    if current != wanted {
        let r = client.set_limits(token, &wanted).await;
        let result = match &r {
            Ok(_) => format!(
                "ok: {} in flight, {} rps",
                wanted.max_in_flight, wanted.rate_limit_rps
            ),
            Err(e) => format!("failed: {e}"),
        };
        audit(ctx, action, &result);
        r.map_err(|e| client_failure(ctx, e))?;
    }
    verify(ctx, client, token, wanted).await
}

/// Re-gathered after acting: the proved runtime, still the only listener on
/// its port, reports the wanted limits. With one instance on the port, its
/// answer is every instance's.
async fn verify(
    ctx: &Ctx,
    client: &RuntimeClient,
    token: &str,
    wanted: Limits,
) -> Result<(), Failure> {
    let now = client
        .limits(token)
        .await
        .map_err(|e| client_failure(ctx, e))?
        .body;
    if now != wanted {
        return Err(Failure::critical(format!(
            "the runtime reports {now:?} after we set {wanted:?}"
        ))
        .with_next("hal9ctl health"));
    }
    proved_runtime(ctx)
}

pub async fn emergency(ctx: &Ctx, s: &LocalScaleSettings) -> Result<ScaleReport, Failure> {
    let client =
        RuntimeClient::new(&ctx.url, Duration::from_secs(5)).map_err(|e| client_failure(ctx, e))?;
    let token = token(ctx)?;
    let current = client
        .limits(&token)
        .await
        .map_err(|e| client_failure(ctx, e))?
        .body;
    let saved = ctx.state_dir.join(SAVED);
    let plan = plan_local_emergency(current, s.emergency, saved.exists());
    let wanted = plan.wanted;
    let target = format!("local runtime {}", ctx.url);
    let changes = limit_changes(current, wanted);
    if s.dry_run {
        return Ok(ScaleReport {
            target,
            action: "emergency".into(),
            dry_run: true,
            changes,
            warnings: vec![],
            undo: None,
            summary: "would raise the admission limits".into(),
            status: Exit::Ok,
        });
    }
    if plan.record_current {
        let body =
            serde_json::to_vec_pretty(&current).map_err(|e| Failure::critical(e.to_string()))?;
        write_atomic(&saved, &body, 0o600).map_err(|e| {
            Failure::critical(format!(
                "cannot record the previous limits in {}: {e}",
                saved.display()
            ))
        })?;
    }
    let already = plan.already;
    set_and_verify(ctx, &client, &token, current, wanted, "scale-limits").await?;
    let undo = saved.exists().then(|| {
        format!(
            "hal9ctl scale --restore --state-dir {}",
            ctx.state_dir.display()
        )
    });
    Ok(ScaleReport {
        target,
        action: "emergency".into(),
        dry_run: false,
        changes,
        warnings: vec![],
        undo,
        summary: if already {
            "already at the emergency limits".into()
        } else {
            "admission limits raised".into()
        },
        status: Exit::Ok,
    })
}

pub async fn restore(ctx: &Ctx, s: &LocalScaleSettings) -> Result<ScaleReport, Failure> {
    let target = format!("local runtime {}", ctx.url);
    let saved = ctx.state_dir.join(SAVED);
    let original: Limits = match std::fs::read(&saved) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ScaleReport {
                target,
                action: "restore".into(),
                dry_run: s.dry_run,
                changes: vec![],
                warnings: vec![],
                undo: None,
                summary: "nothing to restore: no emergency scale is recorded".into(),
                status: Exit::Ok,
            });
        }
        Err(e) => {
            return Err(Failure::critical(format!(
                "cannot read {}: {e}",
                saved.display()
            )));
        }
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            Failure::critical(format!("{} is not a limits record: {e}", saved.display()))
                .with_next(format!("inspect or remove {}", saved.display()))
        })?,
    };
    let client =
        RuntimeClient::new(&ctx.url, Duration::from_secs(5)).map_err(|e| client_failure(ctx, e))?;
    let token = token(ctx)?;
    let current = client
        .limits(&token)
        .await
        .map_err(|e| client_failure(ctx, e))?
        .body;
    let changes = limit_changes(current, original);
    if s.dry_run {
        return Ok(ScaleReport {
            target,
            action: "restore".into(),
            dry_run: true,
            changes,
            warnings: vec![],
            undo: None,
            summary: "would restore the recorded limits".into(),
            status: Exit::Ok,
        });
    }
    let already = current == original;
    set_and_verify(ctx, &client, &token, current, original, "restore-limits").await?;
    std::fs::remove_file(&saved).map_err(|e| {
        Failure::new(
            Exit::Warning,
            format!(
                "limits restored, but {} could not be removed: {e}",
                saved.display()
            ),
        )
    })?;
    Ok(ScaleReport {
        target,
        action: "restore".into(),
        dry_run: false,
        changes,
        warnings: vec![],
        undo: None,
        summary: if already {
            "already at the recorded limits".into()
        } else {
            "admission limits restored".into()
        },
        status: Exit::Ok,
    })
}
