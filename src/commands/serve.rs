use crate::cli::Ctx;
use crate::cli::args::ServeArgs;
use crate::output::Report;

pub fn run(_ctx: &Ctx, _args: &ServeArgs) -> anyhow::Result<Box<dyn Report>> {
    anyhow::bail!("serve: under construction")
}
