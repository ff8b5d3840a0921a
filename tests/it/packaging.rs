//! What the package ships besides the binary: man pages that match the parser.

use std::fs;
use std::process::Command;

use crate::common::{hal9ctl, repo_root, run, stdout, tempdir};

#[test]
fn checked_in_man_pages_match_the_parser() {
    let pages = hal9ctl::manpages::render_all().unwrap();
    let dir = repo_root().join("man");
    for page in &pages {
        let on_disk = fs::read(dir.join(&page.file_name)).unwrap_or_default();
        assert!(
            on_disk == page.roff,
            "man/{} is stale or missing; regenerate them with: scripts/gen-man.sh",
            page.file_name
        );
    }
    let mut expected: Vec<_> = pages.iter().map(|p| p.file_name.clone()).collect();
    let mut present: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".1"))
        .collect();
    expected.sort();
    present.sort();
    assert_eq!(
        present, expected,
        "man/ has pages the parser does not make; regenerate them with: scripts/gen-man.sh"
    );
}

/// Words only: man and --help wrap and hyphenate at different widths.
fn words(s: &str) -> String {
    s.replace("\u{2010}\n", "")
        .replace(['\u{2010}', '\u{2212}'], "-")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn render_man(path: &std::path::Path) -> String {
    let o = Command::new("man")
        .arg("-l")
        .arg(path)
        .env("MANWIDTH", "250")
        .env("MANPAGER", "cat")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("man(1) runs (scripts/test.sh installs man-db)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `hal9ctl help COMMAND` and `man hal9ctl-COMMAND` say the same thing: the
/// description, every option, and the examples after them.
#[test]
fn man_pages_say_what_help_says() {
    let d = tempdir();
    for page in hal9ctl::manpages::render_all().unwrap() {
        let stem = page.file_name.trim_end_matches(".1");
        let path: Vec<&str> = stem.split('-').skip(1).collect();
        // port-conflict is one subcommand with a dash in its name.
        let path = match path.as_slice() {
            ["emergency", "port", "conflict"] => vec!["emergency", "port-conflict"],
            _ => path,
        };
        let mut args = vec!["help"];
        args.extend(&path);
        let help = stdout(&run(hal9ctl(d.path()).args(&args)));
        let man = words(&render_man(&repo_root().join("man").join(&page.file_name)));
        let lines: Vec<&str> = help.lines().collect();
        let about = words(lines.first().copied().unwrap_or_default());
        assert!(
            man.contains(&about),
            "{stem}: man lacks the description {about:?}"
        );
        for flag in help
            .split_whitespace()
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches([',', '.', ')', ']']))
        {
            assert!(man.contains(flag), "{stem}: man lacks {flag}");
        }
        // The after-help text (exit codes, examples) is the first unindented
        // line after the options, and everything below it.
        let options = lines.iter().position(|l| *l == "Options:").unwrap_or(0);
        let tail_start = (options + 1..lines.len())
            .find(|&i| !lines[i].is_empty() && !lines[i].starts_with(' '))
            .unwrap_or(lines.len());
        let tail = words(&lines[tail_start..].join("\n"));
        assert!(
            man.contains(&tail),
            "{stem}: man lacks the text after the options:\n{tail}\n\nman:\n{man}"
        );
    }
}
