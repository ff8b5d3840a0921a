#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for hal9ctl's tests: etcd,
# kube-apiserver and kube-controller-manager (deployment, replicaset, HPA,
# namespace, serviceaccount, garbage collector, disruption controllers).
# There is no scheduler and no kubelet: tests stand in for the kubelet by
# patching pod status.
#
#   scripts/k8s-control-plane.sh install     apt packages (etcd-server, golang-go, rsync, ...)
#   scripts/k8s-control-plane.sh build       build and cache the two binaries (once per version)
#   scripts/k8s-control-plane.sh start DIR   start on free loopback ports; writes DIR/kubeconfig and DIR/env
#   scripts/k8s-control-plane.sh stop DIR    stop what DIR's pid files name, remove DIR
#   scripts/k8s-control-plane.sh status DIR
#
# The binaries come from Debian bookworm's `kubernetes` source package, built
# offline with its vendored tree, and are cached under
# ${HAL9_K8S_CACHE:-~/.cache/hal9/k8s}/<debian version>/bin, so only the first
# run on a machine pays for the build (about 10 minutes on 2 cores).
#
# The kubeconfig has two contexts: hal9-test (admin, current) and
# hal9-limited (user hal9-limited, no groups: RBAC tests bind it to a Role).
set -euo pipefail

K8S_SRC_VERSION="${HAL9_K8S_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}"
# Bump PATCHES when the build recipe changes, so stale caches are not reused.
PATCHES=p1
CACHE="${HAL9_K8S_CACHE:-$HOME/.cache/hal9/k8s}/${K8S_SRC_VERSION}-${PATCHES}"
BIN="$CACHE/bin"

log() { printf 'k8s-control-plane: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_pkgs() {
    local missing=()
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v go >/dev/null || missing+=(golang-go)
    command -v rsync >/dev/null || missing+=(rsync)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v make >/dev/null || missing+=(make)
    command -v curl >/dev/null || missing+=(curl)
    command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
    [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
    [ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || missing+=(golang-github-modern-go-reflect2-dev)
    printf '%s\n' "${missing[@]}"
}

cmd_install() {
    local missing
    missing=$(need_pkgs)
    [ -z "$missing" ] && return 0
    log "installing: $(echo "$missing" | tr '\n' ' ')"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
        $sudo apt-get update >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing >/dev/null
    }
    # etcd-server starts a system etcd on 2379; the tests run their own.
    if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
        $sudo systemctl stop etcd || true
    fi
}

cmd_build() {
    if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; then
        return 0
    fi
    cmd_install
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.build.lock"
    flock 9
    if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; then
        return 0
    fi
    local work="$CACHE/work"
    rm -rf "$work"
    mkdir -p "$work/lists/partial" "$work/src"
    # A private sources list: the machine's apt configuration is not touched.
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" >"$work/sources.list"
    local aptopts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
    log "fetching the kubernetes source package ($K8S_SRC_VERSION)"
    apt-get "${aptopts[@]}" update >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; die "apt-get update (deb-src) failed"; }
    (cd "$work/src" && apt-get "${aptopts[@]}" source --download-only "kubernetes=$K8S_SRC_VERSION") >>"$work/apt.log" 2>&1 ||
        (cd "$work/src" && apt-get "${aptopts[@]}" source --download-only kubernetes) >>"$work/apt.log" 2>&1 ||
        { tail -20 "$work/apt.log" >&2; die "downloading the kubernetes source failed"; }
    local dsc
    dsc=$(ls "$work"/src/kubernetes_*.dsc | head -1)
    (cd "$work/src" && dpkg-source --no-check -x "$dsc" tree) >>"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; die "unpacking failed"; }
    local tree="$work/src/tree"
    # Kubernetes 1.20 vendors reflect2 1.0.1, which crashes under Go >= 1.18
    # (reflect.mapiterinit changed): the API server panics encoding any map.
    # Debian's reflect2 1.0.2 has the fix; swap it into the vendor tree.
    local r2="$tree/vendor/github.com/modern-go/reflect2"
    rm -f "$r2"/*.go
    cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$r2/"
    rm -f "$r2"/*_test.go
    export GOFLAGS=-mod=vendor GO111MODULE=on GOPROXY=off GOCACHE="$work/gocache" GOPATH="$work/gopath"
    for what in cmd/kube-apiserver cmd/kube-controller-manager; do
        log "building $what (this takes minutes the first time)"
        (cd "$tree" && make WHAT="$what" KUBE_VERBOSE=0) >"$work/build-${what##*/}.log" 2>&1 || {
            tail -40 "$work/build-${what##*/}.log" >&2
            die "building $what failed; the full log is $work/build-${what##*/}.log"
        }
    done
    mkdir -p "$BIN"
    local out
    for b in kube-apiserver kube-controller-manager; do
        out=$(find "$tree/_output" -type f -name "$b" -perm -u+x | head -1)
        [ -n "$out" ] || die "$b not found under $tree/_output"
        cp "$out" "$BIN/$b.tmp" && mv "$BIN/$b.tmp" "$BIN/$b"
    done
    rm -rf "$work"
    log "cached in $BIN"
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

wait_ready() {
    local dir=$1 url=$2 token=$3 i
    for i in $(seq 1 120); do
        if curl -fsk -H "Authorization: Bearer $token" "$url/readyz" >/dev/null 2>&1; then
            return 0
        fi
        for p in etcd kube-apiserver; do
            if [ -f "$dir/$p.pid" ] && ! kill -0 "$(cat "$dir/$p.pid")" 2>/dev/null; then
                tail -30 "$dir/$p.log" >&2
                die "$p exited"
            fi
        done
        sleep 0.5
    done
    tail -30 "$dir/kube-apiserver.log" >&2
    die "kube-apiserver was not ready within 60 s"
}

running() {
    local dir=$1
    [ -f "$dir/kube-apiserver.pid" ] && kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null
}

start_bg() {
    local dir=$1 name=$2
    shift 2
    setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
}

cmd_start() {
    local dir=${1:?usage: start DIR}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if running "$dir"; then
        # shellcheck disable=SC1091
        . "$dir/env"
        wait_ready "$dir" "$HAL9_K8S_API" "$HAL9_K8S_ADMIN_TOKEN"
        log "already running at $HAL9_K8S_API"
        return 0
    fi
    cmd_build
    command -v etcd >/dev/null || cmd_install
    local etcd_port peer_port api_port admin_token limited_token
    etcd_port=${HAL9_K8S_ETCD_PORT:-$(free_port)}
    peer_port=${HAL9_K8S_ETCD_PEER_PORT:-$(free_port)}
    api_port=${HAL9_K8S_API_PORT:-$(free_port)}
    admin_token=$(openssl rand -hex 16)
    limited_token=$(openssl rand -hex 16)
    mkdir -p "$dir/etcd" "$dir/certs"
    openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
    openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
    printf '%s,admin,admin,system:masters\n%s,hal9-limited,hal9-limited\n' "$admin_token" "$limited_token" >"$dir/tokens.csv"
    chmod 600 "$dir/tokens.csv" "$dir/sa.key"

    start_bg "$dir" etcd etcd --name hal9-test --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
        --initial-cluster "hal9-test=http://127.0.0.1:$peer_port"
    start_bg "$dir" kube-apiserver "$BIN/kube-apiserver" \
        --etcd-servers="http://127.0.0.1:$etcd_port" --secure-port="$api_port" --bind-address=127.0.0.1 \
        --advertise-address=127.0.0.1 --insecure-port=0 --cert-dir="$dir/certs" \
        --token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC \
        --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$dir/sa.pub" \
        --service-account-signing-key-file="$dir/sa.key" --service-cluster-ip-range=10.96.0.0/16 \
        --enable-admission-plugins=NamespaceLifecycle,ServiceAccount --disable-admission-plugins=StorageObjectInUseProtection
    local url="https://127.0.0.1:$api_port"
    cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hal9-test
  cluster:
    server: $url
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: $admin_token
- name: hal9-limited
  user:
    token: $limited_token
contexts:
- name: hal9-test
  context: {cluster: hal9-test, user: admin}
- name: hal9-limited
  context: {cluster: hal9-test, user: hal9-limited}
current-context: hal9-test
EOF
    chmod 600 "$dir/kubeconfig"
    cat >"$dir/env" <<EOF
export KUBECONFIG=$dir/kubeconfig
export HAL9_TEST_KUBECONFIG=$dir/kubeconfig
export HAL9_K8S_API=$url
export HAL9_K8S_ADMIN_TOKEN=$admin_token
export HAL9_K8S_LIMITED_TOKEN=$limited_token
EOF
    wait_ready "$dir" "$url" "$admin_token"
    start_bg "$dir" kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig="$dir/kubeconfig" --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 --port=0 \
        --service-account-private-key-file="$dir/sa.key" --use-service-account-credentials=false \
        --controllers=deployment,replicaset,garbagecollector,horizontalpodautoscaling,namespace,serviceaccount,serviceaccount-token,disruption \
        --horizontal-pod-autoscaler-sync-period=1s --horizontal-pod-autoscaler-downscale-stabilization=1s \
        --concurrent-deployment-syncs=5 --concurrent-replicaset-syncs=5
    # One Node object, so the scale planner can compare requests with allocatable capacity.
    local node='{"apiVersion":"v1","kind":"Node","metadata":{"name":"hal9-test-node","labels":{"kubernetes.io/hostname":"hal9-test-node"}}}'
    curl -fsk -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -X POST "$url/api/v1/nodes" -d "$node" >/dev/null
    local status='{"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}}}'
    curl -fsk -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/merge-patch+json' \
        -X PATCH "$url/api/v1/nodes/hal9-test-node/status" -d "$status" >/dev/null
    sleep 0.5
    if ! kill -0 "$(cat "$dir/kube-controller-manager.pid")" 2>/dev/null; then
        tail -30 "$dir/kube-controller-manager.log" >&2
        die "kube-controller-manager exited"
    fi
    log "ready at $url (kubeconfig $dir/kubeconfig)"
}

stop_pid() {
    local f=$1 pid i
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

cmd_stop() {
    local dir=${1:?usage: stop DIR}
    [ -d "$dir" ] || return 0
    # Only the processes this DIR started, by their recorded pids: never by name.
    stop_pid "$dir/kube-controller-manager.pid"
    stop_pid "$dir/kube-apiserver.pid"
    stop_pid "$dir/etcd.pid"
    rm -rf "$dir"
}

cmd_status() {
    local dir=${1:?usage: status DIR}
    if running "$dir"; then
        # shellcheck disable=SC1091
        . "$dir/env"
        echo "running at $HAL9_K8S_API (kubeconfig $dir/kubeconfig)"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
install) cmd_install ;;
build) cmd_build ;;
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
status) cmd_status "${2:-}" ;;
env) cat "${2:?usage: env DIR}/env" ;;
*)
    sed -n '2,20p' "$0" >&2
    exit 64
    ;;
esac
