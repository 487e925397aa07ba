#!/usr/bin/env bash
# CUDA for a machine without /usr/local/cuda (a fresh Debian 12 machine has none, and CUDA is no
# Debian package): NVIDIA's PyPI wheels, unpacked into a toolkit-like folder that CMake is pointed
# at (CMakeLists.txt: INFC_CUDA_ROOT). Only what infc builds and links against: the CUDA headers
# (cuda.h and the crt/ and CCCL headers it needs; the driver itself is loaded at run time), NVRTC, cuBLASLt and cuDNN, at the versions
# the project was measured with (TOOLCHAIN.md). Idempotent.
#
#   scripts/install_cuda_wheels.sh [PREFIX]      (default /opt/infc-cuda)
set -euo pipefail
prefix="${1:-/opt/infc-cuda}"
log() { printf '[cuda-wheels] %s\n' "$*" >&2; }
WHEELS=("nvidia-cuda-runtime==13.0.96" "nvidia-cuda-crt==13.0.88" "nvidia-cuda-cccl==13.0.85" "nvidia-cuda-nvrtc==13.0.88" "nvidia-cublas==13.1.0.3" "nvidia-cudnn-cu13==9.19.0.56")
# NVRTC and cuDNN load parts of themselves with dlopen (libnvrtc-builtins, cuDNN's engine
# libraries), which an executable's RUNPATH does not reach: make the folder known to the dynamic
# linker, as CUDA's own installer does.
register() {
  if [[ -w /etc/ld.so.conf.d ]]; then
    echo "$prefix/lib64" > /etc/ld.so.conf.d/infc-cuda.conf
    ldconfig
  else
    log "warning: cannot write /etc/ld.so.conf.d: add $prefix/lib64 to LD_LIBRARY_PATH to run infc"
  fi
}
# The marker names the wheels: a changed list installs again.
if [[ -f "$prefix/.complete" && "$(cat "$prefix/.complete")" == "${WHEELS[*]}" ]]; then
  log "already in $prefix"
  register
  exit 0
fi
log "pip: ${WHEELS[*]} into $prefix/wheels (about 1.5 GB)"
rm -rf "$prefix"
mkdir -p "$prefix/include" "$prefix/lib64"
# --target writes only under $prefix; on a Python that is externally managed (PEP 668) pip still
# asks for --break-system-packages, which changes nothing outside $prefix here.
if ! python3 -m pip install -q --no-deps --target "$prefix/wheels" "${WHEELS[@]}" </dev/null 2>"$prefix/pip.log"; then
  if grep -q 'externally-managed-environment' "$prefix/pip.log"; then
    python3 -m pip install -q --no-deps --break-system-packages --target "$prefix/wheels" "${WHEELS[@]}" </dev/null
  else
    cat "$prefix/pip.log" >&2
    exit 1
  fi
fi
# One include folder and one library folder, as in a CUDA install: links into the wheels, and the
# unversioned library names the linker looks for (the wheels carry libnvrtc.so.13 and the like).
for inc in "$prefix"/wheels/nvidia/*/include; do
  for f in "$inc"/*; do ln -sfn "$f" "$prefix/include/$(basename "$f")"; done
done
for lib in "$prefix"/wheels/nvidia/*/lib; do
  for f in "$lib"/*.so*; do
    [[ -e "$f" ]] || continue
    ln -sfn "$f" "$prefix/lib64/$(basename "$f")"
    base="$(basename "$f")"
    plain="${base%%.so*}.so"
    [[ -e "$prefix/lib64/$plain" ]] || ln -sfn "$f" "$prefix/lib64/$plain"
  done
done
for need in include/cuda.h include/crt/host_defines.h include/nv/target include/nvrtc.h include/cublasLt.h include/cudnn.h lib64/libnvrtc.so lib64/libcublasLt.so lib64/libcudnn.so; do
  [[ -e "$prefix/$need" ]] || { log "error: $prefix/$need missing after the install"; exit 1; }
done
register
echo "${WHEELS[*]}" > "$prefix/.complete"
log "CUDA headers and libraries in $prefix"
