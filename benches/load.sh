#!/usr/bin/env bash
# HTTP load on POST /api/v1/signal with wrk (10 s, 64 connections), and in the
# same run the same load on a minimal axum "hello" server: the machine's
# ceiling. Prints req/s, p50/p99 and the ratio to the ceiling.
#
#   benches/load.sh                 # steady state
#   benches/load.sh --rollback      # a gradual rollback runs during the load;
#                                   # prints non-2xx/socket errors (must be 0)
#   benches/load.sh --migrate       # the same for hal9ctl migrate flat -> ramp_up
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
mode=${1:-steady}

command -v wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null; }
# HAL9_BIN: measure a binary already built (e.g. target/debug/hal9ctl where
# disk is short); --rollback and --migrate then skip the hello ceiling.
bin=${HAL9_BIN:-target/release/hal9ctl}
[ -n "${HAL9_BIN:-}" ] || cargo build --release --quiet --bin hal9ctl
hello=$([ -n "${HAL9_BIN:-}" ] && [ "$mode" != steady ] && exit 0; cargo bench --bench hello_server --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "hello_server" and m.get("executable"):
        print(m["executable"])')
work=$(mktemp -d /tmp/hal9-load.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat >"$work/hal9.toml" <<TOML
[limits]
# The default 1000 req/s limit would measure the limiter, not the server.
max_in_flight = 100000
rate_limit_rps = 10000000
TOML
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  -- 1000 distinct signals: a mix of layer-cache hits and misses.
  return wrk.format(nil, nil, nil, '{"content":"users report slow answers ' .. (n % 1000) .. '"}')
end
LUA

port=$(free_port)
start_at=()
[ "$mode" = "--migrate" ] && start_at=(--migration-phase flat)
HAL9_STATE_DIR="$work/state" "$bin" -c "$work/hal9.toml" serve --listen "127.0.0.1:$port" "${start_at[@]}" >"$work/serve.log" 2>&1 &
pids+=($!)
hport=$(free_port)
if [ -n "$hello" ]; then
    "$hello" "127.0.0.1:$hport" >/dev/null 2>&1 &
    pids+=($!)
fi
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && { [ -z "$hello" ] || curl -s -o /dev/null -X POST "http://127.0.0.1:$hport/"; } && break
    sleep 0.1
done

run_wrk() { # url -> "rps p50 p99 errors"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/post.lua" "$1" >"$work/wrk.out" 2>&1
    python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def lat(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
print(f"{rps:.0f} {lat(50):.2f} {lat(99):.2f} {errors}")
PY
}

if [ "$mode" = "--rollback" ]; then
    token=$(cat "$work/state/admin.token")
    # Start from ramp_up so there is something to roll back.
    v=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/admin/migration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
    curl -fs -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"version\":$v,\"phase\":\"ramp_up\",\"hierarchical_percent\":75.0,\"flags\":{\"hierarchical_routing\":true,\"state_migration\":true,\"cognitive_layers\":true,\"protocol_layer\":true,\"substrate_layer\":true},\"state_schema\":2}" \
        "http://127.0.0.1:$port/admin/migration" >/dev/null
    read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$port/api/v1/signal")
    echo "steady (ramp_up, 75 % hierarchical): ${rps} req/s  p50 ${p50} ms  p99 ${p99} ms  errors ${err}"
    (sleep 1; HAL9_STATE_DIR="$work/state" "$bin" --url "http://127.0.0.1:$port" rollback --strategy gradual --to-phase state_migration \
        --steps 5 --interval 1s --max-p99 1s --yes -o json >"$work/rollback.json" 2>"$work/rollback.err") &
    pids+=($!)
    read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$port/api/v1/signal")
    wait "${pids[-1]}" || true
    summary=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"])' "$work/rollback.json" 2>/dev/null || cat "$work/rollback.err")
    echo "during a gradual rollback ramp_up -> state_migration (75 % -> 25 %): ${rps} req/s  p50 ${p50} ms  p99 ${p99} ms  errors ${err}"
    echo "rollback: $summary"
    exit 0
fi

if [ "$mode" = "--migrate" ]; then
    # A fresh install: from flat forward to ramp_up while the load runs.
    (sleep 1; HAL9_STATE_DIR="$work/state" "$bin" --url "http://127.0.0.1:$port" migrate --to-phase ramp_up \
        --steps 2 --interval 1s --max-p99 1s --yes -o json >"$work/migrate.json" 2>"$work/migrate.err") &
    pids+=($!)
    read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$port/api/v1/signal")
    wait "${pids[-1]}" || true
    summary=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"])' "$work/migrate.json" 2>/dev/null || cat "$work/migrate.err")
    echo "during a forward migration flat -> ramp_up (0 % -> 75 %): ${rps} req/s  p50 ${p50} ms  p99 ${p99} ms  errors ${err}"
    echo "migrate: $summary"
    exit 0
fi

read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$port/api/v1/signal")
read -r hrps hp50 hp99 herr < <(run_wrk "http://127.0.0.1:$hport/")
ratio=$(python3 -c "print(f'{100*$rps/$hrps:.0f}')")
echo "hal9ctl serve  POST /api/v1/signal: ${rps} req/s  p50 ${p50} ms  p99 ${p99} ms  errors ${err}"
echo "axum hello     POST /            : ${hrps} req/s  p50 ${hp50} ms  p99 ${hp99} ms  errors ${herr}"
echo "ratio to the ceiling: ${ratio} %   (wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}, $(nproc) cores)"
