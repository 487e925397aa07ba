// Timing-based tactic selection at build time: every candidate cuDNN engine config for a
// convolution is finalized, run on the GPU present on scratch buffers, and the fastest is recorded
// in the engine (engine id + knobs), so the runtime loads it without heuristics. Matmuls time
// cuBLASLt's top heuristic candidates the same way and record the winner's algorithm bytes.
// Results are cached per signature within one build (ResNet-50 has ~20 distinct convolutions of 53).
#pragma once

#include "ir/Status.h"
#include "codegen/TacticSource.h"
#include "codegen/TimingCache.h"
#include "codegen/Nvrtc.h"
#include "codegen/kernels/ConvInt8.h"

#include <cuda.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace infc::codegen {

class Autotuner final : public TacticSource {
public:
  ~Autotuner() override;
  /// Needs a usable GPU (the one the engine is built for). `maxWorkspace` bounds candidates.
  static Expected<std::unique_ptr<Autotuner>> create(uint64_t maxWorkspace);
  /// Times the candidates for `spec` (normalized, see rt::normalizeConvSpec) and returns the fastest.
  /// With spec.inPlace, candidates run with y over z, and the fastest whose result matches a run
  /// with separate buffers wins.
  Expected<ConvTactic> tuneConv(const rt::ConvSpec &spec) override;
  /// Distinct convolutions tuned and cuDNN configs tried (those that fail to run are not timed),
  /// for the build report.
  size_t convsTimed() const { return cache_.size(); }
  size_t candidatesTried() const { return candidates_; }
  /// Times up to 8 of cuBLASLt's heuristic candidates for `problem` (1 to 32 by --builder-opt-level;
  /// 3 warm-ups, then the median of 10 runs each) and returns the fastest; candidates within 2% of
  /// the fastest count as tied and the earliest in heuristic order wins. The tactic's text names
  /// the runner-up's time (conv tactics too).
  Expected<MatmulTactic> tuneMatmul(const rt::CublasLtProblem &problem) override;
  /// Distinct matmuls tuned and cuBLASLt algorithms tried, for the build report.
  size_t matmulsTimed() const { return matmulCache_.size(); }
  size_t matmulCandidatesTried() const { return matmulCandidates_; }
  /// Answers from `cache`'s entries for this GPU (`gpu`, under skuKey(gpu)) before timing, and
  /// records what it times there.
  void useTimingCache(TimingCache *cache, const GpuSku &gpu);
  size_t cacheHits() const { return cacheHits_; }
  /// --builder-opt-level (0..5, default 3): how many candidates each layer times (Autotuner.cpp).
  void setOptLevel(int level) { level_ = level; }
  /// --tuning-budget: after `seconds` of tuning, layers still to tune stop timing (the best found
  /// so far for the one in progress, the heuristic's first for later ones).
  void setBudget(double seconds) {
    budgetEnd_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                         std::chrono::duration<double>(seconds));
    hasBudget_ = true;
  }
  /// Layers that took the heuristic's first candidate because the budget had run out.
  size_t budgetCuts() const { return budgetCuts_; }
  /// Timed candidates refused because their result differed from the host reference.
  size_t rejected() const { return rejected_; }
  /// Configs not timed past one probe run because it was over 3x the best so far.
  size_t probeCuts() const { return probeCuts_; }
  /// `infc build --verbose`: one line per candidate timed and per choice made.
  void setLog(std::function<void(const std::string &)> log) { log_ = std::move(log); }

private:
  Autotuner() = default;
  /// Whether `plan` gives the same y (within FP16 noise) with y over z as with separate buffers,
  /// on random data (overwrites the scratch buffers).
  struct ConvBuffers {
    CUdeviceptr x = 0, w = 0, y = 0, b = 0, z = 0, s = 0, ws = 0;
  };
  /// Runs one candidate with its result at `y` (buf.y, or buf.z in place): "" or why it failed.
  using ConvRun = std::function<std::string(CUdeviceptr y)>;
  Expected<bool> sameInPlace(const ConvRun &run, const rt::ConvSpec &spec, const ConvBuffers &buf);
  /// "" when `plan`'s result matches the host reference (codegen/TacticCheck.h) at sampled
  /// outputs; else why not ("unchecked: ..." when the reference cannot compute this spec).
  /// Overwrites the scratch buffers.
  Expected<std::string> checkConv(const ConvRun &run, const rt::ConvSpec &spec, const ConvBuffers &buf);
  /// "" when a candidate may win: with spec.inPlace its result over z equals the one into separate
  /// buffers (else kNotInPlace), and it matches the host reference (else the mismatch, counted
  /// in rejected()).
  static constexpr const char *kNotInPlace = "its result differs with y over z";
  Expected<std::string> acceptable(const ConvRun &run, const rt::ConvSpec &spec, const ConvBuffers &buf);
  /// The best of three rounds of three runs, in ms per run; negative when a run failed.
  static float timeRounds(const std::function<bool()> &run, CUevent start, CUevent stop);
  /// infc's own INT8 convolution (codegen/kernels/ConvInt8.h) for `spec`: every tile that fits,
  /// each compiling in its own NVRTC helper process in the background from startInt8Tiles on
  /// (tuneConv starts them before cuDNN's candidates finalize, so the two overlap), then timed by
  /// tuneGeneratedInt8 as the cuDNN configs are; the fastest, which must match the host reference
  /// (a mismatch is an infc bug, an error). tile -1: none applies here.
  struct Int8Tiles {
    std::vector<std::pair<size_t, Int8ConvKernel>> kernels;
    std::vector<std::future<Expected<CubinResult>>> cubins; ///< one per kernel
  };
  Expected<Int8Tiles> startInt8Tiles(const rt::ConvSpec &spec);
  struct GeneratedTiming {
    int64_t tile = -1;
    float ms = 0;
    int timed = 0;
  };
  Expected<GeneratedTiming> tuneGeneratedInt8(const rt::ConvSpec &spec, Int8Tiles &tiles, const ConvBuffers &bufs,
                                              CUdeviceptr out, CUevent start, CUevent stop, const std::string &key);
  uint64_t maxWorkspace_ = 0;
  cudnnHandle_t handle_ = nullptr;
  CUcontext context_ = nullptr; ///< the primary context, retained (cuDNN and the runtime share it)
  CUdevice device_ = 0;
  std::map<std::string, ConvTactic> cache_;
  size_t candidates_ = 0;
  cublasLtHandle_t ltHandle_ = nullptr; ///< created on the first matmul
  std::map<std::string, MatmulTactic> matmulCache_;
  size_t matmulCandidates_ = 0;
  TimingCache *timingCache_ = nullptr;
  std::unique_ptr<CachedTactics> cached_; ///< reads timingCache_'s entries for this GPU
  GpuSku gpu_;
  std::string sku_;
  size_t cacheHits_ = 0;
  size_t rejected_ = 0;
  size_t probeCuts_ = 0; ///< conv configs dropped after one probe run (3x slower than the best)
  std::function<void(const std::string &)> log_;
  int level_ = 3;
  bool hasBudget_ = false;
  std::chrono::steady_clock::time_point budgetEnd_;
  size_t budgetCuts_ = 0;
  bool pastBudget() const { return hasBudget_ && std::chrono::steady_clock::now() >= budgetEnd_; }
};

} // namespace infc::codegen
