//! `health`'s OOM check (local): was the runtime, or a process in its memory
//! cgroup (a command neuron's program), killed by the kernel's OOM killer
//! since the runtime last started? Evidence: the cgroup's kill counter
//! against the count the runtime recorded at its start, and the kernel log,
//! which names the process and the time. An unreadable kernel log is a
//! missing detail, never a failure of the check.

use serde::Serialize;

use crate::output::checks::Check;
use crate::output::human_bytes;
use crate::runtime::state::StateDir;
use crate::system::oom::{
    self, CgroupMemory, KernelOomKill, MemoryCgroup, OomBaseline, cgroup_within,
};

use super::local::human;

pub const CHECK: &str = "oom kills";

/// Everything the check judges, as plain data.
#[derive(Debug, Clone, Serialize)]
pub struct OomFacts {
    /// The runtime looked at: the proved one, else the one runtime.json names.
    pub pid: u32,
    pub alive: bool,
    /// When it started, in seconds since boot (the kernel log's clock).
    pub started_since_boot_s: Option<f64>,
    /// Unix seconds of boot, to turn kernel times into wall-clock times.
    pub boot_time_unix: Option<u64>,
    pub cgroup: Result<CgroupMemory, String>,
    /// What the runtime found at its start (runtime.json).
    pub baseline: Option<OomBaseline>,
    pub kernel: Result<Vec<KernelOomKill>, String>,
    /// `(neuron id, program)` of the configured command neurons, to name
    /// the neuron whose program was killed.
    pub command_neurons: Vec<(String, String)>,
}

/// Gather the facts for the runtime `pid` (alive or not) of `sd`; `None`
/// when no runtime is known at all (nothing to look at).
pub fn gather(
    sd: &StateDir,
    alive_pid: Option<u32>,
    neurons: &[crate::runtime::spec::NeuronSpec],
) -> Option<OomFacts> {
    let info = sd.read_runtime_info().ok().flatten();
    let (pid, alive) = match (alive_pid, &info) {
        (Some(p), _) => (p, true),
        (None, Some(i)) => (i.pid, false),
        (None, None) => return None,
    };
    let info = info.filter(|i| i.pid == pid);
    let tps = procfs::ticks_per_second().max(1) as f64;
    let ticks = if alive {
        crate::system::process::start_ticks(pid as i32)
    } else {
        info.as_ref().and_then(|i| i.start_ticks)
    };
    let baseline = info.as_ref().and_then(|i| i.oom_baseline.clone());
    // A dead runtime's cgroup is the one it recorded (it may still exist,
    // holding its children, or be gone with it).
    let cg: Result<MemoryCgroup, String> = if alive {
        oom::cgroup_of_pid(pid)
    } else {
        baseline
            .as_ref()
            .map(|b| b.cgroup.clone())
            .ok_or_else(|| format!("pid {pid} is gone and runtime.json records no cgroup"))
    };
    Some(OomFacts {
        pid,
        alive,
        started_since_boot_s: ticks.map(|t| t as f64 / tps),
        boot_time_unix: procfs::boot_time_secs().ok(),
        cgroup: cg.and_then(|c| oom::read_cgroup(&c)),
        baseline,
        kernel: oom::kernel_oom_kills(),
        command_neurons: neurons
            .iter()
            .filter_map(|n| {
                let prog = n.command.as_ref()?.first()?;
                let base = prog.rsplit('/').next().unwrap_or(prog);
                Some((n.id.clone(), base.to_string()))
            })
            .collect(),
    })
}

fn wall(f: &OomFacts, since_boot_s: f64) -> String {
    match f.boot_time_unix {
        Some(b) if since_boot_s >= 0.0 => {
            let t = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(b)
                + std::time::Duration::from_secs_f64(since_boot_s);
            humantime::format_rfc3339_seconds(t).to_string()
        }
        _ => format!("{since_boot_s:.0} s after boot"),
    }
}

fn memory_line(c: &CgroupMemory) -> String {
    let limit = c
        .limit
        .map(|l| format!("limit {}", human_bytes(l)))
        .unwrap_or_else(|| "no limit".into());
    let usage = c
        .usage
        .map(|u| format!(", usage {}", human_bytes(u)))
        .unwrap_or_default();
    let peak = c
        .peak
        .map(|u| format!(", peak {}", human_bytes(u)))
        .unwrap_or_default();
    format!("memory cgroup {}: {limit}{usage}{peak}", c.cgroup.path)
}

const LOOK_AT_KERNEL: &str = "dmesg | grep -E 'oom-kill|Killed process'";

/// Pure: the OOM check.
pub fn plan(f: &OomFacts) -> Check {
    // The root cgroup is the whole host's: its kills are not the runtime's.
    let own_cg = f
        .cgroup
        .as_ref()
        .ok()
        .map(|c| c.cgroup.path.clone())
        .or_else(|| f.baseline.as_ref().map(|b| b.cgroup.path.clone()))
        .filter(|p| !p.trim_end_matches('/').is_empty());
    let in_cg = |k: &KernelOomKill| {
        k.pid == f.pid
            || own_cg.as_deref().is_some_and(|cg| {
                k.task_memcg
                    .as_deref()
                    .is_some_and(|t| cgroup_within(t, cg))
            })
    };
    // The kernel log's clock and the process start's differ by a few
    // milliseconds; a kill this close to the start is judged by the counter.
    let since_start = |k: &KernelOomKill| {
        f.started_since_boot_s
            .is_none_or(|s| k.since_boot_us as f64 / 1e6 + 0.02 >= s)
    };
    // The cgroup's own count since the start, where the start's count is known.
    let counted_since: Option<u64> = match (&f.cgroup, &f.baseline) {
        (Ok(c), Some(b)) if b.cgroup == c.cgroup => Some(c.oom_kills.saturating_sub(b.oom_kills)),
        _ => None,
    };
    let start = f
        .started_since_boot_s
        .map(|s| wall(f, s))
        .unwrap_or_else(|| "an unknown time".into());
    let mem = f
        .cgroup
        .as_ref()
        .ok()
        .map(|c| format!("; {}", memory_line(c)))
        .unwrap_or_default();

    let seen: Vec<&KernelOomKill> = f
        .kernel
        .as_ref()
        .map(|ks| ks.iter().filter(|k| in_cg(k)).collect())
        .unwrap_or_default();
    let mut recent: Vec<&KernelOomKill> = seen.iter().copied().filter(|k| since_start(k)).collect();
    if let Some(n) = counted_since {
        // The counter is exact: the last n kills of other processes are the
        // ones since the start, whatever the clocks say.
        let mut others: Vec<&KernelOomKill> =
            seen.iter().copied().filter(|k| k.pid != f.pid).collect();
        others.sort_by_key(|k| k.since_boot_us);
        let keep = others
            .len()
            .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX));
        recent.retain(|k| k.pid == f.pid);
        recent.extend(others.into_iter().skip(keep));
    }

    if let Some(k) = recent.iter().find(|k| k.pid == f.pid) {
        return Check::fail(
            CHECK,
            format!(
                "the runtime (pid {}) was killed by the kernel's OOM killer at {}{mem}",
                f.pid,
                wall(f, k.since_boot_us as f64 / 1e6)
            ),
            human(
                "the runtime ran out of memory: raise its memory limit, or find what grows (a neuron, the caches)",
                LOOK_AT_KERNEL,
            ),
        );
    }
    let look_at_cg =
        |c: &CgroupMemory| format!("{LOOK_AT_KERNEL}; cat {}", c.events_file.display());
    if !recent.is_empty() {
        let what: Vec<String> = recent
            .iter()
            .map(|k| {
                format!(
                    "{} (pid {}) at {}",
                    k.task,
                    k.pid,
                    wall(f, k.since_boot_us as f64 / 1e6)
                )
            })
            .collect();
        let neuron = recent.iter().find_map(|k| {
            f.command_neurons
                .iter()
                .find(|(_, prog)| prog.starts_with(&k.task) || k.task.starts_with(prog.as_str()))
        });
        let why = match neuron {
            Some((id, prog)) => format!(
                "neuron `{id}`'s command ({prog}) ran out of memory: raise the runtime's memory limit, or make the command use less"
            ),
            None => "a process of the runtime ran out of memory: raise the runtime's memory limit, or look at the neuron whose command it is".into(),
        };
        let look = f
            .cgroup
            .as_ref()
            .map(look_at_cg)
            .unwrap_or_else(|_| LOOK_AT_KERNEL.to_string());
        return Check::warn(
            CHECK,
            format!(
                "{} OOM kill(s) in the runtime's memory cgroup since it started at {start}: {}{mem}",
                recent.len(),
                what.join(", ")
            ),
            human(&why, &look),
        );
    }
    match &f.cgroup {
        Ok(c) => {
            let baseline = f.baseline.as_ref().filter(|b| b.cgroup == c.cgroup);
            // Kills the kernel log accounts for (all before this start) are not new.
            let since = match counted_since {
                Some(n) => n,
                None if f.kernel.is_ok() => c.oom_kills.saturating_sub(seen.len() as u64),
                None => c.oom_kills,
            };
            if since == 0 || own_cg.is_none() {
                return Check::ok(
                    CHECK,
                    format!("no OOM kill since the runtime started at {start}{mem}"),
                );
            }
            let when = match (baseline, &f.kernel) {
                (Some(_), Ok(_)) => " since the runtime started (the kernel log no longer holds them, so which process and when is unknown)".to_string(),
                (Some(_), Err(e)) => format!(" since the runtime started (which process and when is unknown: the kernel log cannot be read: {e})"),
                (None, _) => " since the cgroup was made; whether since this runtime's start is unknown (it recorded no count at start)".to_string(),
            };
            Check::warn(
                CHECK,
                format!(
                    "{since} OOM kill(s) in memory cgroup {}{when}{mem}",
                    c.cgroup.path
                ),
                human(
                    "a process of the runtime ran out of memory: raise the runtime's memory limit, or look at its neurons' commands",
                    &look_at_cg(c),
                ),
            )
        }
        Err(cg_why) => match &f.kernel {
            Ok(_) => Check::ok(
                CHECK,
                format!(
                    "the kernel log records no OOM kill of pid {} since it started at {start} (its memory cgroup cannot be read: {cg_why})",
                    f.pid
                ),
            ),
            Err(k_why) => Check::unknown(
                CHECK,
                format!("cannot tell: {cg_why}; the kernel log cannot be read: {k_why}"),
                human(
                    "neither the runtime's memory cgroup nor the kernel log can be read",
                    &format!("cat /proc/{}/cgroup; {LOOK_AT_KERNEL}", f.pid),
                ),
            ),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::output::Mark;
    use crate::system::oom::Hierarchy;

    fn cg(path: &str) -> MemoryCgroup {
        MemoryCgroup {
            hierarchy: Hierarchy::V1,
            path: path.into(),
        }
    }

    pub(crate) fn mem(path: &str, kills: u64) -> CgroupMemory {
        CgroupMemory {
            cgroup: cg(path),
            dir: format!("/sys/fs/cgroup/memory{path}").into(),
            events_file: format!("/sys/fs/cgroup/memory{path}/memory.oom_control").into(),
            oom_kills: kills,
            limit: Some(64 << 20),
            usage: Some(20 << 20),
            peak: Some(64 << 20),
        }
    }

    pub(crate) fn kill(pid: u32, task: &str, memcg: &str, at_s: u64) -> KernelOomKill {
        KernelOomKill {
            since_boot_us: at_s * 1_000_000,
            pid,
            task: task.into(),
            task_memcg: Some(memcg.into()),
            oom_memcg: Some(memcg.into()),
        }
    }

    /// A runtime (pid 10, started 100 s after boot) in its own cgroup /hal9
    /// with no kill: shared with the no-loop proof.
    pub(crate) fn quiet(pid: u32) -> OomFacts {
        OomFacts {
            pid,
            alive: true,
            started_since_boot_s: Some(100.0),
            boot_time_unix: Some(1_764_547_200),
            cgroup: Ok(mem("/hal9", 0)),
            baseline: Some(OomBaseline {
                cgroup: cg("/hal9"),
                oom_kills: 0,
            }),
            kernel: Ok(vec![]),
            command_neurons: vec![("probe".into(), "python3".into())],
        }
    }

    #[test]
    fn no_kill_is_ok_and_shows_limit_and_usage() {
        let c = plan(&quiet(10));
        assert_eq!(c.status, Mark::Ok, "{c:?}");
        assert!(
            c.detail
                .contains("limit 64.0 MiB, usage 20.0 MiB, peak 64.0 MiB"),
            "{c:?}"
        );
        assert!(c.detail.contains("2025-12-01T00:01:40Z"), "{c:?}");
    }

    #[test]
    fn a_neuron_killed_since_start_warns_naming_the_neuron_and_time() {
        let mut f = quiet(10);
        f.cgroup = Ok(mem("/hal9", 1));
        f.kernel = Ok(vec![kill(4242, "python3", "/hal9", 130)]);
        let c = plan(&f);
        assert_eq!(c.status, Mark::Warn, "{c:?}");
        assert!(
            c.detail
                .contains("python3 (pid 4242) at 2025-12-01T00:02:10Z"),
            "{c:?}"
        );
        let next = c.next.unwrap();
        assert!(
            next.starts_with(super::super::local::NEEDS_A_HUMAN),
            "{next}"
        );
        assert!(
            next.contains("neuron `probe`") && next.contains("raise"),
            "{next}"
        );
    }

    #[test]
    fn the_runtime_itself_killed_fails() {
        let mut f = quiet(10);
        f.alive = false;
        f.kernel = Ok(vec![kill(10, "hal9ctl", "/hal9", 200)]);
        let c = plan(&f);
        assert_eq!(c.status, Mark::Fail, "{c:?}");
        assert!(
            c.detail.contains("the runtime (pid 10) was killed"),
            "{c:?}"
        );
    }

    #[test]
    fn kills_before_the_start_or_in_other_cgroups_are_not_this_runtimes() {
        let mut f = quiet(10);
        f.cgroup = Ok(mem("/hal9", 1));
        f.baseline = Some(OomBaseline {
            cgroup: cg("/hal9"),
            oom_kills: 1,
        });
        f.kernel = Ok(vec![
            kill(5, "python3", "/hal9", 50),
            kill(6, "java", "/other", 150),
            kill(7, "python3", "/hal9x", 150),
        ]);
        assert_eq!(plan(&f).status, Mark::Ok, "{:?}", plan(&f));
        // In the start's own second the clocks cannot tell; the counter can.
        f.kernel = Ok(vec![kill(5, "python3", "/hal9", 100)]);
        assert_eq!(plan(&f).status, Mark::Ok, "{:?}", plan(&f));
        f.kernel = Ok(vec![kill(5, "python3", "/hal9", 50)]);
        // No count recorded at start: the kernel log accounts for the old kill.
        f.baseline = None;
        assert_eq!(plan(&f).status, Mark::Ok, "{:?}", plan(&f));
        // A runtime in the host's root cgroup owns no host-wide kill.
        let mut g = quiet(10);
        g.cgroup = Ok(mem("/", 9));
        g.baseline = None;
        g.kernel = Ok(vec![kill(6, "java", "/", 150)]);
        assert_eq!(plan(&g).status, Mark::Ok, "{:?}", plan(&g));
    }

    #[test]
    fn a_counted_kill_the_kernel_log_cannot_show_still_warns() {
        let mut f = quiet(10);
        f.cgroup = Ok(mem("/hal9", 2));
        f.kernel = Err("/dev/kmsg: Operation not permitted".into());
        let c = plan(&f);
        assert_eq!(c.status, Mark::Warn, "{c:?}");
        assert!(
            c.detail
                .starts_with("2 OOM kill(s) in memory cgroup /hal9 since the runtime started"),
            "{c:?}"
        );
        assert!(c.detail.contains("Operation not permitted"), "{c:?}");
        f.baseline = None;
        let c = plan(&f);
        assert!(
            c.detail
                .contains("whether since this runtime's start is unknown"),
            "{c:?}"
        );
    }

    #[test]
    fn nothing_readable_is_unknown_and_a_kernel_log_alone_is_evidence() {
        let mut f = quiet(10);
        f.cgroup = Err("no cgroup memory hierarchy mounted".into());
        assert_eq!(plan(&f).status, Mark::Ok);
        f.kernel = Err("denied".into());
        let c = plan(&f);
        assert_eq!(c.status, Mark::Unknown, "{c:?}");
        assert!(c.next.unwrap().contains("cat /proc/10/cgroup"));
    }
}

// ---------------------------------------------------------------- cluster

/// Last memory usage per `(pod, container)`, in bytes, from the metrics
/// API; the error says why there is none (usually: no metrics-server).
pub type PodUsage = Result<std::collections::BTreeMap<(String, String), u64>, String>;

fn oom_killed(c: &k8s_openapi::api::core::v1::ContainerStatus) -> bool {
    [c.state.as_ref(), c.last_state.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.terminated.as_ref())
        .any(|t| t.reason.as_deref() == Some("OOMKilled"))
}

/// Pure: for each OOM-killed container, its memory limit against its last
/// usage: "pod/container: limit 96.0 MiB, usage 90.1 MiB". No figure is
/// made up: a missing one says why it is missing.
pub fn cluster_notes(pods: &[k8s_openapi::api::core::v1::Pod], usage: &PodUsage) -> Vec<String> {
    let mut notes = Vec::new();
    for p in pods {
        let name = p.metadata.name.as_deref().unwrap_or("?");
        let statuses = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or(&[]);
        for c in statuses.iter().filter(|c| oom_killed(c)) {
            let limit = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.iter().find(|sc| sc.name == c.name))
                .and_then(|sc| {
                    sc.resources
                        .as_ref()?
                        .limits
                        .as_ref()?
                        .get("memory")
                        .cloned()
                })
                .and_then(|q| crate::cluster::quantity::parse_quantity(&q.0, false))
                .map(|b| format!("limit {}", human_bytes(b as u64)))
                .unwrap_or_else(|| "no memory limit".into());
            let used = match usage {
                Ok(m) => match m.get(&(name.to_string(), c.name.clone())) {
                    Some(b) => format!("usage {} now", human_bytes(*b)),
                    None => "usage unknown (the metrics API lists no figure for it)".into(),
                },
                Err(why) => format!("usage unknown ({why})"),
            };
            notes.push(format!("{name}/{}: {limit}, {used}", c.name));
        }
    }
    notes
}

/// Memory usage of the namespace's pods from `metrics.k8s.io`.
pub async fn pod_usage(kube: &crate::cluster::Kube) -> PodUsage {
    let req = hyper::Request::builder()
        .uri(format!(
            "/apis/metrics.k8s.io/v1beta1/namespaces/{}/pods",
            kube.namespace
        ))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let text = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        kube.client.request_text(req),
    )
    .await
    .map_err(|_| "the metrics API did not answer within 5 s".to_string())?
    .map_err(|e| match e {
        kube::Error::Api(s) if s.code == 404 => {
            "no metrics API (metrics.k8s.io) in this cluster".to_string()
        }
        other => format!("the metrics API: {other}"),
    })?;
    parse_pod_metrics(&text)
}

/// Pure: a `PodMetricsList`.
pub fn parse_pod_metrics(text: &str) -> PodUsage {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the metrics API's answer: {e}"))?;
    let mut m = std::collections::BTreeMap::new();
    for item in v["items"].as_array().into_iter().flatten() {
        let Some(pod) = item["metadata"]["name"].as_str() else {
            continue;
        };
        for c in item["containers"].as_array().into_iter().flatten() {
            if let (Some(name), Some(b)) = (
                c["name"].as_str(),
                c["usage"]["memory"]
                    .as_str()
                    .and_then(|q| crate::cluster::quantity::parse_quantity(q, false)),
            ) {
                m.insert((pod.to_string(), name.to_string()), b as u64);
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod cluster_tests {
    use super::*;
    use serde_json::json;

    fn oom_pod() -> k8s_openapi::api::core::v1::Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p1"},
            "spec": {"containers": [{"name": "hal9", "image": "x",
                     "resources": {"limits": {"memory": "96Mi"}}}]},
            "status": {"containerStatuses": [{"name": "hal9", "image": "x", "imageID": "", "ready": true,
                "restartCount": 1, "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn the_limit_against_usage_or_why_usage_is_unknown() {
        let usage = parse_pod_metrics(
            r#"{"items": [{"metadata": {"name": "p1"}, "containers": [{"name": "hal9", "usage": {"cpu": "1m", "memory": "92160Ki"}}]}]}"#,
        );
        assert_eq!(
            cluster_notes(&[oom_pod()], &usage),
            ["p1/hal9: limit 96.0 MiB, usage 90.0 MiB now"]
        );
        let none: PodUsage = Err("no metrics API (metrics.k8s.io) in this cluster".into());
        assert_eq!(
            cluster_notes(&[oom_pod()], &none),
            [
                "p1/hal9: limit 96.0 MiB, usage unknown (no metrics API (metrics.k8s.io) in this cluster)"
            ]
        );
        let mut fine = oom_pod();
        fine.status
            .as_mut()
            .unwrap()
            .container_statuses
            .as_mut()
            .unwrap()[0]
            .last_state = None;
        assert!(cluster_notes(&[fine], &none).is_empty());
        assert!(parse_pod_metrics("not json").is_err());
    }
}

/// Append, to the `containers` check, each OOM-killed container's limit
/// against its usage; the metrics API is asked only when there is one.
pub async fn add_cluster_notes(
    kube: &crate::cluster::Kube,
    pods: &[k8s_openapi::api::core::v1::Pod],
    checks: &mut [Check],
) {
    if cluster_notes(pods, &Err(String::new())).is_empty() {
        return;
    }
    let notes = cluster_notes(pods, &pod_usage(kube).await);
    if let Some(c) = checks.iter_mut().find(|c| c.name == "containers") {
        c.detail = format!("{}; memory: {}", c.detail, notes.join("; "));
    }
}
