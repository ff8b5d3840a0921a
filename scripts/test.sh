#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script):
# formatting, clippy, then every test, with a real Kubernetes control plane on
# loopback for the cluster tests and a real Docker Engine for the container
# tests (they fail, never skip, when either is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

# Test prerequisites from Debian: python3 for squatter/pre-fork test listeners
# (and the node's API relay), gcc and libc6-dev for the node's static pause binary.
{ command -v gcc >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/libc.a ]; } || { apt-get update >/dev/null && apt-get install -y --no-install-recommends gcc libc6-dev >/dev/null; }
command -v python3 >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends python3 >/dev/null; }
# unshare(1) and mount(8) for the disk tests' bind mounts and user namespaces.
{ command -v unshare && command -v mount; } >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends util-linux mount >/dev/null; }

# promtool (Debian's prometheus) lints /metrics and `health -o prometheus` in the on-call tests.
command -v promtool >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus >/dev/null; }

# man(1) for the man page tests, which render man/*.1 the way an operator reads them.
command -v man >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends man-db >/dev/null; }

# systemd-analyze for the unit file test (systemd need not be PID 1).
command -v systemd-analyze >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends systemd >/dev/null; }

plane=$(mktemp -d /tmp/hal9-k8s-ci.XXXXXX)
engine=$(mktemp -d /tmp/hal9-docker-ci.XXXXXX)
prereq_pid=""
trap '[ -z "$prereq_pid" ] || kill -- "-$prereq_pid" 2>/dev/null; scripts/docker-engine.sh stop "$engine"; scripts/k8s-control-plane.sh stop "$plane"' EXIT

# The cached prerequisites (the four Kubernetes binaries from Debian's source,
# the debootstrapped base image) build in the background while cargo compiles:
# on a fresh machine they fill cargo's single-threaded stretches and the
# downloads overlap the compiles. Warm, both return at once.
# setsid: its own process group, so an early exit stops the builds with it.
prereq_log=$(mktemp /tmp/hal9-prereq-build.XXXXXX)
setsid bash -c 'scripts/k8s-control-plane.sh build all && scripts/k8s-node.sh base-image' >"$prereq_log" 2>&1 &
prereq_pid=$!

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo build --locked --bin hal9ctl
cargo test --all-targets --locked --no-run

if ! wait "$prereq_pid"; then
    prereq_pid=""
    cat "$prereq_log" >&2
    echo "test.sh: building the cluster prerequisites failed (log above)" >&2
    exit 1
fi
prereq_pid=""
cat "$prereq_log" >&2
rm -f "$prereq_log"
scripts/k8s-control-plane.sh start "$plane"
export HAL9_TEST_KUBECONFIG="$plane/kubeconfig"
# A real node (kube-scheduler, kubelet, its own dockerd on its own bridge) and
# the runtime image built from ./Dockerfile with the binary the tests run.
# The plane's `stop` (the trap above) stops the node first.
scripts/k8s-node.sh start "$plane"
scripts/k8s-node.sh image "$plane" target/debug/hal9ctl
eval "$(grep -E '^export HAL9_TEST_(NODE|NODE_IP|IMAGE|POD_API_HOST|POD_API_PORT|DOCKER_HOST_NODE)=' "$plane/env")"
# Installs docker.io and busybox-static when missing; the tests get its socket
# and image, but not DOCKER_HOST, so hal9ctl must find the engine by itself.
scripts/docker-engine.sh start "$engine"
export HAL9_TEST_DOCKER_HOST="unix://$engine/docker.sock"
export HAL9_TEST_DOCKER_IMAGE=hal9-test/busybox:local

cargo test --all-targets --locked
# The install test: the .deb of the debug binary built above, dpkg -i'd in a
# private mount namespace (scripts/package-test.sh says why and how).
scripts/package-test.sh
