//! Runbooks are part of the product: every `hal9ctl …` line in them must parse
//! with the real clap parser, so no runbook drifts from the CLI.

use clap::Parser;
use hal9ctl::cli::args::Cli;
use hal9ctl::commands::runbook::{RUNBOOKS, commands};

use crate::common::*;

const SECTIONS: [&str; 5] = [
    "symptoms",
    "diagnosis",
    "action",
    "verification",
    "escalation",
];

#[test]
fn every_runbook_file_is_embedded() {
    let mut on_disk: Vec<String> = std::fs::read_dir(repo_root().join("runbooks"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md"))
        .map(|n| n.trim_end_matches(".md").to_string())
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = RUNBOOKS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, embedded);
}

#[test]
fn every_runbook_command_parses_and_every_section_is_there() {
    for (name, md) in RUNBOOKS {
        let lower = md.to_lowercase();
        for s in SECTIONS {
            assert!(
                lower.contains(&format!("## {s}")),
                "runbooks/{name}.md lacks a '## {s}' section"
            );
        }
        let cmds = commands(md);
        assert!(
            !cmds.is_empty(),
            "runbooks/{name}.md has no hal9ctl command"
        );
        for cmd in cmds {
            let argv = shlex::split(&cmd)
                .unwrap_or_else(|| panic!("runbooks/{name}.md: cannot split {cmd:?}"));
            if let Err(e) = Cli::try_parse_from(&argv) {
                panic!("runbooks/{name}.md: `{cmd}` does not parse:\n{e}");
            }
        }
    }
}

#[test]
fn runbook_command_lists_prints_and_refuses_unknown_names() {
    let d = tempdir();
    let o = run(hal9ctl(d.path()).args(["runbook", "-o", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = json(&o)["runbooks"].as_array().unwrap().len();
    assert_eq!(listed, RUNBOOKS.len());
    if let Some((name, md)) = RUNBOOKS.first() {
        let o = run(hal9ctl(d.path()).args(["runbook", name]));
        assert_eq!(stdout(&o).trim_end(), md.trim_end());
    }
    let o = run(hal9ctl(d.path()).args(["runbook", "no-such-runbook"]));
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("no runbook named"));
}
