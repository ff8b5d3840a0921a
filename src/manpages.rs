//! Man pages from the parser: hal9ctl(1) and hal9ctl-COMMAND(1) for every
//! subcommand, so `man` and `--help` cannot drift apart.

use clap::CommandFactory;

use crate::cli::args::Cli;

/// One rendered page: its file name under `man/` and its roff source.
pub struct Page {
    pub file_name: String,
    pub roff: Vec<u8>,
}

/// Every page, parent before children, in the parser's order.
pub fn render_all() -> std::io::Result<Vec<Page>> {
    // clap's `help` subcommand is `--help` again, not a page. Built, every
    // subcommand carries its display name (hal9ctl-disk-usage) and the global
    // options it propagates, so a page lists what `hal9ctl help COMMAND` lists.
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut pages = Vec::new();
    render(root, &mut pages)?;
    Ok(pages)
}

fn render(cmd: clap::Command, pages: &mut Vec<Page>) -> std::io::Result<()> {
    let subs: Vec<_> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let man = clap_mangen::Man::new(cmd)
        .source(format!("hal9ctl {}", crate::VERSION))
        .manual("hal9ctl Manual");
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    pages.push(Page {
        file_name: man.get_filename(),
        roff,
    });
    for sub in subs {
        render(sub, pages)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_gets_a_page_named_after_its_path() {
        let pages = render_all().unwrap();
        let names: Vec<_> = pages.iter().map(|p| p.file_name.as_str()).collect();
        assert_eq!(names.first(), Some(&"hal9ctl.1"));
        assert!(names.contains(&"hal9ctl-health.1"), "{names:?}");
        assert!(
            names.contains(&"hal9ctl-emergency-port-conflict.1"),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }
}
