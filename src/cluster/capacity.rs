//! Will a rolling update find room for its surge pods? The scheduler places
//! each pod on one node, so a cluster-wide sum of free CPU says nothing: a
//! surge pod needs one node with enough free room for the whole pod.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;

use super::Kube;
use super::quantity::{Resources, parse_quantity, pods_that_fit};

/// What one node can still give a new pod: allocatable minus the requests of
/// the pods already bound to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeRoom {
    pub name: String,
    pub allocatable: Resources,
    pub requested: Resources,
}

impl NodeRoom {
    pub fn free(&self) -> Resources {
        Resources {
            cpu_milli: self.allocatable.cpu_milli - self.requested.cpu_milli,
            memory_bytes: self.allocatable.memory_bytes - self.requested.memory_bytes,
        }
    }

    fn fits(&self, pod: Resources) -> bool {
        let f = self.free();
        f.cpu_milli >= pod.cpu_milli && f.memory_bytes >= pod.memory_bytes
    }
}

/// How a RollingUpdate moves, resolved against the replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SurgeStrategy {
    pub max_surge: i32,
    pub max_unavailable: i32,
    /// `Recreate` deletes every old pod first, so it never needs room.
    pub recreate: bool,
}

/// The verdict on a rollout before it starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum SurgeFit {
    /// A surge pod fits on a node (or none is needed).
    Fits,
    /// maxUnavailable 0 and no node has room for one surge pod: the rollout
    /// can never make its first step.
    Blocked {
        reason: String,
        options: Vec<String>,
    },
    /// The nodes could not be read (RBAC, none registered, no requests).
    Unknown { reason: String },
}

/// Kubernetes' own rounding: maxSurge rounds up, maxUnavailable rounds down,
/// and both 0 reads as maxUnavailable 1 (the API server refuses it anyway).
pub fn resolve_strategy(d: &Deployment) -> SurgeStrategy {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let spec = d.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
    let strat = spec.and_then(|s| s.strategy.as_ref());
    let recreate = strat.and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let ru = strat.and_then(|s| s.rolling_update.as_ref());
    let resolve = |v: Option<&IntOrString>, round_up: bool| -> i32 {
        match v {
            None => {
                let pct = 25.0 * f64::from(replicas) / 100.0;
                (if round_up { pct.ceil() } else { pct.floor() }) as i32
            }
            Some(IntOrString::Int(n)) => *n,
            Some(IntOrString::String(s)) => {
                let pct = s
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .unwrap_or(25.0)
                    .max(0.0);
                let n = pct * f64::from(replicas) / 100.0;
                (if round_up { n.ceil() } else { n.floor() }) as i32
            }
        }
    };
    let max_surge = resolve(ru.and_then(|r| r.max_surge.as_ref()), true);
    let mut max_unavailable = resolve(ru.and_then(|r| r.max_unavailable.as_ref()), false);
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    SurgeStrategy {
        max_surge,
        max_unavailable,
        recreate,
    }
}

fn gib(b: f64) -> f64 {
    b / 1073741824.0
}

/// Decide, on plain data, whether the first step of a rolling update can be
/// taken. `nodes` is `None` when they could not be read.
pub fn surge_fit(
    deployment: &str,
    strategy: SurgeStrategy,
    per_pod: Resources,
    nodes: Option<&[NodeRoom]>,
) -> SurgeFit {
    // An old pod may go first, and its room is the new pod's.
    if strategy.recreate || strategy.max_unavailable > 0 {
        return SurgeFit::Fits;
    }
    if per_pod.cpu_milli <= 0.0 && per_pod.memory_bytes <= 0.0 {
        return SurgeFit::Fits;
    }
    let Some(nodes) = nodes else {
        return SurgeFit::Unknown {
            reason: "cannot list nodes and their pods, so whether a surge pod fits was not checked"
                .into(),
        };
    };
    if nodes.is_empty() {
        return SurgeFit::Unknown {
            reason: "no node is registered, so whether a surge pod fits was not checked".into(),
        };
    }
    if nodes.iter().any(|n| n.fits(per_pod)) {
        return SurgeFit::Fits;
    }
    let best = nodes.iter().map(|n| {
        let f = n.free();
        format!(
            "{} has {:.0}m CPU and {:.2} GiB free",
            n.name,
            f.cpu_milli.max(0.0),
            gib(f.memory_bytes.max(0.0))
        )
    });
    SurgeFit::Blocked {
        reason: format!(
            "the rollout of {deployment} can never start: maxUnavailable is 0, so it first needs a surge pod ({:.0}m CPU, {:.2} GiB memory), and no node has room for it ({})",
            per_pod.cpu_milli,
            gib(per_pod.memory_bytes),
            best.collect::<Vec<_>>().join("; ")
        ),
        options: vec![
            format!(
                "let one old pod go first: kubectl patch deployment/{deployment} -p '{{\"spec\":{{\"strategy\":{{\"rollingUpdate\":{{\"maxUnavailable\":1}}}}}}}}'"
            ),
            "free or add a node with that much room".into(),
            "go ahead anyway (the rollout will wait for room): add --force".into(),
        ],
    }
}

/// How many more pods of `per_pod` the nodes can take, node by node: the
/// room left on each node counts only in whole pods. `None` if the pod
/// requests nothing.
pub fn placeable(per_pod: Resources, nodes: &[NodeRoom]) -> Option<i64> {
    if per_pod.cpu_milli <= 0.0 && per_pod.memory_bytes <= 0.0 {
        return None;
    }
    Some(
        nodes
            .iter()
            .filter_map(|n| {
                let f = n.free();
                let clamp = Resources {
                    cpu_milli: f.cpu_milli.max(0.0),
                    memory_bytes: f.memory_bytes.max(0.0),
                };
                pods_that_fit(per_pod, clamp)
            })
            .sum(),
    )
}

/// The sum of the requests of a pod's containers.
pub fn pod_spec_requests(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Resources {
    let mut r = Resources::default();
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or(&[]) {
        if let Some(req) = c.resources.as_ref().and_then(|x| x.requests.as_ref()) {
            r.cpu_milli += req
                .get("cpu")
                .and_then(|q| parse_quantity(&q.0, true))
                .unwrap_or(0.0);
            r.memory_bytes += req
                .get("memory")
                .and_then(|q| parse_quantity(&q.0, false))
                .unwrap_or(0.0);
        }
    }
    r
}

fn allocatable(n: &Node) -> Resources {
    let a = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let get = |k: &str, cpu: bool| {
        a.and_then(|a| a.get(k))
            .and_then(|q| parse_quantity(&q.0, cpu))
            .unwrap_or(0.0)
    };
    Resources {
        cpu_milli: get("cpu", true),
        memory_bytes: get("memory", false),
    }
}

fn unschedulable(n: &Node) -> bool {
    n.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

/// Room on every schedulable node, from the nodes and every bound,
/// unfinished pod in the cluster. `None` when either list is refused: a
/// namespaced operator Role may not see them, and that is "unknown".
pub async fn node_rooms(kube: &Kube) -> Option<Vec<NodeRoom>> {
    let nodes: Api<Node> = Api::all(kube.client.clone());
    let pods: Api<Pod> = Api::all(kube.client.clone());
    let all = ListParams::default();
    let unfinished = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    let (nodes, pods) = tokio::try_join!(nodes.list(&all), pods.list(&unfinished)).ok()?;
    Some(rooms(&nodes.items, &pods.items))
}

/// The pure half of [`node_rooms`].
pub fn rooms(nodes: &[Node], pods: &[Pod]) -> Vec<NodeRoom> {
    nodes
        .iter()
        .filter(|n| !unschedulable(n))
        .map(|n| {
            let name = n.metadata.name.clone().unwrap_or_default();
            let mut requested = Resources::default();
            for p in pods {
                if p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str()) {
                    let r = pod_spec_requests(p.spec.as_ref());
                    requested.cpu_milli += r.cpu_milli;
                    requested.memory_bytes += r.memory_bytes;
                }
            }
            NodeRoom {
                name,
                allocatable: allocatable(n),
                requested,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GI: f64 = 1073741824.0;

    fn room(name: &str, cpu: f64, used: f64) -> NodeRoom {
        NodeRoom {
            name: name.into(),
            allocatable: Resources {
                cpu_milli: cpu,
                memory_bytes: 8.0 * GI,
            },
            requested: Resources {
                cpu_milli: used,
                memory_bytes: GI,
            },
        }
    }

    fn pod(cpu: f64) -> Resources {
        Resources {
            cpu_milli: cpu,
            memory_bytes: 0.5 * GI,
        }
    }

    const SURGE_ONLY: SurgeStrategy = SurgeStrategy {
        max_surge: 1,
        max_unavailable: 0,
        recreate: false,
    };

    #[test]
    fn a_full_node_blocks_a_surge_only_rollout_with_numbers_and_options() {
        let nodes = [room("node-a", 2000.0, 2000.0)];
        match surge_fit("hal9-server", SURGE_ONLY, pod(1000.0), Some(&nodes)) {
            SurgeFit::Blocked { reason, options } => {
                assert!(reason.contains("maxUnavailable is 0"), "{reason}");
                assert!(reason.contains("1000m CPU"), "{reason}");
                assert!(reason.contains("node-a has 0m CPU"), "{reason}");
                assert!(options.iter().any(|o| o.contains("maxUnavailable\":1")));
                assert!(options.iter().any(|o| o.contains("--force")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sum_of_free_cpu_over_nodes_is_not_room() {
        // 600m free on each of two nodes is 1200m in all, but no 1000m pod fits.
        let nodes = [room("a", 2000.0, 1400.0), room("b", 2000.0, 1400.0)];
        assert!(matches!(
            surge_fit("d", SURGE_ONLY, pod(1000.0), Some(&nodes)),
            SurgeFit::Blocked { .. }
        ));
        let nodes = [room("a", 2000.0, 1400.0), room("b", 2000.0, 1000.0)];
        assert_eq!(
            surge_fit("d", SURGE_ONLY, pod(1000.0), Some(&nodes)),
            SurgeFit::Fits
        );
    }

    #[test]
    fn memory_alone_can_block() {
        let mut n = room("a", 4000.0, 0.0);
        n.requested.memory_bytes = 7.8 * GI;
        assert!(matches!(
            surge_fit("d", SURGE_ONLY, pod(100.0), Some(&[n])),
            SurgeFit::Blocked { .. }
        ));
    }

    #[test]
    fn max_unavailable_or_recreate_never_needs_room() {
        let full = [room("a", 2000.0, 2000.0)];
        let s = SurgeStrategy {
            max_unavailable: 1,
            ..SURGE_ONLY
        };
        assert_eq!(surge_fit("d", s, pod(1000.0), Some(&full)), SurgeFit::Fits);
        let s = SurgeStrategy {
            recreate: true,
            ..SURGE_ONLY
        };
        assert_eq!(surge_fit("d", s, pod(1000.0), Some(&full)), SurgeFit::Fits);
    }

    #[test]
    fn unreadable_or_missing_nodes_are_unknown_not_blocked() {
        assert!(matches!(
            surge_fit("d", SURGE_ONLY, pod(1000.0), None),
            SurgeFit::Unknown { .. }
        ));
        assert!(matches!(
            surge_fit("d", SURGE_ONLY, pod(1000.0), Some(&[])),
            SurgeFit::Unknown { .. }
        ));
        // A pod that requests nothing fits anywhere the scheduler looks.
        assert_eq!(
            surge_fit(
                "d",
                SURGE_ONLY,
                Resources::default(),
                Some(&[room("a", 1.0, 1.0)])
            ),
            SurgeFit::Fits
        );
    }

    #[test]
    fn strategies_resolve_the_way_the_controller_rounds() {
        let d = |replicas: i32, ru: serde_json::Value| -> Deployment {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "d"},
                "spec": {"replicas": replicas, "selector": {},
                         "strategy": {"type": "RollingUpdate", "rollingUpdate": ru},
                         "template": {}}
            }))
            .unwrap()
        };
        let s = resolve_strategy(&d(
            3,
            serde_json::json!({"maxSurge": 1, "maxUnavailable": 0}),
        ));
        assert_eq!((s.max_surge, s.max_unavailable), (1, 0));
        // The defaults, 25 % each: surge rounds up, unavailable down.
        let s = resolve_strategy(&d(3, serde_json::json!({})));
        assert_eq!((s.max_surge, s.max_unavailable), (1, 0));
        let s = resolve_strategy(&d(
            10,
            serde_json::json!({"maxSurge": "10%", "maxUnavailable": "15%"}),
        ));
        assert_eq!((s.max_surge, s.max_unavailable), (1, 1));
    }

    #[test]
    fn placeable_pods_count_whole_pods_per_node() {
        // 600m free on each of three nodes: 1800m in all, but no 1000m pod.
        let nodes = [
            room("a", 2000.0, 1400.0),
            room("b", 2000.0, 1400.0),
            room("c", 2000.0, 1400.0),
        ];
        assert_eq!(placeable(pod(1000.0), &nodes), Some(0));
        let nodes = [room("a", 4000.0, 1000.0), room("b", 2000.0, 2500.0)];
        assert_eq!(
            placeable(pod(1000.0), &nodes),
            Some(3),
            "an overcommitted node adds nothing"
        );
        assert_eq!(placeable(Resources::default(), &nodes), None);
    }

    #[test]
    fn rooms_count_only_pods_bound_to_the_node() {
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1"},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi"}}
        }))
        .unwrap();
        let p = |node: Option<&str>| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "p"},
                "spec": {"nodeName": node, "containers": [{"name": "c",
                    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]}
            }))
            .unwrap()
        };
        let r = rooms(
            &[node],
            &[p(Some("n1")), p(Some("n1")), p(None), p(Some("n2"))],
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].free().cpu_milli, 1000.0);
        assert_eq!(r[0].free().memory_bytes, 2.0 * GI);
    }
}
