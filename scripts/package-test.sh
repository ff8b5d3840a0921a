#!/usr/bin/env bash
# Install test: build the .deb, dpkg -i it on this machine, check what an
# operator gets, then dpkg -r it and check that the config stays.
# Refuses to run where hal9ctl is already installed from a package.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
if dpkg-query -W -f='${Status}' hal9ctl 2>/dev/null | grep -q "install ok installed"; then
    echo "package-test: hal9ctl is already installed here; refusing to replace it" >&2
    exit 2
fi
scripts/package.sh >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
deb="target/debian/hal9ctl_${version}-1_amd64.deb"
[ -f "$deb" ] || deb="target/debian/hal9ctl_${version}_amd64.deb"
[ -f "$deb" ] || { echo "package-test: no .deb for $version in target/debian" >&2; exit 2; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
cleanup() { dpkg --purge hal9ctl >/dev/null 2>&1 || true; }
trap cleanup EXIT

command -v man >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends man-db >/dev/null; }
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
out=$(systemd-analyze verify /usr/lib/systemd/system/hal9.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
getent passwd hal9 >/dev/null || fail "no hal9 user"
[ "$(stat -c '%U:%G %a' /var/lib/hal9)" = "hal9:hal9 700" ] || fail "/var/lib/hal9 is $(stat -c '%U:%G %a' /var/lib/hal9)"
# The installed binary reads the installed config as the service would.
/usr/bin/hal9ctl --config /etc/hal9/hal9.toml config >/dev/null || fail "hal9ctl config on /etc/hal9/hal9.toml"

dpkg -r hal9ctl >/dev/null
[ ! -e /usr/bin/hal9ctl ] || fail "dpkg -r left /usr/bin/hal9ctl"
[ -f /etc/hal9/hal9.toml ] || fail "dpkg -r removed the config"
echo "package-test: ok ($(stat -c %s "$deb") bytes, $((SECONDS - t0))s)" >&2
