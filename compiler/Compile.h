// `infc build` to an engine: import, fix shapes, optimize, lower, write the .plan atomically.
#pragma once

#include "compiler/Calibrator.h"
#include "compiler/Driver.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace infc {

/// What a build says while it runs (each callback optional): `stage` when one starts ("import",
/// "calibrate", "optimize", "lower", "compile kernels", "tune" or "serialize", "write"), `step` as work within
/// it finishes (calibration batches, library layers tuned), `verbose` one line per fusion taken
/// or refused and per tactic timed (`infc build --verbose`).
struct BuildObserver {
  std::function<void(const std::string &stage)> stage;
  std::function<void(size_t done, size_t total)> step;
  std::function<void(const std::string &line)> verbose;
};

struct CompileOptions {
  std::string modelPath;
  std::string outputPath;  ///< .plan
  std::string shapes;      ///< --shapes
  std::string target;      ///< "sm_90"; empty = the GPU present
  bool fp16 = false;
  bool bf16 = false;       ///< --bf16
  std::string passes;      ///< empty = the default onnx.* pipeline
  int optLevel = 3;        ///< --opt-level (compiler/Pipeline.h)
  bool timing = true;      ///< time candidate tactics when the target GPU is present
  uint64_t workspaceBytes = uint64_t(1) << 30; ///< most workspace one tactic may use
  int builderOptLevel = 3;  ///< --builder-opt-level 0..5: candidates timed per layer
  double tuningBudget = 0;  ///< --tuning-budget seconds (0: none)
  /// --min-shapes / --opt-shapes / --max-shapes (k-th of each: profile k): an engine with
  /// profiles (compileWithProfiles: GPU layers when the batch is the one dynamic dim).
  std::vector<std::string> minShapes, optShapes, maxShapes;
  /// --timing-cache: read (and extended, on the target GPU) when set.
  std::string timingCachePath;
  bool requireCompleteCache = false; ///< --require-complete-cache
  /// --int8 (convolutions) and --fp8 (matmuls, sm_89 and later): calibrate (calib.dir set) or read
  /// calibCache, write calibCache when calibrating.
  bool int8 = false;
  bool fp8 = false;
  /// --best with calibration data (int8 set): FP8 matmuls too when the target is sm_89 or later.
  bool best = false;
  std::string layerPrecision;   ///< --layer-precision NAME:fp32|fp16|int8|fp8,... (compiler/LayerPrecision.h)
  bool strictPrecision = false; ///< --strict-precision
  CalibrationOptions calib;
  std::string calibCache;
  BuildObserver observer;
};

struct CompileReport {
  std::string target;      ///< "sm_90 (NVIDIA H100 80GB HBM3)"
  std::vector<std::string> warnings;
  size_t layers = 0;
  size_t profiles = 0; ///< optimization profiles (layers > 0: a batch-loop engine with GPU layers)
  uint64_t weightBytes = 0, arenaBytes = 0;
  double seconds = 0;
  std::string tactics;     ///< how tactics were chosen ("timed 38 candidates for 20 convolutions")
  std::string sha256;      ///< of the engine file's bytes
  /// --int8: how many convolutions run in INT8 and what stays in higher precision.
  std::string int8Summary;
  /// --fp8: how many matmuls run in FP8.
  std::string fp8Summary;
  /// Wall seconds of each stage, in order (BuildObserver's names).
  std::vector<std::pair<std::string, double>> stageSeconds;
  /// Tactic timing on the target GPU: candidates tried, distinct layers timed, answers taken
  /// from the timing cache, layers cut short by --tuning-budget; library layers left to
  /// load-time heuristics (a timing cache without their entries).
  size_t candidatesTried = 0, layersTimed = 0, cacheHits = 0, budgetCuts = 0;
  size_t rejected = 0; ///< timed candidates refused by the reference check (codegen/TacticCheck.h)
  std::vector<std::string> untuned;
};

Expected<CompileReport> compileToEngine(const CompileOptions &options);

/// Parses "sm_90" / "90" / "9.0" into (major, minor).
Expected<std::pair<int, int>> parseTarget(const std::string &target);

} // namespace infc
