#!/usr/bin/env bash
# Time from "the new pod is ready" to hal9ctl's verdict: `hal9ctl scale
# --cluster --replicas N+1 --wait 60s` on a stand-in Deployment (its pods
# name a scheduler nothing serves; this script marks the new pod Ready
# itself, as the tests' stand-in kubelet does), ROUNDS rounds per binary.
# The clock starts when the status patch has returned and stops when
# hal9ctl exits, so it holds the controller's status update, hal9ctl's
# noticing, its re-read of the HPA and its exit.
#
#   benches/wait_notice.sh [PLANE] [BIN ...]      ROUNDS=10 by default
#
# PLANE: a directory where scripts/k8s-control-plane.sh runs (no node
# needed); without it the script starts its own and stops it at the end.
# BIN: the hal9ctl binaries to compare (default target/debug/hal9ctl).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
own_plane=
plane=${1:-}
[ $# -gt 0 ] && shift
if [ -z "$plane" ]; then
    plane=$(mktemp -d /tmp/hal9-notice-bench.XXXXXX)
    own_plane=1
fi
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$root/target/debug/hal9ctl")
rounds=${ROUNDS:-10}
work=$(mktemp -d /tmp/hal9-notice-work.XXXXXX)
ns=hal9-bench-notice-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
cleanup() {
    kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
    if [ -n "$own_plane" ]; then scripts/k8s-control-plane.sh stop "$plane" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if [ -n "$own_plane" ]; then
    scripts/k8s-control-plane.sh start "$plane" >&2
fi
export KUBECONFIG="$plane/kubeconfig" HAL9_STATE_DIR="$work/state" HOME="$work"
mkdir -p "$work/state"
now() { date +%s.%N; }

kubectl create namespace "$ns" >/dev/null
kubectl -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench}
spec:
  replicas: 0
  selector: {matchLabels: {app.kubernetes.io/name: bench}}
  template:
    metadata: {labels: {app.kubernetes.io/name: bench}}
    spec:
      schedulerName: hal9-stand-in
      containers: [{name: hal9, image: "hal9ctl:test"}]
EOF
ready='{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"},{"type":"ContainersReady","status":"True"},{"type":"PodScheduled","status":"True"}],"containerStatuses":[{"name":"hal9","image":"hal9ctl:test","imageID":"","ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}'

n=0
for bin in "${bins[@]}"; do
    : >"$work/times"
    for _ in $(seq "$rounds"); do
        n=$((n + 1))
        "$bin" scale --cluster -n "$ns" --deployment bench --replicas "$n" --wait 60s -o json \
            >"$work/out" 2>"$work/err" &
        pid=$!
        new=
        while [ -z "$new" ]; do
            new=$(kubectl -n "$ns" get pods -o jsonpath='{range .items[?(@.status.phase!="Running")]}{.metadata.name}{"\n"}{end}' | head -1)
            [ -n "$new" ] || sleep 0.2
        done
        # hal9ctl is in its wait by now; the ready pod is what it waits for.
        sleep 2
        kubectl -n "$ns" patch pod "$new" --subresource=status --type=merge -p "$ready" >/dev/null
        t0=$(now)
        rc=0
        wait "$pid" || rc=$?
        t1=$(now)
        [ "$rc" -eq 0 ] || { echo "$bin exited $rc:" >&2; cat "$work/err" >&2; exit 1; }
        awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b-a}' >>"$work/times"
    done
    sort -n "$work/times" | awk -v bin="$bin" '{v[NR]=$1} END {
        printf "%-60s rounds %d  median %.3f s  min %.3f s  max %.3f s\n", bin, NR, v[int((NR+1)/2)], v[1], v[NR]}'
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
