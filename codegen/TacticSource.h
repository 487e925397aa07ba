// Where a convolution's or matmul's tactic comes from: the autotuner timing candidates on the GPU
// present (Autotuner), or a timing cache's entries for the target GPU (CachedTactics, for
// builds on machines without that GPU). The engine builder asks one TacticSource for every
// library layer; the same answers give the same engine bytes.
#pragma once

#include "ir/Status.h"
#include "runtime/CublasLtMatmul.h"
#include "runtime/CudnnConv.h"

#include <cstdint>
#include <string>
#include <vector>

namespace infc::codegen {

struct ConvTactic {
  int64_t engineId = -1;
  std::vector<int64_t> knobs;
  uint64_t workspaceBytes = 0;
  double ms = 0;           ///< measured time of the chosen config
  std::string description; ///< for `infc inspect`: "cuDNN engine 12: 0.412 ms, fastest of 9 timed"
};

struct MatmulTactic {
  std::vector<uint8_t> algo;   ///< the serialized cublasLtMatmulAlgo_t (fb::CublasLtMatmul.algo)
  uint64_t workspaceBytes = 0; ///< what that algorithm needs (and was timed with)
  double ms = 0;               ///< measured time of the chosen algorithm (median)
  /// For `infc inspect`: "cuBLASLt algo 3 of 8 timed: 0.0412 ms (heuristic first: 0.0520 ms)":
  /// the winner is the 3rd of the 8 timed algorithms in cuBLASLt's heuristic order.
  std::string description;
};

class TacticSource {
public:
  virtual ~TacticSource() = default;
  /// The tactic for `spec` (normalized, see rt::normalizeConvSpec). A cache without an entry
  /// answers NotFound; the builder then falls back to load-time heuristics.
  virtual Expected<ConvTactic> tuneConv(const rt::ConvSpec &spec) = 0;
  virtual Expected<MatmulTactic> tuneMatmul(const rt::CublasLtProblem &problem) = 0;
};

/// The layer signature a convolution's tactic is stored under (shapes, pads, strides,
/// dilations, epilogue, dtype, layout), the core of its timing-cache key (convCacheKey).
std::string convSignature(const rt::ConvSpec &spec);

} // namespace infc::codegen
