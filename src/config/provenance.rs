//! Where each effective config value came from: a file, an env var, a flag, or the default.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Source {
    Default,
    File(String),
    Env(String),
    Flag(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "file {p}"),
            Source::Env(v) => write!(f, "env {v}"),
            Source::Flag(n) => write!(f, "flag {n}"),
        }
    }
}

/// Dotted key → source, for keys that did not come from the default.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    by_key: BTreeMap<String, Source>,
}

impl Sources {
    /// Record every key the file sets (the file parsed already, so this cannot fail in practice).
    pub fn from_file(text: &str, path: &Path) -> Sources {
        let mut s = Sources::default();
        if let Ok(table) = text.parse::<toml::Table>() {
            let src = Source::File(path.display().to_string());
            let mut keys = Vec::new();
            leaf_keys("", &toml::Value::Table(table), &mut keys);
            for k in keys {
                s.by_key.insert(k, src.clone());
            }
        }
        s
    }

    pub fn set(&mut self, key: &str, source: Source) {
        self.by_key.insert(key.to_string(), source);
    }

    pub fn get(&self, key: &str) -> Source {
        if let Some(s) = self.by_key.get(key) {
            return s.clone();
        }
        // `neurons` is one value: an array of tables set as a whole.
        let top = key.split('.').next().unwrap_or(key);
        if top == "neurons" {
            return self
                .by_key
                .get("neurons")
                .cloned()
                .unwrap_or(Source::Default);
        }
        Source::Default
    }
}

/// The dotted keys of every leaf; arrays count as one leaf.
pub fn leaf_keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_keys(&key, v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}
