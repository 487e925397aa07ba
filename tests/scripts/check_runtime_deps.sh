#!/usr/bin/env bash
# Fails if libinfc_runtime.so needs protobuf, onnx, NVRTC or spdlog, or if any infc binary needs
# libcuda at load time.
set -euo pipefail
build="$1"
needed=$(readelf -d "$build/lib/libinfc_runtime.so" | awk '/NEEDED/ {print $5}' | tr -d '[]')
echo "libinfc_runtime.so needs: $(echo $needed)"
for bad in protobuf onnx nvrtc spdlog fmt; do
  if echo "$needed" | grep -qi "$bad"; then echo "FAIL: libinfc_runtime.so depends on $bad"; exit 1; fi
done
for bin in "$build"/bin/* "$build/lib/libinfc_runtime.so"; do
  if readelf -d "$bin" | grep -q "libcuda.so"; then echo "FAIL: $bin needs libcuda at load time"; exit 1; fi
done
echo "ok"
