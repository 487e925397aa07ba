// Builds an engine file from an optimized, statically shaped module: lowers every op to layers,
// plans activation memory, compiles generated kernels with NVRTC, serializes the engine.
#pragma once

#include "codegen/Lowering.h"

#include <string>

namespace infc::codegen {

struct EngineBuildOptions {
  LoweringOptions lowering;
  std::string gpuName;        ///< target GPU name for the metadata ("" = no GPU at build time)
  std::string optionsJson;    ///< build options, recorded in the engine
  uint64_t workspaceBytes = uint64_t(64) << 20; ///< cuDNN / cuBLASLt workspace per context
  std::string referenceIr;    ///< textual IR for `infc run --reference`
  int64_t inlineConstantElements = 16; ///< larger constants are stored as weights
};

struct EngineBuildResult {
  std::string bytes;
  size_t numLayers = 0;
  uint64_t arenaBytes = 0, weightBytes = 0;
  std::string nvrtcLog;
};

/// `modelPath` prefixes error messages.
Expected<EngineBuildResult> buildEngine(const Module &module, const EngineBuildOptions &options, const std::string &modelPath);

} // namespace infc::codegen
