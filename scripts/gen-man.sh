#!/usr/bin/env bash
# Regenerate the checked-in man pages (man/*.1) from the current parser.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --example gen-man -- man
echo "man pages regenerated in man/" >&2
