//! Who hal9ctl may never signal (ARCHITECTURE §5). Pure: no flag reaches here.

use serde::Serialize;

use super::process::ForeignProc;

/// Infrastructure whose loss takes the machine (or the way in) with it.
pub const PROTECTED_NAMES: &[&str] = &[
    "sshd",
    "systemd",
    "kubelet",
    "containerd",
    "dockerd",
    "etcd",
];

/// The process a signal would go to, reduced to what the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalTarget<'a> {
    pub pid: i32,
    pub uid: u32,
    pub comm: &'a str,
    /// Basename of the executable, when readable.
    pub exe_name: Option<&'a str>,
    pub kernel_thread: bool,
}

/// Who is asking: hal9ctl's own pid, its ancestors and its uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub pid: i32,
    pub ancestors: Vec<i32>,
    pub uid: u32,
    /// Set when the `/proc` we read belongs to another pid namespace.
    pub foreign_proc: Option<ForeignProc>,
}

impl Caller {
    pub fn current() -> Caller {
        Caller {
            pid: std::process::id() as i32,
            ancestors: super::process::ancestors_of_self(),
            uid: nix::unistd::geteuid().as_raw(),
            foreign_proc: super::process::foreign_proc(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum SignalRefusal {
    #[error("PID 1 is the init process; signalling it takes the whole system down")]
    Init,
    #[error("it is hal9ctl itself")]
    Itself,
    #[error("it is an ancestor of hal9ctl (the shell or program that started it)")]
    Ancestor,
    #[error("it is a kernel thread")]
    KernelThread,
    #[error("it belongs to uid {owner}, not to us (uid {caller}); only root may signal it")]
    OtherUser { owner: u32, caller: u32 },
    #[error("{view}")]
    ForeignPidNamespace { view: ForeignProc },
    #[error("{name} is protected infrastructure")]
    Protected { name: String },
}

/// Whether `caller` may signal `target`; the refusal names the rule.
pub fn check(target: &SignalTarget<'_>, caller: &Caller) -> Result<(), SignalRefusal> {
    // Checked first: every other rule compares pids, and these pids mean other processes.
    if let Some(view) = &caller.foreign_proc {
        return Err(SignalRefusal::ForeignPidNamespace { view: view.clone() });
    }
    if target.pid == 1 {
        return Err(SignalRefusal::Init);
    }
    if target.pid == caller.pid {
        return Err(SignalRefusal::Itself);
    }
    if caller.ancestors.contains(&target.pid) {
        return Err(SignalRefusal::Ancestor);
    }
    if target.kernel_thread {
        return Err(SignalRefusal::KernelThread);
    }
    if caller.uid != 0 && target.uid != caller.uid {
        return Err(SignalRefusal::OtherUser {
            owner: target.uid,
            caller: caller.uid,
        });
    }
    let protected = |n: &str| PROTECTED_NAMES.contains(&n);
    if let Some(name) = [Some(target.comm), target.exe_name]
        .into_iter()
        .flatten()
        .find(|n| protected(n))
    {
        return Err(SignalRefusal::Protected {
            name: name.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            pid: 500,
            ancestors: vec![400, 300, 1],
            uid: 1000,
            foreign_proc: None,
        }
    }

    fn target(pid: i32, uid: u32, comm: &str) -> SignalTarget<'_> {
        SignalTarget {
            pid,
            uid,
            comm,
            exe_name: None,
            kernel_thread: false,
        }
    }

    #[test]
    fn ordinary_process_of_ours_is_allowed() {
        assert_eq!(check(&target(700, 1000, "python3"), &caller()), Ok(()));
    }

    #[test]
    fn init_self_and_ancestors_are_refused() {
        let c = caller();
        assert_eq!(check(&target(1, 0, "init"), &c), Err(SignalRefusal::Init));
        assert_eq!(
            check(&target(500, 1000, "hal9ctl"), &c),
            Err(SignalRefusal::Itself)
        );
        assert_eq!(
            check(&target(400, 1000, "bash"), &c),
            Err(SignalRefusal::Ancestor)
        );
        assert!(
            SignalRefusal::Ancestor.to_string().contains("ancestor"),
            "the reason must be named"
        );
    }

    #[test]
    fn kernel_threads_are_refused_even_for_root() {
        let mut t = target(90, 0, "kworker/0:1");
        t.kernel_thread = true;
        let root = Caller { uid: 0, ..caller() };
        assert_eq!(check(&t, &root), Err(SignalRefusal::KernelThread));
    }

    #[test]
    fn other_users_only_as_root() {
        let c = caller();
        assert_eq!(
            check(&target(700, 33, "nginx"), &c),
            Err(SignalRefusal::OtherUser {
                owner: 33,
                caller: 1000
            })
        );
        let root = Caller { uid: 0, ..c };
        assert_eq!(check(&target(700, 33, "nginx"), &root), Ok(()));
    }

    #[test]
    fn a_proc_of_another_pid_namespace_refuses_every_target() {
        let c = Caller {
            foreign_proc: Some(ForeignProc {
                proc_self: Some(4242),
                pid: 1,
            }),
            ..caller()
        };
        let refused = check(&target(700, 1000, "python3"), &c).unwrap_err();
        assert!(matches!(refused, SignalRefusal::ForeignPidNamespace { .. }));
        assert!(
            refused.to_string().contains("another pid namespace"),
            "{refused}"
        );
    }

    #[test]
    fn protected_names_whatever_the_user() {
        let root = Caller { uid: 0, ..caller() };
        for name in PROTECTED_NAMES {
            assert_eq!(
                check(&target(800, 0, name), &root),
                Err(SignalRefusal::Protected {
                    name: name.to_string()
                })
            );
        }
        let mut t = target(800, 0, "etcd-main");
        t.exe_name = Some("etcd");
        assert!(matches!(
            check(&t, &root),
            Err(SignalRefusal::Protected { .. })
        ));
    }
}
