#!/usr/bin/env bash
# ThreadSanitizer build (build-tsan/, -DINFC_TSAN=ON) of the unit tests, and the tests that
# share one engine between threads ("[threads]", tests/unit/test_threads.cpp): engine
# verification and loading, the per-thread last error, the driver loader and the reference
# interpreter from eight threads at once. On a machine with a GPU the same test also loads the
# engine and creates a context in every thread. (The GPU side, eight threads each running its own
# context on its own stream, is tests/gpu/test_gpu_threads.cpp, run under compute-sanitizer by
# scripts/gpu/threads.sh.)
#
# Env: BUILD_DIR (default build-tsan), JOBS (default 2), TSAN_OPTIONS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${BUILD_DIR:-build-tsan}"
extra=()
if command -v ccache >/dev/null 2>&1; then
  extra+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if [[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null 2>&1; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
set -x
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DINFC_TSAN=ON "${extra[@]}"
cmake --build "$build_dir" -j"${JOBS:-2}" --target infc-unit-tests
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
"$build_dir/bin/infc-unit-tests" "[threads]"
