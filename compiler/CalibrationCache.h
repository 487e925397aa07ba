// The calibration cache of `--calib-cache FILE`: readable JSON, written atomically,
//   {"format": 1, "method": "entropy", "model_sha256": "...", "batches": 10,
//    "tensors": {"<ONNX tensor name>": {"amax": 2.5, "scale": 0.0197}, ...}}
// ("percentile" too with that method). A cache computed for another model is refused.
#pragma once

#include "compiler/Calibrator.h"

#include <string>

namespace infc {

constexpr int kCalibCacheFormat = 1;

/// The cache text of `table` for the model whose file bytes hash to `modelSha256`.
std::string calibrationCacheJson(const CalibrationTable &table, const std::string &modelSha256);

/// Reads `path` and checks its format and that it was computed for the model `modelSha256`
/// (`modelPath` names that model in the error).
Expected<CalibrationTable> readCalibrationCache(const std::string &path, const std::string &modelSha256,
                                                const std::string &modelPath);

} // namespace infc
