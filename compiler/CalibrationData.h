// The calibration folder of `infc build --int8 --calib DIR`: one file per batch, taken in name
// order, `.npy` for a single-input model, `.npz` (np.savez) with one array per input name
// otherwise. Every problem is one error naming the file (and the input).
#pragma once

#include "ir/IR.h"

#include <string>
#include <vector>

namespace infc {

/// The batch files of `dir` in name order (the first `maxBatches` when > 0). Names starting with
/// '.' are skipped; any other entry that is not a regular .npy or .npz file is an error, as are a
/// missing or empty folder and a `maxBatches` larger than the folder holds.
Expected<std::vector<std::string>> calibrationFiles(const std::string &dir, int64_t maxBatches);

/// The graph inputs of one batch file, in argument order: each array must have the input's dtype
/// and exact static shape and, for floats, only finite values.
Expected<std::vector<Tensor>> readCalibrationBatch(const std::string &file, const Graph &graph);

} // namespace infc
