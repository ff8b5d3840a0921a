//! `hal9ctl scale`: emergency capacity that nothing quietly undoes.

pub mod cluster;
pub mod local;
pub mod plan;
pub mod report;
mod settings;

use crate::cli::Ctx;
use crate::cluster::connect;
use crate::commands::migration_lock::under;
pub use report::ScaleReport;
pub use settings::{ClusterScaleSettings, LocalScaleSettings, ScaleMode, ScaleSettings};

pub async fn run(ctx: &Ctx, s: &ScaleSettings) -> anyhow::Result<ScaleReport> {
    let Some(k) = &s.cluster else {
        return Ok(match s.mode {
            ScaleMode::Restore => local::restore(ctx, &s.local).await?,
            _ => local::emergency(ctx, &s.local).await?,
        });
    };
    let t = &k.target;
    let kube = connect(t).await?;
    // Two operators scaling the same Deployment race as two rollbacks do.
    Ok(match s.mode {
        ScaleMode::Restore => {
            under(ctx, Some(t), k.steal_expired_lock, async {
                Ok(cluster::restore(ctx, &kube, k).await?)
            })
            .await?
        }
        ScaleMode::Emergency { replicas } => {
            under(ctx, Some(t), k.steal_expired_lock, async {
                Ok(cluster::emergency(ctx, &kube, k, replicas).await?)
            })
            .await?
        }
        ScaleMode::Replicas(n) => cluster::set_replicas(ctx, &kube, k, n).await?,
    })
}
