//! `--pause` and `--abort` for a run on another machine or in a Job: a
//! request kept on the `hal9-migration` ConfigMap beside the journal, which
//! the running engine checks after every step and during its gate windows.
//! The asking operator re-reads the journal to see that it was honoured.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::backend::Backend;
use super::direction::Direction;
use super::journal::{Journal, JournalDir, RollbackStatus};
use super::report::RollbackReport;
use crate::cli::Ctx;
use crate::cluster::client::{Kube, Op, api_error, is_conflict};
use crate::cluster::migration::{JOURNAL_ANNOTATION, NAME};
use crate::exit::{Exit, Failure};

pub const ANNOTATION: &str = "hal9.io/migration-request";
/// How often a waiting engine re-reads the request.
const POLL: Duration = Duration::from_secs(1);
/// How long the asker waits to see the request honoured. A live engine
/// polls every second while it waits out a gate window and checks after
/// every step; a step's API calls take seconds. Longer only delays the
/// abort of a run that died (its journal still says running).
const ANSWER_LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    Pause,
    Abort,
}

/// `hal9.io/migration-request: {"action":"abort","journal":"rb-…","by":"alice@laptop","at":"…"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub action: RequestAction,
    /// Only the run of this journal honours it: a request left behind never
    /// stops a later run.
    pub journal: String,
    pub by: String,
    pub at: String,
}

fn annotation<'a>(cm: &'a ConfigMap, key: &str) -> Option<&'a String> {
    cm.metadata.annotations.as_ref()?.get(key)
}

/// The request on a ConfigMap meant for the run of journal `id`.
pub fn for_journal(cm: &ConfigMap, id: &str) -> Option<Request> {
    let text = annotation(cm, ANNOTATION)?;
    serde_json::from_str::<Request>(text)
        .ok()
        .filter(|r| r.journal == id)
}

fn journal_of(cm: &ConfigMap) -> Option<Journal> {
    serde_json::from_str(annotation(cm, JOURNAL_ANNOTATION)?).ok()
}

/// What the asker concludes from the journal re-read on the ConfigMap.
pub fn answered(action: RequestAction, id: &str, now: Option<&Journal>) -> bool {
    let Some(j) = now.filter(|j| j.id == id) else {
        return false;
    };
    match action {
        RequestAction::Pause => j.status != RollbackStatus::Running,
        RequestAction::Abort => j.status.is_finished(),
    }
}

fn user_at_host() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{}@{host}", crate::system::audit::current_user())
}

fn cms(kube: &Kube) -> Api<ConfigMap> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn kube_of(b: &Backend) -> Option<&Kube> {
    match b {
        Backend::Cluster(c) => Some(&c.store.kube),
        Backend::Local(_) => None,
    }
}

/// A request for the run of `id`, read now (cluster runs only).
pub async fn pending(b: &Backend, id: &str) -> Option<Request> {
    let kube = kube_of(b)?;
    match cms(kube).get(NAME).await {
        Ok(cm) => for_journal(&cm, id),
        Err(e) => {
            tracing::warn!("could not read {NAME} for a pause or abort request: {e}");
            None
        }
    }
}

/// Resolves when a request for `id` arrives; never, for a local run (whose
/// pause request is a file in its state dir).
pub async fn arrives(b: &Backend, id: &str) -> Request {
    if kube_of(b).is_none() {
        return std::future::pending().await;
    }
    loop {
        if let Some(r) = pending(b, id).await {
            return r;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Remove the request of `id` (a resumed or stopped run must not see it again).
pub async fn clear(b: &Backend, id: &str) {
    let Some(kube) = kube_of(b) else { return };
    let Ok(cm) = cms(kube).get(NAME).await else {
        return;
    };
    if for_journal(&cm, id).is_none() {
        return;
    }
    let patch = json!({"metadata": {"annotations": {ANNOTATION: null}}});
    if let Err(e) = cms(kube)
        .patch(NAME, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        tracing::warn!("could not clear the request on {NAME}: {e}");
    }
}

/// The running engine stops after its current step, as asked: a pause is
/// resumable, an abort abandons the run where it is, as a local `--abort` does.
pub async fn honour(
    ctx: &Ctx,
    b: &Backend,
    jd: &JournalDir,
    j: &mut Journal,
    r: Request,
) -> anyhow::Result<RollbackReport> {
    let cmd = j.direction.command();
    let (status, verb) = match r.action {
        RequestAction::Pause => (RollbackStatus::Interrupted, "paused"),
        RequestAction::Abort => (RollbackStatus::Abandoned, "aborted"),
    };
    j.status = status;
    j.reason = Some(format!(
        "{verb} after step {} at the request of {} (at {})",
        j.applied(),
        r.by,
        r.at
    ));
    jd.save(j)
        .map_err(|e| Failure::critical(format!("cannot write the rollback journal: {e}")))?;
    b.checkpoint(j).await;
    clear(b, &j.id).await;
    crate::system::audit::record_or_warn(
        &ctx.state_dir,
        "rollback-step",
        &j.target,
        &format!("{verb} {} at the request of {}", j.id, r.by),
    );
    let migration = b.get().await.ok();
    let state = migration
        .as_ref()
        .map(|m| format!("{} at {:.2} % (re-read)", m.phase, m.hierarchical_percent))
        .unwrap_or_else(|| "unknown (not re-read)".into());
    Ok(RollbackReport {
        summary: format!(
            "{cmd} {} {verb} after {} of {} steps at the request of {}; the migration state stays at {state}",
            j.id,
            j.applied(),
            j.steps.len(),
            r.by
        ),
        status: Exit::Warning,
        dry_run: false,
        migration,
        next: Some(match (r.action, j.direction) {
            (RequestAction::Abort, _) => format!("hal9ctl {cmd} status --cluster"),
            (RequestAction::Pause, Direction::Forward) => {
                "hal9ctl migrate --continue --cluster".into()
            }
            (RequestAction::Pause, Direction::Back) => "hal9ctl rollback --resume --cluster".into(),
        }),
        journal: Some(j.clone()),
    })
}

/// Write the request for the run of `id`, conditional on the ConfigMap not
/// having changed since it was read (a 409 is re-read).
async fn write(kube: &Kube, action: RequestAction, id: &str) -> Result<Request, Failure> {
    let req = Request {
        action,
        journal: id.to_string(),
        by: user_at_host(),
        at: crate::system::clock::now_rfc3339(),
    };
    let text = serde_json::to_string(&req).map_err(|e| Failure::critical(e.to_string()))?;
    for _ in 0..3 {
        let cm = cms(kube)
            .get(NAME)
            .await
            .map_err(|e| api_error(kube, Op::named("get", "configmaps", NAME), e))?;
        let ann: BTreeMap<String, String> = [(ANNOTATION.to_string(), text.clone())].into();
        let patch = json!({"metadata": {"resourceVersion": cm.metadata.resource_version, "annotations": ann}});
        match cms(kube)
            .patch(NAME, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(req),
            Err(e) if is_conflict(&e) => continue,
            Err(e) => {
                return Err(api_error(kube, Op::named("patch", "configmaps", NAME), e));
            }
        }
    }
    Err(Failure::critical(format!(
        "configmap {NAME} kept changing while the request was written (409 three times)"
    ))
    .with_next("run the command again"))
}

/// What came of a request: honoured (the journal re-read says so), or no
/// engine answered in time.
pub enum RequestOutcome {
    Honoured(Journal),
    Unanswered(Request),
}

/// Ask the engine running journal `id` to pause or abort, and re-read the
/// journal on the ConfigMap until it says it did.
pub async fn ask(kube: &Kube, action: RequestAction, id: &str) -> Result<RequestOutcome, Failure> {
    let req = write(kube, action, id).await?;
    let t0 = Instant::now();
    while t0.elapsed() < ANSWER_LIMIT {
        tokio::time::sleep(POLL).await;
        let cm = cms(kube)
            .get(NAME)
            .await
            .map_err(|e| api_error(kube, Op::named("get", "configmaps", NAME), e))?;
        let now = journal_of(&cm);
        if answered(action, id, now.as_ref())
            && let Some(j) = now
        {
            return Ok(RequestOutcome::Honoured(j));
        }
    }
    Ok(RequestOutcome::Unanswered(req))
}

/// `--abort --cluster` while the journal on the ConfigMap says a run is
/// going on: ask that run to stop. `None` when nobody answered (the run
/// died): the caller abandons the journal itself.
pub async fn abort_running(
    jd: &JournalDir,
    b: &Backend,
    j: &Journal,
) -> anyhow::Result<Option<RollbackReport>> {
    let Some(kube) = kube_of(b) else {
        return Ok(None);
    };
    // Our own journal, and we hold the lock: the run that wrote it is dead.
    let ours = jd.load().ok().flatten().is_some_and(|l| l.id == j.id);
    if j.status != RollbackStatus::Running || ours {
        return Ok(None);
    }
    let cmd = j.direction.command();
    match ask(kube, RequestAction::Abort, &j.id).await? {
        RequestOutcome::Honoured(now) => Ok(Some(RollbackReport {
            summary: if now.status == RollbackStatus::Abandoned {
                format!(
                    "{cmd} {} aborted by its running engine after {} of {} steps (journal re-read: abandoned); the migration state stays where it is",
                    now.id,
                    now.applied(),
                    now.steps.len()
                )
            } else {
                format!(
                    "{cmd} {} ended ({:?}, journal re-read) before it saw the abort request",
                    now.id, now.status
                )
            },
            status: if now.status == RollbackStatus::Abandoned {
                Exit::Ok
            } else {
                Exit::Warning
            },
            dry_run: false,
            migration: b.get().await.ok(),
            next: Some(format!("hal9ctl {cmd} status --cluster")),
            journal: Some(now),
        })),
        RequestOutcome::Unanswered(_) => {
            tracing::warn!(
                "no running engine answered the abort request for {} within {} s; abandoning its journal here",
                j.id,
                ANSWER_LIMIT.as_secs()
            );
            clear(b, &j.id).await;
            Ok(None)
        }
    }
}

/// `migrate --pause --cluster`: reaches the run wherever it runs.
pub async fn pause_cluster(
    ctx: &Ctx,
    target: &crate::cluster::Target,
) -> anyhow::Result<RollbackReport> {
    let kube = crate::cluster::connect(target).await?;
    let cm = cms(&kube)
        .get(NAME)
        .await
        .map_err(|e| api_error(&kube, Op::named("get", "configmaps", NAME), e))?;
    let ns = kube.namespace.clone();
    let Some(j) = journal_of(&cm).filter(|j| j.status == RollbackStatus::Running) else {
        return Ok(RollbackReport {
            summary: format!(
                "no migration or rollback is running on configmap {ns}/{NAME}; nothing to pause"
            ),
            status: Exit::Ok,
            dry_run: false,
            migration: None,
            journal: journal_of(&cm),
            next: Some(format!("hal9ctl migrate status --cluster -n {ns}")),
        });
    };
    let cmd = j.direction.command();
    if ctx.global.dry_run {
        return Ok(RollbackReport {
            summary: format!(
                "dry run: would ask {cmd} {} to pause; nothing changed",
                j.id
            ),
            status: Exit::Ok,
            dry_run: true,
            migration: None,
            journal: Some(j),
            next: None,
        });
    }
    Ok(match ask(&kube, RequestAction::Pause, &j.id).await? {
        RequestOutcome::Honoured(now) => RollbackReport {
            summary: format!(
                "{cmd} {} paused after {} of {} steps (journal re-read: {:?})",
                now.id,
                now.applied(),
                now.steps.len(),
                now.status
            ),
            status: Exit::Ok,
            dry_run: false,
            migration: None,
            journal: Some(now),
            next: Some(match j.direction {
                Direction::Forward => format!("hal9ctl migrate --continue --cluster -n {ns}"),
                Direction::Back => format!("hal9ctl rollback --resume --cluster -n {ns}"),
            }),
        },
        RequestOutcome::Unanswered(r) => RollbackReport {
            summary: format!(
                "the pause request for {cmd} {} is on configmap {ns}/{NAME}, but no running engine answered within {} s; it is unknown whether one runs",
                j.id,
                ANSWER_LIMIT.as_secs()
            ),
            status: Exit::Unknown,
            dry_run: false,
            migration: None,
            journal: Some(j),
            next: Some(format!(
                "hal9ctl migrate status --cluster -n {ns}   # request by {} at {}",
                r.by, r.at
            )),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(request: Option<&str>) -> ConfigMap {
        let mut c = ConfigMap::default();
        if let Some(r) = request {
            c.metadata.annotations = Some([(ANNOTATION.to_string(), r.to_string())].into());
        }
        c
    }

    #[test]
    fn only_the_run_it_names_sees_a_request_and_garbage_is_none() {
        let r = r#"{"action":"abort","journal":"rb-1","by":"alice@laptop","at":"2026-12-01T16:00:00Z"}"#;
        let got = for_journal(&cm(Some(r)), "rb-1").unwrap();
        assert_eq!(got.action, RequestAction::Abort);
        assert_eq!(got.by, "alice@laptop");
        assert_eq!(for_journal(&cm(Some(r)), "rb-2"), None);
        assert_eq!(for_journal(&cm(Some("{nope")), "rb-1"), None);
        assert_eq!(for_journal(&cm(None), "rb-1"), None);
    }
}
