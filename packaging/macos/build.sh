#!/usr/bin/env bash
# macOS: build Hearth.app twice and compare the builds (nothing is signed here).
#   packaging/macos/build.sh OUT_DIR     -> OUT_DIR/Hearth.app
# UNTESTED: written on Linux, where it cannot run (see packaging/README.md). Needs macOS 12+,
# the Xcode command line tools, scripts/setup.sh run once (.venv with the Metal build of
# llama-cpp-python, the starter model) and the [bundle] extra: .venv/bin/pip install -e '.[bundle]'.
set -euo pipefail
out=${1:?usage: packaging/macos/build.sh OUT_DIR}
cd "$(dirname "$0")/../.."
[[ $(uname -s) == Darwin ]] || { echo "build: run this on macOS" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
VPY=${VPY:-$PWD/.venv/bin/python}

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 TZ=UTC LC_ALL=C

# A snapshot of the commit, so both builds see the same source (as scripts/bundle.sh does).
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git archive HEAD | tar -x -C "$src"
mkdir -p "$src/assets/models"
cp assets/models/*.gguf "$src/assets/models/"

for b in a b; do
  rm -rf "$out/build-$b" "$out/work-$b"
  "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$out/build-$b" --workpath "$out/work-$b" "$src/packaging/hearth.spec"
  rm -rf "$out/work-$b"
done
"$VPY" packaging/compare_builds.py "$out/build-a/Hearth.app" "$out/build-b/Hearth.app" \
  | tee "$out/reproducibility.txt"
rm -rf "$out/Hearth.app"
mv "$out/build-a/Hearth.app" "$out/Hearth.app"
rm -rf "$out/build-a" "$out/build-b"
echo "built $out/Hearth.app (unsigned); next: packaging/macos/sign.sh $out/Hearth.app"
