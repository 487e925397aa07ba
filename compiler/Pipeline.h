// Entry points the CLI and tools use to run pass pipelines.
#pragma once

#include <functional>
#include <map>

#include "passes/PassManager.h"

namespace infc {

struct PipelineOptions {
  bool verifyEach = true;
  /// For assign-precision (PassContext): --layer-precision and --strict-precision.
  std::map<std::string, DType> layerPrecision;
  bool strictPrecision = false;
  /// For assign-precision: the 16-bit type (F16, or BF16 with --bf16).
  DType lowPrecision = DType::F16;
  /// For quantize-int8 (PassContext): the calibrated range (amax) of each activation, by ONNX
  /// name, and the timing of f16 against INT8 convolutions when the target GPU is here.
  std::map<std::string, double> int8Ranges;
  std::map<std::string, TensorSpread> int8Spread; ///< calibration's max and rms by ONNX name (quantize-int8-matmul)
  bool int8MatmulInputsAtMax = false;             ///< PassContext::int8MatmulInputsAtMax
  Int8TimingFn int8Timing;
  MatmulTimingFn matmulTiming; ///< quantize-fp8's and quantize-int8-matmul's timing of f16 against quantized matmuls
  /// Print statistics counters to stderr after the pipeline.
  bool printStats = false;
  /// --verbose: the fusion passes' decisions (PassContext::remarks).
  std::function<void(const std::string &)> remarks;
};

/// Runs a `--passes=` style pipeline over every graph of `module`. An empty list is a no-op.
Status runPassPipeline(Module &module, const std::string &passList, const PipelineOptions &options = {},
                       Statistics *statsOut = nullptr);

/// The infc.* level at `--opt-level N`: 0 none (onnx.* ops lowered one by one, nothing fused or
/// recognized); 1 lowering to infc.* with conv and matmul epilogue fusion (and `recognize-ops`,
/// which optimizeModule runs before precision); 2 and 3 also channels-last layouts. Level 3 (the
/// default) also lets code generation fuse elementwise chains, which it still decides while
/// lowering (docs/passes.md).
std::string infcPipeline(int optLevel);

struct OptimizeOptions {
  std::string onnxPasses;  ///< empty: kDefaultOnnxPipeline
  bool fp16 = false;
  bool bf16 = false;                           ///< --bf16: BF16 instead of FP16 (not with fp16 or INT8)
  std::map<std::string, DType> layerPrecision; ///< --layer-precision (compiler/LayerPrecision.h)
  bool strictPrecision = false;                ///< --strict-precision
  int optLevel = 3;
  /// --int8 or --fp8: calibrated ranges by ONNX tensor name. FP16 everywhere first, then
  /// quantize-int8 makes the channels-last convolutions INT8 (int8: needs --opt-level 2 or more)
  /// and quantize-fp8 the matmuls FP8 (fp8).
  std::map<std::string, double> int8Ranges;
  std::map<std::string, TensorSpread> int8Spread; ///< calibration's max and rms by ONNX name (quantize-int8-matmul)
  bool int8MatmulInputsAtMax = false;             ///< PassContext::int8MatmulInputsAtMax
  Int8TimingFn int8Timing;
  MatmulTimingFn matmulTiming;
  bool int8 = false;
  bool fp8 = false;
};

/// Everything between import (with shapes fixed) and code generation: the onnx.* pipeline,
/// precision, then the infc.* level. What `--emit=ir-final` prints and engines are built from.
Status optimizeModule(Module &module, const OptimizeOptions &options, const PipelineOptions &pipeline = {});

} // namespace infc
