#!/usr/bin/env bash
# The official MCP Python SDK (PyPI `mcp`, pinned) for the MCP client tests
# (server/tests/mcp.rs), in .tools/mcp/venv (git-ignored). A second run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(pwd)/.tools/mcp/venv"
if ! "$VENV/bin/python" -c 'import mcp, httpx2' 2>/dev/null; then
  printf '\033[1;34m[setup-mcp]\033[0m %s\n' "installing the MCP Python SDK 2.3.0 into .tools/mcp/venv" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet "mcp==2.3.0"
fi
echo "$VENV/bin/python"
