#!/usr/bin/env bash
# aiosmtpd (PyPI, pinned): the local SMTP server the email-notification tests send to
# (server/tests/notify.rs), in .tools/smtp/venv (git-ignored). A second run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(pwd)/.tools/smtp/venv"
if ! "$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  printf '\033[1;34m[setup-smtp]\033[0m %s\n' "installing aiosmtpd 1.4.6 into .tools/smtp/venv" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet "aiosmtpd==1.4.6"
fi
echo "$VENV/bin/python"
