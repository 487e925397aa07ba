// Helpers for GPU tests: build an engine from a graph, run it through the C API, compare.
#pragma once

#include "codegen/EngineBuilder.h"
#include "ir/IR.h"
#include "runtime/infc_runtime.h"

#include <cuda.h>

#include <map>
#include <string>
#include <vector>

namespace infc::gputest {

/// True when a GPU and driver are usable (tests skip otherwise).
bool haveGpu();

/// Builds an engine for the current GPU from `module` and runs it once on `inputs` (by graph
/// argument order). Returns outputs in graph output order, or an error.
Expected<std::vector<Tensor>> buildAndRun(const Module &module, const std::vector<Tensor> &inputs, bool fp16 = false);

/// Max |a-b| / (atol + rtol*|b|) over elements (<= 1 means within tolerance); shapes must match.
double toleranceRatio(const Tensor &got, const Tensor &want, double rtol, double atol);

/// Appends `kind(operands)` to `g`'s body with inferred result type; nullptr if inference fails.
Value *addOp(Graph &g, OpKind kind, std::vector<Value *> operands, AttrMap attrs = {}, const std::string &name = "");

/// addOp that fails the current Catch2 test when inference refuses the op.
Value *requireOp(Graph &g, OpKind kind, std::vector<Value *> operands, AttrMap attrs = {}, const std::string &name = "");

/// A float32 constant of `shape` with uniform [-1, 1) values from `seed`.
Value *randomWeight(Graph &g, std::vector<int64_t> shape, uint32_t seed, const std::string &name);

/// Uniform [-1, 1) float32 tensor from `seed`.
Tensor randomF32(std::vector<int64_t> shape, uint32_t seed);

/// The largest |x| of `t` (0 when empty).
double maxAbs(const Tensor &t);

/// The quantized-matmul tests' network (FP8, INT8): input "x" [2, 37, 64] -> gelu(x w1 + b1) (the
/// "gelu1" result, [.., 128]) -> (.. w2 + b2) + x ("add2", then "res", [.., 64]) -> relu(.. w3 +
/// b3) ("add3", then output "y", [.., 64]), shapes inferred.
std::unique_ptr<Module> quantMatmulNet();

/// Runs `module` on the reference interpreter and as an engine on the GPU (FP16 lowering when
/// `fp16`) and returns toleranceRatio of the first outputs, or the error of either side.
Expected<double> referenceRatio(const Module &module, const std::vector<Tensor> &inputs, bool fp16, double rtol, double atol,
                               bool generatedDepthwise = false);

} // namespace infc::gputest

/// In a Catch2 test: skip (with the "no GPU: skipped" line ctest looks for) without a GPU.
#define REQUIRE_GPU()                                                                                                  \
  if (!::infc::gputest::haveGpu()) {                                                                                   \
    WARN("no GPU: skipped");                                                                                           \
    return;                                                                                                            \
  }
