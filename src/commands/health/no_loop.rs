//! The no-loop proof: for every check that can fail, local and in the
//! cluster, following the root cause's `next` never comes back to the same
//! failing check with the same advice, and the chain ends healthy or in
//! "needs a human: …" within 3 commands.
//!
//! What each advised command does is modelled on plain data from that
//! command's contract; an advised command the model does not know fails the
//! proof, so new advice must be modelled here.

use crate::cluster::Target;
use crate::config::HealthConfig;
use crate::output::Mark;
use crate::output::checks::{Check, CheckReport, RootCause, by_urgency, root_cause};
use crate::runtime::api::{CheckBody, HealthBody, HealthStatus, ReadyBody};
use crate::system::disk::FsUsage;

use super::cluster_advice::{InsideKind, Issue, SloKind, advise, by_cause};
use super::local::tests::proc_info;
use super::local::{LocalFacts, LogErrors, NEEDS_A_HUMAN, Probe, plan};
use super::oom::tests::{kill, mem, quiet};

/// Follow the advice from `start` until healthy or a human; the commands run.
fn converge<S: Clone + std::fmt::Debug>(
    case: &str,
    start: S,
    checks_of: impl Fn(&S) -> Vec<Check>,
    follow: impl Fn(&S, &str) -> S,
) -> Vec<String> {
    let mut state = start;
    let mut run = Vec::new();
    loop {
        let checks = by_urgency(checks_of(&state));
        let Some(RootCause { check, command }) = root_cause(&checks) else {
            assert!(
                checks.iter().all(|c| c.status == Mark::Ok),
                "{case}: a check not OK without a next: {checks:#?}"
            );
            return run;
        };
        if command.starts_with(NEEDS_A_HUMAN) {
            assert!(command.contains("look at: "), "{case}: {command}");
            run.push(command);
            return run;
        }
        assert!(
            command.starts_with("hal9ctl ") || command.starts_with("kubectl "),
            "{case}: advice is a command: {command}"
        );
        let after = follow(&state, &command);
        let again = checks_of(&after);
        assert!(
            !again.iter().any(|c| c.name == check
                && c.status != Mark::Ok
                && c.next.as_ref() == Some(&command)),
            "{case}: `{command}` leads back to the failing `{check}` with the same advice; after it: {again:#?}"
        );
        run.push(command);
        assert!(run.len() <= 3, "{case}: more than 3 commands: {run:?}");
        state = after;
    }
}

// ---------- local ----------

const PORT: u16 = 8080;

fn body(pid: u32, status: HealthStatus) -> HealthBody {
    HealthBody {
        status,
        version: "0.1.0".into(),
        pid,
        uptime_s: 5,
        checks: if status == HealthStatus::Healthy {
            vec![]
        } else {
            vec![CheckBody {
                name: "neurons".into(),
                status,
                detail: "2 of 3 down".into(),
            }]
        },
    }
}

fn disk(percent: f64) -> FsUsage {
    FsUsage {
        device: 1,
        mount_point: "/var/lib/hal9".into(),
        fs_type: "ext4".into(),
        total: 100,
        used: percent as u64,
        avail: 100 - percent as u64,
        percent,
    }
}

/// A runtime of this state dir, fresh: what `restart` and a successful
/// `port-conflict --restart` leave behind.
fn running(mut f: LocalFacts, pid: i32) -> LocalFacts {
    f.recorded = vec![pid];
    f.recorded_alive = vec![pid];
    f.by_name = vec![pid];
    f.named = Ok(pid as u32);
    f.listeners = vec![proc_info(pid, true)];
    f.listen_sockets = 1;
    // A new start: kills before it are history.
    f.oom = Some(quiet(pid as u32));
    f.health = Probe::Answer {
        status: 200,
        body: body(pid as u32, HealthStatus::Healthy),
        latency_ms: 1.0,
    };
    f.ready = Probe::Answer {
        status: 200,
        body: ReadyBody {
            ready: true,
            reason: None,
        },
        latency_ms: 1.0,
    };
    f
}

fn healthy() -> LocalFacts {
    running(
        LocalFacts {
            url: format!("http://127.0.0.1:{PORT}"),
            port: PORT,
            state_dir: "/var/lib/hal9".into(),
            recorded: vec![],
            recorded_alive: vec![],
            by_name: vec![],
            named: Err("none".into()),
            listeners: vec![],
            listen_sockets: 0,
            health: Probe::Down("refused".into()),
            ready: Probe::Down("refused".into()),
            disks: vec![disk(40.0)],
            memory_percent: Some(30.0),
            load1: Some(0.5),
            cores: 2,
            state_writable: Ok(()),
            log_errors: Ok(LogErrors {
                count: 0,
                first: None,
            }),
            crash_files: vec![],
            systemd: None,
            oom: None,
        },
        10,
    )
}

/// The runtime gone, its pid file left: `kill -9`, a crash, a stale pid file.
fn dead(mut f: LocalFacts) -> LocalFacts {
    f.recorded_alive.clear();
    f.by_name.clear();
    f.named = Err("pid 10 has exited".into());
    f.listeners.clear();
    f.listen_sockets = 0;
    f.health = Probe::Down("connection refused".into());
    f.ready = Probe::Down("connection refused".into());
    f
}

fn squatted(mut f: LocalFacts) -> LocalFacts {
    f.listeners = vec![proc_info(77, false)];
    f.listen_sockets = 1;
    f.health = Probe::NotHal9("404 not JSON".into());
    f.ready = Probe::NotHal9("404 not JSON".into());
    f
}

/// Each advised local command's effect, from its contract.
fn follow_local(f: &LocalFacts, next: &str) -> LocalFacts {
    let command = next.split('#').next().unwrap_or("").trim();
    let cfg = crate::config::CleanupConfig::default();
    let foreign = f.listeners.iter().any(|p| !p.hal9_runtime);
    if command.starts_with("hal9ctl ") && command.split_whitespace().any(|w| w == "--dry-run") {
        // A dry run changes nothing, whatever it shows.
        return f.clone();
    }
    if command == "hal9ctl restart" {
        // restart refuses a port held by a stranger and changes nothing.
        return if foreign {
            f.clone()
        } else {
            running(f.clone(), 42)
        };
    }
    if command == format!("hal9ctl emergency port-conflict --port {PORT} --restart") {
        // Everything on the port stopped (the runtime drained), then started.
        return running(f.clone(), 42);
    }
    if command == format!("hal9ctl emergency port-conflict --port {PORT}") {
        // The port freed, and nothing started on it.
        let mut g = dead(f.clone());
        g.recorded = f.recorded.clone();
        return g;
    }
    if command == "hal9ctl disk cleanup /var/lib/hal9" {
        // Cleanup stops below its target (the rotated/old files it may take exist).
        let mut g = f.clone();
        for d in &mut g.disks {
            d.percent = d.percent.min(f64::from(cfg.target) - 1.0);
        }
        return g;
    }
    if command == "hal9ctl health --wait 30s" {
        // A drain or a start that finishes by itself.
        let mut g = f.clone();
        g.ready = Probe::Answer {
            status: 200,
            body: ReadyBody {
                ready: true,
                reason: None,
            },
            latency_ms: 1.0,
        };
        return g;
    }
    panic!("advice not modelled: {next}");
}

fn local_cases() -> Vec<(&'static str, LocalFacts)> {
    let h = healthy;
    let mut v: Vec<(&str, LocalFacts)> = Vec::new();
    v.push(("killed with -9 / stale pid file", dead(h())));
    v.push(("squatter on a dead runtime's port", squatted(dead(h()))));
    v.push(("squatter, runtime alive elsewhere", squatted(h())));
    let mut f = dead(h());
    f.recorded.clear();
    v.push(("no runtime.json, nothing listens", f));
    let mut f = h();
    f.recorded.push(11);
    v.push(("runtime alive, a gone pid also recorded", f));
    let mut f = h();
    f.listeners.push(proc_info(11, true));
    f.listen_sockets = 2;
    v.push(("split port", f));
    for (name, st) in [
        ("unhealthy", HealthStatus::Unhealthy),
        ("degraded", HealthStatus::Degraded),
    ] {
        let mut f = h();
        f.health = Probe::Answer {
            status: 200,
            body: body(10, st),
            latency_ms: 1.0,
        };
        v.push((name, f));
    }
    let mut f = h();
    f.health = Probe::Answer {
        status: 200,
        body: body(99, HealthStatus::Healthy),
        latency_ms: 1.0,
    };
    v.push(("another pid answers", f));
    let mut f = h();
    f.health = Probe::Down("timeout".into());
    v.push(("health times out", f));
    let mut f = h();
    f.health = Probe::Error("bad url".into());
    f.ready = Probe::Error("bad url".into());
    v.push(("probe error", f));
    let mut f = h();
    f.ready = Probe::Answer {
        status: 503,
        body: ReadyBody {
            ready: false,
            reason: Some("draining".into()),
        },
        latency_ms: 1.0,
    };
    v.push(("not ready", f));
    let mut f = h();
    f.ready = Probe::Down("refused".into());
    v.push(("ready down", f));
    let mut f = h();
    f.ready = Probe::NotHal9("404".into());
    v.push(("ready not hal9", f));
    for p in [85.0, 95.0] {
        let mut f = h();
        f.disks = vec![disk(p)];
        v.push(("disk full", f));
    }
    let mut f = h();
    f.memory_percent = Some(95.0);
    v.push(("memory", f));
    let mut f = h();
    f.memory_percent = None;
    v.push(("memory unreadable", f));
    let mut f = h();
    f.load1 = Some(40.0);
    v.push(("load", f));
    let mut f = h();
    f.load1 = None;
    v.push(("load unreadable", f));
    let mut f = h();
    f.state_writable = Err("read-only file system".into());
    v.push(("state dir", f));
    let mut f = h();
    f.log_errors = Ok(LogErrors {
        count: 2,
        first: Some("ERROR boom".into()),
    });
    v.push(("log errors", f));
    let mut f = h();
    f.log_errors = Err("not found".into());
    v.push(("log unreadable", f));
    let mut f = h();
    f.crash_files = vec!["core.1".into()];
    v.push(("crash dumps", f));
    let mut f = squatted(dead(h()));
    f.disks = vec![disk(95.0)];
    v.push(("squatter and a full disk", f));
    let mut f = dead(h());
    let mut o = quiet(10);
    o.alive = false;
    o.kernel = Ok(vec![kill(10, "hal9ctl", "/hal9", 200)]);
    f.oom = Some(o);
    v.push(("the runtime OOM-killed", f));
    let mut f = h();
    let mut o = quiet(10);
    o.cgroup = Ok(mem("/hal9", 1));
    o.kernel = Ok(vec![kill(4242, "python3", "/hal9", 200)]);
    f.oom = Some(o);
    v.push(("a neuron's command OOM-killed", f));
    let mut f = h();
    let mut o = quiet(10);
    o.cgroup = Ok(mem("/hal9", 1));
    o.kernel = Err("denied".into());
    f.oom = Some(o);
    v.push(("an OOM kill counted, the kernel log unreadable", f));
    let mut f = h();
    let mut o = quiet(10);
    o.cgroup = Err("no memory cgroup".into());
    o.kernel = Err("denied".into());
    f.oom = Some(o);
    v.push(("OOM evidence unreadable", f));
    v
}

#[test]
fn following_local_advice_never_loops() {
    let cfg = HealthConfig::default();
    let names = [
        "port owner",
        "runtime process",
        "GET /health",
        "GET /ready",
        "disk /var/lib/hal9",
        "memory",
        "load",
        "state dir",
        "runtime log",
        "crash dumps",
        "oom kills",
    ];
    let mut failed_somewhere = std::collections::BTreeSet::new();
    for (case, f) in local_cases() {
        for c in plan(&f, &cfg) {
            if c.status != Mark::Ok {
                failed_somewhere.insert(c.name.clone());
            }
        }
        converge(case, f, |f| plan(f, &cfg), follow_local);
    }
    for n in names {
        assert!(failed_somewhere.contains(n), "no case makes `{n}` fail");
    }
}

#[test]
fn the_seed_incidents_take_the_fewest_commands() {
    let cfg = HealthConfig::default();
    let run = |f: LocalFacts| converge("seed", f, |f| plan(f, &cfg), follow_local);
    assert_eq!(
        run(squatted(dead(healthy()))),
        [format!(
            "hal9ctl emergency port-conflict --port {PORT} --restart"
        )]
    );
    assert_eq!(run(dead(healthy())), ["hal9ctl restart"]);
    let mut full = healthy();
    full.disks = vec![disk(95.0)];
    assert_eq!(run(full), ["hal9ctl disk cleanup /var/lib/hal9"]);
}

// ---------- cluster ----------

#[derive(Debug, Clone, Copy, PartialEq)]
enum RolloutProgress {
    Complete,
    Progressing,
    Failed,
}

/// A deployment as the cluster checks see it, on plain data.
#[derive(Debug, Clone)]
struct Cluster {
    paused: bool,
    rollout: RolloutProgress,
    desired: i32,
    ready: i32,
    bad_containers: bool,
    restarts: bool,
    pending: usize,
    hpa_at_max: bool,
    emergency_done: bool,
    events: bool,
    /// What the worst pod's runtime says about itself.
    inside: Option<InsideKind>,
    skew: bool,
    disagrees: bool,
    not_following: bool,
    configmap_unreadable: bool,
    slo: Option<SloKind>,
}

fn calm() -> Cluster {
    Cluster {
        paused: false,
        rollout: RolloutProgress::Complete,
        desired: 2,
        ready: 2,
        bad_containers: false,
        restarts: false,
        pending: 0,
        hpa_at_max: false,
        emergency_done: false,
        events: false,
        inside: None,
        skew: false,
        disagrees: false,
        not_following: false,
        configmap_unreadable: false,
        slo: None,
    }
}

fn target() -> Target {
    Target::shipped()
}

/// The cluster plan's judgement, with the real advice for each issue.
fn cluster_checks(c: &Cluster) -> Vec<Check> {
    let t = target();
    let sel = "app=hal9".to_string();
    let a = |i: Issue| advise(&i, &t);
    let mut v = vec![if c.paused {
        Check::warn("rollout", "paused", a(Issue::Paused))
    } else {
        match c.rollout {
            RolloutProgress::Complete => Check::ok("rollout", "complete"),
            RolloutProgress::Progressing => {
                Check::warn("rollout", "progressing", a(Issue::RolloutProgressing))
            }
            RolloutProgress::Failed => {
                Check::fail("rollout", "deadline exceeded", a(Issue::RolloutFailed))
            }
        }
    }];
    v.push(if c.desired == 0 {
        Check::warn("pods ready", "0 replicas", a(Issue::ScaledToZero))
    } else if c.ready >= c.desired {
        Check::ok("pods ready", "all")
    } else if c.ready == 0 {
        Check::fail(
            "pods ready",
            "none",
            a(Issue::NoReadyPod {
                selector: sel.clone(),
                pending: c.pending,
            }),
        )
    } else {
        Check::warn(
            "pods ready",
            "some",
            a(Issue::SomeNotReady { selector: sel }),
        )
    });
    v.push(if c.bad_containers {
        Check::fail(
            "containers",
            "CrashLoopBackOff",
            a(Issue::BadContainers {
                pod: "p".into(),
                rolling_out: !c.paused && c.rollout != RolloutProgress::Complete,
            }),
        )
    } else {
        Check::ok("containers", "fine")
    });
    v.push(if c.restarts {
        Check::warn("restarts", "p ×3", a(Issue::Restarts { pod: "p".into() }))
    } else {
        Check::ok("restarts", "none")
    });
    v.push(if c.pending > 0 {
        Check::warn(
            "scheduling",
            "pending",
            a(Issue::Pending { count: c.pending }),
        )
    } else {
        Check::ok("scheduling", "none")
    });
    v.push(if c.hpa_at_max {
        Check::warn(
            "autoscaler",
            "at max",
            a(Issue::HpaAtMax {
                hpa: "h".into(),
                emergency_done: c.emergency_done,
            }),
        )
    } else {
        Check::ok("autoscaler", "room")
    });
    v.push(if c.events {
        Check::warn("events", "warnings", a(Issue::WarningEvents))
    } else {
        Check::ok("events", "none")
    });
    v.push(match c.inside {
        None => Check::ok("pods inside", "healthy"),
        Some(kind) => {
            let next = a(Issue::Inside {
                pod: "p".into(),
                kind,
                emergency_done: c.emergency_done,
            });
            match kind {
                InsideKind::Unreadable => Check::unknown("pods inside", "unread", next),
                InsideKind::Unhealthy => Check::fail("pods inside", "unhealthy", next),
                _ => Check::warn("pods inside", "finding", next),
            }
        }
    });
    v.push(if c.skew {
        Check::warn(
            "version skew",
            "2 builds",
            a(Issue::VersionSkew {
                rolling_out: !c.paused && c.rollout != RolloutProgress::Complete,
                selector: "app=hal9".into(),
            }),
        )
    } else {
        Check::ok("version skew", "one build")
    });
    v.push(if c.configmap_unreadable {
        Check::unknown(
            "migration agreement",
            "unread",
            a(Issue::ConfigMapUnreadable),
        )
    } else if c.not_following {
        Check::fail(
            "migration agreement",
            "not following",
            a(Issue::NotFollowing { pod: "p".into() }),
        )
    } else if c.disagrees {
        Check::fail(
            "migration agreement",
            "disagrees",
            a(Issue::Disagrees { pod: "p".into() }),
        )
    } else {
        Check::ok("migration agreement", "agree")
    });
    v.push(match c.slo {
        None => Check::ok("pod slo", "within"),
        Some(kind) => {
            let next = a(Issue::PodSlo {
                pod: "p".into(),
                kind,
                emergency_done: c.emergency_done,
            });
            match kind {
                SloKind::Unread => Check::unknown("pod slo", "unread", next),
                SloKind::Cache => Check::warn("pod slo", "cold", next),
                _ => Check::fail("pod slo", "breached", next),
            }
        }
    });
    // As `health --cluster` reports them: by cause, then (in the report) by urgency.
    CheckReport::new("d", by_cause(v), serde_json::Value::Null).checks
}

/// Each advised cluster command's effect, from its contract.
fn follow_cluster(c: &Cluster, next: &str) -> Cluster {
    let command = next.split('#').next().unwrap_or("").trim();
    let mut g = c.clone();
    if command.starts_with("kubectl rollout resume") {
        g.paused = false;
        g.rollout = RolloutProgress::Progressing;
    } else if command.starts_with("hal9ctl health --cluster") && command.ends_with("--wait 5m") {
        // Waiting finishes the rollout, or runs it into its progress deadline.
        if c.bad_containers
            || c.pending > 0
            || c.ready < c.desired && c.rollout == RolloutProgress::Complete
        {
            g.rollout = RolloutProgress::Failed;
        } else {
            g.rollout = RolloutProgress::Complete;
            g.ready = g.desired;
            // The older revision's pods are gone, and their build with them.
            g.skew = false;
        }
    } else if command.starts_with("hal9ctl health --cluster") && command.ends_with("--wait 2m") {
        // A drained runtime exits when its requests are done; the kubelet restarts it.
        if c.inside == Some(InsideKind::Draining) {
            g.inside = None;
        }
    } else if command.starts_with("kubectl delete pod ") {
        // The replacement reads the ConfigMap before it serves.
        g.disagrees = false;
    } else if command.starts_with("kubectl rollout undo") {
        g.skew = false;
        // The previous revision, which ran.
        g.rollout = RolloutProgress::Complete;
        g.bad_containers = false;
        g.restarts = false;
        g.pending = 0;
        g.ready = g.desired;
    } else if command.starts_with("hal9ctl scale --replicas 2") {
        g.desired = 2;
        g.ready = 2;
    } else if command.starts_with("hal9ctl scale --emergency") {
        // Min and max raised to 2 × current, and the HPA soon runs at it:
        // at its (new) maximum again, but with the emergency recorded.
        // Twice the pods share the load: a saturated pod is relieved.
        g.emergency_done = true;
        if c.inside == Some(InsideKind::AtLimit) {
            g.inside = None;
        }
        if c.slo == Some(SloKind::Load) {
            g.slo = None;
        }
    } else {
        panic!("advice not modelled: {next}");
    }
    g
}

#[test]
fn following_cluster_advice_never_loops_and_ends_healthy_or_with_a_human() {
    let cases: Vec<(&str, Cluster)> = vec![
        (
            "paused",
            Cluster {
                paused: true,
                ..calm()
            },
        ),
        (
            "progressing",
            Cluster {
                rollout: RolloutProgress::Progressing,
                ready: 1,
                ..calm()
            },
        ),
        (
            "stuck rollout",
            Cluster {
                rollout: RolloutProgress::Failed,
                ready: 1,
                ..calm()
            },
        ),
        (
            "scaled to 0",
            Cluster {
                desired: 0,
                ready: 0,
                ..calm()
            },
        ),
        ("no ready pod", Cluster { ready: 0, ..calm() }),
        ("some not ready", Cluster { ready: 1, ..calm() }),
        (
            "crash loop of a new revision",
            Cluster {
                rollout: RolloutProgress::Progressing,
                ready: 1,
                bad_containers: true,
                restarts: true,
                events: false,
                ..calm()
            },
        ),
        (
            "crash loop of the running revision",
            Cluster {
                ready: 0,
                bad_containers: true,
                restarts: true,
                events: true,
                ..calm()
            },
        ),
        (
            "restarts",
            Cluster {
                restarts: true,
                ..calm()
            },
        ),
        (
            "pending",
            Cluster {
                ready: 1,
                pending: 1,
                ..calm()
            },
        ),
        (
            "nothing scheduled",
            Cluster {
                ready: 0,
                pending: 2,
                ..calm()
            },
        ),
        (
            "hpa at its ceiling",
            Cluster {
                hpa_at_max: true,
                ..calm()
            },
        ),
        (
            "warning events",
            Cluster {
                events: true,
                ..calm()
            },
        ),
    ];
    let mut cases = cases;
    for kind in [
        InsideKind::Unreadable,
        InsideKind::Unhealthy,
        InsideKind::Degraded,
        InsideKind::Breaker,
        InsideKind::AtLimit,
        InsideKind::Draining,
    ] {
        cases.push((
            "inside a pod",
            Cluster {
                inside: Some(kind),
                ..calm()
            },
        ));
        cases.push((
            "inside a pod, already emergency-scaled",
            Cluster {
                inside: Some(kind),
                hpa_at_max: true,
                emergency_done: true,
                ..calm()
            },
        ));
    }
    for kind in [
        SloKind::Load,
        SloKind::Errors,
        SloKind::Cache,
        SloKind::Unread,
    ] {
        cases.push((
            "a pod's slo",
            Cluster {
                slo: Some(kind),
                ..calm()
            },
        ));
        cases.push((
            "a pod's slo, saturated pods too",
            Cluster {
                slo: Some(kind),
                inside: Some(InsideKind::AtLimit),
                ..calm()
            },
        ));
    }
    cases.push((
        "skew outside a rollout",
        Cluster {
            skew: true,
            ..calm()
        },
    ));
    cases.push((
        "skew mid-rollout",
        Cluster {
            skew: true,
            rollout: RolloutProgress::Progressing,
            ready: 1,
            ..calm()
        },
    ));
    cases.push((
        "a pod behind the configmap",
        Cluster {
            disagrees: true,
            ..calm()
        },
    ));
    cases.push((
        "a pod that follows no configmap",
        Cluster {
            not_following: true,
            disagrees: true,
            ..calm()
        },
    ));
    cases.push((
        "configmap unreadable",
        Cluster {
            configmap_unreadable: true,
            ..calm()
        },
    ));
    let mut failed = std::collections::BTreeSet::new();
    for (case, c) in cases {
        for ch in cluster_checks(&c) {
            if ch.status != Mark::Ok {
                failed.insert(ch.name.clone());
            }
        }
        converge(case, c, cluster_checks, follow_cluster);
    }
    for n in [
        "rollout",
        "pods ready",
        "containers",
        "restarts",
        "scheduling",
        "autoscaler",
        "events",
        "pods inside",
        "version skew",
        "migration agreement",
        "pod slo",
    ] {
        assert!(failed.contains(n), "no case makes `{n}` fail");
    }
}

#[test]
fn the_cluster_seed_incidents_advise_what_acts() {
    let run = |c: Cluster| converge("seed", c, cluster_checks, follow_cluster);
    let stuck = run(Cluster {
        rollout: RolloutProgress::Failed,
        ready: 1,
        ..calm()
    });
    assert!(
        stuck[0].starts_with("kubectl rollout undo deployment/hal9-server -n hal9"),
        "{stuck:?}"
    );
    let hpa = run(Cluster {
        hpa_at_max: true,
        ..calm()
    });
    assert_eq!(
        hpa[0],
        "hal9ctl scale --emergency --cluster -n hal9 --deployment hal9-server"
    );
    assert!(
        hpa[1].starts_with("needs a human: already emergency-scaled"),
        "{hpa:?}"
    );
    let pending = run(Cluster {
        ready: 0,
        pending: 2,
        ..calm()
    });
    assert!(
        pending[0].starts_with("needs a human: 2 pod(s) cannot be scheduled"),
        "{pending:?}"
    );
    let crash = run(Cluster {
        rollout: RolloutProgress::Progressing,
        ready: 1,
        bad_containers: true,
        ..calm()
    });
    assert!(crash[0].starts_with("kubectl rollout undo"), "{crash:?}");
}
