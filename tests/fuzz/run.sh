#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on its seed corpus.
#   tests/fuzz/run.sh BINARY CORPUS_DIR [SECONDS]
# New interesting inputs land in a temporary directory (deleted afterwards), so the seed corpus
# in git only changes when someone copies a finding into it on purpose. A crash, leak or
# sanitizer report makes this exit non-zero and leaves the reproducer in the current directory.
set -euo pipefail
binary=$1
corpus=$2
seconds=${3:-30}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$scratch" "$corpus"
