//! `hal9ctl signal TEXT`: post a signal and show the output and the hop-by-hop trace.

use std::time::Duration;

use serde::Serialize;

use crate::cli::Ctx;
use crate::exit::{Exit, Failure};
use crate::output::{Report, Styles, table, to_value};
use crate::runtime::api::{SignalRequest, SignalResponse};
use crate::runtime::client::{ClientError, RuntimeClient};

mod settings;
pub use settings::SignalSettings;

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct SignalReport(pub SignalResponse);

pub async fn run(ctx: &Ctx, s: &SignalSettings) -> anyhow::Result<SignalReport> {
    // On a split port the kernel picks which listener answers: an answer
    // would vouch for one of them and say nothing of the others.
    if let Err(e @ crate::system::runtime_identity::NamedError::Split { port, .. }) =
        crate::system::runtime_identity::split_at(&ctx.url)
    {
        return Err(Failure::critical(format!("not sending the signal: {e}"))
            .with_next(format!(
                "hal9ctl health   # then: hal9ctl emergency port-conflict --port {port}"
            ))
            .into());
    }
    let client = RuntimeClient::new(&ctx.url, Duration::from_secs(35))
        .map_err(|e| Failure::critical(e.to_string()))?;
    let req = SignalRequest {
        content: s.text.clone(),
        layer: s.layer,
        neuron_id: s.neuron.clone(),
    };
    match client.signal(&req).await {
        Ok(t) => Ok(SignalReport(t.body)),
        Err(e @ (ClientError::Connect { .. } | ClientError::Timeout { .. })) => Err(
            Failure::critical(format!("the runtime is not answering: {e}"))
                .with_next("hal9ctl health   # or start it: hal9ctl serve --detach")
                .into(),
        ),
        Err(ClientError::Status {
            status,
            code,
            message,
            ..
        }) => {
            let next = match code.as_str() {
                "unknown_neuron" | "empty_layer" => {
                    "curl -s $HAL9_URL/api/v1/neurons   # or: hal9ctl config (the [[neurons]] network)"
                }
                "rate_limited" | "too_many_in_flight" => "hal9ctl scale --emergency",
                _ => "hal9ctl health",
            };
            Err(Failure::critical(format!(
                "the runtime refused the signal ({status} {code}): {message}"
            ))
            .with_next(next)
            .into())
        }
        Err(e) => Err(Failure::critical(e.to_string())
            .with_next("hal9ctl health")
            .into()),
    }
}

impl Report for SignalReport {
    /// An answer that some neuron on the path failed to produce is partly
    /// done: the output came from those that were left.
    fn exit(&self) -> Exit {
        let r = &self.0;
        if r.gradients.is_empty() && r.trace.iter().all(|h| h.error.is_none()) {
            Exit::Ok
        } else {
            Exit::Warning
        }
    }

    fn to_json(&self) -> serde_json::Value {
        to_value(&self.0)
    }

    fn render(&self, st: &Styles) -> String {
        let r = &self.0;
        let mut t = table(&["#", "neuron", "layer", "latency", "cache", "error"]);
        for (i, h) in r.trace.iter().enumerate() {
            t.add_row(vec![
                (i + 1).to_string(),
                h.neuron.clone(),
                format!("{} {}", h.layer, h.layer.name()),
                format!("{} µs", h.latency_us),
                if h.cache_hit {
                    st.good("hit")
                } else {
                    st.dim("miss")
                },
                h.error.as_deref().map(|e| st.bad(e)).unwrap_or_default(),
            ]);
        }
        let mut out = format!(
            "{}\n{}\n\n{t}\n",
            st.bold(&r.output),
            st.dim(&format!("signal {} · {} path", r.id, r.path.as_str()))
        );
        for g in &r.gradients {
            out.push_str(&format!("gradient {} → {}: {}\n", g.from, g.to, g.error));
        }
        for g in &r.gated {
            out.push_str(&st.dim(&format!(
                "skipped {} ({}): migration flag {} is off\n",
                g.neuron, g.layer, g.flag
            )));
        }
        out
    }
}
