#!/usr/bin/env bash
# Build the Debian package: target/debian/hal9ctl_VERSION_amd64.deb.
# cargo-deb is installed once per version into ~/.cache/hal9/tools.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.8.0
root="$HOME/.cache/hal9/tools/cargo-deb-$version"
if [ ! -x "$root/bin/cargo-deb" ]; then
    cargo install --quiet --locked cargo-deb --version "$version" --root "$root"
fi
# dpkg-shlibdeps fills in $auto (the libc the binary links against).
command -v dpkg-shlibdeps >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends dpkg-dev >/dev/null; }
PATH="$root/bin:$PATH" cargo deb --locked "$@"
