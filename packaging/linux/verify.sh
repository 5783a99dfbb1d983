#!/usr/bin/env bash
# Check a Hearth download or an unpacked Hearth folder before running it.
#   verify.sh --key hearth-release.pub DIR
# DIR holds SHA256SUMS and SHA256SUMS.sig (the release folder with the .tar.gz, or the
# unpacked Hearth/ folder). The checks, in order:
#   1. SHA256SUMS.sig is a valid Ed25519 signature of SHA256SUMS by the key you trust (get
#      the public key from Hearth's website or repository, never from the same download);
#   2. every file listed in SHA256SUMS exists and has that sha256;
#   3. for a "complete" manifest (the Hearth/ folder): no file or symlink that is not listed.
# Exit 0 and "OK" when all pass; 1 and what failed otherwise. Needs bash, OpenSSL 3 and
# sha256sum (coreutils): nothing from Hearth itself, so a damaged bundle cannot lie about it.
set -uo pipefail
export LC_ALL=C

usage() { echo "usage: verify.sh --key PUBLIC_KEY.pem DIR" >&2; exit 2; }
[[ ${1:-} == --key ]] || usage
key=${2:-}; dir=${3:-}
[[ -n $key && -n $dir ]] || usage
fail() { echo "verify: FAILED: $*" >&2; exit 1; }
[[ -f $key ]] || fail "no public key at $key"
[[ -d $dir ]] || fail "no folder at $dir"
sums="$dir/SHA256SUMS"
[[ -f $sums && -f $sums.sig ]] || fail "$dir has no SHA256SUMS and SHA256SUMS.sig"

# 1. Signature
if ! openssl pkeyutl -verify -pubin -inkey "$key" -rawin -in "$sums" -sigfile "$sums.sig" \
     >/dev/null 2>&1; then
  fail "SHA256SUMS is not signed by this key (or it was changed after signing)"
fi
echo "signature: good (Ed25519, $(openssl pkey -pubin -in "$key" -outform DER 2>/dev/null \
  | sha256sum | cut -c1-16)… key)"

mode=$(sed -n '1s/^# hearth-manifest: //p' "$sums")
[[ $mode == complete || $mode == listed ]] || fail "SHA256SUMS has no manifest header"

# 2. Every listed file
bad=0; listed=0
declare -A in_manifest=()
while IFS= read -r line; do
  [[ $line == '#'* || -z $line ]] && continue
  want=${line:0:64}; rel=${line:66}
  rel=${rel#./}
  listed=$((listed + 1)); in_manifest["$rel"]=1
  if [[ ! -f "$dir/$rel" || -L "$dir/$rel" ]]; then
    echo "  missing: $rel" >&2; bad=$((bad + 1)); continue
  fi
  got=$(sha256sum -- "$dir/$rel" | cut -c1-64)
  if [[ $got != "$want" ]]; then echo "  changed: $rel" >&2; bad=$((bad + 1)); fi
done < "$sums"
while IFS= read -r line; do
  link=${line#\# symlink ./}; rel=${link%% -> *}; target=${link#* -> }
  in_manifest["$rel"]=1
  if [[ ! -L "$dir/$rel" || $(readlink "$dir/$rel") != "$target" ]]; then
    echo "  changed symlink: $rel" >&2; bad=$((bad + 1))
  fi
done < <(grep '^# symlink ' "$sums")

# 3. Nothing added
if [[ $mode == complete ]]; then
  while IFS= read -r -d '' f; do
    rel=${f#./}
    [[ $rel == SHA256SUMS || $rel == SHA256SUMS.sig ]] && continue
    if [[ -z ${in_manifest["$rel"]:-} ]]; then echo "  not signed: $rel" >&2; bad=$((bad + 1)); fi
  done < <(cd "$dir" && find . \( -type f -o -type l \) -print0)
fi

((bad == 0)) || fail "$bad file(s) differ from what was signed"
echo "files: $listed checked against SHA256SUMS ($mode manifest)"
echo "OK: $dir is exactly what was signed"
