#!/usr/bin/env bash
# Build, sign and check the Linux bundle of Hearth, end to end, on this machine:
#   1. build the one-folder app twice (PyInstaller, pinned; SOURCE_DATE_EPOCH, PYTHONHASHSEED=0)
#      and compare the two builds file by file, before anything is signed;
#   2. sign the app folder (SHA256SUMS of every file + Ed25519 signature), pack it into a
#      reproducible .tar.gz, and sign the release folder holding it;
#   3. verify both as a user would, with only the public key;
#   4. flip one byte in a file of the bundle (and then of the tarball) and show that verify
#      fails, then put the byte back;
#   5. launch the unpacked, verified app with --self-test in an empty environment.
#
#   scripts/bundle.sh            throwaway key (made here, deleted at the end)
# Environment:
#   HEARTH_LINUX_SIGNING_KEY, HEARTH_LINUX_PUBLIC_KEY  PEM files of a real Ed25519 key pair
#                                                       (release builds; both or neither)
#   HEARTH_BUNDLE_OUT  where everything goes (default build/bundle)
#   HEARTH_BUNDLE_REF  the commit to build (default HEAD; uncommitted edits are left out)
# Needs scripts/setup.sh to have run (.venv, starter model); installs the [bundle] extra.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${HEARTH_BUNDLE_OUT:-build/bundle}
VPY=.venv/bin/python
say() { printf '\033[1mbundle:\033[0m %s\n' "$*"; }
die() { printf 'bundle: FAILED: %s\n' "$*" >&2; exit 1; }
started=$SECONDS
step() { say "[$((SECONDS - started)) s] $*"; }

[[ $(uname -s) == Linux ]] || die "this script builds the Linux bundle (see packaging/README.md)"
[[ -x $VPY ]] || die "no .venv: run scripts/setup.sh --no-launch first"
command -v openssl >/dev/null || die "openssl (3.x) is needed to sign"

# 0. The pinned toolchain from pyproject's [bundle] extra (PyPI only; setup.sh leaves it out).
mapfile -t missing < <($VPY - <<'PYEOF'
import tomllib
from importlib.metadata import PackageNotFoundError, version
for req in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bundle"]:
    name, pin = req.split("==")
    try:
        ok = version(name) == pin
    except PackageNotFoundError:
        ok = False
    if not ok:
        print(req)
PYEOF
)
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  $VPY -m pip install --quiet "${missing[@]}"
fi
version=$($VPY -c 'import engine; print(engine.__version__)')
ref=${HEARTH_BUNDLE_REF:-HEAD}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct "$ref")}
export SOURCE_DATE_EPOCH
arch=$(uname -m)
name="hearth-$version-linux-$arch"
rm -rf "$out"
mkdir -p "$out"

# 1. Two builds of one commit, compared before signing. The source is a snapshot (git
#    archive): uncommitted edits stay out, and nothing can change between the two builds.
src="$out/src"
mkdir -p "$src"
git archive "$ref" | tar -x -C "$src"
mkdir -p "$src/assets/models"
cp --reflink=auto assets/models/*.gguf "$src/assets/models/"
say "source: $ref = $(git rev-parse --short "$ref")$(git diff --quiet "$ref" -- engine desktop packaging models.toml pyproject.toml || echo ' (uncommitted edits in this checkout are NOT in the bundle)')"
for b in a b; do
  step "build $b (PyInstaller $($VPY -c 'import PyInstaller; print(PyInstaller.__version__)'), SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH, PYTHONHASHSEED=0)"
  t=$SECONDS
  VPY=$PWD/$VPY "$src/packaging/linux/build.sh" "$out/build-$b" > "$out/build-$b.log" 2>&1 \
    || { tail -20 "$out/build-$b.log" >&2; die "build $b failed (log: $out/build-$b.log)"; }
  say "  build $b took $((SECONDS - t)) s: $(du -sh "$out/build-$b/Hearth" | cut -f1), $(find "$out/build-$b/Hearth" -type f | wc -l) files"
done
step "comparing the two builds"
$VPY packaging/compare_builds.py "$out/build-a/Hearth" "$out/build-b/Hearth" \
  | tee "$out/reproducibility.txt" || die "the two builds differ: not signing (see $out/reproducibility.txt)"
app="$out/build-a/Hearth"
rm -rf "$out/build-b" "$src"

# 2. Sign: the app folder, then the release folder with the tarball.
keys="$out/keys"
mkdir -p "$keys"
chmod 700 "$keys"
if [[ -n ${HEARTH_LINUX_SIGNING_KEY:-} ]]; then
  [[ -n ${HEARTH_LINUX_PUBLIC_KEY:-} ]] || die "HEARTH_LINUX_PUBLIC_KEY must come with the signing key"
  secret=$HEARTH_LINUX_SIGNING_KEY; public=$HEARTH_LINUX_PUBLIC_KEY
  step "signing with the key in HEARTH_LINUX_SIGNING_KEY"
else
  secret="$keys/throwaway.pem"; public="$keys/throwaway.pub"
  (umask 077; openssl genpkey -algorithm ed25519 -out "$secret" 2>/dev/null)
  openssl pkey -in "$secret" -pubout -out "$public"
  trap 'rm -f "$keys/throwaway.pem"' EXIT  # only the public half outlives this run
  step "signing with a throwaway Ed25519 key (public half: $public)"
fi
packaging/linux/sign.sh "$secret" "$app"
release="$out/release"
mkdir -p "$release"
# Reproducible archive: sorted names, fixed times and owners, no gzip timestamp.
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -C "$(dirname "$app")" -cf - Hearth | gzip -n > "$release/$name.tar.gz"
packaging/linux/sign.sh --listed "$secret" "$release"
if [[ -z ${HEARTH_LINUX_SIGNING_KEY:-} ]]; then rm -f "$secret"; fi

# 3. Verify as a user: the download, then the unpacked folder.
step "verifying the release folder"
packaging/linux/verify.sh --key "$public" "$release"
unpacked="$out/unpacked"
mkdir -p "$unpacked"
tar -C "$unpacked" -xzf "$release/$name.tar.gz"
step "verifying the unpacked app"
packaging/linux/verify.sh --key "$public" "$unpacked/Hearth"

# 4. One flipped byte must be caught.
flip() {  # flip(file, offset): XOR one byte with 0x01, in place
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  # shellcheck disable=SC2059  # the format is the octal escape of the new byte
  printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}
expect_rejected() {  # expect_rejected(what, dir)
  if packaging/linux/verify.sh --key "$public" "$2" > "$out/tamper.log" 2>&1; then
    cat "$out/tamper.log"; die "verify accepted $1"
  fi
  sed 's/^/    /' "$out/tamper.log"
  say "  rejected, as it must be: $1"
}
target=$(find "$unpacked/Hearth/_internal" -name 'libllama.so*' -type f | sort | head -1)
[[ -n $target ]] || die "no libllama in the bundle"
offset=$(($(stat -c %s "$target") / 2))
step "tampering: one byte flipped at offset $offset of ${target#"$unpacked/"}"
flip "$target" "$offset"
expect_rejected "a bundle with one byte changed in ${target##*/}" "$unpacked/Hearth"
flip "$target" "$offset"
offset=$(($(stat -c %s "$release/$name.tar.gz") / 2))
step "tampering: one byte flipped at offset $offset of $name.tar.gz"
flip "$release/$name.tar.gz" "$offset"
expect_rejected "a tarball with one byte changed" "$release"
flip "$release/$name.tar.gz" "$offset"
if ! packaging/linux/verify.sh --key "$public" "$unpacked/Hearth" >/dev/null \
   || ! packaging/linux/verify.sh --key "$public" "$release" >/dev/null; then
  die "verify failed after the bytes were put back"
fi
say "  bytes put back: both verify again"

# 5. The app itself, from the verified folder, with nothing of this checkout around it.
step "launching $unpacked/Hearth/hearth --self-test (empty environment, cwd /)"
home=$(mktemp -d)
exe=$(realpath "$unpacked/Hearth/hearth")
rc=0
(cd / && env -i HOME="$home" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
   "$exe" --self-test) || rc=$?
rm -rf "$home"
((rc == 0)) || die "the bundled app's self-test failed (exit $rc)"
packaging/linux/verify.sh --key "$public" "$unpacked/Hearth" >/dev/null \
  || die "the self-test changed the bundle"

step "done"
say "release:    $release ($(du -sh "$release/$name.tar.gz" | cut -f1) tarball, SHA256SUMS, SHA256SUMS.sig)"
say "public key: $public"
say "verify:     packaging/linux/verify.sh --key $public $release"
