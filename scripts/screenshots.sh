#!/usr/bin/env bash
# Take the README's screenshots from the real window on Xvfb (light, dark, reasoning), with a
# throwaway keyring on a private D-Bus session. Writes docs/screenshots/*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolbar's 🔒 needs a colour emoji font, which a bare Xvfb machine lacks.
if command -v apt-get >/dev/null && ! fc-list 2>/dev/null | grep -qi "color emoji"; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    fonts-noto-color-emoji >/dev/null
fi
out="${1:-docs/screenshots}"
exec xvfb-run -a -s "-screen 0 1400x900x24" \
  dbus-run-session -- scripts/_with_keyring.sh \
  env QT_QPA_PLATFORM=xcb HEARTH_SCREENSHOTS="$out" \
  .venv/bin/python -m pytest tests/desktop/test_screenshots.py -q -p no:cacheprovider
