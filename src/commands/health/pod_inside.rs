//! `health --cluster` looking inside the pods: what each runtime says about
//! itself through the API server's pod proxy (`/health`, `/api/v1/status`,
//! `/metrics` twice), not what etcd says about the pod. Gathering is async;
//! every judgement below it is a pure function on plain data.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::Value;

use crate::cluster::facts::DeploymentFacts;
use crate::cluster::{Kube, Target, migration, pod_proxy};
use crate::config::SloConfig;
use crate::output::Mark;
use crate::output::checks::Check;

use super::cluster_advice::{InsideKind, Issue, SloKind, advise};

/// What a runtime's migration state is, as the pod or the ConfigMap says it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routing {
    pub version: u64,
    pub phase: String,
    pub hierarchical_percent: f64,
}

impl Routing {
    fn same(&self, o: &Routing) -> bool {
        self.version == o.version
            && self.phase == o.phase
            && (self.hierarchical_percent - o.hierarchical_percent).abs() < 0.005
    }

    fn describe(&self) -> String {
        format!(
            "version {} {} at {:.2} %",
            self.version, self.phase, self.hierarchical_percent
        )
    }
}

/// What one runtime said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inside {
    pub version: String,
    /// `healthy`, `degraded` or `unhealthy`, from `/health`.
    pub health: String,
    /// `/health`'s checks that are not healthy: "neurons: 2 of 3 down".
    pub health_problems: Vec<String>,
    pub draining: bool,
    /// Neurons whose breaker is open or half-open: "n1 open".
    pub breakers: Vec<String>,
    pub in_flight: u64,
    pub max_in_flight: Option<u64>,
    pub rate_limit_rps: Option<u64>,
    pub routing: Option<Routing>,
}

/// One pod, and what could be read from inside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodView {
    pub pod: String,
    /// The image the container runs: its digest where the kubelet reports
    /// one, so a retag of the same build is not skew and a rebuild is.
    pub image: Option<String>,
    /// The `configmap:NS/NAME` on its command line.
    pub follows: Option<String>,
    pub inside: Result<Inside, String>,
}

/// The `hal9-migration` ConfigMap, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Written {
    Absent,
    Doc(Routing),
    Unreadable(String),
}

/// Everything the inside checks judge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InsideFacts {
    pub pods: Vec<PodView>,
    pub configmap: Written,
    /// Per pod: the SLO checks of its `/metrics` window, or why there is none.
    pub slo: Vec<(String, Result<Vec<Check>, String>)>,
}

impl InsideFacts {
    /// The `-o json` shape: plain fields (`error` beside the value) rather
    /// than serde's `{"Ok": …}` for a Result.
    pub fn to_json(&self) -> Value {
        let configmap = match &self.configmap {
            Written::Absent => serde_json::json!({"state": "absent"}),
            Written::Doc(r) => serde_json::json!({"state": "read", "migration": r}),
            Written::Unreadable(e) => serde_json::json!({"state": "unreadable", "error": e}),
        };
        serde_json::json!({
            "pods": self.pods.iter().map(|p| serde_json::json!({
                "pod": p.pod,
                "image": p.image,
                "follows": p.follows,
                "inside": p.inside.as_ref().ok(),
                "error": p.inside.as_ref().err(),
            })).collect::<Vec<_>>(),
            "configmap": configmap,
            "slo": self.slo.iter().map(|(pod, r)| serde_json::json!({
                "pod": pod,
                "checks": r.as_ref().ok(),
                "error": r.as_ref().err(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Parse `/health` and `/api/v1/status` bodies. A body without the
/// contract's fields is an error, never a healthy default.
pub fn inside_of(health: &Value, status: &Value) -> Result<Inside, String> {
    let h = health["status"]
        .as_str()
        .ok_or("/health has no status field")?;
    let version = status["version"]
        .as_str()
        .ok_or("/api/v1/status has no version field")?;
    let draining = status["draining"]
        .as_bool()
        .ok_or("/api/v1/status has no draining field")?;
    let health_problems = health["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] != "healthy")
        .map(|c| {
            format!(
                "{}: {}",
                c["name"].as_str().unwrap_or("?"),
                c["detail"].as_str().unwrap_or("")
            )
        })
        .collect();
    let breakers = status["neurons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| {
            let b = n["breaker"].as_str()?;
            (b != "closed").then(|| format!("{} {}", n["id"].as_str().unwrap_or("?"), b))
        })
        .collect();
    let m = &status["migration"];
    let routing = match (
        m["version"].as_u64(),
        m["phase"].as_str(),
        m["hierarchical_percent"].as_f64(),
    ) {
        (Some(version), Some(phase), Some(pct)) => Some(Routing {
            version,
            phase: phase.to_string(),
            hierarchical_percent: pct,
        }),
        _ => None,
    };
    Ok(Inside {
        version: version.to_string(),
        health: h.to_string(),
        health_problems,
        draining,
        breakers,
        in_flight: status["in_flight"].as_u64().unwrap_or(0),
        max_in_flight: status["limits"]["max_in_flight"].as_u64(),
        rate_limit_rps: status["limits"]["rate_limit_rps"].as_u64(),
        routing,
    })
}

fn rank(m: Mark) -> u8 {
    match m {
        Mark::Ok => 0,
        Mark::Warn => 1,
        Mark::Unknown => 2,
        Mark::Fail => 3,
    }
}

/// What was found in one pod, each with its wording.
pub type Findings = Vec<(InsideKind, String)>;

/// Pure: one pod's verdict, the worst thing found in it first.
pub fn pod_verdict(p: &PodView) -> (Mark, Findings) {
    let i = match &p.inside {
        Err(e) => {
            return (
                Mark::Unknown,
                vec![(InsideKind::Unreadable, format!("could not be read ({e})"))],
            );
        }
        Ok(i) => i,
    };
    let mut found: Vec<(Mark, InsideKind, String)> = Vec::new();
    let problems = if i.health_problems.is_empty() {
        String::new()
    } else {
        format!(": {}", i.health_problems.join("; "))
    };
    match i.health.as_str() {
        "healthy" => {}
        "degraded" => found.push((
            Mark::Warn,
            InsideKind::Degraded,
            format!("degraded{problems}"),
        )),
        other => found.push((
            Mark::Fail,
            InsideKind::Unhealthy,
            format!("{other}{problems}"),
        )),
    }
    if !i.breakers.is_empty() {
        found.push((
            Mark::Warn,
            InsideKind::Breaker,
            format!("breaker {}", i.breakers.join(", ")),
        ));
    }
    if let Some(max) = i.max_in_flight
        && max > 0
        && i.in_flight >= max
    {
        found.push((
            Mark::Warn,
            InsideKind::AtLimit,
            format!("{} of {max} requests in flight: at its limit", i.in_flight),
        ));
    }
    if i.draining {
        found.push((Mark::Warn, InsideKind::Draining, "draining".into()));
    }
    let worst = found.iter().map(|f| f.0).max_by_key(|m| rank(*m));
    (
        worst.unwrap_or(Mark::Ok),
        found.into_iter().map(|(_, k, d)| (k, d)).collect(),
    )
}

fn check_of(mark: Mark, name: &str, detail: String, next: String) -> Check {
    match mark {
        Mark::Ok => Check::ok(name, detail),
        Mark::Warn => Check::warn(name, detail, next),
        Mark::Fail => Check::fail(name, detail, next),
        Mark::Unknown => Check::unknown(name, detail, next),
    }
}

/// Pure: breakers, draining, health and limits of every pod read, in one
/// check; identical findings are one line ("3 pods: draining").
pub fn inside_check(pods: &[PodView], t: &Target, emergency_done: bool) -> Check {
    const NAME: &str = "pods inside";
    if pods.is_empty() {
        return Check::ok(NAME, "no running pod to look inside");
    }
    let verdicts: Vec<(&str, Mark, Findings)> = pods
        .iter()
        .map(|p| {
            let (m, f) = pod_verdict(p);
            (p.pod.as_str(), m, f)
        })
        .collect();
    let worst = verdicts
        .iter()
        .max_by_key(|(_, m, _)| rank(*m))
        .filter(|(_, m, _)| *m != Mark::Ok);
    let limits: Vec<(&str, String)> = pods
        .iter()
        .filter_map(|p| {
            let i = p.inside.as_ref().ok()?;
            Some((
                p.pod.as_str(),
                format!(
                    "limits {} in flight, {} rps",
                    i.max_in_flight.map_or("?".into(), |v| v.to_string()),
                    i.rate_limit_rps.map_or("?".into(), |v| v.to_string())
                ),
            ))
        })
        .collect();
    let limits =
        crate::cluster::aggregate::aggregate(limits.iter().map(|(p, l)| (*p, l.as_str())), "pod");
    let Some((pod, mark, found)) = worst else {
        return Check::ok(
            NAME,
            format!(
                "{} pod(s) healthy inside: none draining, no breaker open; {}",
                pods.len(),
                limits.join("; ")
            ),
        );
    };
    let findings: Vec<(&str, &str)> = verdicts
        .iter()
        .flat_map(|(p, _, f)| f.iter().map(move |(_, d)| (*p, d.as_str())))
        .collect();
    let detail = crate::cluster::aggregate::aggregate(findings, "pod").join("; ");
    let kind = found
        .first()
        .map(|(k, _)| *k)
        .unwrap_or(InsideKind::Unreadable);
    check_of(
        *mark,
        NAME,
        format!("{detail}; {}", limits.join("; ")),
        advise(
            &Issue::Inside {
                pod: pod.to_string(),
                kind,
                emergency_done,
            },
            t,
        ),
    )
}

/// Pure: do the pods run one build? Pods of an older revision mid-rollout
/// differ by design, so skew then only waits for the rollout.
pub fn skew_check(pods: &[PodView], rolling_out: bool, selector: &str, t: &Target) -> Check {
    const NAME: &str = "version skew";
    let builds: Vec<(&str, String)> = pods
        .iter()
        .filter_map(|p| {
            let i = p.inside.as_ref().ok()?;
            Some((
                p.pod.as_str(),
                format!(
                    "{} ({})",
                    i.version,
                    p.image.as_deref().unwrap_or("image unknown")
                ),
            ))
        })
        .collect();
    let distinct: BTreeSet<&str> = builds.iter().map(|(_, b)| b.as_str()).collect();
    let unread = pods.iter().filter(|p| p.inside.is_err()).count();
    let unread_note = if unread > 0 {
        format!(" ({unread} pod(s) could not be read)")
    } else {
        String::new()
    };
    match distinct.len() {
        0 => Check::ok(NAME, format!("no pod could be read{unread_note}")),
        1 => Check::ok(
            NAME,
            format!(
                "{} pod(s) run {}{unread_note}",
                builds.len(),
                distinct.iter().next().copied().unwrap_or("?")
            ),
        ),
        n => {
            let groups = crate::cluster::aggregate::aggregate(
                builds.iter().map(|(p, b)| (*p, b.as_str())),
                "pod",
            );
            Check::warn(
                NAME,
                format!("{n} different builds: {}{unread_note}", groups.join("; ")),
                advise(
                    &Issue::VersionSkew {
                        rolling_out,
                        selector: selector.to_string(),
                    },
                    t,
                ),
            )
        }
    }
}

/// Pure: does every pod run the migration state the ConfigMap says? A pod
/// that does not follow the ConfigMap at all is named as such, whatever its
/// numbers: nothing a rollback writes there reaches it.
pub fn agreement_check(written: &Written, pods: &[PodView], t: &Target) -> Check {
    const NAME: &str = "migration agreement";
    let doc = match written {
        Written::Absent => {
            return Check::ok(
                NAME,
                format!(
                    "no {} ConfigMap: each pod keeps its own migration state",
                    migration::NAME
                ),
            );
        }
        Written::Unreadable(e) => {
            return Check::unknown(
                NAME,
                format!("the {} ConfigMap could not be read: {e}", migration::NAME),
                advise(&Issue::ConfigMapUnreadable, t),
            );
        }
        Written::Doc(d) => d,
    };
    let mut not_following = Vec::new();
    let mut behind = Vec::new();
    let mut unread = Vec::new();
    let mut agree = 0;
    for p in pods {
        let routing = p.inside.as_ref().map(|i| i.routing.clone());
        match (&p.follows, routing) {
            (None, r) => not_following.push(format!(
                "{}{}",
                p.pod,
                match r {
                    Ok(Some(r)) => format!(" (runs {})", r.describe()),
                    _ => String::new(),
                }
            )),
            (Some(_), Err(e)) => unread.push(format!("{} ({e})", p.pod)),
            (Some(_), Ok(None)) => {
                unread.push(format!("{} (its status has no migration state)", p.pod))
            }
            (Some(_), Ok(Some(r))) if r.same(doc) => agree += 1,
            (Some(_), Ok(Some(r))) => behind.push((p.pod.clone(), r.describe())),
        }
    }
    let mut parts = Vec::new();
    if !not_following.is_empty() {
        parts.push(format!(
            "does not follow the ConfigMap (started without --migration-source configmap:…): {}",
            not_following.join(", ")
        ));
    }
    if !behind.is_empty() {
        parts.push(format!(
            "disagrees with the ConfigMap's {}: {}",
            doc.describe(),
            behind
                .iter()
                .map(|(p, r)| format!("{p} runs {r}"))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !unread.is_empty() {
        parts.push(format!("not judged: {}", unread.join("; ")));
    }
    if parts.is_empty() {
        return Check::ok(
            NAME,
            format!("{agree} pod(s) run the ConfigMap's {}", doc.describe()),
        );
    }
    let detail = format!(
        "{agree} of {} pod(s) agree; {}",
        pods.len(),
        parts.join("; ")
    );
    if let Some(p) = not_following.first() {
        let pod = p.split(' ').next().unwrap_or(p).to_string();
        Check::fail(NAME, detail, advise(&Issue::NotFollowing { pod }, t))
    } else if let Some((pod, _)) = behind.first() {
        Check::fail(
            NAME,
            detail,
            advise(&Issue::Disagrees { pod: pod.clone() }, t),
        )
    } else {
        Check::unknown(
            NAME,
            detail,
            advise(
                &Issue::Inside {
                    pod: pods
                        .iter()
                        .find(|p| p.inside.is_err())
                        .map_or("POD".into(), |p| p.pod.clone()),
                    kind: InsideKind::Unreadable,
                    emergency_done: false,
                },
                t,
            ),
        )
    }
}

/// Which judgement an SLO check of slo.rs is, by its name.
fn slo_kind(name: &str) -> SloKind {
    if name.starts_with("slo cache") {
        SloKind::Cache
    } else if name == "slo error rate" {
        SloKind::Errors
    } else if name == "slo" {
        SloKind::Unread
    } else {
        SloKind::Load
    }
}

/// Pure: the local `health` SLO judgement, run per pod, in one check. The
/// advice is the cluster's (scale the Deployment, read that pod's log), not
/// the local runtime's.
pub fn slo_check(
    per_pod: &[(String, Result<Vec<Check>, String>)],
    t: &Target,
    emergency_done: bool,
) -> Check {
    const NAME: &str = "pod slo";
    if per_pod.is_empty() {
        return Check::ok(NAME, "no running pod to judge");
    }
    let mut found: Vec<(Mark, SloKind, String, String)> = Vec::new();
    let mut judged = 0;
    for (pod, r) in per_pod {
        match r {
            Err(e) => found.push((
                Mark::Unknown,
                SloKind::Unread,
                pod.clone(),
                format!("not judged ({e})"),
            )),
            Ok(checks) => {
                judged += 1;
                for c in checks.iter().filter(|c| c.status != Mark::Ok) {
                    found.push((
                        c.status,
                        slo_kind(&c.name),
                        pod.clone(),
                        format!("{}: {}", c.name, c.detail),
                    ));
                }
            }
        }
    }
    // Most urgent first: its advice is the check's.
    found.sort_by_key(|f| std::cmp::Reverse(rank(f.0)));
    let Some((mark, kind, pod, _)) = found.first().cloned() else {
        return Check::ok(
            NAME,
            format!("{judged} pod(s) within their SLOs (p99, errors, cache, in flight, 429s)"),
        );
    };
    let detail = crate::cluster::aggregate::aggregate(
        found.iter().map(|(_, _, p, d)| (p.as_str(), d.as_str())),
        "pod",
    )
    .join("; ");
    check_of(
        mark,
        NAME,
        detail,
        advise(
            &Issue::PodSlo {
                pod,
                kind,
                emergency_done,
            },
            t,
        ),
    )
}

/// The inside checks, in the order `plan` adds them.
pub fn plan(f: &InsideFacts, d: &DeploymentFacts, t: &Target, rolling_out: bool) -> Vec<Check> {
    let emergency_done = d.hpa.as_ref().is_some_and(|h| {
        h.metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(crate::cluster::facts::ORIGINAL_ANNOTATION))
    });
    let selector = crate::cluster::facts::selector(&d.deployment).unwrap_or_default();
    vec![
        inside_check(&f.pods, t, emergency_done),
        skew_check(&f.pods, rolling_out, &selector, t),
        agreement_check(&f.configmap, &f.pods, t),
        slo_check(&f.slo, t, emergency_done),
    ]
}

/// A pod whose runtime process runs: ready or not (a draining pod drops out
/// of Ready within seconds, and its inside says why), never one being
/// deleted or one whose container waits (the containers check names those).
fn running(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        && p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.first())
            .is_some_and(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
}

fn image(p: &Pod) -> Option<String> {
    let c = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.first());
    c.map(|c| c.image_id.clone())
        .filter(|id| !id.is_empty())
        .or_else(|| c.map(|c| c.image.clone()))
        .or_else(|| p.spec.as_ref()?.containers.first()?.image.clone())
}

async fn read_inside(kube: &Kube, p: &Pod) -> Result<Inside, String> {
    let (health, status) = futures::future::join(
        pod_proxy::get_json_answer(kube, p, "/health"),
        pod_proxy::get_json(kube, p, "/api/v1/status"),
    )
    .await;
    inside_of(&health?.1, &status?)
}

/// Read every running pod's inside, the ConfigMap, and two `/metrics`
/// scrapes `slo.window` apart (one window for all pods, read concurrently).
pub async fn gather(kube: &Kube, d: &DeploymentFacts, slo: &SloConfig) -> InsideFacts {
    let pods: Vec<&Pod> = d.pods.iter().filter(|p| running(p)).collect();
    let store = migration::ConfigMapStore {
        kube: kube.clone(),
        name: migration::NAME.to_string(),
    };
    let configmap = async {
        let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(kube.client.clone(), &kube.namespace);
        match api.get_opt(migration::NAME).await {
            Ok(None) => Written::Absent,
            Ok(Some(_)) => match store.get().await {
                Ok((doc, _, _)) => Written::Doc(Routing {
                    version: doc.version,
                    phase: doc.phase.to_string(),
                    hierarchical_percent: doc.hierarchical_percent,
                }),
                Err(f) => Written::Unreadable(f.to_string()),
            },
            Err(e) => Written::Unreadable(e.to_string()),
        }
    };
    let insides = futures::future::join_all(pods.iter().map(|p| read_inside(kube, p)));
    let before = futures::future::join_all(
        pods.iter()
            .map(|p| pod_proxy::get_text(kube, p, "/metrics")),
    );
    let (configmap, insides, before) = futures::join!(configmap, insides, before);
    let slo = if slo.window.is_zero() {
        Vec::new()
    } else {
        tokio::time::sleep(slo.window).await;
        let after = futures::future::join_all(
            pods.iter()
                .map(|p| pod_proxy::get_text(kube, p, "/metrics")),
        )
        .await;
        pods.iter()
            .zip(before.into_iter().zip(after))
            .map(|(p, (b, a))| {
                let r = match (b, a) {
                    (Ok(b), Ok(a)) => Ok(super::slo::judge(&b, &a, slo).0),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                };
                (name(p), r)
            })
            .collect()
    };
    InsideFacts {
        pods: pods
            .iter()
            .zip(insides)
            .map(|(p, inside)| PodView {
                pod: name(p),
                image: image(p),
                follows: pod_proxy::follows_configmap(p),
                inside,
            })
            .collect(),
        configmap,
        slo,
    }
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target::shipped()
    }

    fn inside() -> Inside {
        Inside {
            version: "0.1.0".into(),
            health: "healthy".into(),
            health_problems: vec![],
            draining: false,
            breakers: vec![],
            in_flight: 0,
            max_in_flight: Some(256),
            rate_limit_rps: Some(1000),
            routing: Some(Routing {
                version: 3,
                phase: "canary".into(),
                hierarchical_percent: 5.0,
            }),
        }
    }

    fn view(pod: &str, i: Result<Inside, &str>) -> PodView {
        PodView {
            pod: pod.into(),
            image: Some("docker://sha256:aaa".into()),
            follows: Some("configmap:hal9/hal9-migration".into()),
            inside: i.map_err(String::from),
        }
    }

    fn canary() -> Written {
        Written::Doc(Routing {
            version: 3,
            phase: "canary".into(),
            hierarchical_percent: 5.0,
        })
    }

    #[test]
    fn the_runtimes_bodies_are_read_and_a_body_without_the_contract_is_an_error() {
        let health = json!({"status": "degraded", "checks": [
            {"name": "neurons", "status": "degraded", "detail": "1 of 3 down"},
            {"name": "loop", "status": "healthy", "detail": "ok"}]});
        let status = json!({"version": "0.1.0", "draining": true, "in_flight": 3,
            "limits": {"max_in_flight": 4, "rate_limit_rps": 10},
            "neurons": [{"id": "a", "breaker": "open"}, {"id": "b", "breaker": "closed"}, {"id": "c"}],
            "migration": {"version": 2, "phase": "shadow", "hierarchical_percent": 0.0}});
        let i = inside_of(&health, &status).unwrap();
        assert_eq!(i.health_problems, vec!["neurons: 1 of 3 down"]);
        assert_eq!(i.breakers, vec!["a open"]);
        assert!(i.draining);
        assert_eq!((i.in_flight, i.max_in_flight), (3, Some(4)));
        assert_eq!(i.routing.unwrap().phase, "shadow");
        assert!(inside_of(&json!({}), &status).is_err());
        assert!(inside_of(&health, &json!({"version": "x"})).is_err());
    }

    #[test]
    fn a_pod_that_cannot_be_read_is_unknown_never_ok() {
        let c = inside_check(
            &[
                view("a", Ok(inside())),
                view("b", Err("no answer within 5 s")),
            ],
            &target(),
            false,
        );
        assert_eq!(c.status, Mark::Unknown, "{c:?}");
        assert!(
            c.detail
                .contains("pod b: could not be read (no answer within 5 s)"),
            "{c:?}"
        );
        assert!(
            c.next
                .as_deref()
                .unwrap()
                .contains("pods/b:8080/proxy/health"),
            "{c:?}"
        );
    }

    #[test]
    fn draining_breakers_unhealthy_and_limits_are_named_per_pod() {
        let mut draining = inside();
        draining.draining = true;
        let mut breaker = inside();
        breaker.breakers = vec!["cmd open".into()];
        let c = inside_check(
            &[
                view("a", Ok(draining.clone())),
                view("b", Ok(draining)),
                view("c", Ok(breaker)),
            ],
            &target(),
            false,
        );
        assert_eq!(c.status, Mark::Warn, "{c:?}");
        assert!(
            c.detail
                .starts_with("2 pods: draining; pod c: breaker cmd open"),
            "{c:?}"
        );
        assert!(
            c.detail.contains("3 pods: limits 256 in flight, 1000 rps"),
            "{c:?}"
        );

        let mut sick = inside();
        sick.health = "unhealthy".into();
        sick.health_problems = vec!["neurons: 3 of 3 down".into()];
        let c = inside_check(
            &[view("a", Ok(inside())), view("b", Ok(sick))],
            &target(),
            false,
        );
        assert_eq!(c.status, Mark::Fail, "{c:?}");
        assert!(
            c.detail.contains("pod b: unhealthy: neurons: 3 of 3 down"),
            "{c:?}"
        );
        assert!(
            c.next
                .as_deref()
                .unwrap()
                .contains("kubectl logs -n hal9 b"),
            "{c:?}"
        );

        let mut full = inside();
        full.in_flight = 256;
        let c = inside_check(&[view("a", Ok(full))], &target(), false);
        assert_eq!(c.status, Mark::Warn);
        assert!(
            c.next
                .as_deref()
                .unwrap()
                .starts_with("hal9ctl scale --emergency --cluster")
        );
        let c = inside_check(&[view("a", Ok(inside()))], &target(), false);
        assert_eq!(c.status, Mark::Ok, "{c:?}");
        assert!(
            c.detail.contains("pod a: limits 256 in flight, 1000 rps"),
            "{c:?}"
        );
    }

    #[test]
    fn two_builds_are_skew_and_mid_rollout_skew_only_waits() {
        let mut other = view("c", Ok(inside()));
        other.image = Some("docker://sha256:bbb".into());
        let pods = [view("a", Ok(inside())), view("b", Ok(inside())), other];
        let c = skew_check(&pods, false, "app=hal9", &target());
        assert_eq!(c.status, Mark::Warn, "{c:?}");
        assert!(c.detail.starts_with("2 different builds: 2 pods: 0.1.0 (docker://sha256:aaa); pod c: 0.1.0 (docker://sha256:bbb)"), "{c:?}");
        assert!(
            c.next.as_deref().unwrap().starts_with("needs a human"),
            "{c:?}"
        );
        let c = skew_check(&pods, true, "app=hal9", &target());
        assert!(c.next.as_deref().unwrap().ends_with("--wait 5m"), "{c:?}");
        let mut newer = inside();
        newer.version = "0.2.0".into();
        let c = skew_check(
            &[view("a", Ok(inside())), view("b", Ok(newer))],
            false,
            "app=hal9",
            &target(),
        );
        assert_eq!(c.status, Mark::Warn, "{c:?}");
        let c = skew_check(&pods[..2], false, "app=hal9", &target());
        assert_eq!(c.status, Mark::Ok, "{c:?}");
        assert_eq!(c.detail, "2 pod(s) run 0.1.0 (docker://sha256:aaa)");
    }

    #[test]
    fn a_pod_off_the_configmaps_state_or_not_following_it_is_named() {
        let mut lagging = inside();
        lagging.routing = Some(Routing {
            version: 2,
            phase: "ramp_up".into(),
            hierarchical_percent: 75.0,
        });
        let c = agreement_check(
            &canary(),
            &[view("a", Ok(inside())), view("b", Ok(lagging))],
            &target(),
        );
        assert_eq!(c.status, Mark::Fail, "{c:?}");
        assert!(
            c.detail.contains("disagrees with the ConfigMap's version 3 canary at 5.00 %: b runs version 2 ramp_up at 75.00 %"),
            "{c:?}"
        );
        assert!(
            c.next
                .as_deref()
                .unwrap()
                .starts_with("kubectl delete pod b -n hal9"),
            "{c:?}"
        );

        // Numbers that match by chance do not make a pod that follows nothing agree.
        let mut stray = view("s", Ok(inside()));
        stray.follows = None;
        let c = agreement_check(&canary(), &[view("a", Ok(inside())), stray], &target());
        assert_eq!(c.status, Mark::Fail, "{c:?}");
        assert!(c.detail.contains("does not follow the ConfigMap"), "{c:?}");
        assert!(
            c.detail.contains(": s (runs version 3 canary at 5.00 %)"),
            "{c:?}"
        );
        assert!(
            c.next.as_deref().unwrap().starts_with("needs a human"),
            "{c:?}"
        );

        let c = agreement_check(&canary(), &[view("a", Err("refused"))], &target());
        assert_eq!(c.status, Mark::Unknown, "{c:?}");
        let c = agreement_check(&canary(), &[view("a", Ok(inside()))], &target());
        assert_eq!(c.status, Mark::Ok, "{c:?}");
        let c = agreement_check(&Written::Absent, &[view("a", Ok(inside()))], &target());
        assert_eq!(c.status, Mark::Ok, "{c:?}");
        let c = agreement_check(&Written::Unreadable("forbidden".into()), &[], &target());
        assert_eq!(c.status, Mark::Unknown, "{c:?}");
    }

    #[test]
    fn the_json_facts_say_error_beside_the_value() {
        let f = InsideFacts {
            pods: vec![view("a", Ok(inside())), view("b", Err("refused"))],
            configmap: canary(),
            slo: vec![("a".into(), Err("refused".into()))],
        };
        let v = f.to_json();
        assert_eq!(v["pods"][0]["inside"]["version"], "0.1.0", "{v}");
        assert!(v["pods"][0]["error"].is_null(), "{v}");
        assert_eq!(v["pods"][1]["error"], "refused", "{v}");
        assert_eq!(v["configmap"]["migration"]["phase"], "canary", "{v}");
        assert_eq!(v["slo"][0]["error"], "refused", "{v}");
    }

    #[test]
    fn per_pod_slo_failures_name_the_pod_and_advise_for_the_cluster() {
        let slow = vec![
            Check::ok("slo signals", "fine"),
            Check::fail("slo p99 latency", "p99 900 ms", "hal9ctl scale --emergency"),
        ];
        let c = slo_check(
            &[
                (
                    "a".into(),
                    Ok(vec![Check::ok("slo p99 latency", "p99 3 ms")]),
                ),
                ("b".into(), Ok(slow)),
                ("c".into(), Err("refused".into())),
            ],
            &target(),
            false,
        );
        assert_eq!(c.status, Mark::Fail, "{c:?}");
        assert!(
            c.detail
                .starts_with("pod b: slo p99 latency: p99 900 ms; pod c: not judged (refused)"),
            "{c:?}"
        );
        assert_eq!(
            c.next.as_deref(),
            Some("hal9ctl scale --emergency --cluster -n hal9 --deployment hal9-server")
        );
        let c = slo_check(
            &[(
                "a".into(),
                Ok(vec![Check::fail("slo error rate", "5 %", "x")]),
            )],
            &target(),
            false,
        );
        assert!(
            c.next
                .as_deref()
                .unwrap()
                .contains("kubectl logs -n hal9 a"),
            "{c:?}"
        );
        let c = slo_check(&[("a".into(), Err("refused".into()))], &target(), false);
        assert_eq!(c.status, Mark::Unknown, "{c:?}");
        let c = slo_check(
            &[("a".into(), Ok(vec![Check::ok("slo signals", "quiet")]))],
            &target(),
            false,
        );
        assert_eq!(c.status, Mark::Ok, "{c:?}");
    }
}
