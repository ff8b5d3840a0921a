#!/usr/bin/env bash
# Install test: build the .deb, `dpkg -i` it, check what an operator gets
# (hal9ctl --version, man -w, completions, the conffile, the unit verifies,
# the service user and its state dir, `serve` running as that user), then
# `dpkg -r` (the config stays) and `dpkg --purge` (nothing stays).
#
# Where it installs: this machine's own root, its own dpkg, man-db and
# systemd-analyze, but seen from a private mount namespace in which /etc,
# /usr and /var are overlays whose writes land in a temp dir, and /run is
# empty. So the host never gets /etc/hal9/hal9.toml, the hal9 user or the
# package: tests running at the same time (CI's, or seven colleagues' on a
# shared box) cannot read them, the host's systemd is never asked to reload
# or stop anything, and even a killed run leaves only the temp dir. A
# debootstrap chroot would isolate as well, but it lacks man-db and systemd,
# which it would have to download on every fresh machine.
#
# Usage: scripts/package-test.sh [--release]
#   By default it packages the debug binary `cargo build` already made
#   (`cargo deb --profile dev`: the same assets, the same paths and modes as
#   the release package, no release build), stripped (254 MB of debug info
#   otherwise) and xz --fast: cargo-deb's gzip is zopfli, and xz on the unstripped
#   binary took minutes on a busy 2-core box. --release builds and tests
#   exactly what scripts/package.sh ships. cargo-deb 3.8.0 (pinned in
#   package.sh) warns that a later version will refuse the dev profile; then
#   a `[profile.package-test]` inheriting dev, or --release, takes its place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --inside ]; then
    # Second half, run by unshare below: $2 the .deb, $3 the version, $4 the temp dir.
    deb=$2 version=$3 tmp=$4
    fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
    for d in etc usr var; do
        mkdir -p "$tmp/upper/$d" "$tmp/work/$d"
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$tmp/upper/$d,workdir=$tmp/work/$d" "/$d"
    done
    mount -t tmpfs -o mode=0755 tmpfs /run

    dpkg -i "$deb" >/dev/null
    [ "$(/usr/bin/hal9ctl --version)" = "hal9ctl $version" ] || fail "hal9ctl --version: $(/usr/bin/hal9ctl --version)"
    man -w hal9ctl >/dev/null || fail "man -w hal9ctl"
    man -w hal9ctl-health >/dev/null || fail "man -w hal9ctl-health"
    for f in /usr/share/bash-completion/completions/hal9ctl \
        /usr/share/zsh/vendor-completions/_hal9ctl \
        /usr/share/fish/vendor_completions.d/hal9ctl.fish \
        /usr/share/doc/hal9ctl/runbooks/port-conflict.md \
        /etc/hal9/hal9.toml /usr/lib/systemd/system/hal9.service; do
        [ -s "$f" ] || fail "$f missing"
    done
    grep -qx /etc/hal9/hal9.toml /var/lib/dpkg/info/hal9ctl.conffiles || fail "/etc/hal9/hal9.toml is not a conffile"
    # Documentation=man:… is checked too: the man pages are installed here.
    out=$(systemd-analyze verify /usr/lib/systemd/system/hal9.service 2>&1) || fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify warned: $out"
    getent passwd hal9 >/dev/null || fail "no hal9 user"
    [ "$(stat -c '%U:%G %a' /var/lib/hal9)" = "hal9:hal9 700" ] || fail "/var/lib/hal9 is $(stat -c '%U:%G %a' /var/lib/hal9)"
    /usr/bin/hal9ctl --config /etc/hal9/hal9.toml config >/dev/null || fail "hal9ctl config on /etc/hal9/hal9.toml"

    # The unit's ExecStart as its user: the state dir's modes must satisfy
    # serve's own checks (ARCHITECTURE §5), and admin.token comes out 0600.
    as_hal9() { env -i PATH=/usr/bin:/bin HOME=/var/lib/hal9 setpriv --reuid=hal9 --regid=hal9 --init-groups "$@"; }
    started=$(as_hal9 /usr/bin/hal9ctl --config /etc/hal9/hal9.toml --state-dir /var/lib/hal9 \
        -o json serve --listen 127.0.0.1:0 --detach --ready-timeout 30s) || fail "serve as the hal9 user: $started"
    pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' <<<"$started" | head -n1)
    [ -n "$pid" ] || fail "serve --detach did not report a pid: $started"
    # A failed check must not leave it serving (it would keep the namespace alive).
    trap 'kill -KILL "$pid" 2>/dev/null || true' EXIT
    [ "$(stat -c '%U %a' /var/lib/hal9/admin.token)" = "hal9 600" ] || fail "admin.token is $(stat -c '%U %a' /var/lib/hal9/admin.token)"
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null || { kill -KILL "$pid"; fail "serve (pid $pid) did not stop on SIGTERM"; }

    dpkg -r hal9ctl >/dev/null
    [ ! -e /usr/bin/hal9ctl ] || fail "dpkg -r left /usr/bin/hal9ctl"
    [ -f /etc/hal9/hal9.toml ] || fail "dpkg -r removed the config"
    [ -d /var/lib/hal9 ] || fail "dpkg -r removed the state dir"
    dpkg --purge hal9ctl >/dev/null
    for p in /etc/hal9 /var/lib/hal9 /usr/lib/systemd/system/hal9.service /usr/share/doc/hal9ctl; do
        [ ! -e "$p" ] || fail "dpkg --purge left $p"
    done
    ! getent passwd hal9 >/dev/null || fail "dpkg --purge left the hal9 user"
    exit 0
fi

profile=(--profile dev --strip --fast)
[ "${1:-}" = --release ] && profile=()
t0=$SECONDS
# The package's postrm deletes the hal9 user and /var/lib/hal9 on purge; a
# machine that already has them has its own, which this test must not model.
for p in /etc/hal9 /var/lib/hal9; do
    [ ! -e "$p" ] || { echo "package-test: $p exists on this machine; run it where hal9ctl was never installed (or dpkg --purge hal9ctl first)" >&2; exit 2; }
done
if getent passwd hal9 >/dev/null || dpkg-query -W -f='${Status}' hal9ctl 2>/dev/null | grep -q installed; then
    echo "package-test: user hal9 or package hal9ctl exists on this machine; run it where hal9ctl was never installed (or dpkg --purge hal9ctl first)" >&2
    exit 2
fi
command -v man >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends man-db >/dev/null; }
command -v systemd-analyze >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends systemd >/dev/null; }

# Not under /etc, /usr or /var: the overlays' upper dirs live here.
tmp=$(mktemp -d /tmp/hal9-package-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
scripts/package.sh "${profile[@]}" --output "$tmp/deb/" >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
deb="$tmp/deb/hal9ctl_${version}_amd64.deb"
[ -f "$deb" ] || { echo "package-test: cargo deb made no $deb" >&2; exit 2; }
size=$(stat -c %s "$deb")
unshare --mount --propagation private -- "$0" --inside "$deb" "$version" "$tmp"

# The namespace is gone: the host must look as it did before.
for p in /etc/hal9 /var/lib/hal9 /usr/share/doc/hal9ctl; do
    [ ! -e "$p" ] || { echo "package-test: FAIL: $p leaked onto the host" >&2; exit 1; }
done
! getent passwd hal9 >/dev/null || { echo "package-test: FAIL: the hal9 user leaked onto the host" >&2; exit 1; }
echo "package-test: ok (${profile[*]:---release} package, $size bytes, $((SECONDS - t0))s)" >&2
