#!/usr/bin/env bash
# Port → PID lookup, timed as whole processes in one hyperfine run against a
# listener this script starts:
#   hal9ctl emergency port-conflict --dry-run --port N   (release build)
#   ss -ltnpH 'sport = :N'
#   lsof -ti :N
#   fuser N/tcp
# Required (issue 3): hal9ctl <= 1.5x ss, and >= 10x faster than lsof.
#
# Usage: benches/port_lookup.sh [RUNS]      (default 100 runs per command)
# Needs: hyperfine (apt-get install hyperfine), python3, ss, lsof, fuser.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-100}"
for tool in hyperfine python3 ss lsof fuser; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

cargo build --release --quiet --bin hal9ctl
bin="$PWD/target/release/hal9ctl"

work="$(mktemp -d)"
listener_pid=""
cleanup() {
    if [[ -n "$listener_pid" ]]; then kill "$listener_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A listener on a port the kernel picks; it prints the port once it listens.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(3600)
' >"$work/port" &
listener_pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
port="$(cat "$work/port")"

# Every tool must find the listener, or the timing compares nothing.
HAL9_STATE_DIR="$work" "$bin" emergency port-conflict --dry-run --port "$port" -o json \
    | grep -q "\"pid\": $listener_pid" || { echo "hal9ctl did not find pid $listener_pid" >&2; exit 2; }
ss -ltnpH "sport = :$port" | grep -q "pid=$listener_pid" || { echo "ss did not find it" >&2; exit 2; }
lsof -ti ":$port" | grep -qx "$listener_pid" || { echo "lsof did not find it" >&2; exit 2; }

echo "listener pid $listener_pid on 127.0.0.1:$port; $(nproc) cores; $(ss -tanH | wc -l) TCP sockets on the host" >&2

export HAL9_STATE_DIR="$work" NO_COLOR=1
hyperfine --shell=none --warmup 5 --runs "$runs" --ignore-failure \
    --export-json "$work/result.json" --export-markdown "$work/result.md" \
    -n hal9ctl "$bin emergency port-conflict --dry-run --port $port" \
    -n ss "ss -ltnpH 'sport = :$port'" \
    -n lsof "lsof -ti :$port" \
    -n fuser "fuser $port/tcp" >&2

cat "$work/result.md"
python3 - "$work/result.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
vs_ss = med["hal9ctl"] / med["ss"]
vs_lsof = med["lsof"] / med["hal9ctl"]
print()
print(f"median ms: " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))
print(f"hal9ctl / ss   = {vs_ss:.2f}x  (required <= 1.5x): {'PASS' if vs_ss <= 1.5 else 'FAIL'}")
print(f"lsof / hal9ctl = {vs_lsof:.1f}x  (required >= 10x):  {'PASS' if vs_lsof >= 10 else 'FAIL'}")
sys.exit(0 if vs_ss <= 1.5 and vs_lsof >= 10 else 1)
EOF
