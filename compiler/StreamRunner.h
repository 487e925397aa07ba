// `infc run --streams N`: N host threads share one engine, each with its own execution context,
// CUDA stream, events and pinned host buffers. Every iteration of a thread copies the inputs in,
// runs the network and copies the outputs back on its stream, then waits for its own last event;
// the threads' copies and compute overlap on the GPU. The engine is shared, a context never is
// (runtime/infc_runtime.h).
#pragma once

#include "compiler/RuntimeCalls.h"
#include "ir/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace infc {

struct StreamRunSettings {
  int streams = 1;
  int warmup = 10;
  int iterations = 100; ///< timed iterations per stream
  bool cudaGraph = true;
  std::string enginePath; ///< for messages
  /// Engines with profiles: the profile every context runs in, with the inputs' shapes as `ins`
  /// gives them (-1: the engine has none).
  int profile = -1;
  /// Each context's library kernels on this many SMs (infc_context_set_sm_count; 0: all).
  int smCount = 0;
};

/// One stream's timed iterations (milliseconds, CUDA events): the whole iteration (first copy in
/// to last copy out), its compute, its input and output copies.
struct StreamTimes {
  std::vector<double> latency, compute, h2d, d2h;
  double wallMs = 0; ///< this thread's timed iterations, host clock
};

struct StreamRunResult {
  std::vector<StreamTimes> streams;
  double wallMs = 0;                      ///< all threads' timed iterations, host clock
  std::map<std::string, Tensor> outputs;  ///< stream 0's last outputs
  bool outputsAgree = true;               ///< every stream's outputs equal stream 0's, byte for byte
  /// The contexts and streams the threads made (owned by the caller afterwards: freed with
  /// infc_context_free and cuStreamDestroy), for further runs on them.
  std::vector<infc_context *> contexts;
  std::vector<CUstream> cuStreams;
};

/// Runs `settings.streams` threads on `engine` as described above. `inputs` by name, as `ins`
/// describes them. All threads finish their warm-up before any timed iteration starts.
Expected<StreamRunResult> runStreams(infc_engine *engine, const std::vector<IoInfo> &ins,
                                     const std::map<std::string, Tensor> &inputs, const std::vector<IoInfo> &outs,
                                     const StreamRunSettings &settings);

} // namespace infc
