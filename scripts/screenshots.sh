#!/usr/bin/env bash
# Take the README's screenshots from the real window on Xvfb (light, dark, reasoning, a reply
# with its sources, the Library), with a throwaway keyring on a private D-Bus session. Writes
# docs/screenshots/*.png; pass another folder to look without touching those, and -k NAME to
# take only some. (Hearth's icons are its own SVGs: no emoji font is needed.)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
shift || true
exec xvfb-run -a -s "-screen 0 1400x900x24" \
  dbus-run-session -- scripts/_with_keyring.sh \
  env QT_QPA_PLATFORM=xcb HEARTH_SCREENSHOTS="$out" \
  .venv/bin/python -m pytest tests/desktop/test_screenshots.py -q -p no:cacheprovider "$@"
