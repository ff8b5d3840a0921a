//! `hal9ctl health`: local runtime and host, or the Deployment with `--cluster`.

pub mod cluster;
pub mod cluster_advice;
pub mod local;
pub mod monitor_output;
#[cfg(test)]
mod no_loop;
pub mod oom;
pub mod pod_inside;
mod settings;
pub mod slo;

pub use settings::HealthSettings;

use std::time::{Duration, Instant};

use crate::cli::Ctx;
use crate::cluster::connect;
use crate::exit::Exit;
use crate::output::checks::CheckReport;

/// One round of checks.
async fn check_once(ctx: &Ctx, args: &HealthSettings) -> anyhow::Result<CheckReport> {
    if let Some(t) = &args.cluster {
        let kube = connect(t).await?;
        Ok(cluster::check(&kube, t, &ctx.config().slo).await?)
    } else {
        let mut report = local::check(ctx).await;
        slo::add_local(ctx, &mut report).await;
        Ok(report)
    }
}

/// Run the checks once, or `--wait` until healthy, or `--watch` forever.
pub async fn run(ctx: &Ctx, args: &HealthSettings) -> anyhow::Result<CheckReport> {
    let (started, t0) = (std::time::SystemTime::now(), Instant::now());
    let report = run_rounds(ctx, args).await?;
    monitor_output::finish(report, started, t0, args.textfile.as_deref())
}

async fn run_rounds(ctx: &Ctx, args: &HealthSettings) -> anyhow::Result<CheckReport> {
    if let Some(every) = args.watch {
        loop {
            let report = check_once(ctx, args).await?;
            ctx.printer.clear_screen()?;
            ctx.printer.print(&report)?;
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = crate::system::interrupt::pressed() => return Ok(report),
            }
        }
    }
    let Some(wait) = args.wait else {
        return check_once(ctx, args).await;
    };
    let deadline = Instant::now() + wait;
    let spinner = crate::output::progress::spinner("waiting for healthy", ctx.global.quiet);
    loop {
        let report = check_once(ctx, args).await;
        // UNKNOWN (API unreachable) is retried too: the point of --wait is to ride out a restart.
        if let Ok(r) = &report {
            spinner.set_message(format!("{}: {}", r.target, r.status));
            if r.status == Exit::Ok {
                spinner.finish_and_clear();
                return report;
            }
        }
        if Instant::now() >= deadline {
            spinner.finish_and_clear();
            let mut r = report?;
            // Running out of time is a verdict, not an unknown: the service did not become healthy.
            r.status = Exit::Critical;
            r.checks.push(crate::output::checks::Check::fail(
                "wait",
                format!("not healthy within {}", humantime::format_duration(wait)),
                "the failing checks above say what to do",
            ));
            return Ok(r);
        }
        tokio::time::sleep(
            Duration::from_millis(500).min(deadline.saturating_duration_since(Instant::now())),
        )
        .await;
    }
}
