#!/usr/bin/env bash
# Install everything needed to build and test infc on a fresh Debian 12 machine.
#
# Idempotent: re-running is cheap (apt is skipped when every package is already
# installed; pip is skipped when the pinned tooling already imports at the
# right version). Runs as root without sudo; never reads stdin (CI=true safe).
#
# Without a CUDA toolkit (/usr/local/cuda), CUDA's headers, NVRTC, cuBLASLt and cuDNN come from
# NVIDIA's PyPI wheels into /opt/infc-cuda (scripts/install_cuda_wheels.sh, about 1.5 GB).
#
# Env:
#   INFC_FORCE_APT=1   run `apt-get update` + install even if all packages are present
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    log "error: must run as root (no sudo available)"
    exit 1
  fi
fi

APT_PACKAGES=(
  build-essential cmake ninja-build ccache
  libprotobuf-dev protobuf-compiler libonnx-dev
  libflatbuffers-dev flatbuffers-compiler
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev catch2
  llvm-14-tools libonnx-testdata
  clang-14 libclang-rt-14-dev
)
# python3 may already come from pyenv (or similar); only ask apt for it if absent.
if ! command -v python3 >/dev/null 2>&1; then
  APT_PACKAGES+=(python3 python3-pip)
elif ! python3 -m pip --version >/dev/null 2>&1; then
  APT_PACKAGES+=(python3-pip)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 || "${INFC_FORCE_APT:-0}" == "1" ]]; then
  log "apt: installing ${missing[*]:-(forced)}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${APT_PACKAGES[@]}" </dev/null
else
  log "apt: all ${#APT_PACKAGES[@]} packages already installed"
fi

# --- Python test tooling only (the product is C++). Pins have wheels for CPython 3.11.
PIP_PACKAGES=("lit==18.1.8" "numpy==1.26.4" "onnx==1.17.0")

have_py_tooling() {
  python3 - <<'PY' 2>/dev/null
import importlib.metadata as m
want = {"lit": "18.1.8", "numpy": "1.26.4", "onnx": "1.17.0"}
raise SystemExit(0 if all(m.version(k) == v for k, v in want.items()) else 1)
PY
}

if have_py_tooling; then
  log "pip: ${PIP_PACKAGES[*]} already installed"
else
  log "pip: installing ${PIP_PACKAGES[*]}"
  pip_log="$(mktemp)"
  trap 'rm -f "$pip_log"' EXIT
  if ! python3 -m pip install --quiet "${PIP_PACKAGES[@]}" </dev/null >"$pip_log" 2>&1; then
    if grep -q 'externally-managed-environment' "$pip_log"; then
      log "pip: environment is externally managed (PEP 668); retrying with --break-system-packages"
      python3 -m pip install --quiet --break-system-packages "${PIP_PACKAGES[@]}" </dev/null
    else
      cat "$pip_log" >&2
      exit 1
    fi
  fi
  have_py_tooling || { log "error: python tooling still missing after pip install"; exit 1; }
fi

# --- CUDA headers and libraries. A CUDA toolkit (/usr/local/cuda, or CUDA_HOME) is used when there
# is one; CUDA is no Debian package, so a fresh machine gets NVIDIA's PyPI wheels in /opt/infc-cuda
# (CMakeLists.txt finds them there).
if [[ -f /usr/local/cuda/include/cuda.h || ( -n "${CUDA_HOME:-}" && -f "${CUDA_HOME}/include/cuda.h" ) ]]; then
  log "cuda: toolkit in ${CUDA_HOME:-/usr/local/cuda}"
else
  bash "$(dirname "${BASH_SOURCE[0]}")/install_cuda_wheels.sh" /opt/infc-cuda
fi

log "done"
