// Builds an engine file from an optimized, statically shaped module: lowers every op to layers,
// plans activation memory, compiles generated kernels with NVRTC, serializes the engine.
#pragma once

#include "codegen/DimFit.h"
#include "codegen/Lowering.h"
#include "passes/Pass.h"
#include "runtime/CudnnConv.h"

#include <functional>
#include <string>

namespace infc::codegen {

struct EngineBuildOptions {
  LoweringOptions lowering;
  std::string gpuName;        ///< target GPU name for the metadata ("" = no GPU at build time)
  std::string optionsJson;    ///< build options, recorded in the engine
  /// Most workspace one cuDNN / cuBLASLt tactic may use; a context allocates what its chosen
  /// tactics need, up to this.
  uint64_t workspaceBytes = uint64_t(1) << 30;
  /// Where convolution and matmul tactics come from: the autotuner timing them on the GPU
  /// present, or a timing cache's entries for the target GPU (null: the runtime picks by
  /// heuristics when it loads the engine).
  class TacticSource *autotuner = nullptr;
  std::string referenceIr;    ///< textual IR for `infc run --reference`
  /// Progress for `infc build`'s display: called with (stage, 0, 0) when a stage starts ("lower",
  /// "compile kernels", "tune"), then with (stage, done, total) as its steps finish (library
  /// layers given their tactic). Null: silent.
  std::function<void(const std::string &stage, size_t done, size_t total)> progress;
  int64_t inlineConstantElements = 16; ///< larger constants are stored as weights
};

struct EngineBuildResult {
  std::string bytes;
  size_t numLayers = 0;
  uint64_t arenaBytes = 0, weightBytes = 0;
  std::string nvrtcLog;
  /// Library layers the tactic source had no tactic for (a timing cache without their entries):
  /// "layer k2_conv_cudnn (node 'conv1' (Conv))"; they choose by heuristics at load time.
  std::vector<std::string> untuned;
};

/// The cuDNN description of a convolution layer (1-D convolutions become 2-D).
Expected<rt::ConvSpec> convSpecOf(const ConvLayer &layer);

/// The timed milliseconds of f16 infc.conv `op` with its whole epilogue, and of its INT8 form
/// (writing int8 or f16, reading its residual in int8 or not), from `tactics` (the autotuner, or
/// a timing cache, so that a build from the cache decides as the timed build did). NotFound or
/// Unsupported when either has no answer.
Expected<Int8ConvTiming> timeInt8Conv(class TacticSource &tactics, const Operation &op, const Int8ConvForm &form);

/// The timed milliseconds of f16 matmul `op` (infc.matmul or onnx.MatMul with constant 2-D
/// weights) as code generation runs it, and of its quantized form with A and B in `abType`
/// (F8E4M3: cuBLASLt E4M3, fast accumulation, f16 result; I8: cuBLASLt IMMA, int8 result, the
/// residual left to a kernel after it) plus `extraBytes` of memory traffic (quantize and
/// dequantize kernels, modeled like a separate elementwise kernel). NotFound or Unsupported when
/// either has no answer.
Expected<std::pair<double, double>> timeQuantMatmul(class TacticSource &tactics, const Operation &op, DType abType,
                                                    double extraBytes);

/// Builds with timed tactics from `tuner`, and lets convolutions fuse their epilogues where the
/// timed fused graph beats the timed unfused convolution plus separate kernels (each decision
/// told to `log`, when given).
void useAutotuner(EngineBuildOptions &options, class TacticSource *tuner,
                  std::function<void(const std::string &)> log = {});

/// One input's range in an optimization profile.
struct ProfileRange {
  std::string name;
  std::vector<int64_t> min, opt, max;
};
/// An optimization profile: a range for every graph input, in argument order.
using ProfileRanges = std::vector<ProfileRange>;

/// The engine of a module with dynamic dims and optimization profiles: its inputs and outputs
/// (dynamic dims -1), the profiles and the reference IR, and no GPU layers yet (the runtime
/// refuses it; `infc run --reference` runs it at any shape within a profile).
Expected<EngineBuildResult> buildProfileEngine(const Module &module, const std::vector<ProfileRanges> &profiles,
                                               const EngineBuildOptions &options, const std::string &modelPath);

/// A model optimized at three batches for a batch-loop engine (codegen/BatchLoop.h), and with
/// its dynamic dims for the reference executor (whose constants must not share a name with the
/// others': the caller renames them).
struct BatchLoopModules {
  const Module *one = nullptr, *two = nullptr; ///< at batch 1 and 2
  const Module *opt = nullptr;                 ///< at the batch tactics are timed at (profile 0's opt)
  const Module *reference = nullptr;
  int64_t optBatch = 1, maxBatch = 1;
  /// At the opt batch of profiles 1, 2, ... when tactics are timed (each profile's are recorded).
  std::vector<const Module *> profileOpts;
  std::vector<int64_t> profileOptBatches;
};

/// The engine of a model whose only dynamic dim is a batch at dim 0 of every input: its batch-1
/// layers run at any batch up to maxBatch (kernels over grid.z, library calls resized), with
/// tactics timed at each profile's opt batch and the arena planned for maxBatch. Unsupported, naming the op or
/// layer, when an op mixes batch items or the model lowers differently at other batches.
Expected<EngineBuildResult> buildBatchLoopEngine(const BatchLoopModules &modules, const std::vector<ProfileRanges> &profiles,
                                                 const EngineBuildOptions &options, const std::string &modelPath);

/// A model optimized as a static model at the probe shapes of a dim-fit engine (codegen/DimFit.h).
struct DimFitModules {
  std::vector<const Module *> probes;
  std::vector<std::vector<int64_t>> probeDims; ///< per probe: the value of each dynamic input dim
  std::vector<DimAtom> dims;                   ///< the dynamic input dims
  size_t maxProbe = 0;                         ///< the largest shape: its layers and arena are the engine's
  size_t optProbe = 0;                         ///< profile 0's opt shape (tactics are timed there)
  std::vector<size_t> profileOptProbes;        ///< profiles 1, 2, ...: their opt shapes
  const Module *reference = nullptr;           ///< the model with its dynamic dims (reference executor)
  std::vector<std::pair<int64_t, int64_t>> dimRanges; ///< per dynamic input dim: its values in the profiles
  /// Where the probes leave an expression open (DimFitter::questions), buildDimFitEngine fails
  /// and, when this is set, adds the shapes to probe (per probe, each dim's value) here.
  std::vector<std::vector<int64_t>> *moreProbes = nullptr;
};

/// The engine of a model whose profiles vary other dims than the batch alone: one set of layers
/// whose shape-dependent integers are expressions over the dims, found from the probes.
/// Unsupported, saying what, when the layers differ between probes in anything else or an
/// integer is no such expression.
Expected<EngineBuildResult> buildDimFitEngine(const DimFitModules &modules, const std::vector<ProfileRanges> &profiles,
                                              const EngineBuildOptions &options, const std::string &modelPath);

/// `modelPath` prefixes error messages.
Expected<EngineBuildResult> buildEngine(const Module &module, const EngineBuildOptions &options, const std::string &modelPath);

} // namespace infc::codegen
