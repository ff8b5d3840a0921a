//! What port-conflict found, planned and did, for the terminal and for JSON.

use serde::Serialize;

use super::plan::{PortConflictPlan, PortHolder, StopAction};
use crate::exit::Exit;
use crate::output::{Mark, Report, Styles, table, to_value};
use crate::system::owner::Owner;
use crate::system::process::Supervisor;
use crate::system::sockets::{BoundSocket, Proto};

/// One thing apply did, for the report and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortStep {
    pub pid: Option<i32>,
    pub step: String,
    pub ok: bool,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortOutcome {
    /// `--dry-run`: the plan only.
    Planned,
    Free,
    /// Free for a moment, then held again: something respawned a holder.
    Retaken,
    StillHeld,
    Refused,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestartResult {
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortConflictReport {
    pub port: u16,
    pub protocols: Vec<Proto>,
    pub dry_run: bool,
    pub sockets: Vec<BoundSocket>,
    pub holders: Vec<PortHolder>,
    pub plan: PortConflictPlan,
    pub done: Vec<PortStep>,
    pub outcome: PortOutcome,
    /// Who holds the port after apply, when it is not free.
    pub still_held_by: Vec<String>,
    pub restart: Option<RestartResult>,
    pub message: String,
    pub next: Option<String>,
    #[serde(skip)]
    pub exit: Exit,
    /// The plan went to the terminal before the question, so the report need not repeat it.
    #[serde(skip)]
    pub plan_shown: bool,
}

impl PortConflictReport {
    /// The holders and what is planned for each: shown before any question.
    pub fn render_plan(&self, st: &Styles) -> String {
        let mut out = String::new();
        let protos: Vec<String> = self.protocols.iter().map(|p| p.to_string()).collect();
        if self.holders.is_empty() && self.sockets.is_empty() {
            out.push_str(&format!(
                "nothing listens on port {} ({})\n",
                self.port,
                protos.join(", ")
            ));
        } else {
            out.push_str(&st.bold(&format!(
                "port {} ({}) is held by:\n",
                self.port,
                protos.join(", ")
            )));
            let mut t = table(&[
                "pid",
                "ppid",
                "user",
                "started",
                "hal9",
                "supervisor",
                "plan",
                "command",
            ]);
            for h in &self.holders {
                let plan = self
                    .plan
                    .steps
                    .iter()
                    .find(|p| p.pid == h.info.pid)
                    .map(|p| match &p.action {
                        StopAction::Drain => "drain, TERM, then KILL".to_string(),
                        StopAction::Signal { signal } => format!("{}, then KILL", signal.as_str()),
                        StopAction::Refuse { reason } => format!("refused: {reason}"),
                        StopAction::StopContainer { name, .. } => {
                            format!("docker stop {name} (Engine API)")
                        }
                        StopAction::RefuseOwned { why, .. } => format!("refused: {why}"),
                        StopAction::StopUnit { command, .. } => command.clone(),
                    })
                    .unwrap_or_default();
                t.add_row(vec![
                    h.info.pid.to_string(),
                    h.info.ppid.to_string(),
                    h.info.user.clone(),
                    h.info.started_at.clone().unwrap_or_else(|| "?".into()),
                    if h.info.hal9_runtime { "yes" } else { "no" }.to_string(),
                    h.info
                        .owner
                        .as_ref()
                        .map(Owner::describe)
                        .or_else(|| {
                            h.info
                                .supervisor
                                .as_ref()
                                .map(|s: &Supervisor| s.name.clone())
                        })
                        .unwrap_or_else(|| "-".into()),
                    plan,
                    // One row per holder, even for `python3 -c` with a multi-line script.
                    h.info.command.replace(char::is_control, " "),
                ]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
            for s in &self.plan.unresolved {
                out.push_str(&format!(
                    "{} {} {} socket inode {} (uid {}): holder not visible\n",
                    st.mark(Mark::Warn),
                    s.proto,
                    s.local,
                    s.inode,
                    s.uid
                ));
            }
            for w in &self.plan.respawn_warnings {
                out.push_str(&format!("{} {w}\n", st.mark(Mark::Warn)));
            }
        }
        out
    }
}

impl Report for PortConflictReport {
    fn to_json(&self) -> serde_json::Value {
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        let mut out = if self.plan_shown {
            String::new()
        } else {
            self.render_plan(st)
        };
        for d in &self.done {
            let who = d.pid.map(|p| format!("pid {p}: ")).unwrap_or_default();
            let mark = st.mark(if d.ok { Mark::Ok } else { Mark::Warn });
            out.push_str(&format!("{mark} {who}{}: {}\n", d.step, d.result));
        }
        if let Some(r) = &self.restart {
            let mark = st.mark(if r.ok { Mark::Ok } else { Mark::Fail });
            out.push_str(&format!("{mark} restart: {}\n", r.detail));
        }
        let mark = match self.outcome {
            PortOutcome::Free => Mark::Ok,
            PortOutcome::Planned => Mark::Unknown,
            PortOutcome::Retaken => Mark::Warn,
            PortOutcome::StillHeld | PortOutcome::Refused => Mark::Fail,
        };
        if self.outcome == PortOutcome::Planned {
            out.push_str(&format!("{}\n", self.message));
        } else {
            out.push_str(&format!("{} {}\n", st.mark(mark), self.message));
        }
        if let Some(n) = &self.next {
            out.push_str(&format!("next: {n}\n"));
        }
        out
    }

    fn exit(&self) -> Exit {
        self.exit
    }
}
