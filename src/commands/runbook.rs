//! `hal9ctl runbook [NAME]`: the runbooks embedded in the binary.

use serde::Serialize;

use crate::exit::Failure;
use crate::output::{Report, Styles, table, to_value};

include!(concat!(env!("OUT_DIR"), "/runbooks.rs"));

/// The title of a runbook: its first `# ` heading.
pub fn title(markdown: &str) -> &str {
    markdown
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(str::trim)
        .unwrap_or("")
}

/// Every `hal9ctl …` command line in the fenced code blocks of a runbook,
/// so a test can check each against the real parser.
pub fn commands(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let t = t.strip_prefix("$ ").unwrap_or(t);
        if t.starts_with("hal9ctl ") || t == "hal9ctl" {
            // Drop a trailing shell comment; runbooks annotate commands that way.
            let cmd = match t.find(" #") {
                Some(i) => &t[..i],
                None => t,
            };
            out.push(cmd.trim().to_string());
        }
    }
    out
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RunbookReport {
    List {
        runbooks: Vec<RunbookEntry>,
    },
    One {
        name: String,
        title: String,
        markdown: String,
    },
}

#[derive(Debug, Serialize)]
pub struct RunbookEntry {
    pub name: String,
    pub title: String,
}

/// `name`: the runbook to print (a trailing `.md` is allowed); `None` lists them.
pub fn run(name: Option<&str>) -> Result<RunbookReport, Failure> {
    match name {
        None => Ok(RunbookReport::List {
            runbooks: RUNBOOKS
                .iter()
                .map(|(n, md)| RunbookEntry {
                    name: n.to_string(),
                    title: title(md).to_string(),
                })
                .collect(),
        }),
        Some(name) => {
            let wanted = name.trim_end_matches(".md");
            match RUNBOOKS.iter().find(|(n, _)| *n == wanted) {
                Some((n, md)) => Ok(RunbookReport::One {
                    name: n.to_string(),
                    title: title(md).to_string(),
                    markdown: md.to_string(),
                }),
                None => {
                    let names: Vec<&str> = RUNBOOKS.iter().map(|(n, _)| *n).collect();
                    Err(Failure::usage(format!(
                        "no runbook named {name:?}; there are: {}",
                        names.join(", ")
                    ))
                    .with_next("hal9ctl runbook"))
                }
            }
        }
    }
}

impl Report for RunbookReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        match self {
            RunbookReport::List { runbooks } => {
                let mut t = table(&["runbook", "title"]);
                for r in runbooks {
                    t.add_row(vec![st.bold(&r.name), r.title.clone()]);
                }
                format!("{t}\n\nprint one with: hal9ctl runbook NAME\n")
            }
            RunbookReport::One { markdown, .. } => markdown.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_only_commands_in_code_blocks() {
        let md = "# Disk full\n\nRun hal9ctl health first.\n\n```sh\n$ hal9ctl health\nhal9ctl disk usage   # what is using space\ndf -h\n```\n";
        assert_eq!(title(md), "Disk full");
        assert_eq!(commands(md), vec!["hal9ctl health", "hal9ctl disk usage"]);
    }

    #[test]
    fn a_name_is_found_with_or_without_md_and_an_unknown_one_is_a_usage_error() {
        let Some((name, _)) = RUNBOOKS.first() else {
            panic!("no runbooks embedded")
        };
        for given in [name.to_string(), format!("{name}.md")] {
            match run(Some(&given)).unwrap() {
                RunbookReport::One { name: n, .. } => assert_eq!(n, *name),
                other => panic!("{other:?}"),
            }
        }
        let f = run(Some("no-such-runbook")).unwrap_err();
        assert_eq!(f.exit, crate::exit::Exit::Usage);
        assert!(
            f.message
                .starts_with("no runbook named \"no-such-runbook\"; there are: "),
            "{}",
            f.message
        );
        assert_eq!(f.next.as_deref(), Some("hal9ctl runbook"));
        assert!(matches!(run(None).unwrap(), RunbookReport::List { .. }));
    }
}
