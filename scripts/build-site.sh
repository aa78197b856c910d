#!/usr/bin/env bash
# Builds the dashboard (hydrate WASM + CSS + assets into target/site) and the `sentinel`
# binary: the same steps `cargo leptos build` runs, with tools from the package registries.
#   scripts/build-site.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-debug}
SITE=target/site
PKG=$SITE/pkg
export PATH="$(pwd)/.tools/node_modules/.bin:$PATH"
mkdir -p "$PKG"

if [[ $MODE == release ]]; then
  cargo build -p sentinel-frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  WASM=target/wasm32-unknown-unknown/wasm-release/sentinel_frontend.wasm
else
  cargo build -p sentinel-frontend --lib --target wasm32-unknown-unknown
  WASM=target/wasm32-unknown-unknown/debug/sentinel_frontend.wasm
fi
wasm-bindgen --target web --no-typescript --out-dir "$PKG" --out-name sentinel "$WASM"
if [[ $MODE == release ]]; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$PKG/sentinel_bg.wasm" -o "$PKG/sentinel_bg.wasm"
fi
cp style/main.css "$PKG/sentinel.css"
cp -r public/. "$SITE/"

if [[ $MODE == release ]]; then
  cargo build -p sentinel-server --bin sentinel --release
else
  cargo build -p sentinel-server --bin sentinel
fi
printf '\033[1;34m[build]\033[0m site in %s (%s): wasm %s bytes\n' "$SITE" "$MODE" "$(stat -c %s "$PKG/sentinel_bg.wasm")" >&2
