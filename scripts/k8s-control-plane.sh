#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for hal9ctl's tests: etcd,
# kube-apiserver and kube-controller-manager (deployment, replicaset, endpoints, job, HPA,
# namespace, serviceaccount, garbage collector, disruption controllers).
# scripts/k8s-node.sh adds a real node (kube-scheduler, kubelet, dockerd);
# without it, tests stand in for the kubelet by patching pod status.
#
#   scripts/k8s-control-plane.sh install     apt packages (etcd-server, golang-go, rsync, ...)
#   scripts/k8s-control-plane.sh build [plane|node|all]
#                                            build and cache the binaries (once per version; all four
#                                            from one source download when both sets are missing)
#   scripts/k8s-control-plane.sh node-bin    print where kube-scheduler, kubelet and pause.c are cached
#   scripts/k8s-control-plane.sh start DIR   start on free loopback ports; writes DIR/kubeconfig and DIR/env
#   scripts/k8s-control-plane.sh stop DIR    stop what DIR's pid files name, remove DIR
#   scripts/k8s-control-plane.sh status DIR  running or not, and the API URL (exit 1 when not running)
#   scripts/k8s-control-plane.sh env DIR     print DIR/env (shell-sourceable)
#
# Environment:
#   HAL9_K8S_CACHE          binary cache root (default ~/.cache/hal9/k8s; keep it outside the repo)
#   HAL9_K8S_VERSION        Debian source version of `kubernetes` (default 1.20.5+really1.20.2-1.1+deb12u1)
#   HAL9_K8S_API_PORT       kube-apiserver secure port (default: a free port)
#   HAL9_K8S_ETCD_PORT      etcd client port (default: a free port)
#   HAL9_K8S_ETCD_PEER_PORT etcd peer port (default: a free port)
#   HAL9_K8S_READY_TIMEOUT  seconds to wait for /readyz and the controllers (default 60)
#
# DIR/env exports KUBECONFIG, HAL9_TEST_KUBECONFIG, HAL9_K8S_API (https://127.0.0.1:PORT),
# HAL9_K8S_ADMIN_TOKEN and HAL9_K8S_LIMITED_TOKEN. The kubeconfig has two
# contexts: hal9-test (user admin, group system:masters; the current context)
# and hal9-limited (user hal9-limited, no groups: RBAC tests bind it to a Role).
# One Node object, hal9-test-node (cpu 4, memory 8Gi, pods 110 allocatable),
# is registered so requests can be compared with allocatable capacity.
# The API server reaches kubelets at their InternalIP (logs, exec); a node of
# scripts/k8s-node.sh has no resolvable hostname.
# Everything listens on 127.0.0.1 only. DIR also holds the data, certs, logs
# (DIR/*.log) and pid files; `stop` kills only the pids recorded there.
#
# The binaries come from Debian bookworm's `kubernetes` source package, built
# offline with its vendored tree (the machine's apt sources are not touched),
# and are cached under $HAL9_K8S_CACHE/<debian version>-<recipe>/bin, so only
# the first run on a machine pays for the build (5 to 10 minutes on 2 cores).
set -euo pipefail

K8S_SRC_VERSION="${HAL9_K8S_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}"
# Bump PATCHES when the build recipe changes, so stale caches are not reused.
PATCHES=p1
CACHE="${HAL9_K8S_CACHE:-$HOME/.cache/hal9/k8s}/${K8S_SRC_VERSION}-${PATCHES}"
BIN="$CACHE/bin"
# The node (kube-scheduler, kubelet, pause.c) has its own key: see cmd_build.
NODE_PATCHES=node-p1
NODE_CACHE="${HAL9_K8S_CACHE:-$HOME/.cache/hal9/k8s}/${K8S_SRC_VERSION}-${NODE_PATCHES}"
NODE_BIN="$NODE_CACHE/bin"
READY_TIMEOUT="${HAL9_K8S_READY_TIMEOUT:-60}"
CONTROLLERS=deployment,replicaset,endpoint,job,garbagecollector,horizontalpodautoscaling,namespace,serviceaccount,serviceaccount-token,disruption

log() { printf 'k8s-control-plane: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit "${1:-64}"
}

# ---------------------------------------------------------------- install

need_pkgs() {
    local missing=()
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v go >/dev/null || missing+=(golang-go)
    command -v rsync >/dev/null || missing+=(rsync)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v make >/dev/null || missing+=(make)
    command -v curl >/dev/null || missing+=(curl ca-certificates)
    command -v python3 >/dev/null || missing+=(python3)
    command -v flock >/dev/null || missing+=(util-linux)
    command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
    [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
    # Go >= 1.18 needs reflect2 >= 1.0.2 (see cmd_build); Debian's copy is swapped in.
    [ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || missing+=(golang-github-modern-go-reflect2-dev)
    if [ ${#missing[@]} -gt 0 ]; then printf '%s\n' "${missing[@]}"; fi
}

cmd_install() {
    local missing
    missing=$(need_pkgs)
    [ -z "$missing" ] && return 0
    local sudo="" aptlog
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    aptlog=$(mktemp /tmp/hal9-k8s-apt.XXXXXX)
    log "installing: $(echo "$missing" | tr '\n' ' ')"
    # apt-get update only when the plain install fails (stale or empty lists).
    # shellcheck disable=SC2086
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing >"$aptlog" 2>&1; then
        log "apt-get install failed; running apt-get update once"
        $sudo apt-get update >>"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed (log $aptlog)"; }
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing >>"$aptlog" 2>&1 ||
            { tail -20 "$aptlog" >&2; die "apt-get install failed (log $aptlog)"; }
    fi
    rm -f "$aptlog"
    # etcd-server may start a system etcd on 2379; the tests run their own on
    # other ports, so it is only stopped to save memory.
    if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
        $sudo systemctl stop etcd || true
    fi
    missing=$(need_pkgs)
    [ -z "$missing" ] || die "still missing after apt-get: $(echo "$missing" | tr '\n' ' ')"
}

# ---------------------------------------------------------------- build

have_bins() { [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; }
have_node_bins() { [ -x "$NODE_BIN/kube-scheduler" ] && [ -x "$NODE_BIN/kubelet" ]; }

# build [plane|node|all]: the node binaries live under their own cache key, so
# adding them never invalidates a cached control plane (a rebuild of that is
# ~30 min on a loaded machine). Whatever is missing of the requested set is
# built from ONE source download.
cmd_build() {
    local want=${1:-plane} targets=() locks=()
    case "$want" in plane | node | all) ;; *) usage ;; esac
    if [ "$want" != node ] && ! have_bins; then targets+=(cmd/kube-apiserver cmd/kube-controller-manager); locks+=("$CACHE"); fi
    if [ "$want" != plane ] && ! have_node_bins; then targets+=(cmd/kube-scheduler cmd/kubelet); locks+=("$NODE_CACHE"); fi
    [ ${#targets[@]} -gt 0 ] || return 0
    cmd_install
    local fd=9 c
    for c in "${locks[@]}"; do
        mkdir -p "$c"
        eval "exec $fd>\"\$c/.build.lock\""
        if ! flock -n "$fd"; then
            log "another build holds $c/.build.lock; waiting for it"
            flock "$fd"
        fi
        fd=$((fd - 2))
    done
    # Re-check under the locks: a concurrent build may have finished meanwhile.
    targets=()
    if [ "$want" != node ] && ! have_bins; then targets+=(cmd/kube-apiserver cmd/kube-controller-manager); fi
    if [ "$want" != plane ] && ! have_node_bins; then targets+=(cmd/kube-scheduler cmd/kubelet); fi
    [ ${#targets[@]} -gt 0 ] || return 0
    local t0=$SECONDS
    local work="${locks[0]}/work"
    rm -rf "$work"
    mkdir -p "$work/lists/partial" "$work/apt-cache/archives/partial" "$work/src"
    # A private sources list, lists and cache: the machine's apt configuration
    # and state are not touched.
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" >"$work/sources.list"
    local aptopts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/apt-cache")
    log "fetching the kubernetes source package ($K8S_SRC_VERSION) for ${targets[*]}"
    apt-get "${aptopts[@]}" update >"$work/apt.log" 2>&1 || {
        tail -20 "$work/apt.log" >&2
        die "apt-get update (private deb-src list) failed"
    }
    if ! (cd "$work/src" && apt-get "${aptopts[@]}" source --download-only "kubernetes=$K8S_SRC_VERSION") >>"$work/apt.log" 2>&1; then
        log "version $K8S_SRC_VERSION is gone from the archive; taking the current one (cache dir keeps the requested name)"
        (cd "$work/src" && apt-get "${aptopts[@]}" source --download-only kubernetes) >>"$work/apt.log" 2>&1 ||
            { tail -20 "$work/apt.log" >&2; die "downloading the kubernetes source failed"; }
    fi
    local dsc
    dsc=$(find "$work/src" -maxdepth 1 -name 'kubernetes_*.dsc' | head -1)
    [ -n "$dsc" ] || die "no kubernetes_*.dsc downloaded (log $work/apt.log)"
    log "unpacking $(basename "$dsc") ($((SECONDS - t0)) s so far)"
    (cd "$work/src" && dpkg-source --no-check -x "$dsc" tree) >>"$work/apt.log" 2>&1 || {
        tail -20 "$work/apt.log" >&2
        die "unpacking failed"
    }
    local tree="$work/src/tree"
    # Kubernetes 1.20 vendors reflect2 1.0.1, which crashes under Go >= 1.18
    # (reflect.mapiterinit changed): the API server panics encoding any map.
    # Debian's reflect2 1.0.2 has the fix; swap it into the vendor tree.
    local r2="$tree/vendor/github.com/modern-go/reflect2"
    [ -d "$r2" ] || die "$r2 missing from the source tree"
    rm -f "$r2"/*.go
    cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$r2/"
    rm -f "$r2"/*_test.go
    export GOFLAGS=-mod=vendor GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local
    export GOCACHE="$work/gocache" GOPATH="$work/gopath"
    # One `make` for every target: one `go install`, so the vendor tree the
    # four binaries share is compiled once and their links run in parallel
    # (built one by one, the node's two cost as much again as the plane's).
    local blog="$work/build.log" what
    log "building ${targets[*]} with $(go version | cut -d' ' -f3) (minutes the first time; log $blog)"
    (cd "$tree" && make WHAT="${targets[*]}" KUBE_VERBOSE=0) >"$blog" 2>&1 || {
        tail -40 "$blog" >&2
        die "building ${targets[*]} failed; the full log is $blog"
    }
    log "built ${targets[*]} ($((SECONDS - t0)) s so far)"
    # The pause container's source, for the node's sandbox image.
    if [ "$want" != plane ]; then
        mkdir -p "$NODE_BIN"
        cp "$tree/build/pause/linux/pause.c" "$NODE_BIN/pause.c"
    fi
    local out b dest
    for what in "${targets[@]}"; do
        b=${what##*/}
        case "$b" in kube-apiserver | kube-controller-manager) dest=$BIN ;; *) dest=$NODE_BIN ;; esac
        mkdir -p "$dest"
        out=$(find "$tree/_output" -type f -name "$b" -perm -u+x | head -1)
        [ -n "$out" ] || die "$b not found under $tree/_output"
        "$out" --version >/dev/null 2>&1 || die "$out does not run"
        cp "$out" "$dest/$b.tmp" && mv "$dest/$b.tmp" "$dest/$b"
    done
    # Keep only the binaries: the tree, the Go cache and the sources are GBs.
    rm -rf "$work"
    log "cached ${targets[*]} after $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- start

# Three distinct free loopback ports, held open together while picked.
free_ports() {
    if command -v python3 >/dev/null; then
        python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
'
        return
    fi
    local ports=() p
    while [ ${#ports[@]} -lt 3 ]; do
        p=$((20000 + RANDOM % 40000))
        case " ${ports[*]} " in *" $p "*) continue ;; esac
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
        ports+=("$p")
    done
    echo "${ports[@]}"
}

pid_of() { [ -f "$1/$2.pid" ] && cat "$1/$2.pid"; }

# True when the pid recorded for NAME is alive and its command line names DIR
# (so a recycled pid is never taken for ours).
alive() {
    local dir=$1 name=$2 pid
    pid=$(pid_of "$dir" "$name") || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/"
}

running() { alive "$1" etcd && alive "$1" kube-apiserver && alive "$1" kube-controller-manager; }

api_get() {
    local url=$1 token=$2
    curl -fsk --max-time 5 -H "Authorization: Bearer $token" "$url"
}

# Wait for /readyz, and for the serviceaccount controller to have made the
# default ServiceAccount (pods are refused without it).
wait_ready() {
    local dir=$1 url=$2 token=$3 deadline p
    deadline=$((SECONDS + READY_TIMEOUT))
    until [ "$(api_get "$url/readyz" "$token" 2>/dev/null)" = ok ]; do
        for p in etcd kube-apiserver; do
            if ! alive "$dir" "$p"; then
                tail -30 "$dir/$p.log" >&2
                die "$p exited (log $dir/$p.log)"
            fi
        done
        if [ $SECONDS -ge "$deadline" ]; then
            tail -30 "$dir/kube-apiserver.log" >&2
            die "kube-apiserver was not ready within $READY_TIMEOUT s (log $dir/kube-apiserver.log)"
        fi
        sleep 0.3
    done
    [ -f "$dir/kube-controller-manager.pid" ] || return 0
    until api_get "$url/api/v1/namespaces/default/serviceaccounts/default" "$token" >/dev/null 2>&1; do
        if ! alive "$dir" kube-controller-manager; then
            tail -30 "$dir/kube-controller-manager.log" >&2
            die "kube-controller-manager exited (log $dir/kube-controller-manager.log)"
        fi
        if [ $SECONDS -ge "$deadline" ]; then
            tail -30 "$dir/kube-controller-manager.log" >&2
            die "the default ServiceAccount did not appear within $READY_TIMEOUT s"
        fi
        sleep 0.3
    done
}

start_bg() {
    local dir=$1 name=$2
    shift 2
    # Every inherited fd above 2 is closed: a daemon must hold neither this
    # script's locks (fds 8, 9) nor a caller's pipe. Not a job-control shell,
    # so the subshell and setsid exec in place and $! is the daemon's pid.
    (
        for fd in /proc/"$BASHPID"/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        exec setsid "$@"
    ) >"$dir/$name.log" 2>&1 </dev/null &
    local pid=$! i
    echo "$pid" >"$dir/$name.pid"
    # Until the subshell has exec'd the daemon, its command line is this
    # script's, which `alive` takes for a recycled pid: on a busy machine
    # (cargo building alongside) the first check came before the exec and
    # read as "kubelet exited".
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/" && break
        sleep 0.1
    done
}

cmd_start() {
    local dir=${1:-}
    [ -n "$dir" ] || usage
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    exec 8>"$dir/.start.lock"
    flock 8
    if running "$dir"; then
        # shellcheck disable=SC1091
        . "$dir/env"
        wait_ready "$dir" "$HAL9_K8S_API" "$HAL9_K8S_ADMIN_TOKEN"
        log "already running at $HAL9_K8S_API (kubeconfig $dir/kubeconfig)"
        return 0
    fi
    # Leftovers of a plane that half died: stop them and start clean.
    local name
    for name in kube-controller-manager kube-apiserver etcd; do
        if [ -f "$dir/$name.pid" ]; then
            log "cleaning up a previous, not fully running plane in $dir"
            stop_pids "$dir"
            break
        fi
    done
    cmd_build
    command -v etcd >/dev/null || cmd_install
    local t0=$SECONDS etcd_port peer_port api_port admin_token limited_token
    read -r etcd_port peer_port api_port <<<"$(free_ports)"
    etcd_port=${HAL9_K8S_ETCD_PORT:-$etcd_port}
    peer_port=${HAL9_K8S_ETCD_PEER_PORT:-$peer_port}
    api_port=${HAL9_K8S_API_PORT:-$api_port}
    admin_token=$(openssl rand -hex 16)
    limited_token=$(openssl rand -hex 16)
    rm -rf "$dir/etcd" "$dir/certs"
    mkdir -p "$dir/etcd" "$dir/certs"
    chmod 700 "$dir/etcd"
    openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
    openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
    # token,user,uid[,"group1,group2"]: hal9-limited gets only system:authenticated.
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
        --enable-admission-plugins=NamespaceLifecycle,ServiceAccount --disable-admission-plugins=StorageObjectInUseProtection \
        --kubelet-preferred-address-types=InternalIP,Hostname
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
    # The API server's self-signed serving cert is followed by the CA that
    # signed it. ServiceAccount token secrets carry that CA as ca.crt, so a
    # pod's in-cluster client can verify the server (SAN kubernetes.default.svc).
    awk '/BEGIN CERTIFICATE/{n++} n==2' "$dir/certs/apiserver.crt" >"$dir/ca.crt"
    grep -q 'BEGIN CERTIFICATE' "$dir/ca.crt" || die "no CA in $dir/certs/apiserver.crt"
    start_bg "$dir" kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig="$dir/kubeconfig" --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 --port=0 \
        --service-account-private-key-file="$dir/sa.key" --use-service-account-credentials=false \
        --root-ca-file="$dir/ca.crt" \
        --controllers="$CONTROLLERS" \
        --horizontal-pod-autoscaler-sync-period=1s --horizontal-pod-autoscaler-downscale-stabilization=1s \
        --concurrent-deployment-syncs=5 --concurrent-replicaset-syncs=5
    # One Node object, so requests can be compared with allocatable capacity.
    local node='{"apiVersion":"v1","kind":"Node","metadata":{"name":"hal9-test-node","labels":{"kubernetes.io/hostname":"hal9-test-node"}}}'
    curl -fsSk --max-time 10 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -X POST "$url/api/v1/nodes" -d "$node" >/dev/null || die "creating node hal9-test-node failed"
    local status='{"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}}}'
    curl -fsSk --max-time 10 -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/merge-patch+json' \
        -X PATCH "$url/api/v1/nodes/hal9-test-node/status" -d "$status" >/dev/null || die "patching node status failed"
    wait_ready "$dir" "$url" "$admin_token"
    log "ready at $url in $((SECONDS - t0)) s (kubeconfig $dir/kubeconfig)"
}

# ---------------------------------------------------------------- stop

# Stop the pids recorded in DIR (never anything found by name): SIGTERM, then
# SIGKILL after 5 s, then make sure they are gone.
stop_pids() {
    local dir=$1 name pid left=()
    for name in kube-controller-manager kube-apiserver etcd; do
        if alive "$dir" "$name"; then
            pid=$(pid_of "$dir" "$name")
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                alive "$dir" "$name" || break
                sleep 0.1
            done
            if alive "$dir" "$name"; then
                log "$name ($pid) ignored SIGTERM; sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                for _ in $(seq 1 30); do
                    alive "$dir" "$name" || break
                    sleep 0.1
                done
            fi
            alive "$dir" "$name" && left+=("$name:$pid")
        fi
        [ ${#left[@]} -gt 0 ] || rm -f "$dir/$name.pid"
    done
    [ ${#left[@]} -eq 0 ] || die "still running: ${left[*]}"
}

cmd_stop() {
    local dir=${1:-}
    [ -n "$dir" ] || usage
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    [ "$dir" != / ] || die "refusing to stop /"
    # Only remove a directory this script made (or an empty one).
    if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/tokens.csv" ] && [ ! -f "$dir/etcd.pid" ] && [ ! -f "$dir/.start.lock" ]; then
        die "$dir does not look like a control plane directory; not touching it"
    fi
    # The node's kubelet and dockerd first: they talk to this plane.
    if [ -d "$dir/node" ]; then
        "$(dirname "$0")/k8s-node.sh" stop "$dir" || log "warning: stopping the node failed"
    fi
    stop_pids "$dir"
    rm -rf "$dir"
    log "stopped; removed $dir"
}

cmd_status() {
    local dir=${1:-}
    [ -n "$dir" ] || usage
    [ -d "$dir" ] && dir=$(cd "$dir" && pwd)
    if running "$dir"; then
        # shellcheck disable=SC1091
        . "$dir/env"
        if [ "$(api_get "$HAL9_K8S_API/readyz" "$HAL9_K8S_ADMIN_TOKEN" 2>/dev/null)" = ok ]; then
            echo "running at $HAL9_K8S_API (kubeconfig $dir/kubeconfig)"
            return 0
        fi
        echo "processes up but not ready at $HAL9_K8S_API"
        return 1
    fi
    local name state=()
    for name in etcd kube-apiserver kube-controller-manager; do
        if alive "$dir" "$name"; then state+=("$name:up"); elif [ -f "$dir/$name.pid" ]; then state+=("$name:dead"); fi
    done
    echo "not running${state[*]:+ (${state[*]})}"
    return 1
}

cmd_env() {
    local dir=${1:-}
    [ -n "$dir" ] || usage
    [ -f "$dir/env" ] || die "no $dir/env: start the plane first"
    cat "$dir/env"
}

# The whole dispatch is one function called on the last line, so bash has
# read everything before it runs anything: editing or checking out this file
# during a long build cannot make the running script read garbage.
main() {
    case "${1:-}" in
    install) cmd_install ;;
    build) cmd_build "${2:-plane}" ;;
    node-bin) echo "$NODE_BIN" ;;
    start) cmd_start "${2:-}" ;;
    stop) cmd_stop "${2:-}" ;;
    status) cmd_status "${2:-}" ;;
    env) cmd_env "${2:-}" ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
    esac
}

main "$@"; exit
