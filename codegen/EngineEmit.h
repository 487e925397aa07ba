// Internal to the engine builder: lowering a graph to layers and emitting an engine from them,
// shared by static, batch-loop (codegen/BatchLoop.h) and dim-fit (codegen/DimFit.h) engines.
#pragma once

#include "codegen/DimFit.h"
#include "codegen/EngineBuilder.h"

#include <array>
#include <optional>
#include <unordered_map>

namespace infc::codegen {

struct BatchClasses;

/// Lowers every op to layers; constants become weights, not layers. Every op without a GPU
/// kernel is reported, not only the first: one line each, then the count.
Status lowerGraph(const Graph &graph, LoweringContext &ctx, const std::string &modelPath);

/// Convolution fusions of an engine lowered at several shapes: decided (timed) once, at the shape
/// tactics are timed at, and the same decisions replayed, in order, at the others.
class ConvFusionReplay {
public:
  /// `base` deciding each fusion as it does, recording the decisions.
  LoweringOptions recording(const LoweringOptions &base);
  /// `base` replaying the recorded decisions from the first (each call starts over).
  LoweringOptions replaying(const LoweringOptions &base) const;

private:
  std::vector<bool> decisions_;
};

/// What an engine with profiles adds to its layers, by layer index.
struct DynamicLayers {
  const std::vector<Layer> *tuneAt = nullptr; ///< the same layers at the shape tactics are timed at
  /// The same at the opt shape of profiles 1, 2, ... (tactics recorded per profile).
  std::vector<const std::vector<Layer> *> tuneAtProfiles;
  std::vector<bool> gridZ;                        ///< batch-loop: launched with grid.z = the batch
  std::vector<std::pair<bool, bool>> matmulScale; ///< batch-loop: (m, batch) are one item's
};

/// A launch size of a dim-fit engine: min(ceil(work / per), cap) (cap 0: none).
struct GridFit {
  DimExpr work;
  int64_t per = 1, cap = 0;
};

/// What a dim-fit engine adds to its layers and tensors (codegen/DimFit.h).
struct DimFitSpec {
  std::vector<DimAtom> atoms;
  /// Every dim of each tensor whose shape follows the dims.
  std::unordered_map<const Value *, std::vector<DimExpr>> shapes;
  struct Kernel {
    std::array<GridFit, 3> grid;
    std::vector<std::optional<DimExpr>> args; ///< per argument: integers that follow the dims
    bool dimsParam = false;
  };
  std::vector<std::optional<Kernel>> kernels;  ///< per layer (generated kernels)
  std::vector<std::vector<DimExpr>> matmuls;   ///< per layer: m, n, k, batch, lda, ldb, ldc, stride a/b/c
};

/// What makes an engine one with profiles: a batch-loop engine (`classes`, `maxBatch`) or a
/// dim-fit one (`dimFit`).
struct DynamicSpec {
  const BatchClasses *classes = nullptr;
  const DimFitSpec *dimFit = nullptr;
  DynamicLayers layers;
  int64_t maxBatch = 0;
  const std::vector<ProfileRanges> *profiles = nullptr;
  const Graph *reference = nullptr; ///< the model with dynamic dims, whose IR the reference executor runs
};

/// Emission in stages after lowering: collect the engine's tensors, plan the arena, pack the
/// weights, compile the generated kernels, serialize (timing tactics on the way).
Expected<EngineBuildResult> emitEngine(const Graph &graph, LoweringContext &ctx, const EngineBuildOptions &options,
                                       const std::string &modelPath, const DynamicSpec *spec);

} // namespace infc::codegen
