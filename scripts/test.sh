#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests, the offline evaluation gate, and the
# Playwright end-to-end tests in Debian's headless Chromium against the real server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
scripts/build-site.sh debug

echo "== lint (fmt, clippy -D warnings) ==" >&2
cargo fmt --all -- --check
cargo clippy -p sentinel-model -p sentinel-app -p sentinel-engine -p sentinel-server --all-targets -- -D warnings
cargo clippy -p sentinel-frontend --target wasm32-unknown-unknown -- -D warnings

echo "== cargo test ==" >&2
# Not --workspace: that would build `app` with both `ssr` and `hydrate` (see Cargo.toml).
cargo test -p sentinel-model -p sentinel-app -p sentinel-engine -p sentinel-server

echo "== offline evaluation gate (avg >= 4.0, every scenario passes) ==" >&2
EVAL_DIR=$(mktemp -d)
SENTINEL_DATA_DIR="$EVAL_DIR" ./target/debug/sentinel eval --out "$EVAL_DIR/reports" --min-avg 4.0 --min-pass-rate 1.0

echo "== end-to-end (Playwright, headless Chromium) ==" >&2
(cd end2end && npx playwright test)
