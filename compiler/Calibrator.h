// INT8 post-training calibration: the range (amax) of every activation of the FP32 network over
// a folder of batches, by TensorRT's entropy method, a percentile of |x|, or max |x|; scale =
// amax / 127. Statistics come from the reference interpreter (so calibration runs without a GPU).
#pragma once

#include "ir/IR.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace infc {

enum class CalibMethod { Entropy, Percentile, MinMax };

Expected<CalibMethod> parseCalibMethod(const std::string &name);
const char *calibMethodName(CalibMethod m);

/// Histogram bins of |x| over [0, amax] (TensorRT's count).
constexpr int kCalibBins = 2048;
/// Quantized levels of the entropy method's candidate distributions (positive INT8 values).
constexpr int kCalibLevels = 128;

/// The entropy method (Migacz, "8-bit Inference with TensorRT", GTC 2017) on a histogram of |x|
/// with bins of `binWidth`: for i = 128 .. bins kept bins (i = bins: nothing clipped, threshold
/// bins * binWidth = amax; the slides stop at bins-1, which always clips the top bin), the reference distribution P is bins
/// 0..i-1 with the count of bins i.. (outliers) added to bin i-1; the candidate Q merges bins
/// 0..i-1 into 128 groups of i/128 bins (the last group takes the remainder), each group's count
/// spread evenly over its non-empty bins; the i with the smallest KL(P || Q) wins (the first, on
/// ties) and the threshold is (i + 0.5) * binWidth. A candidate whose Q is zero where P is not
/// (bin i-1 empty but outliers beyond) has infinite divergence. All-zero histogram: 0.
double entropyAmax(const std::vector<uint64_t> &hist, double binWidth);
/// The right edge of the first bin at which the cumulative count reaches `percentile` percent of
/// the total (the percentile of |x| to within one bin).
double percentileAmax(const std::vector<uint64_t> &hist, double binWidth, double percentile);
/// The histogram bin of |v| over [0, amax] with kCalibBins bins (amax > 0).
inline int calibBin(double absValue, double amax) {
  double b = absValue / amax * kCalibBins;
  return b >= kCalibBins - 1 ? kCalibBins - 1 : static_cast<int>(b);
}

struct TensorRange {
  double amax = 0;
  double scale = 0; ///< amax / 127 (1/127 for an all-zero tensor, so that quantizing never divides by 0)
  /// The largest |x| seen and the root mean square over every element of every batch (-1:
  /// unknown, a cache written before infc recorded them): how heavy the tensor's tails are,
  /// which quantize-int8-matmul's accuracy rule reads (passes/Pass.h, TensorSpread).
  double max = -1, rms = -1;
  /// The root mean square of what amax cuts off (|x| - amax beyond it, 0 elsewhere), from the
  /// histogram of pass 2 (bin centres); -1 without histograms (minmax) or from an older cache.
  double clipRms = -1;
};

struct CalibrationTable {
  CalibMethod method = CalibMethod::Entropy;
  double percentile = 99.99;       ///< with Percentile
  int64_t batches = 0;
  std::map<std::string, TensorRange> tensors; ///< by ONNX tensor name: graph inputs and float activations
};

struct CalibrationOptions {
  std::string dir;            ///< --calib
  CalibMethod method = CalibMethod::Entropy;
  double percentile = 99.99;  ///< --calib-percentile
  /// --calib-method was given: INT8 matmul inputs then take the method's range too, instead of
  /// the largest |x| seen (quantize-int8-matmul, PassContext::int8MatmulInputsAtMax).
  bool methodGiven = false;
  int64_t maxBatches = 0;     ///< --calib-batches (0: every file)
  /// Called with one line per batch and pass ("calibration: batch 3/10, pass 2/2 (histograms)").
  std::function<void(const std::string &)> progress;
};

/// Runs `graph` (FP32, static shapes) on the reference interpreter over every batch of
/// `options.dir` and returns the range of each graph input and each float activation (the
/// results of every op but constants). Two passes for the entropy and percentile methods (amax
/// first, then histograms over [0, amax]), so that the result does not depend on how the data
/// is split into batches; minmax needs one.
Expected<CalibrationTable> calibrate(const Graph &graph, const CalibrationOptions &options);

} // namespace infc
