#!/usr/bin/env bash
# The migration Lease across two operators, against a real API server:
#  1. how long a second operator waits to be refused while the first holds it;
#  2. how long after a kill -9 of the first the second takes over
#     (--steal-expired-lock, polled every 100 ms), with [lease] as configured.
#
#   benches/lease.sh                  # starts its own test control plane
#   KUBECONFIG=… benches/lease.sh     # or uses the cluster you point it at
#   LEASE_DURATION=15s RENEW_EVERY=5s benches/lease.sh   # the shipped default
#
# HAL9_BIN (default target/debug/hal9ctl) is the binary measured.
set -euo pipefail
cd "$(dirname "$0")/.."

LEASE_DURATION=${LEASE_DURATION:-15s}
RENEW_EVERY=${RENEW_EVERY:-5s}
REFUSALS=${REFUSALS:-20}
bin=${HAL9_BIN:-target/debug/hal9ctl}
[ -x "$bin" ] || cargo build --quiet --bin hal9ctl

work=$(mktemp -d /tmp/hal9-lease-bench.XXXXXX)
plane=""
first=""
cleanup() {
    [ -n "$first" ] && kill -9 "$first" 2>/dev/null || true
    [ -n "$plane" ] && scripts/k8s-control-plane.sh stop "$plane" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${KUBECONFIG:-}" ]; then
    plane="$work/plane"
    scripts/k8s-control-plane.sh start "$plane" >/dev/null
    export KUBECONFIG="$plane/kubeconfig"
fi
ns=hal9-lease-bench-$$
kubectl create namespace "$ns" >/dev/null
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; cleanup' EXIT
kubectl -n "$ns" create configmap hal9-migration --from-literal=migration.json='{"version":3,"phase":"full","hierarchical_percent":100.0,"flags":{"hierarchical_routing":true,"state_migration":true,"cognitive_layers":true,"protocol_layer":true,"substrate_layer":true,"intelligence_layer":true},"state_schema":2,"snapshots":["state_migration"]}' >/dev/null
kubectl -n "$ns" create deployment hal9-server --image=hal9ctl:test --replicas=0 >/dev/null
printf '[lease]\nduration = "%s"\nrenew_every = "%s"\n' "$LEASE_DURATION" "$RENEW_EVERY" >"$work/hal9.toml"
now_ms() { date +%s%3N; }

# Operator A: a slow gradual rollback that holds the Lease for minutes.
mkdir -p "$work/a" "$work/b"
HAL9_STATE_DIR="$work/a" "$bin" -c "$work/hal9.toml" rollback --cluster -n "$ns" --strategy gradual \
    --to-phase flat --steps 10 --interval 60s --yes >/dev/null 2>&1 &
first=$!
for _ in $(seq 1 300); do
    kubectl -n "$ns" get lease hal9-migration-lock -o jsonpath='{.spec.holderIdentity}' 2>/dev/null | grep -q ":$first:" && break
    sleep 0.1
done

# 1. Operator B is refused: wall time of the whole hal9ctl run, exit 2.
times=()
for _ in $(seq 1 "$REFUSALS"); do
    t0=$(now_ms)
    code=0
    HAL9_STATE_DIR="$work/b" "$bin" -c "$work/hal9.toml" migrate --cluster -n "$ns" --to-phase full --yes >/dev/null 2>"$work/refusal" || code=$?
    t1=$(now_ms)
    [ "$code" = 2 ] || { echo "expected exit 2, got $code: $(cat "$work/refusal")" >&2; exit 1; }
    times+=($((t1 - t0)))
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = sorted(int(x) for x in sys.argv[1:])
print(f"refusal of a second operator: median {statistics.median(t):.0f} ms, max {t[-1]} ms over {len(t)} runs (exit 2)")
PY
echo "  $(cat "$work/refusal")"

# 2. kill -9 A, then B polls with --steal-expired-lock until it holds the
#    Lease: here to abandon A's journal (quick; a --resume would run A's steps).
last_renew=$(kubectl -n "$ns" get lease hal9-migration-lock -o jsonpath='{.spec.renewTime}')
kill -9 "$first"
t_kill=$(now_ms)
first=""
tries=0
while :; do
    tries=$((tries + 1))
    code=0
    HAL9_STATE_DIR="$work/b" "$bin" -c "$work/hal9.toml" rollback --cluster -n "$ns" --abort \
        --steal-expired-lock --yes >/dev/null 2>"$work/takeover" || code=$?
    grep -q "hal9-migration-lock" "$work/takeover" || break
    sleep 0.1
done
t_took=$(now_ms)
echo "takeover after kill -9: $((t_took - t_kill)) ms after the kill ($tries attempts; lease duration $LEASE_DURATION, renew every $RENEW_EVERY; last renewal before the kill $last_renew); the takeover run exited $code"
