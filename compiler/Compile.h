// `infc build` to an engine: import, fix shapes, optimize, lower, write the .plan atomically.
#pragma once

#include "compiler/Calibrator.h"
#include "compiler/Driver.h"

#include <string>

namespace infc {

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
  /// --int8: calibrate (calib.dir set) or read calibCache, write calibCache when calibrating.
  /// INT8 kernels do not exist yet, so an --int8 build stops with an error after calibration.
  /// --min-shapes / --opt-shapes / --max-shapes (k-th of each: profile k). Checked, then refused:
  /// engines have static shapes.
  std::vector<std::string> minShapes, optShapes, maxShapes;
  /// --timing-cache: read (and extended, on the target GPU) when set.
  std::string timingCachePath;
  bool requireCompleteCache = false; ///< --require-complete-cache
  bool int8 = false;
  std::string layerPrecision;   ///< --layer-precision NAME:fp32|fp16,... (compiler/LayerPrecision.h)
  bool strictPrecision = false; ///< --strict-precision
  CalibrationOptions calib;
  std::string calibCache;
};

struct CompileReport {
  std::string target;      ///< "sm_90 (NVIDIA H100 80GB HBM3)"
  std::vector<std::string> warnings;
  size_t layers = 0;
  uint64_t weightBytes = 0, arenaBytes = 0;
  double seconds = 0;
  std::string tactics;     ///< how tactics were chosen ("timed 38 candidates for 20 convolutions")
  std::string sha256;      ///< of the engine file's bytes
  /// --int8: how many convolutions run in INT8 and what stays in higher precision.
  std::string int8Summary;
};

Expected<CompileReport> compileToEngine(const CompileOptions &options);

/// Parses "sm_90" / "90" / "9.0" into (major, minor).
Expected<std::pair<int, int>> parseTarget(const std::string &target);

} // namespace infc
