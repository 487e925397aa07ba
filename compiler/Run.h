// `infc run`: load an engine with the runtime, feed inputs, time it, write outputs.
#pragma once

#include "ir/Tensor.h"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace infc {

struct RunOptions {
  std::string enginePath;
  std::map<std::string, std::string> inputFiles; ///< name -> .npy path
  std::string outputDir;
  std::string jsonPath;
  int iterations = 100;
  int warmup = 10;
  int streams = 1;
  /// --sm-share: with several streams, each context's cuDNN/cuBLASLt kernels run on 1/streams of
  /// the SMs (infc_context_set_sm_count) instead of each taking them all.
  bool smShare = false;
  std::string shapes;    ///< --shapes NAME:DxD,...: the input shapes (within a profile of the engine)
  int profileIndex = -1; ///< --profile-index: the profile to run in (-1: the first that holds the shapes)
  bool reference = false; ///< run the engine's graph on the CPU reference interpreter instead
  bool profile = false;   ///< per-layer GPU times (events around every layer; trtexec --dumpProfile)
  bool cudaGraph = true;  ///< replay a captured CUDA graph (--no-cuda-graph: one launch per layer)
  /// --reference: the most host memory the run may need (values alive at once); 0: this
  /// machine's physical memory.
  uint64_t referenceMemoryLimit = 0;
};

struct RunReport {
  std::map<std::string, Tensor> outputs;
  std::string text; ///< trtexec-style report
  std::string json;
  std::vector<std::string> notes; ///< for stderr: inputs that were made up, and the like
};

/// A random input of `dtype` and `shape`: uniform [-1, 1) floats, integers 0..3 (bool 0/1).
/// Every command that makes up inputs uses this one generator.
Tensor randomInput(DType dtype, const std::vector<int64_t> &shape, std::mt19937_64 &rng);

/// The arguments of `graph` in order: given tensors (dtype and shape checked), the others random
/// (randomInput, seed 42), each announced in `notes`. A given name that is no input is an error.
Expected<std::vector<Tensor>> bindGraphInputs(const class Graph &graph, const std::map<std::string, Tensor> &given,
                                              const std::string &path, std::vector<std::string> &notes);

/// Runs the engine on the GPU (or the reference interpreter with options.reference).
Expected<RunReport> runEngine(const RunOptions &options);

/// Runs an engine once on given inputs and returns its outputs by name (used by `infc compare`).
Expected<std::map<std::string, Tensor>> runEngineOnce(const std::string &enginePath,
                                                      const std::map<std::string, Tensor> &inputs);

} // namespace infc

namespace infc::codegen {
class TacticSource;
}

namespace infc {
/// Builds an engine for the GPU present from `module` (static shapes) and runs it once on
/// `inputs` (graph-argument order); outputs in graph-output order. Used by GPU tests and
/// `infc-conformance --backend gpu`.
/// `generatedDepthwise` selects the generated depthwise kernel (LoweringOptions), for its tests;
/// `tactics` replaces the timed tactics (one autotuner per process) with a test's own choices.
Expected<std::vector<Tensor>> runModuleOnGpu(const class Module &module, const std::vector<Tensor> &inputs, bool fp16 = false,
                                             bool generatedDepthwise = false, codegen::TacticSource *tactics = nullptr);
/// The engine runModuleOnGpu builds (timed tactics, for the GPU present), as file bytes.
Expected<std::string> buildModuleForGpu(const class Module &module, bool fp16 = false, bool generatedDepthwise = false,
                                        codegen::TacticSource *tactics = nullptr);
} // namespace infc
