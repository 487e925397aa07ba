#!/usr/bin/env bash
# The main job on the example model. With a GPU this will build and run an engine once the GPU
# back end lands; today (and on machines without a GPU) it compiles the example to optimized IR
# and runs it on the reference interpreter against expected outputs made by onnx.reference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${BUILD_DIR:-build}/bin"

echo "== infc build examples/tiny_cnn.onnx --emit=ir-opt --shapes input:1x3x32x32 --elide-constants"
"$bin/infc" build examples/tiny_cnn.onnx --emit=ir-opt --shapes input:1x3x32x32 --elide-constants --stats

echo "== reference interpreter vs onnx.reference outputs (examples/data)"
"$bin/infc-conformance" examples/data
