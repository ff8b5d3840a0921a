//! `hal9ctl incident bundle`: everything a postmortem needs from this host
//! (and with `--cluster`, from the Deployment) in one `.tar.gz`.
//!
//! gather → (the destination plan) → write each part through one gate that
//! takes secrets out and caps its size → rename the whole archive into place
//! → report what each part became. A part that cannot be read is a
//! `NAME.error.txt` in the archive and makes the run partial (exit 1).

pub mod archive;
pub mod cluster_parts;
pub mod parts;
mod settings;

pub use settings::IncidentSettings;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::output::{Report, Styles, to_value};
use archive::{Bundle, Gathered, PartRecord};

/// Hard cap of any one part, whatever its gatherer does.
const PART_CAP: usize = 64 * 1024 * 1024;

#[derive(Debug, Serialize)]
pub struct BundleReport {
    pub path: String,
    pub since: String,
    pub cluster: bool,
    pub parts: Vec<PartRecord>,
    /// Parts that could not be read (each has a `NAME.error.txt`).
    pub failed_parts: usize,
}

impl Report for BundleReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    /// The path alone on stdout, so `f=$(hal9ctl incident bundle)` works; what
    /// went missing was said on stderr as it happened.
    fn render(&self, _st: &Styles) -> String {
        format!("{}\n", self.path)
    }

    fn exit(&self) -> Exit {
        if self.failed_parts > 0 {
            Exit::Warning
        } else {
            Exit::Ok
        }
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "host".into())
}

/// `hal9-incident-HOST-20260101T120000Z`: sortable, and safe as a file name.
fn bundle_name(host: &str, now_rfc3339: &str) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp: String = now_rfc3339
        .chars()
        .filter(|c| *c != ':' && *c != '-')
        .collect();
    format!("hal9-incident-{host}-{stamp}")
}

/// The strings that must never reach the archive: the admin token, the
/// notification secrets, and the kubeconfig's credentials.
fn secrets(ctx: &Ctx, cluster: bool) -> Vec<String> {
    let sd = crate::runtime::state::StateDir::new(&ctx.state_dir);
    let mut s: Vec<String> = [sd.read_admin_token().ok(), sd.read_token().ok()]
        .into_iter()
        .flatten()
        .collect();
    s.extend(crate::notify::secrets(&ctx.config().notify));
    if cluster {
        s.extend(cluster_parts::kubeconfig_secrets());
    }
    s.retain(|x| !x.is_empty());
    s.sort();
    s.dedup();
    s
}

pub async fn run(ctx: &Ctx, s: &IncidentSettings) -> anyhow::Result<BundleReport> {
    let top = bundle_name(&hostname(), &crate::system::clock::now_rfc3339());
    let out: PathBuf = match &s.out {
        Some(p) => p.clone(),
        None => PathBuf::from(format!("{top}.tar.gz")),
    };
    refuse_bad_destination(&out, s.force)?;
    let progress =
        crate::output::progress::spinner_on("incident bundle", ctx.printer.progress_target());
    let mut bundle = Bundle::create(&out, &top, secrets(ctx, s.cluster.is_some()), PART_CAP)
        .with_context(|| format!("creating a temp file beside {}", out.display()))?;
    let (timeout, log_cap) = (s.part_timeout, s.log_cap);
    let token = crate::runtime::state::StateDir::new(&ctx.state_dir)
        .read_admin_token()
        .map_err(|e| {
            format!("the admin token could not be read ({e}), so /admin/migration was not asked")
        });

    let step = |bundle: &mut Bundle,
                stem: &str,
                ext: &str,
                part: Result<Gathered, String>|
     -> anyhow::Result<()> {
        if let Err(why) = &part {
            ctx.printer.warn(&format!("incident bundle: {stem}: {why}"));
        }
        bundle
            .add(stem, ext, part)
            .with_context(|| format!("writing {stem} into {}", bundle.temp_path().display()))
    };

    progress.set_message("health");
    step(
        &mut bundle,
        "health",
        "json",
        parts::health(ctx, s.cluster.as_ref()).await,
    )?;
    let base = ctx.url.trim_end_matches('/');
    for (stem, ext, path, auth) in [
        ("status", "json", "/api/v1/status", false),
        ("metrics", "txt", "/metrics", false),
        ("migration", "json", "/admin/migration", true),
    ] {
        progress.set_message(format!("GET {path}"));
        let part = match (&token, auth) {
            (Err(why), true) => Err(why.clone()),
            (Ok(t), true) => {
                parts::get_bounded(
                    &format!("{base}{path}"),
                    Some(t.as_str()),
                    timeout,
                    parts::API_CAP,
                )
                .await
            }
            (_, false) => {
                parts::get_bounded(&format!("{base}{path}"), None, timeout, parts::API_CAP).await
            }
        };
        step(&mut bundle, stem, ext, part)?;
    }
    progress.set_message("runtime log");
    step(&mut bundle, "runtime", "log", parts::log_tail(ctx, log_cap))?;
    step(&mut bundle, "runtime", "json", parts::runtime_json(ctx))?;
    step(&mut bundle, "config", "json", parts::config(ctx))?;
    step(&mut bundle, "audit", "json", parts::audit(ctx, s.since))?;
    step(&mut bundle, "host", "txt", parts::host(ctx))?;
    if let Some(t) = &s.cluster {
        for (stem, ext, part) in cluster_parts::gather(t, s.since, log_cap, &progress).await {
            step(&mut bundle, &stem, ext, part)?;
        }
    }
    progress.set_message("writing the archive");
    let failed_parts = bundle.parts.iter().filter(|p| p.error.is_some()).count();
    let since = humantime::format_duration(s.since).to_string();
    let manifest = serde_json::json!({
        "hal9ctl": crate::VERSION,
        "created": crate::system::clock::now_rfc3339(),
        "host": hostname(),
        "since": since,
        "cluster": s.cluster.is_some(),
        "url": ctx.url,
        "state_dir": ctx.state_dir.display().to_string(),
        "parts": bundle.parts,
    });
    let parts_done = bundle.parts.clone();
    bundle
        .finish(&out, &manifest, s.force)
        .with_context(|| format!("writing {}", out.display()))?;
    progress.finish_and_clear();
    let shown = std::fs::canonicalize(&out).unwrap_or(out);
    Ok(BundleReport {
        path: shown.display().to_string(),
        since,
        cluster: s.cluster.is_some(),
        parts: parts_done,
        failed_parts,
    })
}

fn refuse_bad_destination(out: &Path, force: bool) -> Result<(), Failure> {
    let facts = archive::dest_facts(out).map_err(|e| {
        Failure::critical(format!("cannot write the bundle at {}: {e}", out.display()))
            .with_next("pass --out with a path in an existing directory you own")
    })?;
    archive::plan_destination(out, &facts, force)
        .map_err(|r| Failure::critical(format!("refused: {}", r.why)).with_next(r.next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_safe_and_sortable() {
        assert_eq!(
            bundle_name("web/1 x", "2026-12-01T15:51:23Z"),
            "hal9-incident-web_1_x-20261201T155123Z"
        );
    }
}
