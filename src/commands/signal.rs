use crate::cli::Ctx;
use crate::cli::args::SignalArgs;
use crate::commands::config::ConfigReport;

pub async fn run(_ctx: &Ctx, _args: &SignalArgs) -> anyhow::Result<ConfigReport> {
    anyhow::bail!("signal: under construction")
}
