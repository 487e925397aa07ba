#!/usr/bin/env bash
# Configure and build infc with CMake + Ninja.
#
#   scripts/build.sh [extra cmake configure args...]
#
# Env:
#   BUILD_TYPE  CMake build type (default Release; forced to Debug when SANITIZE=1)
#   JOBS        parallel build jobs (default 2: the dev machines have 2 cores)
#   SANITIZE=1  ASan+UBSan build in build-asan/ with -DINFC_SANITIZE=ON
#   BUILD_DIR   override the build directory
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# CUDA 13 lives outside Debian, in /usr/local/cuda; make nvcc findable by CMake.
if [[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null 2>&1; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

build_type="${BUILD_TYPE:-Release}"
build_dir="${BUILD_DIR:-build}"
extra=()
if [[ "${SANITIZE:-0}" == "1" ]]; then
  build_type=Debug
  build_dir="${BUILD_DIR:-build-asan}"
  extra+=(-DINFC_SANITIZE=ON)
fi

if command -v ccache >/dev/null 2>&1; then
  extra+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache
          -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
          -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi

set -x
cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_CUDA_ARCHITECTURES=90 \
  "${extra[@]}" "$@"
cmake --build "$build_dir" -j"${JOBS:-2}"
