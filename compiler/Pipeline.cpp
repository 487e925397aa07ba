#include "compiler/Pipeline.h"

#include <cstdio>

namespace infc {

Status runPassPipeline(Module &module, const std::string &passList, const PipelineOptions &options,
                       Statistics *statsOut) {
  PassManagerOptions pmOptions;
  pmOptions.verifyEach = options.verifyEach;
  INFC_ASSIGN_OR_RETURN(PassManager pm, PassManager::parse(passList, pmOptions));
  PassContext ctx;
  ctx.layerPrecision = options.layerPrecision;
  ctx.strictPrecision = options.strictPrecision;
  ctx.lowPrecision = options.lowPrecision;
  ctx.int8Ranges = options.int8Ranges;
  ctx.int8Spread = options.int8Spread;
  ctx.int8MatmulInputsAtMax = options.int8MatmulInputsAtMax;
  ctx.int8Timing = options.int8Timing;
  ctx.matmulTiming = options.matmulTiming;
  ctx.remarks = options.remarks;
  INFC_RETURN_IF_ERROR(pm.run(module, ctx));
  if (options.printStats)
    for (const auto &[k, v] : ctx.stats.counters())
      std::fprintf(stderr, "stat: %s = %lld\n", k.c_str(), static_cast<long long>(v));
  if (statsOut)
    statsOut->merge(ctx.stats);
  return Status::ok();
}

std::string infcPipeline(int optLevel) {
  if (optLevel <= 0)
    return "";
  if (optLevel == 1)
    return "lower-to-infc,fuse-conv-epilogue,fuse-matmul-epilogue,fuse-sibling-matmuls,fuse-attention,dce";
  std::string pipeline = "lower-to-infc,fuse-conv-epilogue,fuse-matmul-epilogue,fuse-sibling-matmuls,fuse-attention,assign-layout";
  // Elementwise chains fuse last: the epilogue, attention and layout passes take their ops first.
  return pipeline + (optLevel >= 3 ? ",fuse-elementwise,dce" : ",dce");
}

Status optimizeModule(Module &module, const OptimizeOptions &o, const PipelineOptions &pipeline) {
  if (o.optLevel < 0 || o.optLevel > 3)
    return invalidArgument("--opt-level " + std::to_string(o.optLevel) + " is not in 0..3");
  // Ranges without a quantized precision named: INT8 (what callers that predate FP8 mean).
  bool int8 = o.int8 || (!o.fp8 && !o.int8Ranges.empty()), fp8 = o.fp8;
  if ((int8 || fp8) && o.int8Ranges.empty())
    return invalidArgument(std::string(int8 ? "--int8" : "--fp8") + " needs calibrated ranges");
  if (o.bf16 && (o.fp16 || int8 || fp8))
    return invalidArgument("--bf16 goes with neither --fp16 nor INT8 or FP8 yet: pick one 16-bit type");
  if (int8 && o.optLevel < 2)
    return invalidArgument("--int8 needs --opt-level 2 or more (INT8 convolutions run channels-last)");
  if (fp8 && o.optLevel < 1)
    return invalidArgument("--fp8 needs --opt-level 1 or more (FP8 applies to infc.matmul)");
  INFC_RETURN_IF_ERROR(runPassPipeline(module, o.onnxPasses.empty() ? kDefaultOnnxPipeline : o.onnxPasses, pipeline));
  // Recognition before precision: a recognized LayerNorm or Softmax has no Pow or Exp to keep in f32.
  if (o.optLevel >= 1)
    INFC_RETURN_IF_ERROR(runPassPipeline(module, "recognize-ops,dce", pipeline));
  PipelineOptions precision = pipeline;
  precision.layerPrecision = o.layerPrecision;
  // INT8 builds fall back to FP16 (what stays out of INT8 runs in FP16, channels-last); only
  // quantize-int8 enforces --strict-precision there (falling back to f16 is what it checks).
  precision.strictPrecision = o.strictPrecision && !int8 && !fp8;
  precision.lowPrecision = o.bf16 ? DType::BF16 : DType::F16;
  if (o.fp16 || o.bf16 || int8 || fp8)
    INFC_RETURN_IF_ERROR(runPassPipeline(module, kFp16Pipeline, precision));
  // INT8 matmuls: the fusion passes record the ranges of the values they fuse away (acc_amax).
  PipelineOptions infc = pipeline;
  if (int8 && !fp8) {
    infc.int8Ranges = o.int8Ranges;
    infc.int8Spread = o.int8Spread;
  }
  INFC_RETURN_IF_ERROR(runPassPipeline(module, infcPipeline(o.optLevel), infc));
  if (!int8 && !fp8)
    return Status::ok();
  precision.strictPrecision = o.strictPrecision;
  precision.int8Ranges = o.int8Ranges;
  precision.int8Spread = o.int8Spread;
  precision.int8MatmulInputsAtMax = o.int8MatmulInputsAtMax;
  precision.int8Timing = o.int8Timing;
  precision.matmulTiming = o.matmulTiming;
  // Matmuls are FP8 when both are asked for (--best on sm_89+), else INT8. After quantize-fp8,
  // an activation it split off its matmul fuses with the quantization; after
  // quantize-int8-matmul, the dequantization of its result with the residual and activation;
  // before that, a LayerNorm takes an int8 result and the residual it reads, and the quantization
  // of its output for the next matmul (fuse-norm-quant); an attention reads the QKV projection's
  // int8 or e4m3 result and writes the output projection's (fuse-attention-quant). A max pool
  // writes its int8 quantization itself (fuse-pool-quant). An image network's first convolution
  // and its max pool are one INT8 kernel (quantize-int8-stem, which quantize-int8 leaves them to).
  std::string fusions = o.optLevel < 3 ? "" : std::string(int8 ? "fuse-pool-quant," : "") + "fuse-norm-quant,fuse-attention-quant,fuse-elementwise,";
  std::string passes = std::string(int8 ? "quantize-int8,quantize-int8-stem," : "") + (int8 && !fp8 ? "quantize-int8-matmul," : "") +
                       (fp8 ? "quantize-fp8," : "") + fusions + "dce";
  return runPassPipeline(module, passes, precision);
}

} // namespace infc
