#!/usr/bin/env bash
# A real node for the test control plane (scripts/k8s-control-plane.sh):
# kube-scheduler, a kubelet and Debian's dockerd, so the cluster tests run
# `hal9ctl serve` in real pods. Everything lives under PLANE/node.
#
#   scripts/k8s-node.sh build              build and cache kube-scheduler and kubelet (once per version)
#   scripts/k8s-node.sh base-image         debootstrap a bookworm minbase rootfs tarball (cached per suite and month)
#   scripts/k8s-node.sh start PLANE        start the node of the plane started in PLANE; appends to PLANE/env
#   scripts/k8s-node.sh image PLANE BIN    build the runtime image from ./Dockerfile with the prebuilt binary BIN
#   scripts/k8s-node.sh stop PLANE         stop what PLANE/node's pid files name, remove PLANE/node
#
# Environment:
#   HAL9_K8S_CACHE           cache root (default ~/.cache/hal9/k8s); the base rootfs goes to its ../images
#   HAL9_NODE_READY_TIMEOUT  seconds to wait for the node to be Ready (default 90)
#
# PLANE/env gains HAL9_TEST_NODE (the node's name), HAL9_TEST_NODE_IP, HAL9_TEST_IMAGE
# (the runtime image, present on the node only: pods must use imagePullPolicy Never),
# HAL9_TEST_POD_API_HOST/PORT (where a pod reaches the API server: give the pod a
# hostAlias kubernetes.default.svc -> HOST and KUBERNETES_SERVICE_HOST=kubernetes.default.svc,
# KUBERNETES_SERVICE_PORT=PORT) and HAL9_TEST_DOCKER_HOST_NODE (the node's dockerd socket).
#
# Network: a bridge of our own (h9n + 4 hex digits) on a free 10.x.y.0/24, the
# pods' network. The node IP is the bridge's address, so `kubectl logs/exec`
# and the pod proxy work; the kubelet (10250) and a TCP relay to the loopback
# API server listen on that address only. dockerd runs without iptables, so
# another engine on this machine (docker0) is not touched.
# The sandbox lacks CAP_SYS_RESOURCE, so a negative oom_score_adj fails: a
# runc wrapper raises the kubelet's -998/-997 to 0 before the real runc runs.
# The fake node hal9-test-node that the plane registers is tainted
# hal9.dev/stand-in:NoSchedule, so real pods never land where no kubelet runs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CP="$HERE/k8s-control-plane.sh"
READY_TIMEOUT="${HAL9_NODE_READY_TIMEOUT:-90}"
IMAGE_CACHE="${HAL9_K8S_CACHE:-$HOME/.cache/hal9/k8s}/../images"
SUITE=bookworm
PAUSE_IMAGE=hal9-test/pause:local
RUNTIME_IMAGE=hal9ctl:test

log() { printf 'k8s-node: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit "${1:-64}"
}

node_bin() { "$CP" node-bin; }

# ---------------------------------------------------------------- base image

base_tarball() { echo "$IMAGE_CACHE/$SUITE-minbase-$(date +%Y%m).tar"; }

cmd_base_image() {
    local tar
    tar=$(base_tarball)
    [ -s "$tar" ] && return 0
    command -v debootstrap >/dev/null || {
        log "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null; } ||
            die "apt-get install debootstrap failed"
    }
    mkdir -p "$IMAGE_CACHE"
    exec 7>"$IMAGE_CACHE/.debootstrap.lock"
    flock 7
    [ -s "$tar" ] && return 0
    local root t0=$SECONDS
    root=$(mktemp -d /tmp/hal9-rootfs.XXXXXX)
    log "debootstrap --variant=minbase $SUITE (once a month; log $root.log)"
    debootstrap --variant=minbase "$SUITE" "$root" http://deb.debian.org/debian >"$root.log" 2>&1 || {
        tail -20 "$root.log" >&2
        rm -rf "$root"
        die "debootstrap failed (log $root.log)"
    }
    # Nothing of the build machine's apt state belongs in an image.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar --numeric-owner -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$root" "$root.log"
    # Last month's rootfs is stale: keep only this one.
    find "$IMAGE_CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar" ! -name "$(basename "$tar")" -delete
    log "cached $tar ($(du -h "$tar" | cut -f1)) in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- start

pid_of() { [ -f "$1/$2.pid" ] && cat "$1/$2.pid"; }

alive() {
    local dir=$1 name=$2 pid
    pid=$(pid_of "$dir" "$name") || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/"
}

start_bg() {
    local dir=$1 name=$2
    shift 2
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

api() {
    local method=$1 path=$2 body=${3:-} ctype=${4:-application/json}
    curl -fsSk --max-time 10 -H "Authorization: Bearer $HAL9_K8S_ADMIN_TOKEN" -H "Content-Type: $ctype" \
        -X "$method" "$HAL9_K8S_API$path" ${body:+-d "$body"}
}

# A /24 under 10.0.0.0/8 that no interface of this machine uses yet.
free_subnet() {
    local used a b
    used=$(ip -4 -o addr show | awk '{print $4}')
    for _ in $(seq 1 50); do
        a=$((200 + RANDOM % 50))
        b=$((RANDOM % 256))
        grep -q "^10\.$a\.$b\." <<<"$used" || {
            echo "10.$a.$b"
            return 0
        }
    done
    die "no free 10.x.y.0/24 found"
}

write_runc_wrapper() {
    local out=$1
    cat >"$out" <<'EOF'
#!/bin/sh
# Raise a negative process.oomScoreAdj to 0 in the bundle's config.json, then
# run the real runc: without CAP_SYS_RESOURCE the kernel refuses a negative
# value and every pod sandbox would fail to start.
bundle=""
prev=""
for a in "$@"; do
    case "$prev" in --bundle | -b) bundle=$a ;; esac
    case "$a" in --bundle=*) bundle=${a#--bundle=} ;; esac
    prev=$a
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
    python3 - "$bundle/config.json" <<'PY' || exit 1
import json, sys
p = sys.argv[1]
with open(p) as f:
    c = json.load(f)
proc = c.get("process") or {}
if proc.get("oomScoreAdj", 0) < 0:
    proc["oomScoreAdj"] = 0
    with open(p, "w") as f:
        json.dump(c, f)
PY
fi
exec /usr/sbin/runc "$@"
EOF
    chmod 755 "$out"
}

# A relay from the pod network to the loopback API server: pods cannot reach
# 127.0.0.1 of this machine, and the API server listens nowhere else.
write_relay() {
    cat >"$1" <<'EOF'
import asyncio, sys
listen_host, port, target_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            w.close()
        except OSError:
            pass

async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw))

async def main():
    srv = await asyncio.start_server(handle, listen_host, port)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
EOF
}

docker_node() { DOCKER_HOST="unix://$NODE/docker/docker.sock" /usr/bin/docker "$@"; }

build_pause_image() {
    docker_node image inspect "$PAUSE_IMAGE" >/dev/null 2>&1 && return 0
    local src root
    src="$(node_bin)/pause.c"
    [ -f "$src" ] || die "$src missing: run $0 build"
    root=$(mktemp -d)
    gcc -Os -static -o "$root/pause" "$src" 2>"$NODE/pause-build.log" || die "gcc -static pause.c failed (log $NODE/pause-build.log)"
    tar -C "$root" -c pause | docker_node import -c 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    rm -rf "$root"
}

cmd_start() {
    local plane=${1:-}
    [ -n "$plane" ] || usage
    plane=$(cd "$plane" && pwd)
    [ -f "$plane/env" ] || die "no $plane/env: start the plane first ($CP start $plane)"
    # shellcheck disable=SC1091
    . "$plane/env"
    NODE="$plane/node"
    if alive "$NODE" kubelet; then
        log "already running ($NODE)"
        return 0
    fi
    [ ! -d "$NODE" ] || cmd_stop "$plane"
    "$CP" build node
    command -v gcc >/dev/null || die "gcc missing (apt-get install gcc libc6-dev)"
    local bin t0=$SECONDS subnet ip bridge name api_port
    bin=$(node_bin)
    mkdir -p "$NODE"
    subnet=$(free_subnet)
    ip="$subnet.1"
    bridge="h9n$(printf '%04x' $((RANDOM % 65536)))"
    name="hal9-node-${bridge#h9n}"
    api_port=${HAL9_K8S_API##*:}
    echo "$bridge" >"$NODE/bridge"
    echo "$name" >"$NODE/name"
    ip link add "$bridge" type bridge
    ip addr add "$ip/24" dev "$bridge"
    ip link set "$bridge" up

    write_runc_wrapper "$NODE/runc-hal9"
    HAL9_DOCKER_RUNTIME="$NODE/runc-hal9" HAL9_DOCKER_BRIDGE="$bridge" "$HERE/docker-engine.sh" start "$NODE/docker"
    build_pause_image

    write_relay "$NODE/api-relay.py"
    start_bg "$NODE" api-relay python3 "$NODE/api-relay.py" "$ip" "$api_port" "$api_port"

    # A copy under NODE: every daemon's command line names NODE, which is how
    # `alive` tells our pid from a recycled one.
    cp "$plane/kubeconfig" "$NODE/kubeconfig"
    start_bg "$NODE" kube-scheduler "$bin/kube-scheduler" --kubeconfig="$NODE/kubeconfig" \
        --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 --port=0
    mkdir -p "$NODE/root" "$NODE/pki" "$NODE/dockershim"
    start_bg "$NODE" kubelet "$bin/kubelet" --kubeconfig="$NODE/kubeconfig" \
        --hostname-override="$name" --node-ip="$ip" --address="$ip" --port=10250 \
        --read-only-port=0 --healthz-port=0 --anonymous-auth=true --authorization-mode=AlwaysAllow \
        --fail-swap-on=false --cgroup-driver=cgroupfs --cgroups-per-qos=false --enforce-node-allocatable="" \
        --image-gc-high-threshold=100 --image-gc-low-threshold=99 --eviction-hard="" \
        --container-runtime=docker --docker-endpoint="unix://$NODE/docker/docker.sock" \
        --pod-infra-container-image="$PAUSE_IMAGE" --root-dir="$NODE/root" --cert-dir="$NODE/pki" \
        --experimental-dockershim-root-directory="$NODE/dockershim" \
        --node-status-update-frequency=4s --sync-frequency=10s --serialize-image-pulls=false \
        --node-labels=hal9.dev/test-node=true

    # The kubelet registers the node tainted not-ready and the plane runs no
    # nodelifecycle controller to lift it: lift it here, once registered.
    local deadline=$((SECONDS + READY_TIMEOUT)) ready=""
    until api GET "/api/v1/nodes/$name" >/dev/null 2>&1; do
        alive "$NODE" kubelet || { tail -30 "$NODE/kubelet.log" >&2; die "kubelet exited (log $NODE/kubelet.log)"; }
        [ $SECONDS -lt "$deadline" ] || die "node $name did not register within $READY_TIMEOUT s (log $NODE/kubelet.log)"
        sleep 0.5
    done
    api PATCH "/api/v1/nodes/$name" '{"spec":{"taints":null}}' application/merge-patch+json >/dev/null ||
        die "removing the not-ready taint failed"
    api PATCH /api/v1/nodes/hal9-test-node \
        '{"spec":{"taints":[{"key":"hal9.dev/stand-in","value":"true","effect":"NoSchedule"}]}}' \
        application/merge-patch+json >/dev/null || log "warning: could not taint hal9-test-node"
    until [ -n "$ready" ]; do
        ready=$(api GET "/api/v1/nodes/$name" 2>/dev/null | python3 -c '
import json, sys
n = json.load(sys.stdin)
ok = any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions", []))
print("yes" if ok and not n["spec"].get("taints") else "")' || true)
        [ -n "$ready" ] && break
        alive "$NODE" kubelet || { tail -30 "$NODE/kubelet.log" >&2; die "kubelet exited (log $NODE/kubelet.log)"; }
        alive "$NODE" kube-scheduler || { tail -30 "$NODE/kube-scheduler.log" >&2; die "kube-scheduler exited"; }
        [ $SECONDS -lt "$deadline" ] || die "node $name not Ready within $READY_TIMEOUT s (log $NODE/kubelet.log)"
        sleep 0.5
    done
    cat >>"$plane/env" <<EOF
export HAL9_TEST_NODE=$name
export HAL9_TEST_NODE_IP=$ip
export HAL9_TEST_IMAGE=$RUNTIME_IMAGE
export HAL9_TEST_POD_API_HOST=$ip
export HAL9_TEST_POD_API_PORT=$api_port
export HAL9_TEST_DOCKER_HOST_NODE=unix://$NODE/docker/docker.sock
EOF
    log "node $name Ready at $ip in $((SECONDS - t0)) s (logs in $NODE)"
}

# ---------------------------------------------------------------- image

# The runtime image, from the project's own Dockerfile: the `prebuilt` stage
# takes BIN instead of compiling, and the base is the debootstrapped rootfs
# imported as debian:bookworm-slim, so nothing reaches for a registry.
cmd_image() {
    local plane=${1:-} binary=${2:-}
    [ -n "$plane" ] && [ -n "$binary" ] || usage
    plane=$(cd "$plane" && pwd)
    NODE="$plane/node"
    [ -x "$binary" ] || die "$binary is not an executable: build it first (cargo build --bin hal9ctl)"
    [ -S "$NODE/docker/docker.sock" ] || die "no node in $plane: run $0 start $plane first"
    cmd_base_image
    if ! docker_node image inspect debian:bookworm-slim >/dev/null 2>&1; then
        docker_node import - debian:bookworm-slim <"$(base_tarball)" >/dev/null
    fi
    local ctx t0=$SECONDS
    ctx=$(mktemp -d /tmp/hal9-image.XXXXXX)
    cp "$binary" "$ctx/hal9ctl"
    DOCKER_BUILDKIT=1 docker_node build -q --build-arg BINARY=prebuilt -f "$HERE/../Dockerfile" -t "$RUNTIME_IMAGE" "$ctx" >"$NODE/image-build.log" 2>&1 || {
        tail -30 "$NODE/image-build.log" >&2
        rm -rf "$ctx"
        die "docker build from Dockerfile failed (log $NODE/image-build.log)"
    }
    rm -rf "$ctx"
    log "built $RUNTIME_IMAGE from Dockerfile in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- stop

cmd_stop() {
    local plane=${1:-}
    [ -n "$plane" ] || usage
    [ -d "$plane/node" ] || return 0
    plane=$(cd "$plane" && pwd)
    NODE="$plane/node"
    local name pid
    for name in kubelet kube-scheduler api-relay; do
        if alive "$NODE" "$name"; then
            pid=$(pid_of "$NODE" "$name")
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                alive "$NODE" "$name" || break
                sleep 0.1
            done
            if alive "$NODE" "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
        fi
        rm -f "$NODE/$name.pid"
    done
    # The Node object goes too: a later node of the same plane must not
    # inherit pods the scheduler bound to one whose kubelet is gone.
    if [ -f "$NODE/name" ] && [ -f "$plane/env" ]; then
        # shellcheck disable=SC1091
        . "$plane/env"
        api DELETE "/api/v1/nodes/$(cat "$NODE/name")" >/dev/null 2>&1 || true
    fi
    "$HERE/docker-engine.sh" stop "$NODE/docker" || log "warning: stopping the node's dockerd failed"
    # The kubelet's volume mounts (secrets are tmpfs) must go before its files can.
    { grep -o " $NODE/[^ ]*" /proc/self/mounts 2>/dev/null || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    if [ -f "$NODE/bridge" ]; then
        ip link del "$(cat "$NODE/bridge")" 2>/dev/null || true
    fi
    rm -rf "$NODE"
    log "node stopped; removed $NODE"
}

main() {
    case "${1:-}" in
    build) "$CP" build node ;;
    base-image) cmd_base_image ;;
    start) cmd_start "${2:-}" ;;
    image) cmd_image "${2:-}" "${3:-}" ;;
    stop) cmd_stop "${2:-}" ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
    esac
}

main "$@"; exit
