use serde::Serialize;

use super::journal::{Journal, StepStatus};
use crate::exit::Exit;
use crate::output::{Mark, Report, Styles, table, to_value};
use crate::runtime::migration::MigrationDoc;

#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub summary: String,
    pub status: Exit,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal: Option<Journal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn flags_on(doc: &MigrationDoc) -> String {
    let on: Vec<&str> = doc
        .flags
        .iter()
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.as_str())
        .collect();
    if on.is_empty() {
        "none".into()
    } else {
        on.join(", ")
    }
}

impl Report for RollbackReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = String::new();
        if let Some(m) = &self.migration {
            out.push_str(&format!(
                "migration: phase {} · {:.2} % hierarchical · state layout {} · version {}\nflags on: {}\n",
                m.phase,
                m.hierarchical_percent,
                if m.state_schema == 2 { "hierarchical" } else { "flat" },
                m.version,
                flags_on(m)
            ));
        }
        if let Some(j) = &self.journal {
            out.push_str(&format!(
                "{} {} ({:?}, {} of {} steps applied, {:?}) started {} by {}\n",
                j.direction.command(),
                j.id,
                j.strategy,
                j.applied(),
                j.steps.len(),
                j.status,
                j.started_at,
                j.started_by
            ));
            if let Some(r) = &j.reason {
                out.push_str(&format!("reason: {r}\n"));
            }
            let mut t = table(&["step", "", "phase", "share", "gates"]);
            for s in &j.steps {
                let mark = match s.status {
                    StepStatus::Applied => Mark::Ok,
                    StepStatus::Applying => Mark::Warn,
                    StepStatus::Pending => Mark::Unknown,
                };
                let gates = match &s.gate {
                    None => String::new(),
                    Some(g) if g.passed && g.synthetic_probes > 0 => {
                        st.good(&format!("passed ({} synthetic probes)", g.synthetic_probes))
                    }
                    Some(g) if g.passed => match &g.pods {
                        Some(c) => st.good(&format!(
                            "passed; {} of {} pods confirmed",
                            c.confirmed.len(),
                            c.total
                        )),
                        None => st.good("passed"),
                    },
                    // Neither passed nor failed: nothing was judged.
                    Some(g) if g.inconclusive => st.warn(&g.detail.join("; ")),
                    Some(g) => st.bad(&g.detail.join("; ")),
                };
                t.add_row(vec![
                    format!("{}", s.index + 1),
                    st.mark(mark),
                    s.target.phase.to_string(),
                    format!("{:.2} %", s.target.hierarchical_percent),
                    gates,
                ]);
            }
            out.push_str(&format!("{t}\n"));
        }
        let mark = Mark::for_exit(self.status);
        out.push_str(&format!("{} {}\n", st.mark(mark), self.summary));
        if let Some(n) = &self.next {
            out.push_str(&format!("next: {n}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.status
    }
}
