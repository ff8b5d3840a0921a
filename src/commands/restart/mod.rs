//! `hal9ctl restart`: zero-downtime locally, a watched rolling restart in the cluster.

pub mod cluster;
pub mod local;
pub mod via_systemd;

use std::time::Duration;

use crate::cli::Ctx;
use crate::cli::args::RestartArgs;
use crate::cluster::connect;
use crate::commands::health::target;
use crate::commands::scale::ScaleReport;

pub async fn run(ctx: &Ctx, a: &RestartArgs) -> anyhow::Result<ScaleReport> {
    if a.cluster.cluster {
        let t = target(ctx, &a.cluster);
        let kube = connect(&t).await?;
        let wait = a.wait.unwrap_or(Duration::from_secs(300));
        return Ok(cluster::restart(ctx, &kube, &t, wait, a.force).await?);
    }
    local::restart(ctx, a).await
}
