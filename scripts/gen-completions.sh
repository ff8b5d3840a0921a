#!/usr/bin/env bash
# Regenerate the checked-in shell completions from the current parser.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin hal9ctl
bin=target/debug/hal9ctl
"$bin" completions bash > completions/hal9ctl.bash
"$bin" completions zsh > completions/_hal9ctl
"$bin" completions fish > completions/hal9ctl.fish
"$bin" completions powershell > completions/_hal9ctl.ps1
"$bin" completions elvish > completions/hal9ctl.elv
echo "completions regenerated in completions/" >&2
