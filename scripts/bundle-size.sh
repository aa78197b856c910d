#!/usr/bin/env bash
# The dashboard's WebAssembly size as the browser downloads it: the release build
# (scripts/build-site.sh release steps: wasm-release profile, wasm-bindgen, wasm-opt -Oz), then
# `gzip -9` of the .wasm. With a git revision, that revision is built first in a temporary
# worktree (same target directory; a base without this tree's .cargo/config.toml builds with
# other rustflags, so every dependency rebuilds for it and again for the tree) and the ratio
# current/base is printed: sizes are compared within one run, never against old figures.
#   scripts/bundle-size.sh [BASE_REV]
#   scripts/bundle-size.sh --max BYTES   fails when the gzip -9 figure is above BYTES (CI)
set -euo pipefail
MAX=""
if [[ "${1:-}" == "--max" ]]; then
  MAX=${2:?--max needs a byte count}
  shift 2
fi
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; [[ -n "${WT:-}" ]] && git -C "$ROOT" worktree remove --force "$WT" >/dev/null 2>&1 || true' EXIT

# measure DIR LABEL: prints "LABEL raw opt gzip9" (bytes) and keeps the gzip figure in $OUT/LABEL.
measure() {
  local dir=$1 label=$2
  (cd "$dir" && cargo build -q -p sentinel-frontend --lib --target wasm32-unknown-unknown --profile wasm-release)
  local wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/sentinel_frontend.wasm"
  wasm-bindgen --target web --no-typescript --out-dir "$OUT/$label.pkg" --out-name sentinel "$wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$OUT/$label.pkg/sentinel_bg.wasm" -o "$OUT/$label.wasm"
  local raw opt gz
  raw=$(stat -c %s "$OUT/$label.pkg/sentinel_bg.wasm")
  opt=$(stat -c %s "$OUT/$label.wasm")
  gz=$(gzip -9 -c "$OUT/$label.wasm" | wc -c)
  echo "$gz" > "$OUT/$label"
  printf '%-8s wasm-bindgen %9d B   wasm-opt -Oz %9d B   gzip -9 %8d B (%.1f KB)\n' "$label" "$raw" "$opt" "$gz" "$(awk "BEGIN{print $gz/1000}")"
}

if [[ $# -ge 1 ]]; then
  WT=$(mktemp -d -u /tmp/sentinel-bundle-base.XXXXXX)
  git worktree add --detach -q "$WT" "$1"
  measure "$WT" base
fi
measure "$ROOT" current
if [[ -n "${WT:-}" ]]; then
  awk -v c="$(cat "$OUT/current")" -v b="$(cat "$OUT/base")" 'BEGIN { printf "gzip -9 current/base = %.3f\n", c / b }'
fi
if [[ -n "$MAX" ]] && (( $(cat "$OUT/current") > MAX )); then
  echo "the dashboard's WebAssembly is $(cat "$OUT/current") B gzipped, over the budget of $MAX B (docs/benchmarks.md)" >&2
  exit 1
fi
