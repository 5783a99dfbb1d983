#!/usr/bin/env bash
# One PyInstaller build of the one-folder Hearth app, with the reproducibility settings.
#   packaging/linux/build.sh OUT_DIR      -> OUT_DIR/Hearth/ (hearth executable + _internal/)
# Builds the source tree this script sits in (scripts/bundle.sh runs it inside a snapshot of
# a commit, so that edits made meanwhile cannot leak into one build and not the other).
# Needs: a Python with Hearth's dependencies and the [bundle] extra (VPY, default
# .venv/bin/python of this tree), the starter model in assets/models/ (scripts/setup.sh).
# Nothing is signed here.
# Environment: SOURCE_DATE_EPOCH (default: the last commit's time), PYTHONHASHSEED (forced 0).
set -euo pipefail
out=${1:?usage: packaging/linux/build.sh OUT_DIR}
out=$(realpath -m "$out")
cd "$(dirname "$0")/../.."
root=$PWD
VPY=${VPY:-$root/.venv/bin/python}
PYINSTALLER_PIN=$(sed -n 's/.*"pyinstaller==\([^"]*\)".*/\1/p' pyproject.toml)

have=$("$VPY" -c 'import PyInstaller; print(PyInstaller.__version__)' 2>/dev/null || true)
if [[ $have != "$PYINSTALLER_PIN" ]]; then
  echo "build: PyInstaller $PYINSTALLER_PIN is needed (found '${have:-none}'):" \
       ".venv/bin/pip install -e '.[bundle]'" >&2
  exit 1
fi

# The same inputs must give the same bytes: fixed timestamps in PyInstaller's archives, a
# fixed hash seed (set iteration order during analysis), no stale .pyc from another run.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
export TZ=UTC LC_ALL=C.UTF-8

rm -rf "$out"
mkdir -p "$out"
"$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$out" --workpath "$out.work" packaging/hearth.spec
# Every Hearth module must come from this tree, not from an editable install elsewhere.
strays=$(grep -oE "\('(engine|desktop)(\.[A-Za-z0-9_.]+)?', '[^']*'" "$out.work/hearth/PYZ-00.toc" \
         | grep -v "', '$root/" || true)
if [[ -n $strays ]]; then
  echo "build: Hearth modules came from outside $root:" >&2
  echo "$strays" | head -5 >&2
  exit 1
fi
rm -rf "$out.work"
test -x "$out/Hearth/hearth"
