#!/usr/bin/env bash
# The CI pipeline of docs/ci.md, run on the examples: tune once per GPU SKU, merge the timing
# caches, then build every SKU's engines on CPU-only runners, byte-identical to a build on that GPU.
#
#   scripts/ci-example.sh tune CACHE                 # a runner with the GPU: time every model's tactics into CACHE
#   scripts/ci-example.sh merge OUT CACHE...         # anywhere: one cache for every GPU
#   scripts/ci-example.sh build CACHE OUTDIR SKU...  # CPU-only runners: OUTDIR/SKU/MODEL.plan (+ .sha256), nothing
#                                                    # built when the cache lacks a layer (--require-complete-cache)
#   scripts/ci-example.sh demo [OUTDIR]              # merge and build from the committed caches in examples/ci/
#
# INFC (default build/bin/infc) is the compiler. Exit status: non-zero at the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
INFC="${INFC:-build/bin/infc}"

# name | model | flags: each model builds with the same flags on every runner.
MODELS=(
  "tiny_cnn|examples/tiny_cnn.onnx|--shapes input:8x3x32x32 --fp16"
  "tiny_mlp|examples/tiny_mlp.onnx|"
  "digits_cnn_int8|examples/digits/digits_cnn.onnx|--shapes input:32x1x8x8 --int8 --calib-cache examples/ci/digits_cnn.calib.json"
)

die() { echo "ci-example: $*" >&2; exit 1; }

tune() {
  local cache="$1" tmp
  tmp="$(mktemp -d)"
  for entry in "${MODELS[@]}"; do
    IFS='|' read -r name model flags <<<"$entry"
    # shellcheck disable=SC2086
    "$INFC" build "$model" $flags --timing-cache "$cache" -o "$tmp/$name.plan" --quiet
    echo "tuned $name: $(sha256sum "$tmp/$name.plan" | cut -d' ' -f1)"
  done
  rm -rf "$tmp"
}

build() {
  local cache="$1" out="$2"
  shift 2
  [[ $# -gt 0 ]] || die "build: name the GPU SKUs (h200, h100, ...)"
  for sku in "$@"; do
    mkdir -p "$out/$sku"
    for entry in "${MODELS[@]}"; do
      IFS='|' read -r name model flags <<<"$entry"
      # shellcheck disable=SC2086
      "$INFC" build "$model" $flags --target "$sku" --timing-cache "$cache" --require-complete-cache \
        -o "$out/$sku/$name.plan" --json "$out/$sku/$name.build.json" --quiet
      sha256sum "$out/$sku/$name.plan" | cut -d' ' -f1 > "$out/$sku/$name.plan.sha256"
      echo "$sku/$name.plan $(cat "$out/$sku/$name.plan.sha256")"
    done
  done
}

case "${1:-}" in
  tune) [[ $# -eq 2 ]] || die "usage: tune CACHE"; tune "$2" ;;
  merge) [[ $# -ge 3 ]] || die "usage: merge OUT CACHE..."; "$INFC" cache merge "${@:3}" -o "$2" ;;
  build) [[ $# -ge 4 ]] || die "usage: build CACHE OUTDIR SKU..."; build "${@:2}" ;;
  demo)
    out="${2:-ci-engines}"
    mkdir -p "$out"
    caches=(examples/ci/*.timing.json)
    [[ -e "${caches[0]}" ]] || die "no committed caches in examples/ci/"
    if [[ ${#caches[@]} -gt 1 ]]; then "$INFC" cache merge "${caches[@]}" -o "$out/merged.json"; else cp "${caches[0]}" "$out/merged.json"; fi
    "$INFC" cache show "$out/merged.json"
    skus=()
    for c in "${caches[@]}"; do skus+=("$(basename "$c" .timing.json)"); done
    build "$out/merged.json" "$out" "${skus[@]}"
    ;;
  *) die "usage: $0 tune CACHE | merge OUT CACHE... | build CACHE OUTDIR SKU... | demo [OUTDIR]" ;;
esac
