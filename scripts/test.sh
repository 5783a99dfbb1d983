#!/usr/bin/env bash
# Hearth's whole test suite: set-up check, ruff, mypy, then pytest with a real Secret Service
# keyring (gnome-keyring on a private D-Bus session, with a throwaway home so the developer's
# own keyring is never touched). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-launch

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
if [[ $(uname -s) == Linux ]]; then
  exec dbus-run-session -- scripts/_with_keyring.sh .venv/bin/python -m pytest "$@"
else
  exec .venv/bin/python -m pytest "$@"
fi
