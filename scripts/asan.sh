#!/usr/bin/env bash
# ASan+UBSan build (Debug, build-asan/, -DINFC_SANITIZE=ON) and its tests.
# Extra arguments are passed to scripts/build.sh (i.e. to cmake configure).
#
# Env:
#   ASAN_EXCLUDE  ctest -LE regex (default 'gpu|conformance'). `gpu` needs a driver.
#                 `conformance` (~1000 ONNX backend tests through the reference
#                 interpreter) is excluded by default because it is too slow on a
#                 2-core machine under ASan; run it with ASAN_EXCLUDE=gpu.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SANITIZE=1 bash scripts/build.sh "$@"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:check_initialization_order=1:strict_init_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "${BUILD_DIR:-build-asan}" --output-on-failure \
  -LE "${ASAN_EXCLUDE:-gpu|conformance}" -j"${CTEST_JOBS:-2}"
