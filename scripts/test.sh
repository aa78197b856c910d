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

echo "== offline evaluation gate (public: every scenario solved, none harmful) ==" >&2
EVAL_DIR=$(mktemp -d)
SENTINEL_DATA_DIR="$EVAL_DIR" ./target/debug/sentinel eval --suite public=data/scenarios \
  --out "$EVAL_DIR/public" --min-avg 4.0 --min-pass-rate 1.0 --min-solved-rate 1.0 --max-harmful 0

# The sets already tuned on. None may be harmful. The solved floor is one below the figure
# measured when holdout18 joined them (163/200; 152/188 before, 136/164 before holdout16,
# 100/116 before holdout12): one scenario of slack because a CI run once scored one below a figure
# that no local run (15+, with and without the model, clean clones, faketime, load) ever
# reproduced; the failing gate prints every unsolved scenario, so the next one will name it.
# The rate falls when a harder set joins; the count of solved incidents only moves up.
echo "== regression suites (none harmful, solved >= 162/200) ==" >&2
SENTINEL_DATA_DIR="$EVAL_DIR" ./target/debug/sentinel eval \
  --suite regression=server/tests/fixtures/regression \
  --out "$EVAL_DIR/regression" --max-harmful 0 --min-solved-rate 0.81

# A sealed holdout is measured and printed, never asserted (tuning on it would unseal it).
if [ -d server/tests/fixtures/sealed ]; then
  echo "== sealed holdouts (printed, not gated) ==" >&2
  SENTINEL_DATA_DIR="$EVAL_DIR" ./target/debug/sentinel eval \
    --suite sealed=server/tests/fixtures/sealed --out "$EVAL_DIR/sealed" 2>&1 | tail -3 >&2 || true
fi

echo "== end-to-end (Playwright, headless Chromium) ==" >&2
(cd end2end && npx playwright test)

# The issue's budget for what the browser downloads (ARCHITECTURE.md, "Islands").
echo "== bundle budget (gzip -9 of the optimised WebAssembly <= 300 KB) ==" >&2
scripts/bundle-size.sh --max 300000
