//! `hal9ctl restart`: zero-downtime locally, a watched rolling restart in the cluster.

pub mod cluster;
pub mod local;
mod plan;
mod report;
mod settings;
pub mod via_systemd;

use crate::cli::Ctx;
use crate::cluster::connect;
pub use report::RestartReport;
pub use settings::RestartSettings;

pub async fn run(ctx: &Ctx, s: &RestartSettings) -> anyhow::Result<RestartReport> {
    if let Some(t) = &s.cluster {
        let kube = connect(t).await?;
        return Ok(cluster::restart(ctx, &kube, t, s.wait, s.force).await?);
    }
    local::restart(ctx, s).await
}
