//! `hal9ctl scale`: emergency capacity that nothing quietly undoes.

pub mod cluster;
pub mod local;
pub mod plan;
pub mod report;

use crate::cli::Ctx;
use crate::cli::args::ScaleArgs;
use crate::cluster::connect;
use crate::commands::migration_lock::under;
use crate::exit::Failure;
pub use report::ScaleReport;

pub async fn run(ctx: &Ctx, a: &ScaleArgs) -> anyhow::Result<ScaleReport> {
    if !a.cluster.cluster {
        if a.replicas.is_some() && !a.emergency {
            return Err(Failure::usage(
                "--replicas without --emergency scales a Deployment; add --cluster",
            )
            .with_next(format!(
                "hal9ctl scale --replicas {} --cluster",
                a.replicas.unwrap_or(1)
            ))
            .into());
        }
        return Ok(if a.restore {
            local::restore(ctx).await?
        } else {
            local::emergency(
                ctx,
                &local::LocalScaleSettings::resolve(&ctx.global, ctx.config()),
            )
            .await?
        });
    }
    let t = a.cluster.target(&ctx.config().cluster);
    let kube = connect(&t).await?;
    // Two operators scaling the same Deployment race as two rollbacks do.
    Ok(if a.restore {
        under(ctx, Some(&t), a.lock.steal_expired_lock, async {
            Ok(cluster::restore(ctx, &kube, &t, a.wait).await?)
        })
        .await?
    } else if a.emergency {
        under(ctx, Some(&t), a.lock.steal_expired_lock, async {
            Ok(cluster::emergency(ctx, &kube, &t, a.replicas, a.wait).await?)
        })
        .await?
    } else {
        let n = a
            .replicas
            .ok_or_else(|| Failure::usage("give --emergency, --restore or --replicas N"))?;
        cluster::set_replicas(ctx, &kube, &t, n, a.force, a.wait).await?
    })
}
