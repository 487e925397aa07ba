#!/usr/bin/env bash
# The main job on the example model: compile to an engine and run it. With a GPU the engine runs
# there and is compared with the ONNX model on the reference interpreter; without one it is built
# for sm_90 and its graph runs on the CPU reference interpreter, checked against expected outputs
# made by onnx.reference (examples/data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${BUILD_DIR:-build}/bin"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

echo "== infc build examples/tiny_cnn.onnx --emit=ir-opt --shapes input:1x3x32x32 --elide-constants"
"$bin/infc" build examples/tiny_cnn.onnx --emit=ir-opt --shapes input:1x3x32x32 --elide-constants --stats

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
  echo "== GPU: build, inspect, run, compare"
  "$bin/infc" build examples/tiny_cnn_static.onnx -o "$tmp/cnn.plan"
  "$bin/infc" inspect "$tmp/cnn.plan"
  "$bin/infc" run "$tmp/cnn.plan" --iterations 1000
  "$bin/infc" compare examples/tiny_cnn_static.onnx "$tmp/cnn.plan"
else
  echo "== no GPU: engine for sm_90, run on the reference interpreter"
  "$bin/infc" build examples/tiny_cnn_static.onnx --target sm_90 -o "$tmp/cnn.plan"
  "$bin/infc" inspect "$tmp/cnn.plan"
  "$bin/infc" run --reference "$tmp/cnn.plan"
fi

echo "== reference interpreter vs onnx.reference outputs (examples/data)"
"$bin/infc-conformance" examples/data
