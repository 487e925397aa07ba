#!/usr/bin/env bash
# GPU check of dim-fit engines (docs/dynamic-shapes.md): builds engines with profiles that vary the
# width (text-recognition-style model), the image size (a small CNN; ResNet-style stride-2 stages) and the sequence length (tiny BERT, GPT-2, DistilBERT), FP32
# and FP16, and at shapes across each range (ends, opt, odd sizes, batch 1) compares their GPU
# outputs with the reference executor's and with static engines built at each shape
# (tests/scripts/gpu_profile_sweep.py). Prints "no GPU: skipped" and exits 0 without a GPU.
#
#   tests/scripts/gpu_dynamic_sweep.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
INFC=$BUILD/bin/infc
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# Without --target, infc builds for the GPU present and says "no usable GPU" when there is none.
if ! "$INFC" build "$HERE/../../examples/tiny_cnn.onnx" --shapes input:1x3x32x32 -o "$W/probe.plan" --quiet 2>"$W/probe.err"; then
  if grep -q "no usable GPU" "$W/probe.err"; then
    echo "no GPU: skipped"
    exit 0
  fi
  cat "$W/probe.err" >&2
  exit 1
fi
python3 "$HERE/make_dynamic_models.py" "$W"
OCR="image:1x1x32x16 image:4x1x32x64 image:8x1x32x128 image:3x1x32x37 image:5x1x32x101 image:1x1x32x127 image:7x1x32x50"
SEQ="input_ids:1x8 input_ids:4x32 input_ids:8x64 input_ids:3x17 input_ids:5x33 input_ids:2x9 input_ids:1x63 input_ids:7x40"
for prec in fp32 fp16; do
  flag=""; tol=1e-4; ttol=1e-3
  if [ $prec = fp16 ]; then flag=--fp16; tol=2e-2; ttol=2e-2; fi
  "$INFC" build "$W/dyn_ocr.onnx" $flag -o "$W/ocr.$prec.plan" --quiet \
    --min-shapes image:1x1x32x16 --opt-shapes image:4x1x32x64 --max-shapes image:8x1x32x128
  echo "== dyn_ocr $prec"
  SWEEP_BUILD_FLAGS=$flag python3 "$HERE/gpu_profile_sweep.py" "$INFC" "$W/dyn_ocr.onnx" "$W/ocr.$prec.plan" "$W/ocr.$prec" \
    --static --tol $tol $OCR
  "$INFC" build "$W/dyn_cnn.onnx" $flag -o "$W/cnn.$prec.plan" --quiet \
    --min-shapes image:1x3x16x16 --opt-shapes image:4x3x64x64 --max-shapes image:8x3x96x128
  echo "== dyn_cnn $prec"
  SWEEP_BUILD_FLAGS=$flag python3 "$HERE/gpu_profile_sweep.py" "$INFC" "$W/dyn_cnn.onnx" "$W/cnn.$prec.plan" "$W/cnn.$prec" \
    --static --tol $tol image:1x3x16x16 image:4x3x64x64 image:8x3x96x128 image:3x3x17x33 image:5x3x95x31 image:1x3x96x17
  "$INFC" build "$W/dyn_strided.onnx" $flag -o "$W/strided.$prec.plan" --quiet \
    --min-shapes image:1x3x160x160 --opt-shapes image:8x3x224x224 --max-shapes image:16x3x288x288
  echo "== dyn_strided $prec"
  SWEEP_BUILD_FLAGS=$flag python3 "$HERE/gpu_profile_sweep.py" "$INFC" "$W/dyn_strided.onnx" "$W/strided.$prec.plan" "$W/strided.$prec" \
    --static --tol $tol image:1x3x160x160 image:8x3x224x224 image:16x3x288x288 image:3x3x197x197 image:5x3x161x161 image:2x3x225x225
  for m in tiny_bert tiny_gpt2 tiny_distilbert; do
    "$INFC" build "$HERE/../models/$m.onnx" $flag -o "$W/$m.$prec.plan" --quiet \
      --min-shapes input_ids:1x8 --opt-shapes input_ids:4x32 --max-shapes input_ids:8x64
    echo "== $m $prec"
    SWEEP_BUILD_FLAGS=$flag python3 "$HERE/gpu_profile_sweep.py" "$INFC" "$HERE/../models/$m.onnx" "$W/$m.$prec.plan" \
      "$W/$m.$prec" --static --int-inputs 50 --tol $ttol $SEQ
  done
done
echo "all dim-fit sweeps within tolerance"
