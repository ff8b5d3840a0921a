//! `kubectl hal9 …`: the binary installed or linked as `kubectl-hal9` (krew's
//! naming) acts on the cluster, so `kubectl hal9 health` is
//! `hal9ctl health --cluster`. kubectl hands the plugin the words after
//! `hal9` unchanged, so its `--context` and `-n` reach ClusterArgs as they are.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// The name kubectl execs for `kubectl hal9`.
pub const PLUGIN_NAME: &str = "kubectl-hal9";

/// Whether argv[0] names the plugin (a link, a copy, or kubectl's exec).
pub fn invoked_as_plugin(argv0: &OsStr) -> bool {
    Path::new(argv0).file_name() == Some(OsStr::new(PLUGIN_NAME))
}

/// Subcommands with a `--cluster` mode, and how many words name them.
fn cluster_command(args: &[OsString]) -> Option<usize> {
    let first = args.first()?.to_str()?;
    match first {
        "health" | "scale" | "restart" => Some(1),
        "rollback" if args.get(1).and_then(|a| a.to_str()) == Some("status") => Some(2),
        "rollback" => Some(1),
        _ => None,
    }
}

/// hal9ctl's argv for a plugin invocation: `--cluster` after the subcommand
/// (unless already given); other commands (runbook, config, --help) pass as
/// they are, under the name operators typed.
pub fn rewrite(argv: Vec<OsString>) -> Vec<OsString> {
    let mut it = argv.into_iter();
    let _argv0 = it.next();
    let rest: Vec<OsString> = it.collect();
    let mut out = vec![OsString::from("kubectl hal9")];
    match cluster_command(&rest) {
        Some(n) if !rest.iter().any(|a| a == "--cluster") => {
            out.extend(rest[..n].iter().cloned());
            out.push(OsString::from("--cluster"));
            out.extend(rest[n..].iter().cloned());
        }
        _ => out.extend(rest),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn only_the_plugin_name_turns_the_plugin_on() {
        assert!(invoked_as_plugin(OsStr::new("/usr/local/bin/kubectl-hal9")));
        assert!(invoked_as_plugin(OsStr::new("kubectl-hal9")));
        assert!(!invoked_as_plugin(OsStr::new("/usr/bin/hal9ctl")));
        assert!(!invoked_as_plugin(OsStr::new("kubectl-hal9-old")));
    }

    #[test]
    fn cluster_commands_get_cluster_and_keep_kubectls_flags() {
        assert_eq!(
            rewrite(words(&[
                "kubectl-hal9",
                "health",
                "--context",
                "kind",
                "-n",
                "prod"
            ])),
            words(&[
                "kubectl hal9",
                "health",
                "--cluster",
                "--context",
                "kind",
                "-n",
                "prod"
            ])
        );
        assert_eq!(
            rewrite(words(&["kubectl-hal9", "rollback", "status", "-n", "x"])),
            words(&["kubectl hal9", "rollback", "status", "--cluster", "-n", "x"])
        );
        assert_eq!(
            rewrite(words(&[
                "kubectl-hal9",
                "scale",
                "--cluster",
                "--emergency"
            ])),
            words(&["kubectl hal9", "scale", "--cluster", "--emergency"])
        );
    }

    #[test]
    fn other_commands_and_no_command_pass_through() {
        assert_eq!(
            rewrite(words(&["kubectl-hal9", "runbook", "port-conflict"])),
            words(&["kubectl hal9", "runbook", "port-conflict"])
        );
        assert_eq!(rewrite(words(&["kubectl-hal9"])), words(&["kubectl hal9"]));
    }
}
