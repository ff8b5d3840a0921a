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

# rsync for the cache of compiled crates (scripts/cargo-deps-cache.sh).
command -v rsync >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends rsync >/dev/null; }

# promtool (Debian's prometheus) lints /metrics and `health -o prometheus` in the on-call tests.
command -v promtool >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus >/dev/null; }

# man(1) for the man page tests, which render man/*.1 the way an operator reads them.
command -v man >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends man-db >/dev/null; }

# systemd-analyze for the unit file test (systemd need not be PID 1).
command -v systemd-analyze >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends systemd >/dev/null; }

# The seconds each phase took, printed at the end (also after a failure):
# the warm budget (BENCHMARKS.md, "Test suite wall time") is checked against it.
t_suite=$SECONDS
phases=()
phase() {
    local name=$1 t0=$SECONDS
    shift
    "$@"
    phases+=("$(printf '%4d s  %s' $((SECONDS - t0)) "$name")")
}
report() {
    printf 'test.sh: %s\n' "${phases[@]}" >&2
    printf 'test.sh: %4d s  total\n' $((SECONDS - t_suite)) >&2
}

plane=$(mktemp -d /tmp/hal9-k8s-ci.XXXXXX)
engine=$(mktemp -d /tmp/hal9-docker-ci.XXXXXX)
logs=$(mktemp -d /tmp/hal9-ci-logs.XXXXXX)
bg_pids=()
cleanup() {
    local rc=$?
    # A job still running (after a failure) is stopped with its whole
    # process group (each runs under setsid), so no start starts processes
    # after the stop below; the stops then remove what its pid files name.
    local p
    for p in "${bg_pids[@]}"; do
        { kill -0 "$p" 2>/dev/null && kill -TERM -- "-$p" 2>/dev/null; } || true
    done
    [ ${#bg_pids[@]} -eq 0 ] || wait "${bg_pids[@]}" 2>/dev/null || true
    scripts/docker-engine.sh stop "$engine"
    scripts/k8s-control-plane.sh stop "$plane"
    rm -rf "$logs"
    report
    exit "$rc"
}
trap cleanup EXIT
# `wait` for a background phase; its log goes to stderr when it failed.
await() {
    local name=$1 pid=$2 log=$3
    wait "$pid" || { tail -40 "$log" >&2; echo "test.sh: $name failed (log above)" >&2; exit 1; }
}

# The control plane, its node and the container tests' engine start in the
# background while cargo checks and builds: they wait on etcd, the kubelet and
# dockerd, not on the CPU. apt-get runs in one place at a time (dpkg's lock):
# docker.io is installed here, first; the plane's and the node's own installs
# run one after the other in their job.
scripts/docker-engine.sh install
# A real node (kube-scheduler, kubelet, its own dockerd on its own bridge).
# The plane's `stop` (the trap above) stops the node first.
# On a fresh machine the job first builds the four Kubernetes binaries from
# Debian's source in one make (one go install: the vendor tree they share is
# compiled once) and debootstraps the image's base, while cargo compiles;
# warm, both are cached and return at once.
t_bg=$SECONDS
setsid bash -c 'scripts/k8s-control-plane.sh build all && scripts/k8s-node.sh base-image &&
    scripts/k8s-control-plane.sh start "$1" && scripts/k8s-node.sh start "$1"' plane "$plane" >"$logs/plane.log" 2>&1 &
plane_job=$!
bg_pids+=("$plane_job")
# Its socket and image, but not DOCKER_HOST, go to the tests: hal9ctl must
# find the engine by itself.
setsid scripts/docker-engine.sh start "$engine" >"$logs/engine.log" 2>&1 &
engine_job=$!
bg_pids+=("$engine_job")

# A clean clone (CI) starts from the cached third-party builds, when there are any.
phase deps-restore scripts/cargo-deps-cache.sh restore
phase fmt cargo fmt --all -- --check
phase clippy cargo clippy --all-targets --locked -- -D warnings
# Every test binary, then the runtime binary (its features differ: no
# dev-dependencies), before anything runs.
build_tests() { cargo test --all-targets --locked --no-run 2>&1 | tee "$logs/build.log"; }
phase build build_tests
it_bin=$(sed -n 's|^ *Executable tests/it/main.rs (\(.*\))$|\1|p' "$logs/build.log")
[ -x "$it_bin" ] || { echo "test.sh: no tests/it binary named in cargo's output" >&2; exit 1; }
phase build-bin cargo build --locked --bin hal9ctl
phase deps-save scripts/cargo-deps-cache.sh save
# The image gets a copy: every cargo command relinks target/debug/hal9ctl.
cp target/debug/hal9ctl "$logs/hal9ctl"

# The install test (scripts/package-test.sh says why and how): the .deb of the
# debug binary built above, dpkg -i'd in a private mount namespace. It needs
# neither the plane nor the engine, so it runs while they start; it is waited
# for before the tests, because its `cargo deb` relinks target/debug/hal9ctl,
# the binary the tests run.
setsid scripts/package-test.sh >"$logs/package.log" 2>&1 &
package_job=$!
bg_pids+=("$package_job")

phase "plane+node (started $((SECONDS - t_bg)) s ago)" await plane+node "$plane_job" "$logs/plane.log"
export HAL9_TEST_KUBECONFIG="$plane/kubeconfig"
# The runtime image, built from ./Dockerfile with the binary `cargo build` made.
phase image scripts/k8s-node.sh image "$plane" "$logs/hal9ctl"
eval "$(grep -E '^export HAL9_TEST_(NODE|NODE_IP|IMAGE|POD_API_HOST|POD_API_PORT|DOCKER_HOST_NODE)=' "$plane/env")"
phase engine await docker-engine "$engine_job" "$logs/engine.log"
export HAL9_TEST_DOCKER_HOST="unix://$engine/docker.sock"
export HAL9_TEST_DOCKER_IMAGE=hal9-test/busybox:local
phase package-test await package-test "$package_job" "$logs/package.log"
grep 'package-test:' "$logs/package.log" >&2 || true

# Unit tests, the examples' and the benches' own mains first: they are quick.
phase unit-tests cargo test --lib --bins --examples --benches --locked

# Most integration tests wait (pods becoming Ready, drains, timeouts), so far
# more of them than cores run at once (RUST_TEST_THREADS overrides it; 8 was
# tried once, on a machine at load 30-70, see BENCHMARKS.md).
# tests/it/cluster/node.rs keeps the real pods of concurrent tests within the
# node's cpu.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}"
# The longest test is all cpu (20 000 signals through a debug build, minutes);
# libtest starts tests in name order, which would start it near the end. So it
# runs from the start, in a process of its own, next to the others.
memory_test=runtime_bounds::memory_stays_bounded_after_20000_distinct_60k_signals
integration() {
    cargo test --test it --locked -- --skip "$memory_test" > >(tee "$logs/it.log") 2>&1 &
    local it_job=$!
    bg_pids+=("$it_job")
    # Only once cargo runs the binary: cargo relinks target/debug/hal9ctl
    # (the binary both processes spawn) before it does.
    until grep -q '^running [0-9]* tests' "$logs/it.log" 2>/dev/null; do
        kill -0 "$it_job" 2>/dev/null || break
        sleep 0.5
    done
    "$it_bin" --exact "$memory_test" --nocapture >"$logs/memory.log" 2>&1 &
    local memory_job=$!
    bg_pids+=("$memory_job")
    local rc=0
    wait "$it_job" || rc=1
    wait "$memory_job" || { rc=1; cat "$logs/memory.log" >&2; }
    grep -E '^(RSS|test result)' "$logs/memory.log" >&2 || true
    return "$rc"
}
phase integration-tests integration
