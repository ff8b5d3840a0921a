#!/usr/bin/env bash
# A real Docker Engine for hal9ctl's tests (and, later, for a kubelet node):
# Debian's docker.io, with dockerd run in the background because systemd is
# not PID 1 here.
#
#   scripts/docker-engine.sh install     apt packages (docker.io, and what it needs)
#   scripts/docker-engine.sh start DIR   start dockerd with its data, exec root and socket under DIR;
#                                        writes DIR/env; imports the busybox image the tests run
#   scripts/docker-engine.sh stop DIR    stop the dockerd whose pid DIR records, remove DIR
#   scripts/docker-engine.sh status DIR  running or not, and the socket (exit 1 when not running)
#   scripts/docker-engine.sh env DIR     print DIR/env (shell-sourceable)
#
# Environment:
#   HAL9_DOCKER_READY_TIMEOUT  seconds to wait for `docker info` (default 60)
#   HAL9_DOCKER_BRIDGE         an existing bridge for the containers instead of docker0 (optional;
#                              dockerd then leaves iptables alone: scripts/k8s-node.sh uses it)
#   HAL9_DOCKER_RUNTIME        a runc wrapper to register as the default runtime (optional;
#                              see /work/shared/notes: the kubelet needs one without CAP_SYS_RESOURCE)
#
# DIR/env exports DOCKER_HOST (unix://DIR/docker.sock), HAL9_TEST_DOCKER_HOST (the same)
# and HAL9_TEST_DOCKER_IMAGE (a local busybox image: nothing can be pulled here).
# The daemon uses the machine's docker0 bridge and iptables, so run one per machine.
# `stop` kills only the pid recorded in DIR.
set -euo pipefail

READY_TIMEOUT="${HAL9_DOCKER_READY_TIMEOUT:-60}"
IMAGE=hal9-test/busybox:local

log() { printf 'docker-engine: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit "${1:-64}"
}

need_pkgs() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    [ -x /bin/busybox ] || missing+=(busybox-static)
    command -v python3 >/dev/null || missing+=(python3)
    if [ ${#missing[@]} -gt 0 ]; then printf '%s\n' "${missing[@]}"; fi
}

cmd_install() {
    local missing sudo=""
    missing=$(need_pkgs)
    [ -z "$missing" ] && return 0
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    log "installing: $(echo "$missing" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/tmp/hal9-docker-apt.log 2>&1; then
        $sudo apt-get update >>/tmp/hal9-docker-apt.log 2>&1
        # shellcheck disable=SC2086
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >>/tmp/hal9-docker-apt.log 2>&1 ||
            die "apt-get install failed; see /tmp/hal9-docker-apt.log"
    fi
}

# The Debian client, matching the daemon, even when a newer one is first on PATH.
docker_cli() {
    local cli=/usr/bin/docker
    [ -x "$cli" ] || cli=docker
    DOCKER_HOST="unix://$DIR/docker.sock" "$cli" "$@"
}

running() {
    [ -f "$DIR/dockerd.pid" ] || return 1
    local pid
    pid=$(cat "$DIR/dockerd.pid")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cmd_start() {
    cmd_install
    mkdir -p "$DIR/data" "$DIR/exec"
    DIR=$(cd "$DIR" && pwd)
    running && die "dockerd from $DIR is already running (pid $(cat "$DIR/dockerd.pid"))"
    # Every engine started here shares docker0 and its address pool.
    if [ -z "${HAL9_DOCKER_BRIDGE:-}" ] && pgrep -x dockerd >/dev/null 2>&1; then
        log "warning: another dockerd runs (pid $(pgrep -x dockerd | tr '\n' ' ')); containers of both share docker0"
    fi
    local extra=()
    if [ -n "${HAL9_DOCKER_RUNTIME:-}" ]; then
        extra+=(--add-runtime "hal9=$HAL9_DOCKER_RUNTIME" --default-runtime hal9)
    fi
    if [ -n "${HAL9_DOCKER_BRIDGE:-}" ]; then
        extra+=(--bridge "$HAL9_DOCKER_BRIDGE" --iptables=false --ip-masq=false)
    fi
    # setsid: the daemon must outlive the shell that started it, and not take its signals.
    setsid dockerd \
        --host "unix://$DIR/docker.sock" \
        --data-root "$DIR/data" \
        --exec-root "$DIR/exec" \
        --pidfile "$DIR/dockerd.pid" \
        --userland-proxy=true \
        "${extra[@]}" \
        >"$DIR/dockerd.log" 2>&1 </dev/null &
    local launched=$! waited=0
    until docker_cli info >/dev/null 2>&1; do
        if ! kill -0 "$launched" 2>/dev/null; then
            tail -20 "$DIR/dockerd.log" >&2
            die "dockerd exited; log: $DIR/dockerd.log"
        fi
        [ "$waited" -ge $((READY_TIMEOUT * 10)) ] && die "docker info did not answer in ${READY_TIMEOUT}s; log: $DIR/dockerd.log"
        sleep 0.1
        waited=$((waited + 1))
    done
    # dockerd writes its pid file itself; keep ours if it has not yet.
    [ -s "$DIR/dockerd.pid" ] || echo "$launched" >"$DIR/dockerd.pid"
    if ! docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
        local root
        root=$(mktemp -d)
        mkdir -p "$root/bin"
        cp /bin/busybox "$root/bin/busybox"
        for app in sh sleep nc httpd cat; do ln -s busybox "$root/bin/$app"; done
        tar -C "$root" -c . | docker_cli import -c 'ENTRYPOINT ["/bin/busybox"]' - "$IMAGE" >/dev/null
        rm -rf "$root"
    fi
    cat >"$DIR/env" <<EOF
export DOCKER_HOST=unix://$DIR/docker.sock
export HAL9_TEST_DOCKER_HOST=unix://$DIR/docker.sock
export HAL9_TEST_DOCKER_IMAGE=$IMAGE
EOF
    log "dockerd pid $(cat "$DIR/dockerd.pid") on unix://$DIR/docker.sock"
}

cmd_stop() {
    [ -d "$DIR" ] || return 0
    if running; then
        local pid i
        pid=$(cat "$DIR/dockerd.pid")
        # Containers first, so none outlives the daemon that tracks it.
        local ids
        ids=$(docker_cli ps -q 2>/dev/null || true)
        # shellcheck disable=SC2086
        [ -z "$ids" ] || docker_cli stop -t 2 $ids >/dev/null 2>&1 || true
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    # The daemon's mounts must go before its files can.
    { grep -o " $DIR/[^ ]*" /proc/self/mounts 2>/dev/null || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$DIR"
}

cmd_status() {
    if running; then
        echo "running: pid $(cat "$DIR/dockerd.pid"), unix://$DIR/docker.sock"
    else
        echo "not running"
        exit 1
    fi
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
install) cmd_install ;;
start | stop | status | env)
    [ $# -eq 1 ] || usage
    DIR=$1
    case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cat "$DIR/env" ;;
    esac
    ;;
-h | --help | help) usage 0 ;;
*) usage ;;
esac
