#include "compiler/Calibrator.h"

#include "compiler/CalibrationData.h"
#include "ir/Interpreter.h"

#include <cmath>
#include <limits>
#include <unordered_map>

namespace infc {

Expected<CalibMethod> parseCalibMethod(const std::string &name) {
  if (name == "entropy")
    return CalibMethod::Entropy;
  if (name == "percentile")
    return CalibMethod::Percentile;
  if (name == "minmax")
    return CalibMethod::MinMax;
  return invalidArgument("--calib-method '" + name + "': expected entropy, percentile or minmax");
}

const char *calibMethodName(CalibMethod m) {
  switch (m) {
  case CalibMethod::Entropy: return "entropy";
  case CalibMethod::Percentile: return "percentile";
  case CalibMethod::MinMax: return "minmax";
  }
  return "";
}

double entropyAmax(const std::vector<uint64_t> &hist, double binWidth) {
  const size_t n = hist.size();
  uint64_t total = 0;
  for (uint64_t c : hist)
    total += c;
  if (total == 0 || n <= static_cast<size_t>(kCalibLevels))
    return total == 0 ? 0.0 : static_cast<double>(n) * binWidth;
  // suffix[i]: the count in bins i.. (the outliers when i bins are kept).
  std::vector<uint64_t> suffix(n + 1, 0);
  for (size_t i = n; i-- > 0;)
    suffix[i] = suffix[i + 1] + hist[i];
  double best = std::numeric_limits<double>::infinity();
  size_t bestI = n - 1;
  std::vector<double> q;
  // i = n keeps every bin: without it the top bin would always be clipped, and data with few
  // distinct values (8-bit images: |x| on 9 levels, the background at max |x|) would lose its
  // largest value to a threshold whose divergence is small only because the histogram is sparse.
  for (size_t i = kCalibLevels; i <= n; ++i) {
    // Q: bins 0..i-1 merged into 128 groups, each group's count spread over its non-empty bins.
    q.assign(i, 0.0);
    size_t merged = i / kCalibLevels;
    for (size_t g = 0; g < static_cast<size_t>(kCalibLevels); ++g) {
      size_t start = g * merged, stop = g + 1 == static_cast<size_t>(kCalibLevels) ? i : start + merged;
      uint64_t count = 0, nonEmpty = 0;
      for (size_t k = start; k < stop; ++k) {
        count += hist[k];
        nonEmpty += hist[k] != 0;
      }
      if (nonEmpty)
        for (size_t k = start; k < stop; ++k)
          if (hist[k])
            q[k] = static_cast<double>(count) / static_cast<double>(nonEmpty);
    }
    // P: bins 0..i-1 with the outliers in bin i-1. Both sum to `total` before normalizing:
    // Q's groups keep their counts; P adds the outliers that Q leaves out, so normalize each.
    double qSum = 0;
    for (double v : q)
      qSum += v;
    double divergence = 0;
    for (size_t k = 0; k < i; ++k) {
      double pk = static_cast<double>(hist[k] + (k + 1 == i ? suffix[i] : 0)) / static_cast<double>(total);
      if (pk == 0)
        continue;
      double qk = qSum > 0 ? q[k] / qSum : 0;
      if (qk == 0) {
        divergence = std::numeric_limits<double>::infinity();
        break;
      }
      divergence += pk * std::log(pk / qk);
    }
    if (divergence < best) {
      best = divergence;
      bestI = i;
    }
  }
  return bestI == n ? static_cast<double>(n) * binWidth : (static_cast<double>(bestI) + 0.5) * binWidth;
}

double percentileAmax(const std::vector<uint64_t> &hist, double binWidth, double percentile) {
  uint64_t total = 0;
  for (uint64_t c : hist)
    total += c;
  if (total == 0)
    return 0;
  double want = percentile / 100.0 * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t k = 0; k < hist.size(); ++k) {
    seen += hist[k];
    if (static_cast<double>(seen) >= want)
      return static_cast<double>(k + 1) * binWidth;
  }
  return static_cast<double>(hist.size()) * binWidth;
}

namespace {

struct Stats {
  std::string name;
  double amax = 0;
  std::vector<uint64_t> hist;
  double sumSquares = 0; ///< over the finite elements of the first pass
  uint64_t count = 0;
};

/// Every float value calibrated: graph inputs, then op results (constants excluded), in order.
class Observer {
public:
  explicit Observer(const Graph &graph) {
    for (const auto &a : graph.body().arguments())
      if (isFloat(a->type().elem()))
        add(a.get());
    for (const auto &op : graph.body().ops())
      if (!op->is(OpKind::OnnxConstant))
        for (const Value *r : op->results())
          if (r && isFloat(r->type().elem()))
            add(r);
  }

  void observe(const Value *v, const Tensor &t, bool histograms) {
    auto it = index_.find(v);
    if (it == index_.end() || !isFloat(t.dtype()))
      return;
    Stats &s = stats_[it->second];
    if (!histograms) {
      for (int64_t i = 0; i < t.numElements(); ++i) {
        double a = std::fabs(t.getDouble(i));
        if (!std::isfinite(a))
          continue;
        s.amax = std::max(s.amax, a);
        s.sumSquares += a * a;
        ++s.count;
      }
      return;
    }
    if (s.amax <= 0)
      return;
    s.hist.resize(kCalibBins, 0);
    for (int64_t i = 0; i < t.numElements(); ++i) {
      double a = std::fabs(t.getDouble(i));
      if (std::isfinite(a))
        ++s.hist[static_cast<size_t>(calibBin(a, s.amax))];
    }
  }

  std::vector<Stats> &stats() { return stats_; }

private:
  void add(const Value *v) {
    if (index_.emplace(v, stats_.size()).second)
      stats_.push_back({v->name(), 0, {}, 0, 0});
  }
  std::unordered_map<const Value *, size_t> index_;
  std::vector<Stats> stats_;
};

} // namespace

Expected<CalibrationTable> calibrate(const Graph &graph, const CalibrationOptions &o) {
  if (o.method == CalibMethod::Percentile && !(o.percentile > 0 && o.percentile <= 100))
    return invalidArgument("--calib-percentile " + std::to_string(o.percentile) + ": must be in (0, 100]");
  INFC_ASSIGN_OR_RETURN(std::vector<std::string> files, calibrationFiles(o.dir, o.maxBatches));
  Observer observer(graph);
  int passes = o.method == CalibMethod::MinMax ? 1 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    bool histograms = pass == 1;
    for (size_t b = 0; b < files.size(); ++b) {
      INFC_ASSIGN_OR_RETURN(std::vector<Tensor> inputs, readCalibrationBatch(files[b], graph));
      const auto &args = graph.body().arguments();
      for (size_t i = 0; i < args.size(); ++i)
        observer.observe(args[i].get(), inputs[i], histograms);
      InterpreterOptions io;
      io.observer = [&](const Operation &op, const std::vector<Tensor> &results) {
        for (size_t r = 0; r < results.size() && r < op.numResults(); ++r)
          observer.observe(op.result(r), results[r], histograms);
      };
      Expected<std::vector<Tensor>> ran = interpret(graph, inputs, io);
      if (!ran.isOk())
        return ran.status().withPrefix(files[b] + ": running the FP32 network");
      if (o.progress)
        o.progress("calibration: batch " + std::to_string(b + 1) + "/" + std::to_string(files.size()) + ", pass " +
                   std::to_string(pass + 1) + "/" + std::to_string(passes) + (histograms ? " (histograms)" : " (ranges)"));
    }
  }
  CalibrationTable table;
  table.method = o.method;
  table.percentile = o.percentile;
  table.batches = static_cast<int64_t>(files.size());
  for (Stats &s : observer.stats()) {
    TensorRange r;
    double width = s.amax / kCalibBins;
    if (s.amax > 0 && o.method == CalibMethod::Entropy)
      r.amax = entropyAmax(s.hist, width);
    else if (s.amax > 0 && o.method == CalibMethod::Percentile)
      r.amax = percentileAmax(s.hist, width, o.percentile);
    else
      r.amax = s.amax;
    r.scale = r.amax > 0 ? r.amax / 127.0 : 1.0 / 127.0;
    r.max = s.amax;
    r.rms = s.count ? std::sqrt(s.sumSquares / static_cast<double>(s.count)) : 0.0;
    if (!s.hist.empty()) {
      double sse = 0, n = 0;
      for (size_t b = 0; b < s.hist.size(); ++b) {
        double cut = std::max(0.0, (static_cast<double>(b) + 0.5) * width - r.amax);
        sse += static_cast<double>(s.hist[b]) * cut * cut;
        n += static_cast<double>(s.hist[b]);
      }
      r.clipRms = n > 0 ? std::sqrt(sse / n) : 0.0;
    }
    table.tensors[s.name] = r;
  }
  return table;
}

} // namespace infc
