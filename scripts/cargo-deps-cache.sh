#!/usr/bin/env bash
# The compiled third-party crates of target/debug, cached outside the repo:
# CI starts from a clean clone, and on 2 cores compiling ~500 crates for
# clippy, the binary and the tests takes most of the warm budget.
#
#   scripts/cargo-deps-cache.sh restore   seed target/debug from the cache, if any
#   scripts/cargo-deps-cache.sh save      store target/debug's third-party artifacts (once per key)
#
# The key is Cargo.lock, Cargo.toml (features, profiles) and `rustc -vV`: a seed of another key would only be
# rebuilt by cargo, which judges every artifact by its own fingerprint, so a
# stale seed costs time, never correctness. hal9ctl's own artifacts are never
# cached: the clone's sources are what gets built and tested.
# HAL9_CARGO_DEPS_CACHE overrides the root (default ~/.cache/hal9/cargo-deps).
set -euo pipefail
cd "$(dirname "$0")/.."

root="${HAL9_CARGO_DEPS_CACHE:-$HOME/.cache/hal9/cargo-deps}"
key=$({ cat Cargo.lock Cargo.toml; rustc -vV; } | sha256sum | cut -c1-16)
cache="$root/$key"
log() { printf 'cargo-deps-cache: %s\n' "$*" >&2; }

# The crate's own outputs, by the names its targets compile to.
own=(--exclude /incremental --exclude /examples --exclude /hal9ctl --exclude /hal9ctl.d
    --exclude '/deps/hal9ctl-*' --exclude '/deps/libhal9ctl-*' --exclude '/deps/it-*'
    --exclude '/deps/runtime-*' --exclude '/deps/hello_server-*' --exclude '/deps/gen_man-*'
    --exclude '/.fingerprint/hal9ctl-*' --exclude '/.fingerprint/it-*'
    --exclude '/.fingerprint/runtime-*' --exclude '/.fingerprint/hello_server-*'
    --exclude '/.fingerprint/gen-man-*' --exclude '/.fingerprint/gen_man-*' --exclude '/build/hal9ctl-*')

case "${1:-}" in
restore)
    [ -d "$cache/debug" ] || { log "no cache for key $key yet: cargo builds every crate"; exit 0; }
    [ -d target/debug/deps ] && { log "target/debug already has builds: not seeding"; exit 0; }
    t0=$SECONDS
    mkdir -p target/debug
    rsync -a "$cache/debug/" target/debug/
    log "seeded target/debug from $cache in $((SECONDS - t0)) s"
    ;;
save)
    [ -d "$cache/debug" ] && exit 0
    t0=$SECONDS
    mkdir -p "$root"
    tmp=$(mktemp -d "$root/.saving.XXXXXX")
    rsync -a "${own[@]}" target/debug/ "$tmp/debug/"
    # One key at a time: older keys are only disk.
    find "$root" -mindepth 1 -maxdepth 1 -type d ! -name '.saving.*' ! -name "$key" -exec rm -rf {} +
    # A concurrent run may have saved the same key meanwhile: keep that one.
    mv -T "$tmp" "$cache" 2>/dev/null || { rm -rf "$tmp"; exit 0; }
    log "cached third-party builds as $cache ($(du -sh "$cache" | cut -f1), $((SECONDS - t0)) s)"
    ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac
