#!/usr/bin/env bash
# Sign a folder: write DIR/SHA256SUMS (the sha256 of every file in it) and DIR/SHA256SUMS.sig
# (an Ed25519 signature of that file, made with OpenSSL 3).
#   packaging/linux/sign.sh [--listed] PRIVATE_KEY.pem DIR
# Default ("complete"): every file under DIR is listed, and verify.sh refuses any file that is
# not (an added library or plugin is tampering too). --listed: only the files directly in DIR
# (a release folder: tarball + sums), and verify.sh checks just those.
# The key never leaves this machine; in CI it comes from a secret (HEARTH_LINUX_SIGNING_KEY,
# written to a private temporary file by the workflow), here from a throwaway key.
set -euo pipefail
export LC_ALL=C  # sort order and sha256sum output must not depend on the locale

mode=complete
if [[ ${1:-} == --listed ]]; then mode=listed; shift; fi
key=${1:?usage: sign.sh [--listed] PRIVATE_KEY.pem DIR}
dir=${2:?usage: sign.sh [--listed] PRIVATE_KEY.pem DIR}
[[ -d $dir ]] || { echo "sign: no folder $dir" >&2; exit 1; }
command -v openssl >/dev/null || { echo "sign: openssl is needed" >&2; exit 1; }

sums="$dir/SHA256SUMS"
rm -f "$sums" "$sums.sig"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
(
  # The header is inside the signed bytes: nobody can turn a complete manifest into a listed one.
  echo "# hearth-manifest: $mode"
  cd "$dir"
  if [[ $mode == complete ]]; then
    find . -type f ! -path ./SHA256SUMS ! -path ./SHA256SUMS.sig -print0
  else
    find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name SHA256SUMS.sig -print0
  fi | sort -z | xargs -0 -r sha256sum --
) > "$tmp"
# Not `find | grep -q`: under pipefail, grep quitting at the first match can kill find with
# SIGPIPE, the test reads as false and the symlinks go unlisted (seen in CI: 42 "not signed").
if [[ -n $(find "$dir" -type l -print -quit) ]]; then
  # A symlink could point anywhere at run time: list each one with its target, signed.
  (cd "$dir" && find . -type l -print0 | sort -z | while IFS= read -r -d '' l; do
     printf '# symlink %s -> %s\n' "$l" "$(readlink "$l")"; done) >> "$tmp"
fi
mv "$tmp" "$sums"
trap - EXIT
openssl pkeyutl -sign -inkey "$key" -rawin -in "$sums" -out "$sums.sig"
count=$(grep -vc '^#' "$sums" || true)
echo "signed $dir: $count files in SHA256SUMS ($mode), Ed25519 signature in SHA256SUMS.sig"
