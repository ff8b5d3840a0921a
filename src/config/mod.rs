//! `hal9.toml`: the model, the search order, the embedded default, and
//! where every effective value came from.

mod lease;
mod provenance;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use lease::LeaseConfig;
pub use provenance::{Source, Sources};

use crate::exit::Failure;
use crate::runtime::spec::{NeuronSpec, RuntimeSettings, humantime_serde};

/// The embedded default `hal9.toml`, network included.
pub const EMBEDDED: &str = concat!(
    include_str!("default.toml"),
    "\n",
    include_str!("../runtime/default_network.toml")
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub emergency: EmergencyConfig,
    pub cluster: ClusterConfig,
    pub rollback: RollbackConfig,
    pub lease: LeaseConfig,
    pub migration: MigrationConfig,
    pub health: HealthConfig,
    pub slo: SloConfig,
    pub cleanup: CleanupConfig,
    pub runtime: RuntimeSettings,
    pub notify: NotifyConfig,
    #[serde(default = "default_neurons")]
    pub neurons: Vec<NeuronSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub url: String,
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_in_flight: u32,
    pub rate_limit_rps: u32,
}

/// `[emergency]`: what `hal9ctl scale --emergency` raises things to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmergencyConfig {
    pub max_in_flight: u32,
    pub rate_limit_rps: u32,
    /// The replica floor in the cluster; the target is never below 2 × current.
    pub replicas: i32,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        EmergencyConfig {
            max_in_flight: 2048,
            rate_limit_rps: 10_000,
            replicas: 20,
        }
    }
}

/// `[cluster]`: where the runtime runs in Kubernetes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    pub namespace: String,
    pub deployment: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            namespace: "hal9".into(),
            deployment: "hal9-server".into(),
        }
    }
}

/// `[health]`: thresholds of `hal9ctl health`'s host checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    pub disk_warn_percent: f64,
    pub disk_crit_percent: f64,
    pub memory_warn_percent: f64,
    pub memory_crit_percent: f64,
    /// 1-minute load average per core.
    pub load_warn_per_core: f64,
    pub load_crit_per_core: f64,
    /// How far back the runtime log is searched for ERROR and panic lines.
    #[serde(with = "humantime_serde")]
    pub log_window: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            timeout: Duration::from_secs(2),
            disk_warn_percent: 80.0,
            disk_crit_percent: 90.0,
            memory_warn_percent: 80.0,
            memory_crit_percent: 90.0,
            load_warn_per_core: 1.5,
            load_crit_per_core: 3.0,
            log_window: Duration::from_secs(300),
        }
    }
}

/// `[slo]`: what `hal9ctl health` judges on the runtime's own metrics over
/// a short window (two scrapes `window` apart). The defaults are the
/// operations reports' alert thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SloConfig {
    /// 0s turns the SLO checks off.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    #[serde(with = "humantime_serde")]
    pub max_p99: Duration,
    pub max_error_percent: f64,
    pub min_cache_hit_percent: f64,
    /// In flight against the admission limit.
    pub max_in_flight_percent: f64,
    /// Requests answered 429 by the admission limits.
    pub max_rejected_percent: f64,
    /// Fewer lookups or requests than this in the window judge nothing.
    pub min_requests: u64,
}

impl Default for SloConfig {
    fn default() -> Self {
        SloConfig {
            window: Duration::from_secs(1),
            max_p99: Duration::from_millis(500),
            max_error_percent: 1.0,
            min_cache_hit_percent: 30.0,
            max_in_flight_percent: 80.0,
            max_rejected_percent: 1.0,
            min_requests: 10,
        }
    }
}

/// `[notify]`: where destructive actions and CRITICAL verdicts are posted.
/// Both destinations are off until set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// A Slack-compatible incoming webhook (`{"text": …}`).
    pub webhook: Option<String>,
    /// PagerDuty Events v2 routing (integration) key.
    pub pagerduty_routing_key: Option<String>,
    pub pagerduty_url: String,
    /// How long one delivery may take; a slow receiver must not hold up a repair.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            webhook: None,
            pagerduty_routing_key: None,
            pagerduty_url: "https://events.pagerduty.com/v2/enqueue".into(),
            timeout: Duration::from_secs(3),
        }
    }
}

/// `[rollback]`: defaults and gate thresholds of `hal9ctl rollback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollbackConfig {
    pub steps: u32,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Highest error rate per path, in percent, a gradual step may show.
    pub max_error_percent: f64,
    #[serde(with = "humantime_serde")]
    pub max_p99: Duration,
    /// Fewest requests (both paths) a gate window needs to pass: below it the
    /// window is inconclusive, not passed.
    pub min_requests: u64,
}

impl Default for RollbackConfig {
    fn default() -> Self {
        RollbackConfig {
            steps: 5,
            interval: Duration::from_secs(30),
            max_error_percent: 1.0,
            max_p99: Duration::from_millis(500),
            min_requests: 20,
        }
    }
}

/// `[migration]`: how a runtime with no recorded migration starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MigrationConfig {
    /// The phase a state dir with no `migration.json` starts at; none means
    /// `full` (a runtime built hierarchical, with no flat state to keep).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_phase: Option<crate::runtime::migration::Phase>,
}

/// `[cleanup]`: where `hal9ctl disk cleanup` may delete, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CleanupConfig {
    /// Directories to clean besides the command's PATH arguments.
    pub roots: Vec<PathBuf>,
    /// Also clean the state dir, where the detached runtime logs.
    pub include_state_dir: bool,
    /// Disk-use percentage to get below.
    pub target: u8,
    #[serde(with = "humantime_serde")]
    pub older_than: Duration,
    #[serde(with = "humantime_serde")]
    pub crash_older_than: Duration,
    pub log_patterns: Vec<String>,
    pub rotated_patterns: Vec<String>,
    pub crash_patterns: Vec<String>,
    /// Clean Rust `target/` build dirs (also `--include-target-dirs`).
    pub target_dirs: bool,
    pub target_dir_markers: Vec<String>,
}

impl Default for CleanupConfig {
    fn default() -> Self {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
        CleanupConfig {
            roots: Vec::new(),
            include_state_dir: true,
            target: 80,
            older_than: Duration::from_secs(7 * 86_400),
            crash_older_than: Duration::from_secs(86_400),
            log_patterns: v(&["*.log"]),
            rotated_patterns: v(&["*.log.[0-9]*", "*.gz", "*.xz", "*.zst", "*.bz2"]),
            crash_patterns: v(&["core", "core.[0-9]*", "*.crash", "*.dmp", "hs_err_pid*.log"]),
            target_dirs: false,
            target_dir_markers: v(&["CACHEDIR.TAG", ".rustc_info.json"]),
        }
    }
}

impl CleanupConfig {
    /// The compiled category patterns; an error names the bad pattern.
    pub fn patterns(&self) -> Result<crate::system::scan::Patterns, String> {
        let compile = |key: &str, v: &[String]| {
            v.iter()
                .map(|p| {
                    crate::system::glob::Glob::new(p)
                        .map_err(|e| format!("field `cleanup.{key}`: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(crate::system::scan::Patterns {
            logs: compile("log_patterns", &self.log_patterns)?,
            rotated: compile("rotated_patterns", &self.rotated_patterns)?,
            crash: compile("crash_patterns", &self.crash_patterns)?,
            target_dirs: self.target_dirs,
            target_markers: self.target_dir_markers.clone(),
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            limits: LimitsConfig::default(),
            emergency: EmergencyConfig::default(),
            cluster: ClusterConfig::default(),
            rollback: RollbackConfig::default(),
            lease: LeaseConfig::default(),
            migration: MigrationConfig::default(),
            health: HealthConfig::default(),
            slo: SloConfig::default(),
            cleanup: CleanupConfig::default(),
            runtime: RuntimeSettings::default(),
            notify: NotifyConfig::default(),
            neurons: default_neurons(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            url: "http://127.0.0.1:8080".to_string(),
            drain_timeout: Duration::from_secs(60),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_in_flight: 256,
            rate_limit_rps: 1000,
        }
    }
}

#[derive(Deserialize)]
struct NeuronsOnly {
    neurons: Vec<NeuronSpec>,
}

/// The embedded default network. It is a constant of this binary, checked by
/// a unit test, so failing to parse it is a build defect, not an input error.
fn default_neurons() -> Vec<NeuronSpec> {
    toml::from_str::<NeuronsOnly>(include_str!("../runtime/default_network.toml"))
        .map(|n| n.neurons)
        .unwrap_or_default()
}

/// The effective config, the file it came from, and each value's source.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
    pub sources: Sources,
}

/// Where `--config`/`HAL9_CONFIG` pointed, if anywhere.
#[derive(Debug, Clone)]
pub enum Explicit {
    Flag(PathBuf),
    Env(PathBuf),
}

/// The search order of ARCHITECTURE §3 after an explicit path.
pub fn search_path() -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("hal9.toml")];
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        v.push(PathBuf::from(x).join("hal9/hal9.toml"));
    } else if let Some(h) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        v.push(PathBuf::from(h).join(".config/hal9/hal9.toml"));
    }
    v.push(PathBuf::from("/etc/hal9/hal9.toml"));
    v
}

/// Find and load the config. An explicit path that does not exist, or any
/// file that does not parse, is a usage error (exit 64).
pub fn load(explicit: Option<Explicit>) -> Result<Loaded, Failure> {
    let found = match explicit {
        Some(Explicit::Flag(p)) | Some(Explicit::Env(p)) => {
            if !p.is_file() {
                return Err(Failure::usage(format!(
                    "config file {} does not exist or is not a file",
                    p.display()
                ))
                .with_next(
                    "hal9ctl config --default > hal9.toml   # start from the embedded default",
                ));
            }
            Some(p)
        }
        None => search_path().into_iter().find(|p| p.is_file()),
    };
    match found {
        None => Ok(Loaded {
            config: Config::default(),
            file: None,
            sources: Sources::default(),
        }),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::usage(format!("cannot read config file {}: {e}", path.display()))
            })?;
            let config = parse(&text, &path)?;
            let sources = Sources::from_file(&text, &path);
            Ok(Loaded {
                config,
                file: Some(path),
                sources,
            })
        }
    }
}

/// Parse and validate one config text; errors name the file, line and field.
pub fn parse(text: &str, path: &Path) -> Result<Config, Failure> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let (line, col, field) = locate(text, e.span());
        let what = field.map(|f| format!(", field `{f}`")).unwrap_or_default();
        Failure::usage(format!(
            "invalid config {}: line {line}, column {col}{what}: {}",
            path.display(),
            e.message().trim()
        ))
        .with_next(format!(
            "fix {} (compare with `hal9ctl config --default`)",
            path.display()
        ))
    })?;
    validate(&config).map_err(|m| {
        Failure::usage(format!("invalid config {}: {m}", path.display())).with_next(format!(
            "fix {} (compare with `hal9ctl config --default`)",
            path.display()
        ))
    })?;
    Ok(config)
}

fn validate(c: &Config) -> Result<(), String> {
    if !(c.server.url.starts_with("http://") || c.server.url.starts_with("https://")) {
        return Err(format!(
            "field `server.url`: {:?} is not an http:// or https:// URL",
            c.server.url
        ));
    }
    if c.limits.max_in_flight == 0 || c.limits.rate_limit_rps == 0 {
        return Err("field `limits`: max_in_flight and rate_limit_rps must be at least 1".into());
    }
    if c.cleanup.target > 100 {
        return Err(format!(
            "field `cleanup.target`: {} is not a percentage (0-100)",
            c.cleanup.target
        ));
    }
    c.cleanup.patterns()?;
    c.lease.validate()?;
    Ok(())
}

/// Line, column and dotted key of a span in the TOML text.
fn locate(text: &str, span: Option<std::ops::Range<usize>>) -> (usize, usize, Option<String>) {
    let Some(span) = span else {
        return (1, 1, None);
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    let section = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let field = match (section, key) {
        (Some(s), Some(k)) if !k.is_empty() => Some(format!("{s}.{k}")),
        (None, Some(k)) if !k.is_empty() => Some(k),
        (Some(s), _) => Some(s),
        _ => None,
    };
    (line, col, field)
}

/// The runtime state dir: flag/env, else `$XDG_STATE_HOME/hal9`, else
/// `/var/lib/hal9` for root, else `~/.local/state/hal9`. `None` for a user
/// with no HOME: a shared fallback such as /tmp would be anyone's to plant.
pub fn default_state_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("hal9"));
    }
    if nix::unistd::geteuid().is_root() {
        return Some(PathBuf::from("/var/lib/hal9"));
    }
    std::env::var_os("HOME")
        .filter(|x| !x.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/hal9"))
}

/// The dotted leaf keys of the effective config with their values, for
/// `hal9ctl config`. The network is one value.
pub fn provenance_keys(v: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(m) if prefix != "neurons" => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            _ => out.push((prefix.to_string(), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_matches_the_code_defaults() {
        let parsed = parse(EMBEDDED, Path::new("<embedded>")).expect("embedded default parses");
        assert_eq!(parsed, Config::default());
        assert_eq!(parsed.neurons.len(), 6);
    }

    #[test]
    fn default_network_crosses_all_five_layers() {
        let layers: std::collections::BTreeSet<_> =
            Config::default().neurons.iter().map(|n| n.layer).collect();
        assert_eq!(layers.len(), 5);
    }

    #[test]
    fn a_type_error_names_line_and_field() {
        let text = "[server]\nurl = \"http://x\"\n\n[limits]\nmax_in_flight = \"lots\"\n";
        let err = parse(text, Path::new("/etc/hal9/hal9.toml")).unwrap_err();
        assert_eq!(err.exit, crate::exit::Exit::Usage);
        assert!(
            err.message.contains("/etc/hal9/hal9.toml"),
            "{}",
            err.message
        );
        assert!(err.message.contains("line 5"), "{}", err.message);
        assert!(
            err.message.contains("limits.max_in_flight"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = parse("[server]\nlisten_port = 1\n", Path::new("x.toml")).unwrap_err();
        assert!(err.message.contains("line 2"), "{}", err.message);
        assert!(err.message.contains("listen_port"), "{}", err.message);
    }

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let c = parse("[limits]\nrate_limit_rps = 5\n", Path::new("x.toml")).unwrap();
        assert_eq!(c.limits.rate_limit_rps, 5);
        assert_eq!(c.limits.max_in_flight, 256);
        assert_eq!(c.server, ServerConfig::default());
        assert_eq!(c.neurons, default_neurons());
    }
}
