// Convolutions through the cuDNN graph (backend) API. Shared by the runtime (which executes the
// recorded plan) and the compiler (which asks cuDNN whether a fused graph is supported and which
// engine its heuristics pick, to record it as the layer's tactic).
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace infc::rt {

struct ConvSpec {
  std::vector<int64_t> xDims, wDims, yDims; ///< NCHW-style logical dims (x/y: N, C, spatial...)
  std::vector<int64_t> padsBegin, padsEnd, strides, dilations;
  bool transpose = false;   ///< ConvTranspose: x is the data-gradient input (dy), y is dx
  bool hasBias = false;     ///< bias of shape [C_out], added after the convolution
  bool hasResidual = false; ///< z with y's dims, added after the convolution (before the bias)
  std::string activation;   ///< "", "relu", "sigmoid", "tanh", "gelu"
  int32_t dtype = 1;        ///< infc dtype of y, and of x, w, bias, z unless int8 (1 = f32, 10 = f16, 16 = bf16, 3 = i8)
  /// INT8 convolution: x and w are int8, the int32 accumulator is multiplied by a float scale per
  /// output channel (s, [C_out]) before the float32 bias; y is int8 (the scales fold in its
  /// quantization) or f16. y = postMult * act(acc * s + z + b) (z int8 or f16, added as it is).
  bool int8 = false;
  int32_t zDtype = 0;       ///< dtype of z when it differs from y's (int8: an int8 residual into f16)
  float postMult = 1.0f;    ///< INT8: factor after the activation (a positively homogeneous one)
  bool nhwc = false;        ///< memory layout of x/y/z is channels-last
  /// y is written over z (the same bytes). Only the builder uses it: the autotuner times and
  /// checks tactics this way, and it is part of their cache key. The runtime needs no flag (the
  /// engine gives both tensors one offset).
  bool inPlace = false;
};

/// Checks ranks and rewrites a 1-D convolution as a 2-D one over a height of 1 (cuDNN convolves
/// 2-D and 3-D). Returns "" or the problem.
std::string normalizeConvSpec(ConvSpec &spec);

/// A finalized cuDNN execution plan for one ConvSpec.
class ConvPlan {
public:
  ConvPlan() = default;
  ConvPlan(const ConvPlan &) = delete;
  ConvPlan &operator=(const ConvPlan &) = delete;
  ~ConvPlan();

  /// Builds the op graph and finalizes a plan: engine `engineId` with `knobs` when engineId >= 0
  /// (a recorded tactic), else the first config of cuDNN's heuristic lists (mode A, then fallback)
  /// that finalizes within `maxWorkspace`. With `alternatives`, every further distinct config
  /// that finalizes is returned there too (the autotuner times them all). Returns "" or one sentence.
  /// `smCountTarget` > 0: the kernels run on that many SMs (cuDNN's SM count target), leaving the
  /// others to contexts on other streams.
  std::string build(cudnnHandle_t handle, const ConvSpec &spec, int64_t engineId, const std::vector<int64_t> &knobs,
                    uint64_t maxWorkspace, std::vector<std::unique_ptr<ConvPlan>> *alternatives = nullptr,
                    int32_t smCountTarget = 0);
  /// The chosen tactic, to record in the engine.
  int64_t engineId() const { return engineId_; }
  const std::vector<int64_t> &knobs() const { return knobs_; }
  uint64_t workspaceBytes() const { return workspace_; }
  /// Runs y = act(conv(x, w) [* s] [+ z] [+ b]) [* postMult] on the handle's stream (s, postMult: INT8 only).
  std::string execute(cudnnHandle_t handle, void *x, void *w, void *y, void *b, void *z, void *workspace,
                      void *s = nullptr) const;

private:
  struct Owned { // graph-level descriptors, shared by a plan and its alternatives
    std::vector<cudnnBackendDescriptor_t> d;
    ~Owned();
  };
  /// Takes engine config `cfg` and reads its tactic (false: unreadable, or not FP32 under `fp32Only`).
  bool describe(cudnnBackendDescriptor_t cfg, bool fp32Only);
  /// Finalizes the execution plan of the described config (false: it does not finalize, or
  /// needs more than `maxWorkspace`). Touches only this plan's own descriptors (thread-safe
  /// across plans).
  bool finalizePlan(uint64_t maxWorkspace);
  /// Becomes `o`'s finalized plan (the graph-level state is already shared).
  void takeFrom(ConvPlan &o);

  std::shared_ptr<Owned> graphOwned_;
  cudnnHandle_t handle_ = nullptr;
  std::vector<cudnnBackendDescriptor_t> owned_; // plan-level descriptors
  cudnnBackendDescriptor_t plan_ = nullptr, cfg_ = nullptr;
  int64_t engineId_ = -1;
  std::vector<int64_t> knobs_;
  uint64_t workspace_ = 0;
  bool hasBias_ = false, hasResidual_ = false, hasScale_ = false;
  float postMult_ = 1.0f; ///< the factor after the activation, passed to cuDNN by value
};

/// "" or "<what>: <cudnn error string>".
std::string cudnnCheck(cudnnStatus_t s, const std::string &what);

} // namespace infc::rt
