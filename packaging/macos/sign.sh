#!/usr/bin/env bash
# macOS: sign Hearth.app inside out under the hardened runtime, notarize and staple it, then
# make, sign, notarize and staple the .dmg.
#   packaging/macos/sign.sh path/to/Hearth.app
# UNTESTED: written on Linux, where codesign, notarytool and hdiutil do not exist.
#
# Environment (nothing is read from files in the repository):
#   HEARTH_MACOS_IDENTITY   "Developer ID Application: Name (TEAMID)" in the login keychain
#   HEARTH_NOTARY_PROFILE   a notarytool keychain profile (xcrun notarytool store-credentials),
#     or all three of HEARTH_APPLE_ID, HEARTH_APPLE_TEAM_ID, HEARTH_APPLE_APP_PASSWORD
#   HEARTH_SKIP_NOTARIZE=1  sign only (a local check of the signatures; not for release)
#
# Why the app is notarized on its own before the dmg: a stapled ticket lets Gatekeeper accept
# the app with no network connection, and Hearth is meant for offline machines. Stapling only
# the dmg would leave the app, once copied out, needing an online check.
set -euo pipefail
app=${1:?usage: packaging/macos/sign.sh path/to/Hearth.app}
app=${app%/}
here=$(cd "$(dirname "$0")" && pwd)
entitlements="$here/Hearth.entitlements"
identity=${HEARTH_MACOS_IDENTITY:?set HEARTH_MACOS_IDENTITY to your Developer ID Application identity}
[[ -d $app/Contents/MacOS ]] || { echo "sign: $app is not an app bundle" >&2; exit 1; }

sign() {  # sign(path, [entitlements]): hardened runtime, secure timestamp, replace any old one
  local args=(--force --timestamp --options runtime --sign "$identity")
  [[ -n ${2:-} ]] && args+=(--entitlements "$2")
  codesign "${args[@]}" "$1"
}
# Output is captured before grep looks at it: `cmd | grep -q` under pipefail can fail with
# SIGPIPE when grep stops reading early, and then a check reads the wrong way.
is_macho() { [[ $(file -b "$1") == *Mach-O* ]]; }
depth() { awk -F/ '{ print NF "\t" $0 }' | sort -rn -k1,1 -s | cut -f2-; }

# 1. Every nested Mach-O that is not part of a framework, deepest first (.so, .dylib, the
#    Python library, Qt plugins, llama.cpp's libraries).
echo "sign: nested binaries"
while IFS= read -r f; do
  if is_macho "$f"; then sign "$f"; fi
done < <(find "$app/Contents" -type f ! -path '*.framework/*' ! -path "$app/Contents/MacOS/*" \
         | depth)

# 2. Frameworks (Qt's), as bundles, deepest first: codesign signs the framework's binary and
#    seals its resources. Loose Mach-O files inside them (helpers) first.
while IFS= read -r fw; do
  while IFS= read -r f; do
    if is_macho "$f"; then sign "$f"; fi
  done < <(find "$fw" -type f -path '*/Helpers/*' | depth)
  sign "$fw"
done < <(find "$app/Contents" -type d -name '*.framework' | depth)

# 3. The executables in Contents/MacOS other than the main one (hearth-cli), then the app,
#    both with the app's entitlements. The main executable is signed with the app.
main_exe=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleExecutable' "$app/Contents/Info.plist")
for f in "$app/Contents/MacOS"/*; do
  [[ $(basename "$f") == "$main_exe" ]] || sign "$f" "$entitlements"
done
sign "$app" "$entitlements"

echo "sign: checking"
codesign --verify --deep --strict --verbose=2 "$app"
if [[ $(codesign -d --entitlements - "$app" 2>/dev/null) == *network.client* ]]; then
  echo "sign: the app has com.apple.security.network.client: not a local-only build" >&2
  exit 1
fi

notarize() {  # notarize(file): submit and wait; fails unless Apple answers Accepted
  local auth
  if [[ -n ${HEARTH_NOTARY_PROFILE:-} ]]; then
    auth=(--keychain-profile "$HEARTH_NOTARY_PROFILE")
  else
    auth=(--apple-id "${HEARTH_APPLE_ID:?set HEARTH_NOTARY_PROFILE or HEARTH_APPLE_ID}"
          --team-id "${HEARTH_APPLE_TEAM_ID:?set HEARTH_APPLE_TEAM_ID}"
          --password "${HEARTH_APPLE_APP_PASSWORD:?set HEARTH_APPLE_APP_PASSWORD}")
  fi
  local answer
  answer=$(xcrun notarytool submit "$1" "${auth[@]}" --wait --timeout 1h) || return 1
  printf '%s\n' "$answer" >&2
  [[ $answer == *'status: Accepted'* ]]
}

version=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")
dmg="$(dirname "$app")/Hearth-$version-macos-$(uname -m).dmg"
if [[ ${HEARTH_SKIP_NOTARIZE:-} != 1 ]]; then
  echo "sign: notarizing the app"
  zip=$(mktemp -d)/Hearth.zip
  ditto -c -k --keepParent "$app" "$zip"
  notarize "$zip"
  xcrun stapler staple "$app"
fi

echo "sign: making $dmg"
rm -f "$dmg"
hdiutil create -volname Hearth -srcfolder "$app" -ov -format UDZO "$dmg"
codesign --force --timestamp --sign "$identity" "$dmg"
if [[ ${HEARTH_SKIP_NOTARIZE:-} != 1 ]]; then
  echo "sign: notarizing the dmg"
  notarize "$dmg"
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
  spctl --assess --type execute --verbose=2 "$app"
  spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
fi
shasum -a 256 "$dmg" > "$dmg.sha256"
echo "sign: done: $dmg"
