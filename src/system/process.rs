//! Facts about one process, read from procfs: identity, owner, command,
//! start time, and what would bring it back if it were stopped.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use procfs::process::Process;
use serde::Serialize;

use crate::runtime::state::StateDir;
use crate::system::owner::{self, Owner};

/// `PF_KTHREAD` in `/proc/PID/stat` flags.
const PF_KTHREAD: u32 = 0x0020_0000;
/// kthreadd: the parent of every kernel thread.
const KTHREADD: i32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    pub user: String,
    /// argv joined with spaces; `[comm]` when it has none (kernel threads, zombies).
    pub command: String,
    pub exe: Option<PathBuf>,
    pub comm: String,
    /// Clock ticks since boot: with the pid, it names this process and no later one.
    pub start_ticks: u64,
    /// RFC 3339, UTC.
    pub started_at: Option<String>,
    pub kernel_thread: bool,
    pub hal9_runtime: bool,
    pub supervisor: Option<Supervisor>,
    /// A container, pod or process manager that must be the one to stop it.
    pub owner: Option<Owner>,
}

/// Something that restarts the process when it exits, and how to stop that instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supervisor {
    pub name: String,
    pub stop: String,
}

/// Read everything about `pid`. `runtime_pids` are the pids the state dir
/// names as the HAL9 runtime.
pub fn inspect(pid: i32, runtime_pids: &[i32]) -> procfs::ProcResult<ProcInfo> {
    let p = Process::new(pid)?;
    let stat = p.stat()?;
    let uid = p.uid()?;
    let cmdline = p.cmdline().unwrap_or_default();
    let exe = p.exe().ok();
    let kernel_thread = stat.flags & PF_KTHREAD != 0 || stat.ppid == KTHREADD || pid == KTHREADD;
    let command = if cmdline.is_empty() {
        format!("[{}]", stat.comm)
    } else {
        cmdline.join(" ")
    };
    let hal9_runtime = runtime_pids.contains(&pid) || is_hal9_serve(exe.as_deref(), &cmdline);
    let (supervisor, owner) = if kernel_thread {
        (None, None)
    } else {
        let exe_name = exe
            .as_deref()
            .and_then(|e| e.file_name())
            .and_then(|n| n.to_str());
        (
            supervisor_of(&p, stat.ppid),
            owner::of(pid, &stat.comm, &cmdline, exe_name),
        )
    };
    Ok(ProcInfo {
        pid,
        ppid: stat.ppid,
        uid,
        user: user_name(uid),
        command,
        exe,
        comm: stat.comm,
        start_ticks: stat.starttime,
        started_at: started_at(stat.starttime),
        kernel_thread,
        hal9_runtime,
        supervisor,
        owner,
    })
}

/// The start time of `pid` in clock ticks since boot, or `None` once it is gone
/// or a zombie (a zombie holds no sockets and can take no signal).
pub fn start_ticks(pid: i32) -> Option<u64> {
    let stat = Process::new(pid).ok()?.stat().ok()?;
    (stat.state != 'Z' && stat.state != 'X').then_some(stat.starttime)
}

/// `/proc` mounted from another pid namespace: the pids it lists name other
/// processes than the same numbers do for `kill` here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignProc {
    /// The pid `/proc/self` names; `None` when there is no readable `/proc/self`.
    pub proc_self: Option<i32>,
    /// Our pid in our own pid namespace (`getpid()`).
    pub pid: i32,
}

impl std::fmt::Display for ForeignProc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.proc_self {
            Some(p) => write!(
                f,
                "/proc belongs to another pid namespace (it names this process pid {p}, but its pid is {}), so the pids read there would be signalled as other processes",
                self.pid
            ),
            None => write!(
                f,
                "/proc/self cannot be read, so it cannot be told whether /proc belongs to this pid namespace"
            ),
        }
    }
}

/// `Some` when `/proc` does not describe our own pid namespace.
pub fn foreign_proc() -> Option<ForeignProc> {
    let pid = nix::unistd::getpid().as_raw();
    let proc_self = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|l| l.to_str().and_then(|s| s.parse::<i32>().ok()));
    (proc_self != Some(pid)).then_some(ForeignProc { proc_self, pid })
}

/// This process's start time, read through `/proc/self` (right even where
/// `/proc/<getpid()>` would name someone else).
pub fn own_start_ticks() -> Option<u64> {
    Process::myself().ok()?.stat().ok().map(|s| s.starttime)
}

/// Whether `pid` is a live `hal9ctl serve`; its command line when it is not.
pub fn hal9_serve_or_command(pid: i32) -> Result<(), String> {
    let p = Process::new(pid).map_err(|_| "it has exited".to_string())?;
    let cmdline = p.cmdline().unwrap_or_default();
    if is_hal9_serve(p.exe().ok().as_deref(), &cmdline) {
        return Ok(());
    }
    let comm = p.stat().map(|s| s.comm).unwrap_or_default();
    Err(if cmdline.is_empty() {
        format!("[{comm}]")
    } else {
        cmdline.join(" ")
    })
}

/// The pids the state dir names as the runtime: `runtime.json` and the pid file.
pub fn runtime_pids(state: &StateDir) -> Vec<i32> {
    let mut pids = Vec::new();
    if let Ok(Some(info)) = state.read_runtime_info() {
        pids.push(info.pid as i32);
    }
    if let Ok(Some(pid)) = state.read_pid() {
        pids.push(pid as i32);
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// This process's parent, grandparent, … up to and including PID 1.
pub fn ancestors_of_self() -> Vec<i32> {
    let mut out = Vec::new();
    let mut pid = std::process::id() as i32;
    while let Ok(stat) = Process::new(pid).and_then(|p| p.stat()) {
        if stat.ppid <= 0 || out.contains(&stat.ppid) {
            break;
        }
        out.push(stat.ppid);
        pid = stat.ppid;
    }
    out
}

/// Every running `hal9ctl serve`, found by process name, whatever state dir it uses.
pub fn find_runtimes() -> Vec<i32> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = all
        .flatten()
        .filter(|p| p.stat().is_ok_and(|s| s.state != 'Z'))
        .filter(|p| is_hal9_serve(p.exe().ok().as_deref(), &p.cmdline().unwrap_or_default()))
        .map(|p| p.pid)
        .collect();
    pids.sort_unstable();
    pids
}

fn is_hal9_serve(exe: Option<&Path>, cmdline: &[String]) -> bool {
    let named_hal9ctl = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.trim_end_matches(" (deleted)") == "hal9ctl")
    };
    exe.is_some_and(named_hal9ctl) && cmdline.iter().skip(1).any(|a| a == "serve")
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => uid.to_string(),
    }
}

fn started_at(ticks: u64) -> Option<String> {
    let boot = procfs::boot_time_secs().ok()?;
    let tps = procfs::ticks_per_second().max(1);
    let t = SystemTime::UNIX_EPOCH
        + Duration::from_secs(boot)
        + Duration::from_millis(ticks.saturating_mul(1000) / tps);
    Some(humantime::format_rfc3339_seconds(t).to_string())
}

fn supervisor_of(p: &Process, ppid: i32) -> Option<Supervisor> {
    let cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", p.pid)).unwrap_or_default();
    let own_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let parent = (ppid > 0).then(|| Process::new(ppid).ok()).flatten();
    let parent_comm = parent
        .as_ref()
        .and_then(|pp| pp.stat().ok())
        .map(|s| s.comm)
        .unwrap_or_default();
    let parent_cwd = parent.as_ref().and_then(|pp| pp.cwd().ok());
    classify_supervisor(&parent_comm, parent_cwd.as_deref(), &cgroup, &own_cgroup)
}

/// Pure: decide from the parent's name and the cgroup files who respawns a process.
pub fn classify_supervisor(
    parent_comm: &str,
    parent_cwd: Option<&Path>,
    cgroup: &str,
    _own_cgroup: &str,
) -> Option<Supervisor> {
    match parent_comm {
        "systemd" => {
            // The cgroup, not the parent's pid, says whose manager runs it:
            // a systemd that is not pid 1 here may be a container's own.
            if let Some(unit) = super::systemd::unit_of_cgroup(cgroup) {
                let user = if unit.user.is_some() { "--user " } else { "" };
                return Some(Supervisor {
                    name: format!("systemd (unit {})", unit.name),
                    stop: format!("systemctl {user}stop {}", unit.name),
                });
            }
        }
        "supervisord" => {
            return Some(Supervisor {
                name: "supervisord".into(),
                stop: "supervisorctl status, then supervisorctl stop <program>".into(),
            });
        }
        "runsv" => {
            let dir = parent_cwd
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "<service dir>".into());
            return Some(Supervisor {
                name: format!("runit (runsv {dir})"),
                stop: format!("sv down {dir}"),
            });
        }
        _ => {}
    }
    // Containers, pods and pm2 are owners that must do the stopping, not
    // supervisors to warn about: see system::owner.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_service_is_a_supervisor() {
        let s = classify_supervisor(
            "systemd",
            None,
            "0::/system.slice/python-web.service\n",
            "0::/user.slice/session-3.scope\n",
        )
        .unwrap();
        assert_eq!(s.stop, "systemctl stop python-web.service");
    }

    #[test]
    fn user_systemd_uses_user_flag_and_session_scope_is_not_supervised() {
        let s = classify_supervisor(
            "systemd",
            None,
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/web.service\n",
            "",
        )
        .unwrap();
        assert_eq!(s.stop, "systemctl --user stop web.service");
        assert!(
            classify_supervisor(
                "systemd",
                None,
                "0::/user.slice/user-1000.slice/session-2.scope\n",
                ""
            )
            .is_none()
        );
    }

    #[test]
    fn a_systemd_inside_a_container_is_not_the_hosts_supervisor() {
        // The container's own systemd is a pid other than 1 here; its engine,
        // not `systemctl --user`, is what stops it (system::owner).
        assert_eq!(
            classify_supervisor(
                "systemd",
                None,
                "0::/docker/0123abcd/system.slice/web.service\n",
                ""
            ),
            None
        );
    }

    #[test]
    fn runit_and_supervisord() {
        let s = classify_supervisor("runsv", Some(Path::new("/etc/sv/web")), "0::/\n", "").unwrap();
        assert_eq!(s.stop, "sv down /etc/sv/web");
        let s = classify_supervisor("supervisord", None, "0::/\n", "").unwrap();
        assert!(s.stop.contains("supervisorctl stop"));
    }

    #[test]
    fn hal9_serve_is_recognised_by_exe_and_argv() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let exe = Path::new("/usr/local/bin/hal9ctl");
        assert!(is_hal9_serve(
            Some(exe),
            &args(&["hal9ctl", "serve", "--detach"])
        ));
        assert!(!is_hal9_serve(Some(exe), &args(&["hal9ctl", "health"])));
        assert!(!is_hal9_serve(
            Some(Path::new("/usr/bin/python3")),
            &args(&["python3", "serve"])
        ));
    }

    #[test]
    fn inspects_itself() {
        let me = inspect(std::process::id() as i32, &[]).unwrap();
        assert!(!me.kernel_thread);
        assert!(!me.hal9_runtime);
        assert_eq!(me.uid, nix::unistd::getuid().as_raw());
        assert!(me.started_at.is_some());
        assert_eq!(start_ticks(me.pid), Some(me.start_ticks));
        assert_eq!(
            ancestors_of_self().first(),
            Some(&(nix::unistd::getppid().as_raw()))
        );
    }
}
