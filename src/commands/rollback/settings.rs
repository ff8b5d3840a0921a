//! What `hal9ctl rollback` and `hal9ctl migrate` run with: flags over
//! config, merged once before the engine starts, so the engine, the Job it
//! detaches and the migration lock never see clap types. `migrate` resolves
//! into the same engine settings a gradual rollback has, plus its forward run.

use std::time::Duration;

use super::gates::Thresholds;
use super::plan::{Component, RollbackStrategy};
use super::run::ForwardRun;
use crate::cli::args::{ClusterArgs, MigrateArgs, RollbackArgs};
use crate::cluster::Target;
use crate::config::Config;
use crate::exit::Failure;
use crate::runtime::migration::Phase;

/// `rollback --on-failure`: what a failed gate of a gradual rollback does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Go straight to the target (immediate).
    Abort,
    /// Stop and wait for `--resume` or `--abort`.
    Pause,
}

impl OnFailure {
    /// The flag's spelling, also what a detached Job is given.
    pub fn name(self) -> &'static str {
        match self {
            OnFailure::Abort => "abort",
            OnFailure::Pause => "pause",
        }
    }
}

/// `migrate --on-failure`: what a failed gate of a forward run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardOnFailure {
    /// Stop after the failed step and wait for `--resume` or `--abort`.
    Stop,
    /// Go back to the last phase whose gates passed.
    Rollback,
}

impl ForwardOnFailure {
    pub fn name(self) -> &'static str {
        match self {
            ForwardOnFailure::Stop => "stop",
            ForwardOnFailure::Rollback => "rollback",
        }
    }
}

/// One run of the engine, in either direction.
#[derive(Debug, Clone)]
pub struct RollbackSettings {
    /// The Deployment for `--cluster`; `None` acts on the local runtime.
    pub cluster: Option<Target>,
    pub steal_expired_lock: bool,
    /// `None` with `--resume`/`--abort` (and `migrate --continue`): the
    /// journal's run goes on, no new plan is made.
    pub strategy: Option<RollbackStrategy>,
    pub to_phase: Option<Phase>,
    /// Gradual: the number of steps.
    pub steps: u32,
    /// Wait after each step before judging its gates.
    pub interval: Duration,
    pub components: Vec<Component>,
    pub resume: bool,
    pub abort: bool,
    pub on_failure: OnFailure,
    pub revision: bool,
    /// Percent, as given: the Job's command line repeats it verbatim.
    pub max_error_percent: f64,
    pub max_p99: Duration,
    /// Fewest requests a gate window needs to be judged at all.
    pub min_requests: u64,
    pub allow_no_traffic: bool,
    /// `--detach`: the engine runs in the cluster as a Job, not here.
    pub detach: bool,
    /// With `--detach`: the Job's image; `None` is the Deployment's.
    pub image: Option<String>,
}

impl RollbackSettings {
    /// Refuses what no plan can honour before anything is read or written.
    pub fn resolve(a: &RollbackArgs, c: &Config) -> Result<RollbackSettings, Failure> {
        if a.revision && a.strategy.is_some_and(|s| s != RollbackStrategy::Immediate) {
            return Err(Failure::usage("--revision goes with --strategy immediate")
                .with_next("hal9ctl rollback --cluster --strategy immediate --revision"));
        }
        let r = &c.rollback;
        Ok(RollbackSettings {
            cluster: cluster_target(&a.cluster, c),
            steal_expired_lock: a.lock.steal_expired_lock,
            strategy: a.strategy,
            to_phase: a.to_phase,
            steps: a.steps.unwrap_or(r.steps),
            interval: a.interval.unwrap_or(r.interval),
            components: a.components.clone(),
            resume: a.resume,
            abort: a.abort,
            on_failure: a.on_failure,
            revision: a.revision,
            max_error_percent: a.max_error_percent.unwrap_or(r.max_error_percent),
            max_p99: a.max_p99.unwrap_or(r.max_p99),
            min_requests: r.min_requests,
            allow_no_traffic: a.allow_no_traffic,
            detach: a.detach.detach,
            image: a.detach.image.clone(),
        })
    }

    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            max_error_rate: self.max_error_percent / 100.0,
            max_p99_s: self.max_p99.as_secs_f64(),
        }
    }
}

/// `hal9ctl migrate`: the engine's settings, its forward run, and `--pause`.
#[derive(Debug, Clone)]
pub struct MigrateSettings {
    pub engine: RollbackSettings,
    pub forward: ForwardRun,
    pub on_failure: ForwardOnFailure,
    /// Ask the running migration to stop after its current step.
    pub pause: bool,
}

/// Steps per phase of a forward run when `--steps` is not given: the
/// config's `[rollback] steps` is a rollback's, not a migration's.
const FORWARD_STEPS: u32 = 1;

impl MigrateSettings {
    pub fn resolve(a: &MigrateArgs, c: &Config) -> MigrateSettings {
        let r = &c.rollback;
        let resume = a.resume || a.continue_;
        let steps = a.steps.unwrap_or(FORWARD_STEPS);
        MigrateSettings {
            engine: RollbackSettings {
                cluster: cluster_target(&a.cluster, c),
                steal_expired_lock: a.lock.steal_expired_lock,
                // Every forward step but the last is gated, as a gradual
                // rollback's are; a resumed or abandoned run keeps its journal's.
                strategy: (!resume && !a.abort).then_some(RollbackStrategy::Gradual),
                to_phase: a.to_phase,
                steps,
                interval: a.interval.unwrap_or(r.interval),
                components: Vec::new(),
                resume,
                abort: a.abort,
                // Only the forward run's own failure rule applies (run.rs).
                on_failure: OnFailure::Pause,
                revision: false,
                max_error_percent: a.max_error_percent.unwrap_or(r.max_error_percent),
                max_p99: a.max_p99.unwrap_or(r.max_p99),
                min_requests: r.min_requests,
                allow_no_traffic: a.allow_no_traffic,
                detach: a.detach.detach,
                image: a.detach.image.clone(),
            },
            forward: ForwardRun {
                to: a.to_phase,
                steps,
                rollback_on_failure: a.on_failure == ForwardOnFailure::Rollback,
            },
            on_failure: a.on_failure,
            pause: a.pause,
        }
    }

    /// `--resume`, `--continue` and `--abort` act on a journaled run, so a
    /// pause requested of the last one must not stop them at once.
    pub fn clears_pause(&self) -> bool {
        self.engine.resume || self.engine.abort
    }
}

/// `rollback status` / `migrate status`.
#[derive(Debug, Clone)]
pub struct StatusSettings {
    pub cluster: Option<Target>,
}

impl StatusSettings {
    pub fn resolve(a: &ClusterArgs, c: &Config) -> StatusSettings {
        StatusSettings {
            cluster: cluster_target(a, c),
        }
    }
}

fn cluster_target(a: &ClusterArgs, c: &Config) -> Option<Target> {
    a.cluster.then(|| a.target(&c.cluster))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command, MigrateSub, RollbackSub};
    use crate::exit::Exit;
    use clap::Parser;

    fn rollback(argv: &[&str], c: &Config) -> Result<RollbackSettings, Failure> {
        let full = ["hal9ctl", "rollback"].iter().chain(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Rollback(a) => RollbackSettings::resolve(&a, c),
            _ => unreachable!("parsed as rollback"),
        }
    }

    fn migrate(argv: &[&str], c: &Config) -> MigrateSettings {
        let full = ["hal9ctl", "migrate"].iter().chain(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Migrate(a) => MigrateSettings::resolve(&a, c),
            _ => unreachable!("parsed as migrate"),
        }
    }

    /// A config whose every rollback value differs from the shipped default
    /// and from the flags the tests give.
    fn configured() -> Config {
        let mut c = Config::default();
        c.rollback.steps = 7;
        c.rollback.interval = Duration::from_secs(11);
        c.rollback.max_error_percent = 2.5;
        c.rollback.max_p99 = Duration::from_millis(900);
        c.rollback.min_requests = 42;
        c.cluster.namespace = "from-config".into();
        c.cluster.deployment = "dep-from-config".into();
        c
    }

    #[test]
    fn a_flag_beats_the_config_which_beats_the_shipped_default() {
        let shipped = Config::default();
        let d = rollback(&["--strategy", "gradual"], &shipped).unwrap();
        assert_eq!(
            (d.steps, d.interval, d.max_error_percent, d.max_p99),
            (
                shipped.rollback.steps,
                shipped.rollback.interval,
                shipped.rollback.max_error_percent,
                shipped.rollback.max_p99
            )
        );
        let c = configured();
        let cfg = rollback(&["--strategy", "gradual"], &c).unwrap();
        assert_eq!(
            (cfg.steps, cfg.interval, cfg.max_error_percent, cfg.max_p99),
            (7, Duration::from_secs(11), 2.5, Duration::from_millis(900))
        );
        assert_eq!(cfg.min_requests, 42);
        let flags = rollback(
            &[
                "--strategy",
                "gradual",
                "--steps",
                "3",
                "--interval",
                "2s",
                "--max-error-percent",
                "0.5",
                "--max-p99",
                "250ms",
            ],
            &c,
        )
        .unwrap();
        assert_eq!(
            (flags.steps, flags.interval, flags.max_error_percent),
            (3, Duration::from_secs(2), 0.5)
        );
        assert_eq!(flags.max_p99, Duration::from_millis(250));
        let th = flags.thresholds();
        assert!((th.max_error_rate - 0.005).abs() < 1e-12, "{th:?}");
        assert!((th.max_p99_s - 0.25).abs() < 1e-12, "{th:?}");
    }

    #[test]
    fn strategy_and_on_failure_come_from_the_flags_with_abort_by_default() {
        let c = configured();
        let d = rollback(&["--strategy", "immediate"], &c).unwrap();
        assert_eq!(
            (d.strategy, d.on_failure),
            (Some(RollbackStrategy::Immediate), OnFailure::Abort)
        );
        let p = rollback(
            &[
                "--strategy",
                "partial",
                "--components",
                "routing,state",
                "--on-failure",
                "pause",
            ],
            &c,
        )
        .unwrap();
        assert_eq!(p.strategy, Some(RollbackStrategy::Partial));
        assert_eq!(p.on_failure, OnFailure::Pause);
        assert_eq!(p.components, [Component::Routing, Component::State]);
        let resume = rollback(&["--resume"], &c).unwrap();
        assert_eq!((resume.strategy, resume.resume), (None, true));
    }

    #[test]
    fn the_cluster_target_exists_only_with_cluster_flags_over_config() {
        let c = configured();
        let local = rollback(&["--strategy", "immediate"], &c).unwrap();
        assert!(local.cluster.is_none());
        let cfg = rollback(&["--cluster", "--strategy", "immediate"], &c).unwrap();
        let t = cfg.cluster.unwrap();
        assert_eq!(
            (t.context, t.namespace.as_str(), t.deployment.as_str()),
            (None, "from-config", "dep-from-config")
        );
        let flags = rollback(
            &[
                "--cluster",
                "--context",
                "prod",
                "-n",
                "ns1",
                "--deployment",
                "d1",
                "--strategy",
                "immediate",
                "--steal-expired-lock",
                "--detach",
                "--image",
                "hal9ctl:test",
            ],
            &c,
        )
        .unwrap();
        let t = flags.cluster.clone().unwrap();
        assert_eq!(
            (
                t.context.as_deref(),
                t.namespace.as_str(),
                t.deployment.as_str()
            ),
            (Some("prod"), "ns1", "d1")
        );
        assert!(flags.steal_expired_lock && flags.detach);
        assert_eq!(flags.image.as_deref(), Some("hal9ctl:test"));
        let status = match Cli::try_parse_from(["hal9ctl", "rollback", "status", "--cluster"])
            .unwrap()
            .command
        {
            Command::Rollback(a) => match a.sub {
                Some(RollbackSub::Status { cluster }) => StatusSettings::resolve(&cluster, &c),
                None => unreachable!("parsed as status"),
            },
            _ => unreachable!("parsed as rollback"),
        };
        assert_eq!(
            status.cluster.map(|t| t.namespace),
            Some("from-config".to_string())
        );
        let local = match Cli::try_parse_from(["hal9ctl", "migrate", "status"])
            .unwrap()
            .command
        {
            Command::Migrate(a) => match a.sub {
                Some(MigrateSub::Status { cluster }) => StatusSettings::resolve(&cluster, &c),
                None => unreachable!("parsed as status"),
            },
            _ => unreachable!("parsed as migrate"),
        };
        assert!(local.cluster.is_none());
    }

    #[test]
    fn revision_with_a_strategy_other_than_immediate_is_refused_as_usage() {
        let c = configured();
        for s in ["gradual", "partial"] {
            let f = rollback(&["--cluster", "--strategy", s, "--revision"], &c).unwrap_err();
            assert_eq!(f.exit, Exit::Usage);
            assert_eq!(f.message, "--revision goes with --strategy immediate");
            assert_eq!(
                f.next.as_deref(),
                Some("hal9ctl rollback --cluster --strategy immediate --revision")
            );
        }
        let ok = rollback(&["--cluster", "--strategy", "immediate", "--revision"], &c).unwrap();
        assert!(ok.revision);
        // A resumed run keeps its journal's strategy: nothing to refuse here.
        assert!(rollback(&["--cluster", "--resume", "--revision"], &c).is_ok());
    }

    #[test]
    fn migrate_takes_one_step_per_phase_unless_told_and_the_configs_gates() {
        let c = configured();
        let m = migrate(&["--to-phase", "canary"], &c);
        assert_eq!(m.forward.steps, 1, "not the config's rollback steps");
        assert_eq!(m.forward.to, Some(Phase::Canary));
        assert!(!m.forward.rollback_on_failure);
        assert_eq!(m.engine.strategy, Some(RollbackStrategy::Gradual));
        assert_eq!(m.engine.interval, Duration::from_secs(11));
        assert_eq!(
            (m.engine.max_error_percent, m.engine.max_p99),
            (2.5, Duration::from_millis(900))
        );
        let told = migrate(
            &[
                "--to-phase",
                "full",
                "--steps",
                "4",
                "--interval",
                "1s",
                "--on-failure",
                "rollback",
                "--max-p99",
                "1s",
            ],
            &c,
        );
        assert_eq!(told.forward.steps, 4);
        assert!(told.forward.rollback_on_failure);
        assert_eq!(told.on_failure, ForwardOnFailure::Rollback);
        assert_eq!(told.engine.interval, Duration::from_secs(1));
        assert_eq!(told.engine.max_p99, Duration::from_secs(1));
        assert!(!told.clears_pause());
    }

    #[test]
    fn migrate_continue_resume_and_abort_plan_nothing_and_clear_a_pause() {
        let c = configured();
        for flag in ["--continue", "--resume"] {
            let m = migrate(&[flag], &c);
            assert_eq!((m.engine.strategy, m.engine.resume), (None, true), "{flag}");
            assert!(m.clears_pause(), "{flag}");
        }
        let abort = migrate(&["--abort"], &c);
        assert_eq!((abort.engine.strategy, abort.engine.abort), (None, true));
        assert!(abort.clears_pause());
        let pause = migrate(&["--pause", "--cluster"], &c);
        assert!(pause.pause && !pause.clears_pause());
        assert!(pause.engine.cluster.is_some());
    }
}
