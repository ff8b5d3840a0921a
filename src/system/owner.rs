//! Who owns a process above its parent: a Docker container (directly, or
//! through the docker-proxy that forwards its published port), a Kubernetes
//! pod, another container engine, or pm2. Such a process is stopped through
//! its owner or not at all (ARCHITECTURE §5): a signal would be undone by the
//! owner, or, for docker-proxy, would break the port mapping and leave the
//! container running.
//!
//! `classify` and `verdict` are pure; `of` gathers their facts from procfs.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use procfs::process::Process;
use serde::Serialize;

use super::docker::{self, ContainerInfo};
use crate::output::shell_word::shell_word;

/// How many ancestors to walk looking for a process manager: pm2 apps are
/// its children, or grandchildren behind a shell.
const ANCESTOR_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owner {
    /// A Docker container: the holder runs in it, or is the docker-proxy of its published port.
    Docker {
        /// The container id from the holder's cgroup; `None` for docker-proxy.
        cgroup_id: Option<String>,
        /// docker-proxy's own claim (`-host-ip … -container-port …`), only to describe it.
        proxy: Option<ProxyArgs>,
        /// The socket of the daemon that started the docker-proxy, from its `-H`.
        daemon_socket: Option<PathBuf>,
        /// What the Docker Engine API said; filled by [`resolve`].
        container: Option<Box<ContainerInfo>>,
        /// The engine socket that answered, or why none did.
        engine: Option<String>,
        lookup_error: Option<String>,
    },
    /// A container in a Kubernetes pod: the kubelet restarts it.
    Pod {
        pod_uid: String,
        container_id: Option<String>,
    },
    /// podman or containerd, which hal9ctl does not drive.
    Engine { engine: String, id: String },
    /// An app run by pm2's God Daemon, which restarts it.
    Pm2 {
        daemon_pid: i32,
        /// PM2_HOME, from the daemon's title `PM2 vX: God Daemon (HOME)`.
        home: Option<String>,
        /// `name` and `pm_id` from the app's environment, as pm2 sets them.
        app: Option<String>,
        pm_id: Option<String>,
    },
    /// A process in a systemd service's cgroup: with Restart= a signal is
    /// undone, and without it the unit is left failed; `systemctl stop` is the way.
    Systemd {
        unit: super::systemd::Unit,
        /// Whether systemctl can reach the systemd running it; filled by [`resolve`].
        manager: super::systemctl::Manager,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyArgs {
    pub proto: Option<String>,
    pub host_ip: Option<String>,
    pub host_port: Option<u16>,
    pub container_ip: Option<String>,
    pub container_port: Option<u16>,
}

/// One ancestor of the holder, parent first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ancestor {
    pub pid: i32,
    pub comm: String,
    pub argv: Vec<String>,
}

/// Everything `classify` looks at, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnerFacts {
    pub comm: String,
    pub exe_name: Option<String>,
    pub argv: Vec<String>,
    pub cgroup: String,
    /// hal9ctl's own cgroup: inside the same container, nothing outside restarts the holder.
    pub own_cgroup: String,
    pub ancestors: Vec<Ancestor>,
    /// The holder's environment, where readable (only `name` and `pm_id` matter).
    pub environ: BTreeMap<String, String>,
}

/// Read the facts about `pid` and classify them.
pub fn of(pid: i32, comm: &str, argv: &[String], exe_name: Option<&str>) -> Option<Owner> {
    let read = |p: String| std::fs::read_to_string(p).unwrap_or_default();
    let mut facts = OwnerFacts {
        comm: comm.to_string(),
        exe_name: exe_name.map(str::to_string),
        argv: argv.to_vec(),
        cgroup: read(format!("/proc/{pid}/cgroup")),
        own_cgroup: read("/proc/self/cgroup".into()),
        ..OwnerFacts::default()
    };
    let mut at = Process::new(pid).ok().and_then(|p| p.stat().ok());
    while let Some(stat) = at {
        if stat.ppid <= 1 || facts.ancestors.len() >= ANCESTOR_DEPTH {
            break;
        }
        let parent = Process::new(stat.ppid).ok();
        let pstat = parent.as_ref().and_then(|p| p.stat().ok());
        facts.ancestors.push(Ancestor {
            pid: stat.ppid,
            comm: pstat.as_ref().map(|s| s.comm.clone()).unwrap_or_default(),
            argv: parent
                .as_ref()
                .and_then(|p| p.cmdline().ok())
                .unwrap_or_default(),
        });
        at = pstat;
    }
    if facts.ancestors.iter().any(is_pm2_daemon)
        && let Ok(env) = Process::new(pid).and_then(|p| p.environ())
    {
        facts.environ = env
            .into_iter()
            .filter(|(k, _)| k == "name" || k == "pm_id")
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
    }
    classify(&facts)
}

/// Pure: who owns the process these facts describe.
pub fn classify(f: &OwnerFacts) -> Option<Owner> {
    let is_proxy = f.comm == "docker-proxy" || f.exe_name.as_deref() == Some("docker-proxy");
    let daemon = f.ancestors.first().filter(|a| a.comm == "dockerd");
    // Only dockerd starts a real docker-proxy; a namesake elsewhere is an ordinary process.
    if is_proxy && let Some(daemon) = daemon {
        let daemon_socket = daemon_socket(&daemon.argv);
        return Some(Owner::Docker {
            cgroup_id: None,
            proxy: Some(proxy_args(&f.argv)),
            daemon_socket,
            container: None,
            engine: None,
            lookup_error: None,
        });
    }
    if let Some(theirs) = container_of(&f.cgroup)
        // Inside the same container as hal9ctl, nothing outside will restart it.
        && container_of(&f.own_cgroup).is_none_or(|ours| ours != theirs)
    {
        return Some(match theirs {
            CgroupOwner::Pod { uid, container } => Owner::Pod {
                pod_uid: uid,
                container_id: container,
            },
            CgroupOwner::Engine {
                engine: "docker",
                id,
            } => Owner::Docker {
                cgroup_id: Some(id),
                proxy: None,
                daemon_socket: None,
                container: None,
                engine: None,
                lookup_error: None,
            },
            CgroupOwner::Engine { engine, id } => Owner::Engine {
                engine: engine.to_string(),
                id,
            },
        });
    }
    let Some(daemon) = f.ancestors.iter().find(|a| is_pm2_daemon(a)) else {
        // pm2 apps live in pm2's own service cgroup, so pm2 is asked first.
        let unit = super::systemd::unit_of_cgroup(&f.cgroup)?;
        // A process in a container engine's own service is the engine's
        // (docker-proxy, shims): `systemctl stop docker` would stop every container.
        if ["docker.service", "containerd.service", "podman.service"].contains(&unit.name.as_str())
        {
            return None;
        }
        // hal9ctl inside the same unit stopping it would stop itself.
        if super::systemd::unit_of_cgroup(&f.own_cgroup).as_ref() == Some(&unit) {
            return None;
        }
        return Some(Owner::Systemd {
            unit,
            manager: super::systemctl::Manager::Unasked,
        });
    };
    Some(Owner::Pm2 {
        daemon_pid: daemon.pid,
        home: pm2_home(&daemon.argv),
        app: f.environ.get("name").cloned(),
        pm_id: f.environ.get("pm_id").cloned(),
    })
}

/// What the plan does with an owned holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OwnerVerdict {
    /// `POST /containers/ID/stop` on the engine that named it: the only way
    /// to free a published port that the engine will not put back.
    StopContainer {
        id: String,
        name: String,
        socket: String,
    },
    /// `systemctl stop UNIT`: the unit's manager stops it, and `Restart=` does
    /// not undo a stop.
    StopUnit { unit: super::systemd::Unit },
    /// hal9ctl cannot stop it safely; `next` is the owner's own command.
    Refuse { why: String, next: String },
}

/// Pure policy for an owned holder of `port`.
pub fn verdict(owner: &Owner, port: u16) -> OwnerVerdict {
    match owner {
        Owner::Docker {
            container: Some(c),
            engine: Some(socket),
            ..
        } => {
            let label = |k: &str| c.labels.get(k).filter(|v| !v.is_empty());
            if let Some(pod) = label("io.kubernetes.pod.name") {
                let ns = label("io.kubernetes.pod.namespace").map_or("default", String::as_str);
                let uid = label("io.kubernetes.pod.uid").map_or("", String::as_str);
                return OwnerVerdict::Refuse {
                    why: format!(
                        "{} is Kubernetes pod {ns}/{pod}'s container; the kubelet would start it again",
                        c.describe()
                    ),
                    next: if uid.is_empty() {
                        format!(
                            "kubectl -n {} get pod {} -o wide",
                            shell_word(ns),
                            shell_word(pod)
                        )
                    } else {
                        find_pod_command(uid)
                    },
                };
            }
            if let Some(svc) = label("com.docker.swarm.service.name") {
                return OwnerVerdict::Refuse {
                    why: format!(
                        "{} is a task of swarm service {svc}; swarm would start another",
                        c.describe()
                    ),
                    next: format!("docker service scale {}", shell_word(&format!("{svc}=0"))),
                };
            }
            OwnerVerdict::StopContainer {
                id: c.id.clone(),
                name: c.name.clone(),
                socket: socket.clone(),
            }
        }
        Owner::Docker {
            cgroup_id,
            proxy,
            lookup_error,
            ..
        } => {
            let what = match (cgroup_id, proxy) {
                (Some(id), _) => format!("it runs in Docker container {}", short(id)),
                (None, Some(p)) => format!(
                    "it is docker-proxy, forwarding port {port} to a container ({}); a signal would break the mapping and leave the container running",
                    p.describe()
                ),
                (None, None) => "it belongs to a Docker container".to_string(),
            };
            let because = lookup_error
                .as_deref()
                .map(|e| format!(", and the Docker Engine could not name the container: {e}"))
                .unwrap_or_default();
            OwnerVerdict::Refuse {
                why: format!("{what}{because}"),
                next: match cgroup_id {
                    Some(id) => format!("docker stop {}", short(id)),
                    None => format!(
                        "docker ps --filter publish={port}, then docker stop <name> for the container it lists"
                    ),
                },
            }
        }
        Owner::Pod {
            pod_uid,
            container_id,
        } => OwnerVerdict::Refuse {
            why: format!(
                "it runs in Kubernetes pod {pod_uid}{}; the kubelet would start it again. Scale the pod's workload down, or delete the pod if nothing owns it",
                container_id
                    .as_deref()
                    .map(|c| format!(" (container {})", short(c)))
                    .unwrap_or_default()
            ),
            next: find_pod_command(pod_uid),
        },
        Owner::Engine { engine, id } => OwnerVerdict::Refuse {
            why: format!("it runs in {engine} container {}", short(id)),
            next: match engine.as_str() {
                "podman" => format!("podman stop {}", short(id)),
                _ => format!("ctr task kill {id}"),
            },
        },
        Owner::Pm2 {
            daemon_pid,
            home,
            app,
            pm_id,
        } => {
            let target = app.as_deref().or(pm_id.as_deref());
            let env = home
                .as_deref()
                .map(|h| format!("PM2_HOME={} ", shell_word(h)))
                .unwrap_or_default();
            OwnerVerdict::Refuse {
                why: format!(
                    "it is pm2 app {} (God Daemon pid {daemon_pid}); pm2 would start it again",
                    target.unwrap_or("<unknown>")
                ),
                next: match target {
                    Some(t) => format!("{env}pm2 stop {}", shell_word(t)),
                    None => format!("{env}pm2 list, then {env}pm2 stop <name|id>"),
                },
            }
        }
        Owner::Systemd {
            unit,
            manager: super::systemctl::Manager::Reachable { .. },
        } => OwnerVerdict::StopUnit { unit: unit.clone() },
        Owner::Systemd { unit, manager } => OwnerVerdict::Refuse {
            why: format!(
                "it runs in systemd unit {}; a signal would be undone by its Restart= or leave the unit failed{}",
                unit.name,
                match manager {
                    super::systemctl::Manager::Unreachable { why } => format!(
                        ", and `{}` cannot be run here: systemctl cannot reach systemd ({why})",
                        super::systemctl::command_line(&unit.systemctl("stop"))
                    ),
                    _ => String::new(),
                }
            ),
            next: unit
                .systemctl("stop")
                .iter()
                .map(|w| shell_word(w).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        },
    }
}

impl Owner {
    /// One line for tables: who the owner is.
    pub fn describe(&self) -> String {
        match self {
            Owner::Docker {
                container: Some(c), ..
            } => format!("docker: {}", c.describe()),
            Owner::Docker {
                cgroup_id: Some(id),
                ..
            } => format!("docker: container {}", short(id)),
            Owner::Docker { .. } => "docker: container not named".into(),
            Owner::Pod { pod_uid, .. } => format!("kubernetes: pod {pod_uid}"),
            Owner::Engine { engine, id } => format!("{engine}: container {}", short(id)),
            Owner::Pm2 {
                app,
                pm_id,
                daemon_pid,
                ..
            } => format!(
                "pm2: app {} (daemon pid {daemon_pid})",
                app.as_deref().or(pm_id.as_deref()).unwrap_or("?")
            ),
            Owner::Systemd { unit, .. } => format!("systemd: {}", unit.name),
        }
    }
}

/// Ask the Docker Engine which container a Docker-owned holder belongs to.
/// Engines are tried in order: the docker-proxy's own daemon, `DOCKER_HOST`,
/// the default socket; the first that names the container wins. A proxy is
/// matched by the addresses its sockets are really bound to (`bound`), never
/// by its argv, which any process can write.
pub fn resolve(owner: &mut Owner, port: u16, bound: &[IpAddr]) {
    if let Owner::Systemd { unit, manager } = owner {
        *manager = super::systemctl::Manager::ask(unit);
        return;
    }
    let Owner::Docker {
        cgroup_id,
        proxy: _,
        daemon_socket,
        container,
        engine,
        lookup_error,
    } = owner
    else {
        return;
    };
    let mut errors = Vec::new();
    for socket in docker::candidate_sockets(daemon_socket.as_deref()) {
        let found = match cgroup_id {
            Some(id) => docker::inspect(&socket, id),
            None => docker::publishing(&socket, port, bound),
        };
        match found {
            Ok(Some(c)) => {
                *container = Some(Box::new(c));
                *engine = Some(socket.display().to_string());
                *lookup_error = None;
                return;
            }
            Ok(None) => errors.push(format!(
                "{}: no running container {}",
                socket.display(),
                match cgroup_id {
                    Some(id) => format!("with id {}", short(id)),
                    None => format!("publishes port {port}"),
                }
            )),
            Err(e) => errors.push(format!("{}: {e}", socket.display())),
        }
    }
    *lookup_error = Some(errors.join("; "));
}

fn find_pod_command(uid: &str) -> String {
    format!(
        "kubectl get pods -A -o jsonpath='{{range .items[?(@.metadata.uid==\"{uid}\")]}}{{.metadata.namespace}}/{{.metadata.name}} owned by {{.metadata.ownerReferences[0].kind}}/{{.metadata.ownerReferences[0].name}}{{\"\\n\"}}{{end}}'"
    )
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

impl ProxyArgs {
    fn describe(&self) -> String {
        let side = |ip: &Option<String>, port: &Option<u16>| {
            format!(
                "{}:{}",
                ip.as_deref().unwrap_or("?"),
                port.map_or("?".to_string(), |p| p.to_string())
            )
        };
        format!(
            "{} {} -> {}",
            self.proto.as_deref().unwrap_or("tcp"),
            side(&self.host_ip, &self.host_port),
            side(&self.container_ip, &self.container_port)
        )
    }
}

fn flag<'a>(argv: &'a [String], name: &str) -> Option<&'a str> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let a = a.as_str();
        if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            return Some(v);
        }
        if a == name {
            return it.next().map(String::as_str);
        }
    }
    None
}

fn proxy_args(argv: &[String]) -> ProxyArgs {
    let port = |n: &str| flag(argv, n).and_then(|v| v.parse().ok());
    ProxyArgs {
        proto: flag(argv, "-proto").map(str::to_string),
        host_ip: flag(argv, "-host-ip").map(str::to_string),
        host_port: port("-host-port"),
        container_ip: flag(argv, "-container-ip").map(str::to_string),
        container_port: port("-container-port"),
    }
}

/// dockerd's `-H`/`--host unix://PATH` (the first unix one).
fn daemon_socket(argv: &[String]) -> Option<PathBuf> {
    let mut out = None;
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let value = if a == "-H" || a == "--host" {
            it.next().map(String::as_str)
        } else {
            a.strip_prefix("--host=").or_else(|| a.strip_prefix("-H="))
        };
        if let Some(p) = value.and_then(|v| v.strip_prefix("unix://")) {
            out = Some(PathBuf::from(p));
            break;
        }
    }
    out
}

/// pm2 titles its daemon `PM2 v5.3.0: God Daemon (/root/.pm2)`; comm is its first 15 bytes.
fn is_pm2_daemon(a: &Ancestor) -> bool {
    let title = a.argv.first().map(String::as_str).unwrap_or_default();
    (title.starts_with("PM2 ") && title.contains("God Daemon"))
        || (a.comm.starts_with("PM2 v") && a.comm.contains("God"))
}

fn pm2_home(argv: &[String]) -> Option<String> {
    let title = argv.first()?;
    let start = title.find("God Daemon (")? + "God Daemon (".len();
    let rest = title.get(start..)?;
    let end = rest.rfind(')')?;
    rest.get(..end)
        .filter(|h| !h.is_empty())
        .map(str::to_string)
}

#[derive(Debug, PartialEq, Eq)]
enum CgroupOwner {
    Pod {
        uid: String,
        container: Option<String>,
    },
    Engine {
        engine: &'static str,
        id: String,
    },
}

fn container_of(cgroup: &str) -> Option<CgroupOwner> {
    for line in cgroup.lines() {
        let Some(path) = line.splitn(3, ':').nth(2) else {
            continue;
        };
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let leaf = segs.last().map(|s| container_id(s));
        if path.contains("kubepods") {
            // cgroupfs: /kubepods/besteffort/pod<uid>/<id>;
            // systemd: …/kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<id>.scope
            let Some(uid) = segs.iter().find_map(|s| pod_uid(s)) else {
                continue;
            };
            let container = leaf.filter(|l| is_container_id(l));
            return Some(CgroupOwner::Pod { uid, container });
        }
        let engine = if path.contains("libpod") {
            "podman"
        } else if path.contains("docker") {
            "docker"
        } else if path.contains("containerd") {
            "containerd"
        } else {
            continue;
        };
        // The engine's own service (docker.service, containerd.service) is no container.
        let Some(id) = leaf.filter(|l| is_container_id(l)) else {
            continue;
        };
        return Some(CgroupOwner::Engine { engine, id });
    }
    None
}

/// Engines name containers by 64 hex digits; cgroup paths may show a prefix.
fn is_container_id(s: &str) -> bool {
    (12..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn container_id(seg: &str) -> String {
    let s = seg.strip_suffix(".scope").unwrap_or(seg);
    ["docker-", "libpod-", "cri-containerd-", "crio-"]
        .iter()
        .find_map(|p| s.strip_prefix(p))
        .unwrap_or(s)
        .to_string()
}

fn pod_uid(seg: &str) -> Option<String> {
    let s = seg.strip_suffix(".slice").unwrap_or(seg);
    let at = s.rfind("pod")?;
    let uid = s.get(at + 3..)?;
    // A pod uid is a UUID: 32 hex digits and 4 dashes (underscores under systemd).
    let uid = uid.replace('_', "-");
    (uid.len() == 36 && uid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    const UID: &str = "0f3c5e2a-1b2c-4d5e-8f90-123456789abc";

    fn proxy_facts() -> OwnerFacts {
        OwnerFacts {
            comm: "docker-proxy".into(),
            exe_name: Some("docker-proxy".into()),
            argv: args(&[
                "/usr/sbin/docker-proxy",
                "-proto",
                "tcp",
                "-host-ip",
                "127.0.0.1",
                "-host-port",
                "18555",
                "-container-ip",
                "172.17.0.2",
                "-container-port",
                "8080",
            ]),
            cgroup: "0::/system.slice/docker.service\n".into(),
            ancestors: vec![Ancestor {
                pid: 50,
                comm: "dockerd".into(),
                argv: args(&["dockerd", "--host", "unix:///run/t/docker.sock"]),
            }],
            ..OwnerFacts::default()
        }
    }

    fn container(labels: &[(&str, &str)]) -> ContainerInfo {
        ContainerInfo {
            id: "7420b4d064215b63e1ec956e7e1ef34b0f632b48b78f1e06e036d673052564eb".into(),
            name: "web".into(),
            image: "busybox".into(),
            running: true,
            restart_policy: Some("always".into()),
            published: vec![18555],
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn resolved(owner: Owner, c: ContainerInfo) -> Owner {
        match owner {
            Owner::Docker {
                cgroup_id,
                proxy,
                daemon_socket,
                ..
            } => Owner::Docker {
                cgroup_id,
                proxy,
                daemon_socket,
                container: Some(Box::new(c)),
                engine: Some("/run/t/docker.sock".into()),
                lookup_error: None,
            },
            o => o,
        }
    }

    #[test]
    fn docker_proxy_is_owned_by_docker_and_knows_its_daemon() {
        let o = classify(&proxy_facts()).unwrap();
        let Owner::Docker {
            proxy: Some(p),
            daemon_socket,
            cgroup_id: None,
            ..
        } = &o
        else {
            panic!("{o:?}")
        };
        assert_eq!(p.host_port, Some(18555));
        assert_eq!(p.container_ip.as_deref(), Some("172.17.0.2"));
        assert_eq!(
            daemon_socket.as_deref(),
            Some(std::path::Path::new("/run/t/docker.sock"))
        );
        // By exe alone too: comm can be renamed, the binary cannot.
        let mut f = proxy_facts();
        f.comm = "x".into();
        assert!(matches!(classify(&f), Some(Owner::Docker { .. })));
        // A namesake that dockerd did not start is nobody's proxy.
        f.ancestors[0].comm = "bash".into();
        assert_eq!(classify(&f), None);
    }

    #[test]
    fn a_named_container_is_stopped_through_the_engine() {
        let o = resolved(classify(&proxy_facts()).unwrap(), container(&[]));
        assert_eq!(
            verdict(&o, 18555),
            OwnerVerdict::StopContainer {
                id: container(&[]).id,
                name: "web".into(),
                socket: "/run/t/docker.sock".into()
            }
        );
    }

    #[test]
    fn an_unnamed_container_is_refused_with_the_docker_command() {
        let mut o = classify(&proxy_facts()).unwrap();
        if let Owner::Docker { lookup_error, .. } = &mut o {
            *lookup_error = Some("connection refused".into());
        }
        let OwnerVerdict::Refuse { why, next } = verdict(&o, 18555) else {
            panic!()
        };
        assert!(why.contains("docker-proxy"), "{why}");
        assert!(why.contains("connection refused"), "{why}");
        assert!(
            next.starts_with("docker ps --filter publish=18555"),
            "{next}"
        );
    }

    #[test]
    fn kubernetes_and_swarm_containers_are_refused() {
        let k = container(&[
            ("io.kubernetes.pod.name", "hal9-server-abc"),
            ("io.kubernetes.pod.namespace", "hal9"),
            ("io.kubernetes.pod.uid", UID),
        ]);
        let o = resolved(classify(&proxy_facts()).unwrap(), k);
        let OwnerVerdict::Refuse { why, next } = verdict(&o, 18555) else {
            panic!()
        };
        assert!(why.contains("hal9/hal9-server-abc"), "{why}");
        assert!(next.contains(UID), "{next}");
        let s = container(&[("com.docker.swarm.service.name", "web")]);
        let o = resolved(classify(&proxy_facts()).unwrap(), s);
        assert!(matches!(
            verdict(&o, 1),
            OwnerVerdict::Refuse { next, .. } if next == "docker service scale web=0"
        ));
    }

    #[test]
    fn a_process_inside_a_docker_container_is_owned_unless_we_share_it() {
        let theirs = "12:pids:/docker/0123456789abcdef0123456789abcdef\n";
        let f = OwnerFacts {
            comm: "python3".into(),
            cgroup: theirs.into(),
            own_cgroup: "12:pids:/\n".into(),
            ..OwnerFacts::default()
        };
        let o = classify(&f).unwrap();
        assert!(
            matches!(&o, Owner::Docker { cgroup_id: Some(id), .. } if id == "0123456789abcdef0123456789abcdef")
        );
        let OwnerVerdict::Refuse { next, .. } = verdict(&o, 80) else {
            panic!()
        };
        assert_eq!(next, "docker stop 0123456789ab");
        let shared = OwnerFacts {
            own_cgroup: theirs.into(),
            ..f
        };
        assert_eq!(classify(&shared), None);
        // The engines' own services are not containers.
        for svc in [
            "docker.service",
            "containerd.service",
            "docker",
            "docker-x.scope",
        ] {
            let f = OwnerFacts {
                cgroup: format!("0::/system.slice/{svc}\n"),
                ..OwnerFacts::default()
            };
            assert_eq!(classify(&f), None, "{svc}");
        }
        let systemd = OwnerFacts {
            cgroup: "0::/system.slice/docker-0123456789abcdef.scope\n".into(),
            ..OwnerFacts::default()
        };
        assert!(
            matches!(classify(&systemd), Some(Owner::Docker { cgroup_id: Some(id), .. }) if id == "0123456789abcdef")
        );
    }

    #[test]
    fn kubepods_cgroups_name_the_pod_in_both_drivers() {
        let cgroupfs = format!("4:pids:/kubepods/besteffort/pod{UID}/abcdef0123456789\n");
        let f = OwnerFacts {
            cgroup: cgroupfs,
            ..OwnerFacts::default()
        };
        assert_eq!(
            classify(&f),
            Some(Owner::Pod {
                pod_uid: UID.into(),
                container_id: Some("abcdef0123456789".into())
            })
        );
        let systemd = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-abcdef012345.scope\n",
            UID.replace('-', "_")
        );
        let o = classify(&OwnerFacts {
            cgroup: systemd,
            ..OwnerFacts::default()
        })
        .unwrap();
        assert_eq!(
            o,
            Owner::Pod {
                pod_uid: UID.into(),
                container_id: Some("abcdef012345".into())
            }
        );
        let OwnerVerdict::Refuse { why, next } = verdict(&o, 8080) else {
            panic!()
        };
        assert!(why.contains(UID) && why.contains("abcdef012345"), "{why}");
        assert!(next.starts_with("kubectl get pods -A"), "{next}");
        assert!(
            next.contains(&format!("@.metadata.uid==\"{UID}\"")),
            "{next}"
        );
        // The pod's own cgroup, with no container below it yet.
        let o = classify(&OwnerFacts {
            cgroup: format!("4:pids:/kubepods/pod{UID}\n"),
            ..OwnerFacts::default()
        });
        assert!(matches!(
            o,
            Some(Owner::Pod {
                container_id: None,
                ..
            })
        ));
    }

    #[test]
    fn podman_and_containerd_name_their_own_commands() {
        let o = classify(&OwnerFacts {
            cgroup: "0::/machine.slice/libpod-0123456789abcdef.scope\n".into(),
            ..OwnerFacts::default()
        })
        .unwrap();
        assert!(
            matches!(verdict(&o, 1), OwnerVerdict::Refuse { next, .. } if next == "podman stop 0123456789ab")
        );
    }

    fn pm2_facts() -> OwnerFacts {
        OwnerFacts {
            comm: "node".into(),
            cgroup: "0::/user.slice\n".into(),
            ancestors: vec![
                Ancestor {
                    pid: 300,
                    comm: "PM2 v5.3.0: God".into(),
                    argv: args(&["PM2 v5.3.0: God Daemon (/home/app/.pm2)"]),
                },
                Ancestor {
                    pid: 1,
                    comm: "init".into(),
                    argv: args(&["/sbin/init"]),
                },
            ],
            environ: [("name", "web"), ("pm_id", "3")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..OwnerFacts::default()
        }
    }

    #[test]
    fn a_pm2_app_is_refused_with_pm2_stop() {
        let o = classify(&pm2_facts()).unwrap();
        assert_eq!(
            o,
            Owner::Pm2 {
                daemon_pid: 300,
                home: Some("/home/app/.pm2".into()),
                app: Some("web".into()),
                pm_id: Some("3".into())
            }
        );
        let OwnerVerdict::Refuse { why, next } = verdict(&o, 3000) else {
            panic!()
        };
        assert!(why.contains("pm2 app web") && why.contains("300"), "{why}");
        assert_eq!(next, "PM2_HOME=/home/app/.pm2 pm2 stop web");
        // Without its environment: the id, then nothing but pm2 list.
        let mut f = pm2_facts();
        f.environ.remove("name");
        assert!(
            matches!(verdict(&classify(&f).unwrap(), 1), OwnerVerdict::Refuse { next, .. } if next.ends_with("pm2 stop 3"))
        );
        f.environ.clear();
        assert!(
            matches!(verdict(&classify(&f).unwrap(), 1), OwnerVerdict::Refuse { next, .. } if next.contains("pm2 list"))
        );
        // Known by comm alone (argv rewritten), and a plain parent is no owner.
        f.ancestors[0].argv = args(&["x"]);
        assert!(matches!(classify(&f), Some(Owner::Pm2 { home: None, .. })));
        f.ancestors[0].comm = "node".into();
        assert_eq!(classify(&f), None);
    }

    #[test]
    fn names_from_the_holder_are_quoted_in_suggested_commands() {
        let mut f = pm2_facts();
        f.environ.insert("name".into(), "web; rm -rf ~".into());
        f.ancestors[0].argv = args(&["PM2 v5: God Daemon (/tmp/a b/$(id))"]);
        let OwnerVerdict::Refuse { next, .. } = verdict(&classify(&f).unwrap(), 1) else {
            panic!()
        };
        assert_eq!(next, "PM2_HOME='/tmp/a b/$(id)' pm2 stop 'web; rm -rf ~'");
        let k = container(&[
            ("io.kubernetes.pod.name", "p`reboot`"),
            ("io.kubernetes.pod.namespace", "ns"),
        ]);
        let o = resolved(classify(&proxy_facts()).unwrap(), k);
        assert!(matches!(
            verdict(&o, 1),
            OwnerVerdict::Refuse { next, .. } if next == "kubectl -n ns get pod 'p`reboot`' -o wide"
        ));
    }

    #[test]
    fn hostile_strings_do_not_panic() {
        for s in [
            "",
            ":",
            "::",
            "0::/kubepods/pod",
            "0::/kubepods/podzz",
            "x:y:/docker/",
            "0::/docker",
        ] {
            let _ = classify(&OwnerFacts {
                cgroup: s.into(),
                ..OwnerFacts::default()
            });
        }
        assert_eq!(pm2_home(&args(&["PM2 v1: God Daemon ("])), None);
        assert_eq!(pm2_home(&args(&["PM2 v1: God Daemon ()"])), None);
        assert_eq!(daemon_socket(&args(&["dockerd", "-H"])), None);
        assert_eq!(
            proxy_args(&args(&["docker-proxy", "-host-port", "x"])).host_port,
            None
        );
        assert_eq!(
            daemon_socket(&args(&["dockerd", "--host=unix:///a.sock"])),
            Some(PathBuf::from("/a.sock"))
        );
    }

    #[test]
    fn a_holder_in_a_systemd_service_is_stopped_through_systemctl() {
        let f = OwnerFacts {
            comm: "hal9ctl".into(),
            cgroup: "0::/system.slice/hal9.service\n".into(),
            own_cgroup: "0::/user.slice/user-0.slice/session-1.scope\n".into(),
            ..OwnerFacts::default()
        };
        let owner = classify(&f).expect("a unit owns it");
        assert_eq!(owner.describe(), "systemd: hal9.service");
        match verdict(&owner, 8080) {
            OwnerVerdict::Refuse { why, next } => {
                assert_eq!(next, "systemctl stop hal9.service");
                assert!(why.contains("Restart="), "{why}");
            }
            v => panic!("{v:?}"),
        }
        let with = |manager| Owner::Systemd {
            unit: crate::system::systemd::Unit {
                name: "hal9.service".into(),
                user: None,
            },
            manager,
        };
        use crate::system::systemctl::{Manager, UnitProps};
        assert!(matches!(
            verdict(&with(Manager::Reachable { state: UnitProps::default() }), 8080),
            OwnerVerdict::StopUnit { unit } if unit.name == "hal9.service"
        ));
        match verdict(
            &with(Manager::Unreachable {
                why: "Host is down".into(),
            }),
            8080,
        ) {
            OwnerVerdict::Refuse { why, next } => {
                assert_eq!(next, "systemctl stop hal9.service");
                assert!(
                    why.contains("systemctl cannot reach systemd (Host is down)"),
                    "{why}"
                );
            }
            v => panic!("{v:?}"),
        }
        // hal9ctl in the same unit as the holder: stopping it would stop us.
        let same = OwnerFacts {
            own_cgroup: f.cgroup.clone(),
            ..f
        };
        assert_eq!(classify(&same), None);
    }
}
