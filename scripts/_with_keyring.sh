#!/usr/bin/env bash
# Run inside dbus-run-session: start gnome-keyring's Secret Service with a throwaway keyring,
# run the command, stop the daemon (it would outlive the bus otherwise).
set -euo pipefail
keyring_home=$(mktemp -d)
trap 'kill "${daemon:-0}" 2>/dev/null || true; rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home/data"   # gnome-keyring keeps keyrings here
mkdir -p "$XDG_DATA_HOME"
printf 'hearth-test\n' | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >/dev/null 2>&1 &
daemon=$!
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
    | grep -q "boolean true" && break
  sleep 0.1
done
export HEARTH_TEST_KEYRING=secret-service
"$@"
