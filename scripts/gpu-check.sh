#!/usr/bin/env bash
# Everything GPU-related in one command, for the GPU machine:
#   scripts/gpu-check.sh [BUILD_DIR] [TESTDATA_DIR]
# Runs the GPU tests, compute-sanitizer over them, the ONNX conformance suite through engines on
# the GPU, the example models (build, inspect, run, compare), the real networks against PyTorch
# (scripts/check_models.py) and, with BENCH=1, the benchmarks (scripts/bench.py).
# SKIP_SANITIZER=1 skips compute-sanitizer.
# Logs go to $OUT (or results/). SKIP_CONF=1 / SKIP_MODELS=1 skip those parts.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD="${1:-build}"
DATA="${2:-/usr/share/libonnx-testdata/data}"
BIN="$BUILD/bin"
RES="${OUT:-results}"
mkdir -p "$RES"
if python3 -c 'import nvidia' 2>/dev/null; then
  NV=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')/nvidia
  export LD_LIBRARY_PATH="$NV/cu13/lib:$NV/cudnn/lib:${LD_LIBRARY_PATH:-}"
fi
nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader | tee "$RES/gpu.txt"

echo "== GPU tests"
"$BIN/infc-gpu-tests" "[gpu]" 2>&1 | tail -5 | tee "$RES/gpu-tests.txt"

echo "== compute-sanitizer (memcheck) over the GPU tests"
if [ "${SKIP_SANITIZER:-0}" != 1 ] && command -v compute-sanitizer >/dev/null; then
  compute-sanitizer --tool memcheck "$BIN/infc-gpu-tests" "[gpu]" 2>&1 | tail -3 | tee "$RES/sanitizer.txt"
fi

if [ "${SKIP_CONF:-0}" != 1 ]; then
echo "== ONNX conformance through GPU engines"
tests=$(for d in node pytorch-converted pytorch-operator simple; do find "$DATA/$d" -mindepth 1 -maxdepth 1 -type d; done | sort)
jobs=$(nproc)
echo "$tests" | awk -v j="$jobs" '{ print > ("/tmp/conf-chunk-" (NR % j)) }'
for i in $(seq 0 $((jobs - 1))); do
  [ -f "/tmp/conf-chunk-$i" ] || continue
  timeout "${CONF_TIMEOUT:-300}" xargs -a "/tmp/conf-chunk-$i" "$BIN/infc-conformance" --backend gpu --verbose \
    > "/tmp/conf-gpu-$i.txt" 2>&1 &
done
wait
cat /tmp/conf-gpu-*.txt | grep -E "^FAIL" > "$RES/conformance-gpu-failures.txt"
# Count per-test lines (a chunk cut off by the time limit still reports what it ran).
cat /tmp/conf-gpu-*.txt | awk '/^PASS /{p++} /^FAIL /{f++} /^SKIP /{s++} END {print p " passed, " f " failed, " s " skipped"}' \
  | tee "$RES/conformance-gpu.txt"
cat /tmp/conf-gpu-*.txt | grep -E "^(PASS|FAIL|SKIP) " > "$RES/conformance-gpu-all.txt"
head -50 "$RES/conformance-gpu-failures.txt"
fi

echo "== examples"
set +e
for m in tiny_cnn_static tiny_mlp; do
  "$BIN/infc" build "examples/$m.onnx" -o "/tmp/$m.plan" 2>&1 | tail -2
  "$BIN/infc" inspect "/tmp/$m.plan" | head -12
  "$BIN/infc" run "/tmp/$m.plan" --iterations 200 | tail -6
  "$BIN/infc" compare "examples/$m.onnx" "/tmp/$m.plan" --rtol 1e-4 --atol 1e-5
done 2>&1 | tee "$RES/examples.txt"

echo "== real networks (FP32 and FP16 engines, batch 1) vs PyTorch FP32"
if [ "${SKIP_MODELS:-0}" != 1 ] && python3 -c "import torch, torchvision, transformers" 2>/dev/null; then
  PYTHONUNBUFFERED=1 python3 scripts/check_models.py --infc "$BIN/infc" --out "$RES" ${MODELS:+--models "$MODELS"} 2>&1 | grep -v Warning | tee "$RES/models.txt"
fi

# Benchmarks (scripts/bench.py): BENCH=1 [BENCH_ARGS="--models resnet50 --compile"].
if [ "${BENCH:-0}" = 1 ]; then
  echo "== benchmarks"
  PYTHONUNBUFFERED=1 python3 scripts/bench.py --infc "$BIN/infc" --out "$RES" ${BENCH_ARGS:-} 2>&1 | grep -v Warning | tee "$RES/bench.txt"
fi
