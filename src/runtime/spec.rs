//! The network and runtime settings as written in `hal9.toml`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::byte_size::ByteSize;
use super::layer::Layer;

/// One `[[neurons]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronSpec {
    pub id: String,
    pub layer: Layer,
    pub processor: ProcessorKind,
    /// Neurons a signal is forwarded to after this one processed it.
    #[serde(default)]
    pub forward: Vec<String>,
    /// Neurons a processing error is sent back to, as a gradient.
    #[serde(default)]
    pub backward: Vec<String>,
    /// `rules` processor: evaluated in order, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    /// `command` processor: program and arguments; the prompt goes to stdin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// `command` processor: per-call timeout (default from `[runtime]`).
    #[serde(
        default,
        with = "humantime_serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessorKind {
    Rules,
    Command,
}

/// A rule of the `rules` processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Case-insensitive substring to look for; `*` matches everything.
    pub pattern: String,
    /// The output; `{input}` is replaced by the signal content.
    pub output: String,
    /// Which of the neuron's forward connections to follow; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Vec<String>>,
}

/// `[runtime]`: caches, memory, breakers, command processors and the
/// connection limits of the HTTP server. Everything a request can make the
/// runtime hold is bounded here, in bytes or in count and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSettings {
    /// Response cache TTL per layer; a layer absent here is not cached.
    pub cache_ttl: CacheTtls,
    /// Maximum entries per layer cache; eviction brings it down to 90 %.
    pub cache_capacity: usize,
    /// Maximum bytes per layer cache (inputs, outputs and bookkeeping);
    /// eviction brings it down to 90 %. An answer larger than this is not cached.
    pub cache_max_bytes: ByteSize,
    #[serde(with = "humantime_serde")]
    pub command_timeout: Duration,
    /// Calls of one command neuron that may run at once; more are turned
    /// away as busy, without counting against the breaker.
    pub command_concurrency: usize,
    /// The environment variables a command processor inherits from the
    /// server; everything else (tokens, the state dir) is withheld.
    pub command_env: Vec<String>,
    pub breaker_failures: u32,
    #[serde(with = "humantime_serde")]
    pub breaker_open_for: Duration,
    pub breaker_successes: u32,
    /// L2 memory: how many entries are kept before the oldest are dropped.
    pub memory_capacity: usize,
    /// L2 memory: how many bytes (texts and embeddings) are kept before the
    /// oldest entries are dropped.
    pub memory_max_bytes: ByteSize,
    /// Connections served at once. It is also kept below the open-file
    /// limit; when full, the connection that has waited longest for a
    /// request is closed to make room, or accepting pauses.
    pub max_connections: usize,
    /// Time for a request, headers and body, to arrive, counted from its
    /// first byte (from accept on a new connection).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// A connection with no request in progress is closed after this long:
    /// a kept-alive client that went quiet, or one that does not read its
    /// answer. A handler also waits at most this long for a body.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
}

/// Inherited by command processors unless `command_env` says otherwise:
/// what a program needs to find its tools and speak the right language.
pub const DEFAULT_COMMAND_ENV: [&str; 8] = [
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheTtls {
    #[serde(
        rename = "L2",
        with = "humantime_serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub l2: Option<Duration>,
    #[serde(
        rename = "L3",
        with = "humantime_serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub l3: Option<Duration>,
    #[serde(
        rename = "L4",
        with = "humantime_serde_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub l4: Option<Duration>,
}

impl CacheTtls {
    pub fn for_layer(&self, layer: Layer) -> Option<Duration> {
        match layer {
            Layer::L2 => self.l2,
            Layer::L3 => self.l3,
            Layer::L4 => self.l4,
            Layer::L1 | Layer::L5 => None,
        }
    }
}

impl Default for CacheTtls {
    fn default() -> Self {
        CacheTtls {
            l2: Some(Duration::from_secs(600)),
            l3: Some(Duration::from_secs(300)),
            l4: Some(Duration::from_secs(120)),
        }
    }
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            cache_ttl: CacheTtls::default(),
            cache_capacity: 10_000,
            cache_max_bytes: ByteSize::mib(32),
            command_timeout: Duration::from_secs(30),
            command_concurrency: 4,
            command_env: DEFAULT_COMMAND_ENV.map(String::from).to_vec(),
            breaker_failures: 5,
            breaker_open_for: Duration::from_secs(60),
            breaker_successes: 3,
            memory_capacity: 100_000,
            memory_max_bytes: ByteSize::mib(64),
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Durations as humantime strings (`30s`, `5m`) in TOML and JSON.
pub mod humantime_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {text:?}: {e} (examples: 30s, 5m, 7d)"
            ))
        })
    }
}

/// Optional durations as humantime strings.
pub mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::humantime_serde::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            humantime::parse_duration(&t).map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration {t:?}: {e} (examples: 30s, 5m, 7d)"
                ))
            })
        })
        .transpose()
    }
}
