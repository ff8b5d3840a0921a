#!/usr/bin/env bash
# Failed client requests during a rolling restart of 3 real pods: runs the
# real-pod test real_pods_restart (tests/it/cluster/real_pods_restart.rs) on
# a test control plane with a real node, and prints its figures: requests
# sent through the API server's Service proxy by 4 back-to-back clients,
# how many failed, the whole run's and the restart's duration, and per old
# pod the seconds from deletion to the runtime's exit 0.
#
#   benches/restart_traffic.sh [RUNS]      (default 1)
#
# Uses the plane HAL9_TEST_KUBECONFIG names when its node's HAL9_TEST_* are
# exported too (scripts/test.sh's environment); otherwise starts a plane and
# node of its own in a temp dir and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
own=""
cleanup() { [ -z "$own" ] || scripts/k8s-control-plane.sh stop "$own" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cargo build --quiet --locked --bin hal9ctl
if [ -z "${HAL9_TEST_KUBECONFIG:-}" ] || [ -z "${HAL9_TEST_NODE:-}" ]; then
    own=$(mktemp -d /tmp/hal9-restart-bench.XXXXXX)
    scripts/k8s-control-plane.sh start "$own"
    scripts/k8s-node.sh start "$own"
    eval "$(grep -E '^export (HAL9_TEST_KUBECONFIG|HAL9_TEST_(NODE|NODE_IP|IMAGE|POD_API_HOST|POD_API_PORT|DOCKER_HOST_NODE))=' "$own/env")"
fi
scripts/k8s-node.sh image "$(dirname "$HAL9_TEST_KUBECONFIG")" target/debug/hal9ctl
for i in $(seq 1 "$runs"); do
    echo "run $i of $runs:"
    cargo test --quiet --locked --test it real_pods_restart -- --nocapture 2>&1 | grep '^restart_traffic:' || {
        echo "the test failed: cargo test --test it real_pods_restart -- --nocapture" >&2
        exit 1
    }
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
