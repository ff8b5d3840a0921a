#!/usr/bin/env bash
# Time to verdict for a rolling restart whose new pods crash-loop, on the
# real test node, in one run: `hal9ctl restart --cluster` (which ends its wait
# as soon as the new ReplicaSet's pods crash-loop, src/cluster/stuck.rs)
# against `kubectl rollout restart` + `kubectl rollout status --timeout=…`
# (which waits for progressDeadlineSeconds, kubectl#738).
#
#   benches/crashloop_verdict.sh [PLANE]
#
# PLANE: a directory where scripts/k8s-control-plane.sh and scripts/k8s-node.sh
# already run, with the image loaded (`k8s-node.sh image PLANE BIN`). Without
# it the script starts its own plane and node, builds the image from
# target/debug/hal9ctl, and stops everything at the end.
# The crash: the pods' ConfigMap gets a listen address serve refuses, which
# running pods never reread; each restart's new pods then exit at start.
# Both tools run against the same Deployment (the shipped manifests' test
# overlay, progressDeadlineSeconds as shipped), healed between the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
own_plane=
plane=${1:-}
if [ -z "$plane" ]; then
    plane=$(mktemp -d /tmp/hal9-crashloop-bench.XXXXXX)
    own_plane=1
fi
work=$(mktemp -d /tmp/hal9-crashloop-work.XXXXXX)
ns=hal9-bench-crash-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
cleanup() {
    kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
    if [ -n "$own_plane" ]; then scripts/k8s-control-plane.sh stop "$plane" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if [ -n "$own_plane" ]; then
    cargo build --quiet --bin hal9ctl
    scripts/k8s-control-plane.sh start "$plane" >&2
    scripts/k8s-node.sh start "$plane" >&2
    scripts/k8s-node.sh image "$plane" target/debug/hal9ctl >&2
fi
bin=${HAL9CTL:-$root/target/debug/hal9ctl}
[ -x "$bin" ] || cargo build --quiet --bin hal9ctl
eval "$(grep -E '^export (KUBECONFIG|HAL9_TEST_IMAGE|HAL9_TEST_POD_API_HOST|HAL9_TEST_POD_API_PORT)=' "$plane/env")"
export HAL9_STATE_DIR="$work/state" HOME="$work"
mkdir -p "$work/state"

kubectl create namespace "$ns" >/dev/null
kubectl kustomize --load-restrictor LoadRestrictionsNone deploy/kubernetes/test |
    sed -e "s|namespace: hal9\$|namespace: $ns|" \
        -e "s|configmap:hal9/|configmap:$ns/|" \
        -e "s|HAL9_TEST_POD_API_HOST|$HAL9_TEST_POD_API_HOST|" \
        -e "s|HAL9_TEST_POD_API_PORT|\"$HAL9_TEST_POD_API_PORT\"|" \
        -e "s|image: hal9ctl:test|image: $HAL9_TEST_IMAGE|" >"$work/good.yaml"
sed -e 's|listen = "0.0.0.0:8080"|listen = "no such address"|' "$work/good.yaml" >"$work/bad.yaml"
grep -q 'no such address' "$work/bad.yaml" || { echo "the overlay's config changed shape" >&2; exit 1; }

heal() {
    kubectl -n "$ns" apply -f "$work/good.yaml" >/dev/null
    kubectl -n "$ns" rollout restart deployment/hal9-server >/dev/null
    kubectl -n "$ns" rollout status deployment/hal9-server --timeout=600s >/dev/null
}
now() { date +%s.%N; }

kubectl -n "$ns" apply -f "$work/good.yaml" >/dev/null
kubectl -n "$ns" rollout status deployment/hal9-server --timeout=600s >/dev/null
deadline=$(kubectl -n "$ns" get deployment/hal9-server -o jsonpath='{.spec.progressDeadlineSeconds}')
echo "deployment $ns/hal9-server ready; progressDeadlineSeconds $deadline" >&2

# hal9ctl: one command, which waits (--wait) and gives the verdict.
kubectl -n "$ns" apply -f "$work/bad.yaml" >/dev/null
t0=$(now)
set +e
"$bin" restart --cluster -n "$ns" --yes --wait 15m >"$work/hal9ctl.out" 2>"$work/hal9ctl.err"
h_rc=$?
set -e
t1=$(now)
h_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
echo "hal9ctl restart --cluster: exit $h_rc after $h_s s" >&2
heal

# kubectl: the restart, then the wait for its status.
kubectl -n "$ns" apply -f "$work/bad.yaml" >/dev/null
t0=$(now)
kubectl -n "$ns" rollout restart deployment/hal9-server >/dev/null
set +e
kubectl -n "$ns" rollout status deployment/hal9-server --timeout=15m >"$work/kubectl.out" 2>&1
k_rc=$?
set -e
t1=$(now)
k_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
echo "kubectl rollout restart + status: exit $k_rc after $k_s s" >&2

printf '%-52s %8s %5s  %s\n' "command" "verdict" "exit" "what it said (last line)"
printf '%-52s %7ss %5s  %s\n' "hal9ctl restart --cluster --yes --wait 15m" "$h_s" "$h_rc" \
    "$(grep -hE 'CrashLoopBackOff|stuck|cannot|not ' "$work/hal9ctl.out" "$work/hal9ctl.err" | grep -v ' WARN ' | head -1 | sed 's/^ *//' | cut -c1-120)"
printf '%-52s %7ss %5s  %s\n' "kubectl rollout restart + rollout status --timeout=15m" "$k_s" "$k_rc" \
    "$(tail -1 "$work/kubectl.out" | cut -c1-120)"
echo "progressDeadlineSeconds: $deadline; load average: $(cut -d' ' -f1-3 /proc/loadavg); hal9ctl: debug build"
