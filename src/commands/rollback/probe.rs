//! Probe signals: real requests hal9ctl sends itself, keyed so that the path
//! each must take is known beforehand from the runtime's sticky routing
//! (FNV bucket of `X-Request-Key` below the share → hierarchical). They give a
//! gate window evidence when users send none, and let "verified" check that
//! the path a request takes matches the share the runtime reports.

use std::time::Duration;

use crate::runtime::api::{Path, SignalRequest, SignalResponse};
use crate::runtime::migration::router::{BUCKETS, route};

/// Every probe carries this text, so logs and traces tell probes from users.
pub const CONTENT: &str = "hal9ctl rollback probe";

/// A probe key and the path the share routes it to.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeKey {
    pub key: String,
    pub expect: Path,
}

fn key(i: u64) -> String {
    format!("hal9ctl-probe-{i}")
}

/// `n` keys in order, each with the path `share_bp` gives it: a filler that
/// spreads over both paths the way user traffic would.
pub fn spread(share_bp: u32, n: u64) -> Vec<ProbeKey> {
    (0..n)
        .map(|i| {
            let key = key(i);
            let expect = route(key.as_bytes(), share_bp);
            ProbeKey { key, expect }
        })
        .collect()
}

/// `per_path` keys for every path the share sends traffic to: all flat at 0 %,
/// all hierarchical at 100 %, both otherwise. Buckets are uniform, so the
/// search ends after about `per_path * 10 000 / share` keys; the bound only
/// guards against a router change.
pub fn covering(share_bp: u32, per_path: usize) -> Vec<ProbeKey> {
    let mut wanted = Vec::new();
    if share_bp > 0 {
        wanted.push(Path::Hierarchical);
    }
    if share_bp < BUCKETS {
        wanted.push(Path::Flat);
    }
    let mut out: Vec<ProbeKey> = Vec::new();
    for i in 0..(u64::from(BUCKETS) * 100) {
        let k = key(i);
        let expect = route(k.as_bytes(), share_bp);
        if wanted.contains(&expect) && out.iter().filter(|p| p.expect == expect).count() < per_path
        {
            out.push(ProbeKey { key: k, expect });
        }
        if out.len() >= per_path * wanted.len() {
            break;
        }
    }
    out
}

/// What one probe found.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub probe: ProbeKey,
    /// The path that answered, and whether every neuron on it answered clean.
    pub answer: Result<(Path, bool), String>,
}

impl ProbeResult {
    /// Why this probe contradicts the share, if it does.
    pub fn problem(&self) -> Option<String> {
        let want = self.probe.expect.as_str();
        match &self.answer {
            Err(e) => Some(format!(
                "probe {} ({want}) got no answer: {e}",
                self.probe.key
            )),
            Ok((got, _)) if *got != self.probe.expect => Some(format!(
                "probe {} took the {} path, but the share routes it {want}",
                self.probe.key,
                got.as_str()
            )),
            Ok((_, false)) => Some(format!(
                "probe {} on the {want} path answered with errors",
                self.probe.key
            )),
            Ok(_) => None,
        }
    }
}

/// Sends probe signals to one runtime.
pub struct Prober {
    http: reqwest::Client,
    url: String,
}

impl Prober {
    pub fn new(base_url: &str) -> Result<Prober, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Prober {
            http,
            url: format!("{}/api/v1/signal", base_url.trim_end_matches('/')),
        })
    }

    pub async fn send(&self, probe: &ProbeKey) -> ProbeResult {
        let req = SignalRequest {
            content: CONTENT.into(),
            layer: None,
            neuron_id: None,
        };
        let answer = async {
            let r = self
                .http
                .post(&self.url)
                .header("x-request-key", &probe.key)
                .json(&req)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status();
            if !status.is_success() {
                return Err(format!("HTTP {status}"));
            }
            let body: SignalResponse = r.json().await.map_err(|e| e.to_string())?;
            Ok((body.path, body.gradients.is_empty()))
        }
        .await;
        ProbeResult {
            probe: probe.clone(),
            answer,
        }
    }

    pub async fn send_all(&self, probes: &[ProbeKey]) -> Vec<ProbeResult> {
        let mut out = Vec::with_capacity(probes.len());
        for p in probes {
            out.push(self.send(p).await);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_keys_follow_the_share_exactly() {
        assert!(covering(0, 3).iter().all(|p| p.expect == Path::Flat));
        assert_eq!(covering(0, 3).len(), 3);
        assert!(
            covering(BUCKETS, 3)
                .iter()
                .all(|p| p.expect == Path::Hierarchical)
        );
        for share in [1, 500, 7500, 9999] {
            let keys = covering(share, 3);
            let hier = keys
                .iter()
                .filter(|p| p.expect == Path::Hierarchical)
                .count();
            assert_eq!((hier, keys.len()), (3, 6), "share {share}");
            for p in &keys {
                assert_eq!(route(p.key.as_bytes(), share), p.expect);
            }
        }
    }

    #[test]
    fn a_probe_on_the_wrong_path_or_with_errors_is_a_problem() {
        let probe = ProbeKey {
            key: "k".into(),
            expect: Path::Flat,
        };
        let r = |answer| ProbeResult {
            probe: probe.clone(),
            answer,
        };
        assert_eq!(r(Ok((Path::Flat, true))).problem(), None);
        assert!(
            r(Ok((Path::Hierarchical, true)))
                .problem()
                .unwrap()
                .contains("took the hierarchical path")
        );
        assert!(
            r(Ok((Path::Flat, false)))
                .problem()
                .unwrap()
                .contains("errors")
        );
        assert!(
            r(Err("refused".into()))
                .problem()
                .unwrap()
                .contains("no answer")
        );
    }
}
