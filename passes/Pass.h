// Pass interface, pass context and statistics.
#pragma once

#include "ir/IR.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace infc {

/// Named counters a pass increments ("ops-folded"); printed by `--stats`.
class Statistics {
public:
  int64_t &operator[](const std::string &key) { return counters_[key]; }
  const std::map<std::string, int64_t> &counters() const { return counters_; }
  void merge(const Statistics &o) {
    for (const auto &[k, v] : o.counters_)
      counters_[k] += v;
  }

private:
  std::map<std::string, int64_t> counters_;
};

/// The form an f16 infc.conv would take in INT8 (quantize-int8's timing question): whether it
/// writes int8 and whether it reads its residual in int8.
struct Int8ConvForm {
  bool int8Out = false, int8Residual = false;
};
/// Milliseconds of the conv as it is (f16), in that INT8 form, and of the QuantizeLinear kernel
/// its input needs when its producer does not write int8 (one per tensor, shared by its readers).
struct Int8ConvTiming {
  double f16Ms = 0, int8Ms = 0, quantizeMs = 0;
};
using Int8TimingFn = std::function<Expected<Int8ConvTiming>(const Operation &op, const Int8ConvForm &form)>;
/// The timed milliseconds of f16 matmul `op` and of its quantized form with A and B in `abType`
/// (F8E4M3 or I8), `extraBytes` of memory traffic that form adds (quantize and dequantize kernels)
/// included.
using MatmulTimingFn =
    std::function<Expected<std::pair<double, double>>(const Operation &op, DType abType, double extraBytes)>;

/// What calibration saw of a tensor besides its calibrated range: the largest |x| and the root
/// mean square (-1 when unknown: explicit Q/DQ scales, a calibration cache from before infc
/// recorded them). max / rms says how heavy its tails are: int8 with one scale for the tensor
/// leaves a typical value 127 rms / max levels.
struct TensorSpread {
  double max = -1, rms = -1;
  /// The root mean square of what the calibration method's threshold cuts off (|x| - amax where
  /// |x| > amax, 0 elsewhere) over every element; -1: unknown (minmax, or an older cache).
  double clipRms = -1;
  bool known() const { return max >= 0 && rms >= 0; }
};

/// Per-run state shared by passes in a pipeline.
struct PassContext {
  Statistics stats;
  /// Largest constant (in bytes) const-fold may create; bigger results stay computed at run time.
  int64_t maxFoldBytes = int64_t(64) << 20;
  /// assign-precision: the precision asked for ops carrying an ONNX node (`--layer-precision`:
  /// F32 or F16), and whether an op the policy keeps in f32 is an error (`--strict-precision`).
  std::map<std::string, DType> layerPrecision;
  bool strictPrecision = false;
  /// assign-precision: the 16-bit type float32 tensors become (F16, or BF16 with --bf16).
  DType lowPrecision = DType::F16;
  /// quantize-int8: the calibrated range (amax) of each activation, by ONNX tensor name.
  std::map<std::string, double> int8Ranges;
  /// quantize-int8-matmul (and the fusion passes that record what it needs): TensorSpread by
  /// ONNX tensor name.
  std::map<std::string, TensorSpread> int8Spread;
  /// quantize-int8-matmul: quantize matmul inputs over the largest |x| calibration saw (where
  /// known) instead of their calibrated range: `--int8` without `--calib-method`, since entropy's
  /// clipping costs transformers their outlier channels (docs/int8.md).
  bool int8MatmulInputsAtMax = false;
  /// quantize-int8, when the target GPU is here: the timed milliseconds of f16 infc.conv `op` as
  /// it is and of its INT8 form (Int8ConvTiming). Which convolutions run INT8 is chosen for the
  /// whole network, the quantize kernels between the two precisions counted, as TensorRT's builder
  /// weighs reformatting; NotFound/Unsupported: no answer (INT8 stays).
  Int8TimingFn int8Timing;
  /// quantize-fp8 and quantize-int8-matmul, when the target GPU is here (or its timing cache): as
  /// int8Timing, for matmuls.
  MatmulTimingFn matmulTiming;
  /// `infc build --verbose`: one line per decision a fusion pass takes or refuses, and why
  /// ("fuse-conv-epilogue: fused Relu into conv 'c1'"). Null when nobody listens.
  std::function<void(const std::string &line)> remarks;
  /// Sends "<pass>: <text>" to `remarks`; `text()` runs only when someone listens.
  template <typename TextFn> void remark(std::string_view pass, TextFn &&text) {
    if (remarks)
      remarks(std::string(pass) + ": " + text());
  }
  /// Counter key prefixed with the current pass name: "const-fold.ops-folded".
  int64_t &stat(std::string_view pass, const std::string &key) {
    return stats[std::string(pass) + "." + key];
  }
};

/// A transformation over one graph. `run` returns whether it changed anything.
class Pass {
public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  virtual Expected<bool> run(Graph &graph, PassContext &ctx) = 0;
};

/// A local rewrite used by pattern-driven passes (canonicalize): `match` is cheap and pure;
/// `rewrite` mutates the IR and returns true if it changed it.
struct RewritePattern {
  virtual ~RewritePattern() = default;
  /// One line: `transpose(transpose(x)) -> transpose(x)`.
  virtual std::string_view description() const = 0;
  virtual bool match(const Operation &op) const = 0;
  virtual Expected<bool> rewrite(Operation &op, PassContext &ctx) const = 0;
};

} // namespace infc
