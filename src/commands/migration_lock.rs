//! Holding the cluster migration lock around a command's run: taken before
//! it gathers (its plan must rest on state no other operator is changing),
//! released when it ends, whichever way it ends.

use crate::cli::Ctx;
use crate::cluster::Target;
use crate::cluster::lease::{self, Held, LeaseHolder, Released, Timing};
use crate::exit::Failure;

const STEAL: &str = "--steal-expired-lock";

/// The Lease for a `--cluster` run that writes; `None` locally (the flock
/// does that job) and with `--dry-run` (nothing is written).
/// `steal_expired_lock` is `--steal-expired-lock`.
pub async fn hold(
    ctx: &Ctx,
    cluster: Option<&Target>,
    steal_expired_lock: bool,
) -> Result<Option<Held>, Failure> {
    let Some(target) = cluster.filter(|_| !ctx.global.dry_run) else {
        return Ok(None);
    };
    let kube = crate::cluster::connect(target).await?;
    let me = LeaseHolder::here();
    let takeover = if me.command.split(' ').any(|w| w == STEAL) {
        me.command.clone()
    } else {
        format!("{} {STEAL}", me.command)
    };
    let c = &ctx.config().lease;
    let timing = Timing {
        duration: c.duration,
        renew_every: c.renew_every,
    };
    let held = lease::acquire(&kube, &me, timing, steal_expired_lock, &takeover).await?;
    tracing::info!("holding {} as {}", lease::describe(&kube), me.identity());
    Ok(Some(held))
}

/// Hand the Lease back; what could not be released is said on stderr, since
/// the next operator would otherwise wait for it without knowing why.
pub async fn release(held: Option<Held>) {
    let Some(h) = held else { return };
    match h.release().await {
        Released::Released => {}
        Released::Lost(why) => {
            tracing::warn!(
                "the migration lock was not released: it was lost during the run ({why})"
            )
        }
        Released::Expires(why) => tracing::warn!(
            "the migration lock could not be released ({why}); it expires by itself once its duration has passed"
        ),
    }
}

/// Run `work` under the Lease. Ctrl-C stops waiting for it and releases the
/// Lease, so it does not stay held until it expires.
pub async fn under<T>(
    ctx: &Ctx,
    cluster: Option<&Target>,
    steal_expired_lock: bool,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let held = hold(ctx, cluster, steal_expired_lock).await?;
    if held.is_none() {
        return work.await;
    }
    let r = tokio::select! {
        r = work => r,
        _ = crate::system::interrupt::pressed() => Err(Failure::new(
            crate::exit::Exit::Interrupted,
            "interrupted (Ctrl-C): what was written before stands; the migration lock is released",
        )
        .with_next("hal9ctl health --cluster   # then run the command again")
        .into()),
    };
    release(held).await;
    r
}
