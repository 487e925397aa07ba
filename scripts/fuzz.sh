#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan, build-fuzz/) and runs each for SECONDS
# (default 60) on one core, from a seed corpus of the repository's models, IR files and engines
# built here. Any crash, sanitizer report, timeout (10 s per input) or input needing more than
# 2 GiB fails the script; the reproducer is left in build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS]            # CI: 60
#   FUZZ_TARGETS="onnx_import" scripts/fuzz.sh 3600
#   FUZZ_CPU_SECONDS=3600 FUZZ_TIMEOUT=120 nice -n 19 scripts/fuzz.sh    # each target until it has used
#       an hour of CPU time (measured from /proc, then stopped with SIGINT, which prints libFuzzer's
#       final stats and exits with 72, counted as a success); on shared, niced cores a 10 s wall-clock
#       timeout reports starved inputs as hangs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
cpu_seconds="${FUZZ_CPU_SECONDS:-0}"
timeout_s="${FUZZ_TIMEOUT:-10}"
if [[ "$cpu_seconds" != 0 ]]; then seconds=$((cpu_seconds * 50)); fi
targets=(${FUZZ_TARGETS:-onnx_import engine_reader ir_parser npz})
build=build-fuzz

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DINFC_FUZZ=ON -DINFC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

# Seed corpora (rebuilt each run; the fuzzers add what they find to them).
corpus="$build/corpus"
mkdir -p "$corpus"/{onnx_import,engine_reader,ir_parser,npz} "$build/artifacts"
cp examples/*.onnx tests/models/*.onnx "$corpus/onnx_import/"
find tests/lit -name '*.ir' -size -64k -exec cp {} "$corpus/ir_parser/" \;
if [[ -x build/bin/infc ]]; then
  for m in tiny_cnn_static tiny_mlp; do
    build/bin/infc build "examples/$m.onnx" --target sm_90 -o "$corpus/engine_reader/$m.plan" 2>/dev/null || true
  done
  build/bin/infc build examples/tiny_mobile.onnx --shapes input:1x3x32x32 --fp16 --target sm_90 \
    -o "$corpus/engine_reader/tiny_mobile.plan" 2>/dev/null || true
  # A batch-loop engine (two optimization profiles, GPU layers for every batch up to 8).
  build/bin/infc build examples/tiny_cnn.onnx --target sm_90 -o "$corpus/engine_reader/tiny_cnn_batch.plan" \
    --min-shapes input:1x3x32x32 --opt-shapes input:2x3x32x32 --max-shapes input:4x3x32x32 \
    --min-shapes input:5x3x32x32 --opt-shapes input:8x3x32x32 --max-shapes input:8x3x32x32 2>/dev/null || true
  # An FP8 engine (E4M3 matmuls: ab_dtype and fast_accum in its CublasLtMatmul tables), calibrated
  # on two random samples.
  mkdir -p "$build/fp8-calib"
  python3 -c "import numpy as np, sys; r = np.random.default_rng(0); [np.save(sys.argv[1] + '/b%d.npy' % i, r.standard_normal((1, 64)).astype(np.float32)) for i in range(2)]" "$build/fp8-calib" 2>/dev/null &&
    build/bin/infc build examples/tiny_mlp.onnx --fp8 --calib "$build/fp8-calib" --target sm_90 \
      -o "$corpus/engine_reader/tiny_mlp_fp8.plan" 2>/dev/null || true
fi
python3 -c "import numpy as np, sys; d = sys.argv[1]; np.savez(d + '/two.npz', a=np.arange(6, dtype=np.float32).reshape(2, 3), ids=np.arange(4)); np.savez(d + '/one.npz', x=np.zeros((1, 3, 4, 4), np.float16))" "$corpus/npz" 2>/dev/null || head -c 512 /dev/urandom > "$corpus/npz/random"
ls "$corpus/engine_reader"/*.plan >/dev/null 2>&1 || head -c 4096 /dev/urandom > "$corpus/engine_reader/random"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  echo "== fuzz_$t: $([[ "$cpu_seconds" != 0 ]] && echo "$cpu_seconds CPU-s" || echo "$seconds s")"
  "$build/bin/fuzz_$t" "$corpus/$t" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 \
    -max_len=1048576 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
    2>"$build/fuzz_$t.log" &
  pid=$!
  stopped=0
  if [[ "$cpu_seconds" != 0 ]]; then
    tck=$(getconf CLK_TCK)
    while kill -0 "$pid" 2>/dev/null; do
      sleep 10
      read -r -a st < "/proc/$pid/stat" 2>/dev/null || break
      used=$(( (st[13] + st[14]) / tck )) # utime + stime (the comm field has no spaces)
      if (( used >= cpu_seconds )); then
        echo "fuzz_$t: $used CPU-s used, stopping"
        kill -INT "$pid"
        stopped=1
        break
      fi
    done
  fi
  rc=0
  wait "$pid" || rc=$?
  # libFuzzer exits with 72 when interrupted: the stop this script asked for.
  if [[ $rc -ne 0 && ! ($stopped == 1 && $rc == 72) ]]; then
    echo "fuzz_$t FAILED (log: $build/fuzz_$t.log)"
    tail -40 "$build/fuzz_$t.log"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$build/fuzz_$t.log" | tail -3 || true
done
exit $status
