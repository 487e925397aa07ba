#!/usr/bin/env bash
# Setup (unless INFC_SKIP_SETUP=1), build (Release, build/), run the non-GPU tests, then the
# fuzz targets for INFC_FUZZ_SECONDS each (default 60; 0 skips them).
# Extra arguments are passed to scripts/build.sh (i.e. to cmake configure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${INFC_SKIP_SETUP:-0}" != "1" ]]; then
  bash scripts/setup.sh
fi
bash scripts/build.sh "$@"
# Machines without a GPU driver (CI, dev boxes) cannot run the `gpu` label.
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -LE gpu -j"${CTEST_JOBS:-2}"
if [[ "${INFC_FUZZ_SECONDS:-60}" != "0" ]]; then
  bash scripts/fuzz.sh "${INFC_FUZZ_SECONDS:-60}"
fi
