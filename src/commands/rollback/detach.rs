//! `--detach`: the same engine, run in the cluster as a Kubernetes Job, so a
//! rollout goes on when the operator's laptop sleeps or the VPN drops. This
//! machine plans, asks, creates the Job and re-reads that its pod started;
//! the Job's pod runs `hal9ctl migrate|rollback --cluster --yes` under the
//! ServiceAccount `hal9-migrator` (deploy/kubernetes/70-migrator-rbac.yaml).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, HostAlias, Pod, PodSecurityContext, PodSpec, PodTemplateSpec,
    ResourceRequirements, ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde::Serialize;

use super::direction::{self, ForwardError};
use super::journal::Journal;
use super::plan::{self, PlanError, RollbackStrategy};
use super::run::ForwardRun;
use super::settings::{MigrateSettings, RollbackSettings, StatusSettings};
use crate::cli::Ctx;
use crate::cluster::client::{Kube, Op, api_error, is_not_found};
use crate::exit::{Exit, Failure};
use crate::output::{Mark, Report, Styles, to_value};
use crate::runtime::migration::{MigrationDoc, Phase};

/// The ServiceAccount the Job runs under; its Role has exactly the engine's verbs.
pub const SERVICE_ACCOUNT: &str = "hal9-migrator";
/// Every detached Job (and its pod) carries this `app.kubernetes.io/name`;
/// never the Deployment's, so the gates never count the Job's pod as a server.
pub const APP: &str = "hal9-migrator";
const NAME_LABEL: &str = "app.kubernetes.io/name";
const RUN_LABEL: &str = "hal9.io/run";
const STARTED_BY: &str = "hal9.io/started-by";
/// Inside the image, owned by the runtime's user (Dockerfile): the Job's
/// journal, lock and audit log; the lasting journal is the ConfigMap's.
const JOB_STATE_DIR: &str = "/var/lib/hal9";
/// A finished Job stays an hour for `status` and `kubectl logs`, then goes.
const TTL_AFTER_FINISHED_S: i32 = 3600;
/// How long this machine waits for the Job's pod to start.
const START_LIMIT: Duration = Duration::from_secs(120);

fn dur(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The gates as resolved here: the Job has the image's embedded default
/// config, not the operator's, so every value it would fill in is spelled out.
fn thresholds_argv(a: &RollbackSettings) -> Vec<String> {
    vec![
        "--max-error-percent".into(),
        a.max_error_percent.to_string(),
        "--max-p99".into(),
        dur(a.max_p99),
    ]
}

/// The rollback command line the Job runs (after the image's entrypoint,
/// before the cluster flags): what the operator typed, defaults resolved.
pub fn rollback_argv(a: &RollbackSettings) -> Vec<String> {
    let mut v: Vec<String> = vec!["rollback".into()];
    if a.resume {
        v.push("--resume".into());
    } else if let Some(s) = a.strategy {
        v.extend(["--strategy".into(), s.name().into()]);
        if let Some(p) = a.to_phase {
            v.extend(["--to-phase".into(), p.to_string()]);
        }
        if s == RollbackStrategy::Gradual {
            v.extend(["--steps".into(), a.steps.to_string()]);
        }
        if s == RollbackStrategy::Partial && !a.components.is_empty() {
            let list: Vec<&str> = a.components.iter().map(|c| c.name()).collect();
            v.extend(["--components".into(), list.join(",")]);
        }
    }
    v.extend(["--interval".into(), dur(a.interval)]);
    v.extend(["--on-failure".into(), a.on_failure.name().into()]);
    if a.revision {
        v.push("--revision".into());
    }
    v.extend(thresholds_argv(a));
    if a.allow_no_traffic {
        v.push("--allow-no-traffic".into());
    }
    v
}

/// The migrate command line the Job runs; `--continue` is `--resume` there.
pub fn migrate_argv(m: &MigrateSettings) -> Vec<String> {
    let a = &m.engine;
    let mut v: Vec<String> = vec!["migrate".into()];
    if a.resume {
        v.push("--resume".into());
    } else if let Some(p) = m.forward.to {
        v.extend(["--to-phase".into(), p.to_string()]);
        v.extend(["--steps".into(), m.forward.steps.to_string()]);
    }
    v.extend(["--interval".into(), dur(a.interval)]);
    v.extend(["--on-failure".into(), m.on_failure.name().into()]);
    v.extend(thresholds_argv(a));
    if a.allow_no_traffic {
        v.push("--allow-no-traffic".into());
    }
    v
}

/// How the Deployment's pods reach the API server and run, copied onto the
/// Job's pod: a pod that works there works here. Only literal
/// `KUBERNETES_SERVICE_*` variables are copied, never a secret reference.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodWiring {
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    pub host_network: Option<bool>,
    pub dns_policy: Option<String>,
    pub host_aliases: Option<Vec<HostAlias>>,
    pub api_env: Vec<EnvVar>,
    pub security_context: Option<PodSecurityContext>,
}

impl PodWiring {
    pub fn of(d: &Deployment) -> PodWiring {
        let spec = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .cloned()
            .unwrap_or_default();
        let container = spec.containers.first().cloned().unwrap_or_default();
        PodWiring {
            image: container.image.clone(),
            image_pull_policy: container.image_pull_policy.clone(),
            host_network: spec.host_network,
            dns_policy: spec.dns_policy.clone(),
            host_aliases: spec.host_aliases.clone(),
            api_env: container
                .env
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e.name.starts_with("KUBERNETES_SERVICE_") && e.value_from.is_none())
                .collect(),
            security_context: spec.security_context.clone(),
        }
    }
}

/// Everything the Job is made of, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct DetachPlan {
    pub name: String,
    /// `rollback …` or `migrate …`, from [`rollback_argv`] / [`migrate_argv`].
    pub engine_argv: Vec<String>,
    pub namespace: String,
    pub deployment: String,
    pub image: String,
    pub wiring: PodWiring,
    pub deadline: Duration,
    pub started_by: String,
}

/// The longest a run of `steps` steps may take: each step may wait up to
/// three gate windows (an inconclusive one waits twice more), plus the API
/// calls and the final confirmation; `--revision` waits up to 5 m for the rollout.
pub fn deadline(steps: usize, interval: Duration, revision: bool) -> Duration {
    let per_step = interval * 3 + Duration::from_secs(60);
    let mut d = Duration::from_secs(120) + per_step * steps.max(1) as u32;
    if revision {
        d += Duration::from_secs(300);
    }
    d
}

fn q(s: &str) -> Quantity {
    Quantity(s.to_string())
}

/// The full command line of the Job's container.
pub fn job_args(p: &DetachPlan) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "--state-dir".into(),
        JOB_STATE_DIR.into(),
        "--yes".into(),
        "--no-color".into(),
    ];
    v.extend(p.engine_argv.iter().cloned());
    v.extend([
        "--cluster".into(),
        "-n".into(),
        p.namespace.clone(),
        "--deployment".into(),
        p.deployment.clone(),
    ]);
    v
}

/// The Job: one pod, never retried (a retried engine would resume a
/// journal nobody looked at), gone an hour after it finished.
pub fn job_spec(p: &DetachPlan) -> Job {
    let labels: BTreeMap<String, String> = [
        (NAME_LABEL.to_string(), APP.to_string()),
        ("app.kubernetes.io/part-of".to_string(), "hal9".to_string()),
        (RUN_LABEL.to_string(), p.name.clone()),
    ]
    .into();
    let annotations: BTreeMap<String, String> =
        [(STARTED_BY.to_string(), p.started_by.clone())].into();
    let container = Container {
        name: "hal9ctl".into(),
        image: Some(p.image.clone()),
        image_pull_policy: p.wiring.image_pull_policy.clone(),
        // The image's entrypoint is hal9ctl.
        args: Some(job_args(p)),
        env: (!p.wiring.api_env.is_empty()).then(|| p.wiring.api_env.clone()),
        resources: Some(ResourceRequirements {
            requests: Some([("cpu".into(), q("50m")), ("memory".into(), q("64Mi"))].into()),
            limits: Some([("cpu".into(), q("500m")), ("memory".into(), q("256Mi"))].into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    Job {
        metadata: ObjectMeta {
            name: Some(p.name.clone()),
            namespace: Some(p.namespace.clone()),
            labels: Some(labels.clone()),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            ttl_seconds_after_finished: Some(TTL_AFTER_FINISHED_S),
            active_deadline_seconds: Some(p.deadline.as_secs() as i64),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    service_account_name: Some(SERVICE_ACCOUNT.into()),
                    host_network: p.wiring.host_network,
                    dns_policy: p.wiring.dns_policy.clone(),
                    host_aliases: p.wiring.host_aliases.clone(),
                    security_context: p.wiring.security_context.clone(),
                    containers: vec![container],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A short random suffix: two operators' Jobs never share a name.
fn short_id() -> String {
    let mut b = [0u8; 3];
    if getrandom::fill(&mut b).is_err() {
        let n = std::process::id().to_le_bytes();
        b.copy_from_slice(&n[..3]);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The state of a detached Job, from the Job and its pod as re-read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Created; its pod is not running yet.
    Pending,
    Active,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    pub name: String,
    pub state: JobPhase,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The engine's exit code, from the pod's terminated container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it failed or waits (DeadlineExceeded, ErrImagePull, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl JobView {
    pub fn describe(&self) -> String {
        let mut s = format!("job {} is {:?}", self.name, self.state).to_lowercase();
        if let Some(p) = &self.pod {
            s.push_str(&format!(" (pod {p})"));
        }
        if let Some(c) = self.exit_code {
            s.push_str(&format!(", exit code {c}"));
        }
        if let Some(r) = &self.reason {
            s.push_str(&format!(": {r}"));
        }
        s
    }
}

/// Waiting reasons that never fix themselves: the pod will not start.
const STUCK: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// Judge a Job from its own status and its newest pod.
pub fn job_view(job: &Job, pods: &[Pod]) -> JobView {
    let name = job.metadata.name.clone().unwrap_or_default();
    let st = job.status.clone().unwrap_or_default();
    let pod = pods
        .iter()
        .max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let cs = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first());
    let exit_code = cs
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.exit_code);
    let waiting = cs
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.clone());
    let failed_condition = st.conditions.as_ref().and_then(|cs| {
        cs.iter()
            .find(|c| c.type_ == "Failed" && c.status == "True")
            .map(|c| c.reason.clone().unwrap_or_else(|| "Failed".into()))
    });
    let pod_phase = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.phase.clone());
    let running = pod_phase.as_deref() == Some("Running");
    let state = if st.succeeded.unwrap_or(0) > 0 {
        JobPhase::Succeeded
    } else if st.failed.unwrap_or(0) > 0 || failed_condition.is_some() {
        JobPhase::Failed
    } else if running {
        JobPhase::Active
    } else {
        JobPhase::Pending
    };
    let reason = match state {
        JobPhase::Failed => failed_condition
            .or_else(|| cs.and_then(|c| c.state.as_ref()?.terminated.as_ref()?.reason.clone())),
        JobPhase::Pending => waiting,
        _ => None,
    };
    JobView {
        name,
        state,
        pod: pod.and_then(|p| p.metadata.name.clone()),
        exit_code,
        reason,
        started_by: job
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(STARTED_BY).cloned()),
        created_at: job
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
    }
}

/// The exit code a finished engine returned, as hal9ctl's own.
fn exit_of(code: i32) -> Exit {
    match code {
        0 => Exit::Ok,
        1 => Exit::Warning,
        3 => Exit::Unknown,
        64 => Exit::Usage,
        130 => Exit::Interrupted,
        _ => Exit::Critical,
    }
}

async fn pods_of(kube: &Kube, job: &str) -> Result<Vec<Pod>, Failure> {
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    api.list(&ListParams::default().labels(&format!("{RUN_LABEL}={job}")))
        .await
        .map(|l| l.items)
        .map_err(|e| api_error(kube, Op::new("list", "pods"), e))
}

/// Every detached Job of the namespace, newest first.
async fn jobs(kube: &Kube) -> Result<Vec<Job>, Failure> {
    let api: Api<Job> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let mut items = api
        .list(&ListParams::default().labels(&format!("{NAME_LABEL}={APP}")))
        .await
        .map(|l| l.items)
        .map_err(|e| api_error(kube, Op::new("list", "jobs"), e))?;
    items.sort_by_key(|j| std::cmp::Reverse(j.metadata.creation_timestamp.as_ref().map(|t| t.0)));
    Ok(items)
}

/// The newest detached Job and its state, for `status`.
pub async fn latest(kube: &Kube) -> Result<Option<JobView>, Failure> {
    let Some(job) = jobs(kube).await?.into_iter().next() else {
        return Ok(None);
    };
    let name = job.metadata.name.clone().unwrap_or_default();
    let pods = pods_of(kube, &name).await?;
    Ok(Some(job_view(&job, &pods)))
}

/// What `--detach` did.
#[derive(Debug, Clone, Serialize)]
pub struct DetachReport {
    pub summary: String,
    pub status: Exit,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobView>,
    /// The Job as it would be created (`--dry-run`) or was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Report for DetachReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        if let Some(m) = &self.migration {
            out.push_str(&format!(
                "migration: phase {} · {:.2} % hierarchical · version {}\n",
                m.phase, m.hierarchical_percent, m.version
            ));
        }
        if self.dry_run
            && let Some(args) = self
                .spec
                .as_ref()
                .and_then(|s| s.pointer("/spec/template/spec/containers/0/args"))
        {
            out.push_str(&format!("the job would run: hal9ctl {}\n", args_line(args)));
        }
        if let Some(j) = &self.job {
            out.push_str(&format!("{}\n", j.describe()));
        }
        out.push_str(&format!(
            "{} {}\n",
            st.mark(Mark::for_exit(self.status)),
            self.summary
        ));
        if let Some(n) = &self.next {
            out.push_str(&format!("next: {n}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.status
    }
}

fn args_line(args: &serde_json::Value) -> String {
    args.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// How many steps the Job will run, or why it has nothing to do; the same
/// pure planners the engine uses, on the state read now.
fn planned_steps(
    a: &RollbackSettings,
    forward: Option<ForwardRun>,
    cur: &MigrationDoc,
) -> Result<Result<usize, String>, Failure> {
    if let Some(f) = forward {
        return match direction::plan(cur, f.to.unwrap_or(Phase::Full), f.steps) {
            Ok(s) => Ok(Ok(s.len())),
            Err(ForwardError::Nothing(p, s)) => Ok(Err(format!(
                "nothing to migrate: already at {p} with {s:.2} % hierarchical"
            ))),
            Err(e) => Err(super::run::forward_error(e)),
        };
    }
    let Some(strategy) = a.strategy else {
        return Err(Failure::usage(
            "give --strategy immediate|gradual|partial (or --resume)",
        ));
    };
    let steps = match strategy {
        RollbackStrategy::Immediate => plan::immediate(cur, a.to_phase),
        RollbackStrategy::Gradual => plan::gradual(cur, a.to_phase, a.steps),
        RollbackStrategy::Partial => plan::partial(cur, a.to_phase, &a.components),
    };
    match steps {
        Ok(s) => Ok(Ok(s.len())),
        Err(PlanError::Nothing(p, s)) => Ok(Err(format!(
            "nothing to roll back: already at {p} with {s:.2} % hierarchical"
        ))),
        Err(e) => Err(super::run::plan_error(e)),
    }
}

fn remote_journal(cm: &k8s_openapi::api::core::v1::ConfigMap) -> Option<Journal> {
    let text = cm
        .metadata
        .annotations
        .as_ref()?
        .get(crate::cluster::migration::JOURNAL_ANNOTATION)?;
    serde_json::from_str(text).ok()
}

/// `rollback --cluster --detach`.
pub async fn run_rollback(ctx: &Ctx, a: &RollbackSettings) -> anyhow::Result<DetachReport> {
    start_job(ctx, a, None, rollback_argv(a), a.image.as_deref()).await
}

/// `rollback|migrate --cluster --detach`: plan here, run there.
pub async fn start_job(
    ctx: &Ctx,
    a: &RollbackSettings,
    forward: Option<ForwardRun>,
    engine_argv: Vec<String>,
    image: Option<&str>,
) -> anyhow::Result<DetachReport> {
    let cmd = if forward.is_some() {
        "migrate"
    } else {
        "rollback"
    };
    // The parser already requires --cluster with --detach.
    let Some(target) = a.cluster.as_ref() else {
        return Err(
            Failure::usage(format!("{cmd} --detach runs in the cluster: add --cluster"))
                .with_next(format!("hal9ctl {cmd} --cluster --detach …"))
                .into(),
        );
    };
    let kube = crate::cluster::connect(target).await?;
    let ns = kube.namespace.clone();
    let store = crate::cluster::migration::ConfigMapStore {
        kube: kube.clone(),
        name: crate::cluster::migration::NAME.to_string(),
    };
    let (cur, _, cm) = store.get().await?;
    let journal = remote_journal(&cm).filter(|j| !j.status.is_finished());
    let steps = match (&journal, a.resume) {
        (Some(j), true) => j.steps.len().saturating_sub(j.applied()),
        (None, true) => {
            return Ok(DetachReport {
                summary: format!("no unfinished {cmd} on {} to resume", store.describe()),
                status: Exit::Ok,
                dry_run: ctx.global.dry_run,
                job: None,
                spec: None,
                migration: Some(cur),
                next: Some(format!("hal9ctl {cmd} status --cluster -n {ns}")),
            });
        }
        (Some(j), false) => {
            return Err(Failure::critical(format!(
                "refused: {} carries the unfinished {} {} ({} of {} steps applied, started by {}); nothing was changed",
                store.describe(),
                j.direction.command(),
                j.id,
                j.applied(),
                j.steps.len(),
                j.started_by
            ))
            .with_next(format!(
                "hal9ctl {c} --cluster -n {ns} --resume --detach   # or: hal9ctl {c} --cluster -n {ns} --abort",
                c = j.direction.command()
            ))
            .into());
        }
        (None, false) => match planned_steps(a, forward, &cur)? {
            Ok(n) => n,
            Err(nothing) => {
                return Ok(DetachReport {
                    summary: nothing,
                    status: Exit::Ok,
                    dry_run: ctx.global.dry_run,
                    job: None,
                    spec: None,
                    migration: Some(cur),
                    next: None,
                });
            }
        },
    };
    // The Lease refuses a second engine too, but only once its Job runs;
    // this refuses before anything is created.
    if let Some(busy) = jobs(&kube)
        .await?
        .into_iter()
        .find(|j| j.status.as_ref().and_then(|s| s.active).unwrap_or(0) > 0)
    {
        let name = busy.metadata.name.clone().unwrap_or_default();
        return Err(Failure::critical(format!(
            "refused: the detached job {name} is still running in namespace {ns}; nothing was changed"
        ))
        .with_next(format!("hal9ctl {cmd} status --cluster -n {ns}"))
        .into());
    }
    let d = crate::cluster::facts::deployment(&kube, &target.deployment).await?;
    let wiring = PodWiring::of(&d);
    let Some(image) = image.map(str::to_string).or_else(|| wiring.image.clone()) else {
        return Err(Failure::usage(format!(
            "deployment {} names no image to run the job with",
            target.deployment
        ))
        .with_next(format!("hal9ctl {cmd} --cluster --detach --image IMAGE …"))
        .into());
    };
    let interval = journal
        .as_ref()
        .map(|j| Duration::from_millis(j.interval_ms))
        .unwrap_or(a.interval);
    let plan = DetachPlan {
        name: format!("hal9-{cmd}-{}", short_id()),
        engine_argv,
        namespace: ns.clone(),
        deployment: target.deployment.clone(),
        image,
        wiring,
        deadline: deadline(steps, interval, a.revision),
        started_by: crate::system::audit::current_user(),
    };
    let job = job_spec(&plan);
    let spec = serde_json::to_value(&job).ok();
    if ctx.global.dry_run {
        return Ok(DetachReport {
            summary: format!(
                "dry run: job {} would run {steps} step(s) in namespace {ns} (deadline {}); nothing changed",
                plan.name,
                dur(plan.deadline)
            ),
            status: Exit::Ok,
            dry_run: true,
            job: None,
            spec,
            migration: Some(cur),
            next: None,
        });
    }
    let sa: Api<ServiceAccount> = Api::namespaced(kube.client.clone(), &ns);
    match sa.get(SERVICE_ACCOUNT).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {
            return Err(Failure::critical(format!(
                "serviceaccount {SERVICE_ACCOUNT} does not exist in namespace {ns}, so the job could not reach the API server; nothing was changed"
            ))
            .with_next(format!(
                "kubectl apply -n {ns} -f deploy/kubernetes/70-migrator-rbac.yaml"
            ))
            .into());
        }
        Err(e) => {
            return Err(api_error(
                &kube,
                Op::named("get", "serviceaccounts", SERVICE_ACCOUNT),
                e,
            )
            .into());
        }
    }
    let yes = crate::output::prompt::confirm(
        &format!(
            "start job {} in namespace {ns}: hal9ctl {} ({steps} step(s))",
            plan.name,
            plan.engine_argv.join(" ")
        ),
        ctx.global.yes,
        &format!("hal9ctl {cmd} … --detach --yes"),
    )?;
    if !yes {
        return Err(Failure::critical("not confirmed; nothing was changed")
            .with_next(format!("hal9ctl {cmd} … --detach --yes"))
            .into());
    }
    let api: Api<Job> = Api::namespaced(kube.client.clone(), &ns);
    let audit_target = format!("job {ns}/{}", plan.name);
    if let Err(e) = api.create(&PostParams::default(), &job).await {
        let f = api_error(&kube, Op::named("create", "jobs", &plan.name), e);
        crate::system::audit::record_or_warn(
            &ctx.state_dir,
            "detach",
            &audit_target,
            &format!("failed: {f}"),
        );
        return Err(f.into());
    }
    crate::system::audit::record_or_warn(
        &ctx.state_dir,
        "detach",
        &audit_target,
        &format!("created: hal9ctl {}", plan.engine_argv.join(" ")),
    );
    let view = wait_started(&kube, &api, &plan.name).await?;
    let status_cmd = format!("hal9ctl {cmd} status --cluster -n {ns}");
    let (status, summary) = match (&view.state, view.exit_code) {
        (JobPhase::Active, _) => (
            Exit::Ok,
            format!(
                "job {} started (pod {} running, re-read); the {cmd} goes on in the cluster without this machine",
                view.name,
                view.pod.clone().unwrap_or_default()
            ),
        ),
        (_, Some(code)) => (
            exit_of(code),
            format!(
                "job {} started and already finished: its {cmd} exited with {code}",
                view.name
            ),
        ),
        _ => (
            Exit::Critical,
            format!("job {} failed before its engine ran", view.name),
        ),
    };
    Ok(DetachReport {
        summary,
        status,
        dry_run: false,
        job: Some(view.clone()),
        spec: None,
        migration: Some(cur),
        next: Some(match status {
            Exit::Ok => status_cmd,
            _ => format!(
                "kubectl logs -n {ns} job/{}   # then: {status_cmd}",
                view.name
            ),
        }),
    })
}

/// Watch the Job and its pod until the pod runs (or already ran); a pod
/// that cannot start is named with its reason.
async fn wait_started(kube: &Kube, api: &Api<Job>, name: &str) -> Result<JobView, Failure> {
    use crate::cluster::await_watch::{self, Ended, Look};
    let ns = &kube.namespace;
    let deadline = Instant::now() + START_LIMIT;
    let (jobs, job_feed) = await_watch::named(api.clone(), "jobs", name);
    let (pods, pod_feed) = await_watch::labelled(
        Api::<Pod>::namespaced(kube.client.clone(), ns),
        "pods",
        &format!("{RUN_LABEL}={name}"),
    );
    let describe = || format!("kubectl describe job {name} -n {ns}");
    let ended = await_watch::until(deadline, vec![job_feed, pod_feed], || {
        let Some(job) = jobs.state().into_iter().next() else {
            return Look::Done(Err(Failure::critical(format!(
                "job {name} was deleted in namespace {ns} before its pod ran"
            ))
            .with_next(format!("kubectl get jobs -n {ns}"))));
        };
        let view = job_view(&job, &await_watch::objects(&pods));
        let stuck = view.reason.as_deref().is_some_and(|r| STUCK.contains(&r));
        match view.state {
            JobPhase::Active | JobPhase::Succeeded => Look::Done(Ok(view)),
            JobPhase::Failed if view.exit_code.is_some() => Look::Done(Ok(view)),
            JobPhase::Failed => Look::Done(Err(Failure::critical(format!(
                "{}; its engine never ran",
                view.describe()
            ))
            .with_next(describe()))),
            JobPhase::Pending if stuck => Look::Done(Err(Failure::critical(format!(
                "{}: the pod cannot start; the job stays until you delete it",
                view.describe()
            ))
            .with_next(format!(
                "kubectl delete job {name} -n {ns}   # then: … --detach --image IMAGE"
            )))),
            JobPhase::Pending => Look::Waiting(Ok(view)),
        }
    })
    .await;
    match ended {
        Ended::Done(started) | Ended::OutOfTime(Some(started @ Err(_))) => started,
        Ended::OutOfTime(Some(Ok(view))) => Err(Failure::unknown(format!(
            "{} after {} s: created, but its pod was not seen running",
            view.describe(),
            START_LIMIT.as_secs()
        ))
        .with_next(describe())),
        Ended::OutOfTime(None) => Err(Failure::unknown(format!(
            "job {name} was created, but the API server did not answer the watch of it within {} s",
            START_LIMIT.as_secs()
        ))
        .with_next(describe())),
        Ended::Failed(w) => Err(w.failure(kube)),
    }
}

/// `status --cluster`: the journal report, plus the newest detached Job.
#[derive(Debug, Clone, Serialize)]
pub struct StatusWithJob {
    #[serde(flatten)]
    pub report: super::status::StatusReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobView>,
    /// Why the Job could not be read (never a reason to fail the status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_unknown: Option<String>,
}

impl Report for StatusWithJob {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        if let Some(j) = &self.job {
            out.push_str(&format!("detached: {}\n", j.describe()));
        }
        if let Some(u) = &self.job_unknown {
            out.push_str(&format!("detached job: unknown ({u})\n"));
        }
        out.push_str(&self.report.render(st));
        out
    }

    fn exit(&self) -> Exit {
        self.report.exit()
    }
}

/// `rollback status` / `migrate status`: with `--cluster`, the newest Job too.
pub async fn status(ctx: &Ctx, s: &StatusSettings) -> anyhow::Result<StatusWithJob> {
    let report = super::status::status(ctx, s.cluster.as_ref()).await?;
    let Some(target) = s.cluster.as_ref() else {
        return Ok(StatusWithJob {
            report,
            job: None,
            job_unknown: None,
        });
    };
    let found = match crate::cluster::connect(target).await {
        Ok(kube) => latest(&kube).await,
        Err(f) => Err(f),
    };
    Ok(match found {
        Ok(job) => StatusWithJob {
            report,
            job,
            job_unknown: None,
        },
        Err(f) => StatusWithJob {
            report,
            job: None,
            job_unknown: Some(f.message),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use crate::config::Config;
    use clap::Parser;
    use k8s_openapi::api::apps::v1::DeploymentSpec;
    use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus,
        EnvVarSource, PodStatus, SecretKeySelector,
    };

    /// The shipped config: 5 steps, 30 s, 1 %, 500 ms, as the Job's image has.
    fn rollback(strategy: RollbackStrategy) -> RollbackSettings {
        let argv = [
            "hal9ctl",
            "rollback",
            "--cluster",
            "--context",
            "prod-admin",
            "-n",
            "hal9",
            "--strategy",
            strategy.name(),
            "--to-phase",
            "state_migration",
            "--on-failure",
            "pause",
            "--detach",
        ];
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Rollback(a) => RollbackSettings::resolve(&a, &Config::default()).unwrap(),
            _ => unreachable!("parsed as rollback"),
        }
    }

    fn migrate(argv: &[&str]) -> MigrateSettings {
        let full = ["hal9ctl", "migrate", "--cluster", "-n", "hal9"]
            .iter()
            .chain(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Migrate(a) => MigrateSettings::resolve(&a, &Config::default()),
            _ => unreachable!("parsed as migrate"),
        }
    }

    fn deployment() -> Deployment {
        let env = vec![
            EnvVar {
                name: "KUBERNETES_SERVICE_HOST".into(),
                value: Some("kubernetes.default.svc".into()),
                ..Default::default()
            },
            EnvVar {
                name: "KUBERNETES_SERVICE_PORT".into(),
                value: Some("16443".into()),
                ..Default::default()
            },
            EnvVar {
                name: "HAL9_ADMIN_TOKEN".into(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: "hal9-admin".into(),
                        key: "token".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            EnvVar {
                name: "RUST_LOG".into(),
                value: Some("debug".into()),
                ..Default::default()
            },
        ];
        Deployment {
            spec: Some(DeploymentSpec {
                template: PodTemplateSpec {
                    metadata: None,
                    spec: Some(PodSpec {
                        dns_policy: Some("Default".into()),
                        host_aliases: Some(vec![HostAlias {
                            ip: "10.1.2.1".into(),
                            hostnames: Some(vec!["kubernetes.default.svc".into()]),
                        }]),
                        security_context: Some(PodSecurityContext {
                            run_as_user: Some(10001),
                            ..Default::default()
                        }),
                        containers: vec![Container {
                            name: "hal9".into(),
                            image: Some("hal9ctl:0.1.0".into()),
                            image_pull_policy: Some("IfNotPresent".into()),
                            env: Some(env),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn plan_for(argv: Vec<String>) -> DetachPlan {
        let d = deployment();
        let wiring = PodWiring::of(&d);
        DetachPlan {
            name: "hal9-rollback-abc123".into(),
            engine_argv: argv,
            namespace: "hal9".into(),
            deployment: "hal9-server".into(),
            image: wiring.image.clone().unwrap(),
            wiring,
            deadline: deadline(3, Duration::from_secs(3), false),
            started_by: "alice".into(),
        }
    }

    #[test]
    fn the_job_runs_the_same_rollback_in_cluster_with_yes_and_resolved_defaults() {
        let argv = rollback_argv(&rollback(RollbackStrategy::Gradual));
        assert_eq!(
            argv,
            [
                "rollback",
                "--strategy",
                "gradual",
                "--to-phase",
                "state_migration",
                "--steps",
                "5",
                "--interval",
                "30s",
                "--on-failure",
                "pause",
                "--max-error-percent",
                "1",
                "--max-p99",
                "500ms"
            ]
        );
        let job = job_spec(&plan_for(argv));
        let pod = job.spec.as_ref().unwrap().template.spec.clone().unwrap();
        let args = pod.containers[0].args.clone().unwrap();
        assert!(args.contains(&"--yes".to_string()), "{args:?}");
        let tail = &args[args.len() - 5..];
        assert_eq!(
            tail,
            ["--cluster", "-n", "hal9", "--deployment", "hal9-server"]
        );
        // In the pod there is no kubeconfig: the ServiceAccount, never the operator's context.
        assert!(
            !args
                .iter()
                .any(|a| a.contains("context") || a.contains("prod-admin"))
        );
        assert!(!args.contains(&"--detach".to_string()), "{args:?}");
        assert_eq!(pod.service_account_name.as_deref(), Some(SERVICE_ACCOUNT));
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(pod.containers[0].image.as_deref(), Some("hal9ctl:0.1.0"));
        assert_eq!(
            pod.containers[0].command, None,
            "the image's entrypoint is hal9ctl"
        );
    }

    #[test]
    fn the_job_copies_how_the_pods_reach_the_api_server_but_no_secret_or_other_env() {
        let job = job_spec(&plan_for(vec!["rollback".into(), "--resume".into()]));
        let pod = job.spec.as_ref().unwrap().template.spec.clone().unwrap();
        let env = pod.containers[0].env.clone().unwrap();
        let names: Vec<&str> = env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"]
        );
        assert!(env.iter().all(|e| e.value_from.is_none()));
        assert_eq!(pod.dns_policy.as_deref(), Some("Default"));
        assert_eq!(pod.host_aliases.unwrap()[0].ip, "10.1.2.1");
        assert_eq!(pod.security_context.unwrap().run_as_user, Some(10001));
        let text = serde_json::to_string(&job).unwrap();
        assert!(
            !text.contains("hal9-admin") && !text.to_lowercase().contains("token"),
            "{text}"
        );
    }

    #[test]
    fn the_job_never_retries_expires_and_is_bounded_by_the_plan() {
        let p = plan_for(vec!["rollback".into(), "--resume".into()]);
        let job = job_spec(&p);
        let spec = job.spec.unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        assert_eq!(spec.ttl_seconds_after_finished, Some(TTL_AFTER_FINISHED_S));
        // 3 steps × (3 windows of 3 s + 60 s) + 120 s.
        assert_eq!(spec.active_deadline_seconds, Some(3 * 69 + 120));
        let labels = spec.template.metadata.unwrap().labels.unwrap();
        assert_eq!(labels[NAME_LABEL], APP, "never the Deployment's selector");
        assert_eq!(labels[RUN_LABEL], "hal9-rollback-abc123");
        assert!(deadline(10, Duration::from_secs(30), true) > Duration::from_secs(10 * 90 + 300));
    }

    #[test]
    fn migrate_continue_is_a_resume_and_on_failure_and_thresholds_pass_through() {
        let a = migrate(&[
            "--to-phase",
            "full",
            "--steps",
            "3",
            "--on-failure",
            "rollback",
            "--max-error-percent",
            "0.5",
            "--max-p99",
            "1s",
            "--allow-no-traffic",
        ]);
        let v = migrate_argv(&a);
        assert_eq!(
            v,
            [
                "migrate",
                "--to-phase",
                "full",
                "--steps",
                "3",
                "--interval",
                "30s",
                "--on-failure",
                "rollback",
                "--max-error-percent",
                "0.5",
                "--max-p99",
                "1s",
                "--allow-no-traffic"
            ]
        );
        let cont = migrate(&["--continue"]);
        assert_eq!(migrate_argv(&cont)[..2], ["migrate", "--resume"]);
    }

    #[test]
    fn every_argv_the_job_gets_parses_as_the_command_it_names() {
        let mut partial = rollback(RollbackStrategy::Partial);
        partial.components = vec![crate::commands::rollback::plan::Component::Routing];
        for argv in [
            rollback_argv(&rollback(RollbackStrategy::Gradual)),
            rollback_argv(&partial),
            rollback_argv(&rollback(RollbackStrategy::Immediate)),
            migrate_argv(&migrate(&["--to-phase", "canary"])),
            migrate_argv(&migrate(&["--continue"])),
        ] {
            let p = plan_for(argv);
            let mut full = vec!["hal9ctl".to_string()];
            full.extend(job_args(&p));
            Cli::try_parse_from(&full).unwrap_or_else(|e| panic!("{full:?}: {e}"));
        }
    }

    fn pod(phase: &str, state: ContainerState) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("hal9-rollback-abc123-x".into()),
                ..Default::default()
            },
            status: Some(PodStatus {
                phase: Some(phase.into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "hal9ctl".into(),
                    state: Some(state),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn job(status: JobStatus) -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("hal9-rollback-abc123".into()),
                ..Default::default()
            },
            status: Some(status),
            ..Default::default()
        }
    }

    #[test]
    fn a_failed_job_shows_the_engines_exit_code_and_a_stuck_pod_its_reason() {
        let terminated = ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 2,
                reason: Some("Error".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let failed = JobStatus {
            failed: Some(1),
            conditions: Some(vec![JobCondition {
                type_: "Failed".into(),
                status: "True".into(),
                reason: Some("BackoffLimitExceeded".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let v = job_view(&job(failed), &[pod("Failed", terminated)]);
        assert_eq!(v.state, JobPhase::Failed);
        assert_eq!(v.exit_code, Some(2));
        assert_eq!(v.reason.as_deref(), Some("BackoffLimitExceeded"));

        let waiting = ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("ErrImageNeverPull".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let active = JobStatus {
            active: Some(1),
            ..Default::default()
        };
        let v = job_view(&job(active.clone()), &[pod("Pending", waiting)]);
        assert_eq!(
            v.state,
            JobPhase::Pending,
            "a pod not running is not active"
        );
        assert_eq!(v.reason.as_deref(), Some("ErrImageNeverPull"));
        assert!(STUCK.contains(&"ErrImageNeverPull"));

        let running = ContainerState {
            running: Some(Default::default()),
            ..Default::default()
        };
        assert_eq!(
            job_view(&job(active), &[pod("Running", running)]).state,
            JobPhase::Active
        );
        let ok = JobStatus {
            succeeded: Some(1),
            ..Default::default()
        };
        assert_eq!(job_view(&job(ok), &[]).state, JobPhase::Succeeded);
    }
}
