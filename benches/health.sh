#!/usr/bin/env bash
# `hal9ctl health` against a healthy local runtime, timed as a whole process
# (hyperfine), next to `curl /health` — the bare HTTP round trip — in one run.
#
#   benches/health.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
command -v hyperfine >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends hyperfine >/dev/null; }
cargo build --release --quiet --bin hal9ctl
bin=$PWD/target/release/hal9ctl
work=$(mktemp -d /tmp/hal9-health-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/hal9.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
url = "http://127.0.0.1:$port"
TOML
export HAL9_STATE_DIR="$work/state" HAL9_CONFIG="$work/hal9.toml"
"$bin" serve --detach >/dev/null
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$work/state/runtime.json")
trap 'kill -TERM $pid 2>/dev/null; sleep 0.5; rm -rf "$work"' EXIT
hyperfine -N --warmup 5 --runs "$runs" -i --export-json "$work/h.json" \
    "$bin health" "curl -s http://127.0.0.1:$port/health" >/dev/null
python3 - "$work/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f'{r["command"].split("/")[-1][:40]:40s} median {r["median"]*1000:6.1f} ms  mean {r["mean"]*1000:6.1f} ± {r["stddev"]*1000:4.1f} ms  min {r["min"]*1000:5.1f} ms')
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
