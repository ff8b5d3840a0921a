//! Which systemd unit owns a process, from /proc/PID/cgroup. systemd puts
//! every service in a cgroup named after it (v2 unified `0::/…`, or v1's
//! `name=systemd` hierarchy), so the path names the unit without asking
//! systemd, which may not be running (it is not PID 1 in containers).

use serde::Serialize;

/// A service unit, and whether the system or a user's manager runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub name: String,
    /// `Some(uid)` for a unit of `user@UID.service`: `systemctl --user`.
    pub user: Option<u32>,
}

impl Unit {
    /// The systemctl command line for `verb` on this unit.
    pub fn systemctl(&self, verb: &str) -> Vec<String> {
        let mut argv = vec!["systemctl".to_string()];
        if let Some(uid) = self.user {
            argv.push(format!("--machine={uid}@"));
            argv.push("--user".to_string());
        }
        argv.push(verb.to_string());
        argv.push(self.name.clone());
        argv
    }
}

/// The `(controllers, path)` of each line of /proc/PID/cgroup
/// (`ID:CONTROLLERS:PATH`); the unified (v2) hierarchy has no controllers.
/// A malformed line ends the list: what follows it cannot be trusted either.
pub fn hierarchies(cgroup: &str) -> impl Iterator<Item = (&str, &str)> {
    cgroup.lines().map_while(|line| {
        let mut parts = line.splitn(3, ':');
        let (_id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        Some((controllers, path))
    })
}

/// The cgroup path systemd manages, from the contents of /proc/PID/cgroup.
fn systemd_path(cgroup: &str) -> Option<&str> {
    let mut unified = None;
    for (controllers, path) in hierarchies(cgroup) {
        match controllers {
            // v1 (and hybrid): systemd's own named hierarchy wins.
            "name=systemd" => return Some(path),
            "" => unified = Some(path),
            _ => {}
        }
    }
    unified
}

/// The service unit owning a process whose /proc/PID/cgroup reads `cgroup`.
/// Scopes (login sessions, `systemd-run --scope`) and slices are not
/// services: nothing restarts what is in them, so they are not owners.
pub fn unit_of_cgroup(cgroup: &str) -> Option<Unit> {
    let path = systemd_path(cgroup)?;
    let mut user = None;
    let mut service = None;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if let Some(uid) = seg
            .strip_prefix("user@")
            .and_then(|s| s.strip_suffix(".service"))
            .and_then(|s| s.parse().ok())
        {
            // Inside a user manager: the next service is the user's unit.
            user = Some(uid);
            service = None;
            continue;
        }
        if seg.ends_with(".service") {
            // A service's own sub-cgroups (delegation) still belong to it.
            service.get_or_insert(seg);
        }
    }
    // Containers and pods run under their engine's service or scope; those
    // are docker/kubelet owners (owner.rs), not this unit.
    if path.contains("/docker/") || path.contains("kubepods") || path.contains("/libpod-") {
        return None;
    }
    Some(Unit {
        name: service?.to_string(),
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, user: Option<u32>) -> Option<Unit> {
        Some(Unit {
            name: name.into(),
            user,
        })
    }

    #[test]
    fn a_system_service_on_the_unified_hierarchy() {
        assert_eq!(
            unit_of_cgroup("0::/system.slice/hal9.service\n"),
            unit("hal9.service", None)
        );
    }

    #[test]
    fn v1_reads_the_name_systemd_hierarchy_not_the_controllers() {
        let v1 = "12:pids:/system.slice/other.service\n\
                  4:memory:/system.slice/other.service\n\
                  1:name=systemd:/system.slice/hal9.service\n\
                  0::/\n";
        assert_eq!(unit_of_cgroup(v1), unit("hal9.service", None));
    }

    #[test]
    fn a_user_service_names_its_user_manager() {
        let v2 = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/hal9.service\n";
        assert_eq!(unit_of_cgroup(v2), unit("hal9.service", Some(1000)));
        assert_eq!(
            unit("hal9.service", Some(1000)).unwrap().systemctl("stop"),
            [
                "systemctl",
                "--machine=1000@",
                "--user",
                "stop",
                "hal9.service"
            ]
        );
    }

    #[test]
    fn delegated_sub_cgroups_belong_to_their_service() {
        assert_eq!(
            unit_of_cgroup("0::/system.slice/hal9.service/worker\n"),
            unit("hal9.service", None)
        );
    }

    #[test]
    fn sessions_scopes_containers_and_no_systemd_are_no_unit() {
        for cg in [
            "0::/user.slice/user-1000.slice/session-3.scope\n",
            "0::/init.scope\n",
            "0::/\n",
            "0::/system.slice/docker-0123abcd.scope\n",
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-ab.scope\n",
            "0::/docker/0123456789abcdef\n",
            "",
            "garbage without colons",
            "12:cpu,cpuacct:/system.slice/hal9.service\n",
        ] {
            assert_eq!(unit_of_cgroup(cg), None, "{cg:?}");
        }
    }
}
