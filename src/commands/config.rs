//! `hal9ctl config`: the effective config and where each value came from.

use serde::Serialize;

use crate::cli::Ctx;
use crate::config::{EMBEDDED, Source, provenance_keys};
use crate::output::{Report, Styles, table, to_value};

#[derive(Debug, Serialize)]
pub struct ConfigReport {
    /// The file that was loaded, or null for the embedded default only.
    pub file: Option<String>,
    pub state_dir: String,
    pub values: Vec<ConfigValue>,
    pub config: serde_json::Value,
    #[serde(skip)]
    raw_default: bool,
}

#[derive(Debug, Serialize)]
pub struct ConfigValue {
    pub key: String,
    pub value: serde_json::Value,
    pub source: Source,
}

/// `raw_default`: print the embedded default hal9.toml instead (`--default`).
pub fn run(ctx: &Ctx, raw_default: bool) -> anyhow::Result<ConfigReport> {
    let config = to_value(ctx.config());
    let mut values: Vec<ConfigValue> = provenance_keys(&config)
        .into_iter()
        .map(|(key, value)| {
            let source = ctx.loaded.sources.get(&key);
            ConfigValue { key, value, source }
        })
        .collect();
    values.push(ConfigValue {
        key: "state_dir".into(),
        value: serde_json::Value::String(ctx.state_dir.display().to_string()),
        source: ctx.loaded.sources.get("state_dir"),
    });
    Ok(ConfigReport {
        file: ctx.loaded.file.as_ref().map(|p| p.display().to_string()),
        state_dir: ctx.state_dir.display().to_string(),
        values,
        config,
        raw_default,
    })
}

impl Report for ConfigReport {
    fn to_json(&self) -> serde_json::Value {
        if self.raw_default {
            return serde_json::json!({ "default": EMBEDDED });
        }
        to_value(self)
    }

    fn render(&self, st: &Styles) -> String {
        if self.raw_default {
            return EMBEDDED.to_string();
        }
        let mut t = table(&["key", "value", "source"]);
        for v in &self.values {
            let value = match &v.value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) if v.key == "neurons" => format!("{} neurons", a.len()),
                other => other.to_string(),
            };
            let source = match v.source {
                Source::Default => st.dim("default"),
                ref s => st.bold(&s.to_string()),
            };
            t.add_row(vec![v.key.clone(), value, source]);
        }
        let file = self.file.as_deref().unwrap_or("none (embedded default)");
        format!("config file: {file}\n{t}\n")
    }
}
