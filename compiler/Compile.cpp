#include "compiler/Compile.h"

#include "codegen/Autotuner.h"
#include "codegen/EngineBuilder.h"
#include "codegen/TimingCache.h"
#include "compiler/CalibrationCache.h"
#include "compiler/EngineReference.h"
#include "compiler/ExplicitQuant.h"
#include "compiler/FileUtil.h"
#include "compiler/Pipeline.h"
#include "compiler/LayerPrecision.h"
#include "compiler/Profiles.h"
#include "compiler/TimingCacheFile.h"
#include "passes/QuantUtil.h"
#include "runtime/RuntimeImpl.h"
#include "support/Sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace infc {

Expected<std::pair<int, int>> parseTarget(const std::string &target) {
  if (std::pair<int, int> cc = codegen::skuComputeCapability(target); cc.first)
    return cc;
  std::string t = target;
  if (t.rfind("sm_", 0) == 0)
    t = t.substr(3);
  t.erase(std::remove(t.begin(), t.end(), '.'), t.end());
  if (t.size() < 2 || t.size() > 3 || !std::all_of(t.begin(), t.end(), ::isdigit))
    return invalidArgument("--target '" + target + "' is not a compute capability like sm_90 or a GPU like h200, h100, a100, l4");
  int major = std::stoi(t.substr(0, t.size() - 1)), minor = t.back() - '0';
  if (major < 7)
    return unsupported("--target " + target + ": infc needs compute capability 7.0 or newer");
  return std::make_pair(major, minor);
}

namespace {

/// The compute capability to build for, and the GPU present when it may time tactics for it
/// (eb.gpuName).
Status resolveTarget(const CompileOptions &o, const rt::DeviceInfo &dev, const std::string &noGpu,
                     codegen::EngineBuildOptions &eb) {
  if (o.target.empty()) {
    if (!noGpu.empty())
      return invalidArgument(o.modelPath + ": " + noGpu + "; pass --target (e.g. --target sm_90) to build for a GPU that is not here");
    eb.lowering.smMajor = dev.smMajor;
    eb.lowering.smMinor = dev.smMinor;
    eb.gpuName = dev.name;
  } else {
    INFC_ASSIGN_OR_RETURN(auto sm, parseTarget(o.target));
    eb.lowering.smMajor = sm.first;
    eb.lowering.smMinor = sm.second;
    // The GPU present serves a target that is its compute capability, or its name (an H200
    // does not time tactics for --target h100).
    bool named = codegen::skuComputeCapability(o.target).first != 0;
    if (noGpu.empty() && dev.smMajor == sm.first && dev.smMinor == sm.second &&
        (!named || codegen::gpuMatchesSku(dev.name, o.target)))
      eb.gpuName = dev.name;
  }
  return Status::ok();
}

/// Where tactics come from: timing on the target GPU (`timed`, reading and extending `cache`),
/// or, without it, a timing cache's entries for the target (`cached`).
struct TacticSetup {
  bool timed = false;
  std::optional<codegen::TimingCache> cache;
  std::unique_ptr<codegen::CachedTactics> cached; ///< reads *cache
};

Status setUpTimingCache(const CompileOptions &o, const rt::DeviceInfo &dev, codegen::EngineBuildOptions &eb,
                        CompileReport &report, TacticSetup &t) {
  t.timed = o.timing && !eb.gpuName.empty();
  // The timing cache: the GPU build reads and extends it; a build without the target GPU (or
  // with --no-timing) takes its tactics from the cache's entries for the target.
  if (!o.timingCachePath.empty()) {
    INFC_ASSIGN_OR_RETURN(t.cache, codegen::TimingCache::load(o.timingCachePath, /*mustExist=*/!t.timed));
    if (!t.timed) {
      // The GPU named by --target, else the one present (--no-timing).
      std::string target = !o.target.empty() ? o.target : codegen::skuNameOf(dev.name);
      std::vector<std::string> skus = t.cache->skusFor(target, eb.lowering.smMajor, eb.lowering.smMinor);
      if (skus.size() > 1) {
        std::string names;
        for (const std::string &k : skus)
          names += "\n  " + k;
        return invalidArgument(o.timingCachePath + ": several GPUs in the timing cache match --target " + target +
                               "; name one (--target h200, h100, ...):" + names);
      }
      if (skus.empty()) {
        // Nothing to take: every library layer is reported as uncovered.
        report.warnings.push_back(o.timingCachePath + ": no entries for " + target +
                                  " timed with this infc's CUDA, cuDNN and cuBLASLt");
        t.cached = std::make_unique<codegen::CachedTactics>(*t.cache, "");
        codegen::useAutotuner(eb, t.cached.get());
      } else {
        t.cached = std::make_unique<codegen::CachedTactics>(*t.cache, skus[0]);
        codegen::useAutotuner(eb, t.cached.get());
        eb.gpuName = t.cache->raw()["gpus"][skus[0]]["gpu"].get<std::string>();
        report.target = "sm_" + std::to_string(eb.lowering.smMajor) + std::to_string(eb.lowering.smMinor) + " (" + eb.gpuName + ")";
        // Tactics timed on that GPU: the engine records what a build there records.
        t.timed = true;
      }
    }
  }
  return Status::ok();
}

/// The model with its input shapes fixed, or with its dynamic dims and the profiles given (in
/// `profiles`), or why this build cannot make an engine of it (dynamic dims left).
Expected<std::unique_ptr<Module>> loadForBuild(const CompileOptions &o, std::vector<OptimizationProfile> &profiles) {
  INFC_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, loadModel(o.modelPath));
  if (!o.minShapes.empty() || !o.optShapes.empty() || !o.maxShapes.empty()) {
    if (!o.shapes.empty())
      return invalidArgument("--shapes fixes one shape and --min-shapes/--opt-shapes/--max-shapes give ranges: use one or the other");
    INFC_ASSIGN_OR_RETURN(profiles, parseProfiles(o.minShapes, o.optShapes, o.maxShapes, *module->mainGraph(), o.modelPath));
    return module;
  }
  if (!o.shapes.empty()) {
    INFC_ASSIGN_OR_RETURN(std::vector<InputShape> shapes, parseInputShapes(o.shapes));
    INFC_RETURN_IF_ERROR(applyInputShapes(*module, shapes, o.modelPath));
  }
  // Without profiles every dynamic input dim must be fixed.
  for (const auto &a : module->mainGraph()->body().arguments())
    if (!a->type().isStatic()) {
      std::string dims;
      for (const Dim &d : a->type().shape())
        if (!d.isStatic())
          dims += (dims.empty() ? "" : ", ") + (d.symbol.empty() ? std::string("?") : "'" + d.symbol + "'");
      return invalidArgument(o.modelPath + ": input '" + a->name() + "' has dynamic dims (" + dims +
                             "): fix them with --shapes " + a->name() + ":DIMxDIMx..., or give ranges with --min-shapes, "
                             "--opt-shapes and --max-shapes");
    }
  return module;
}

/// What an INT8 build left out of INT8, so that a model whose layers all fell back is never
/// mistaken for an INT8 engine.
std::string int8Summary(const Graph &graph, bool fp8) {
  size_t convs = 0, int8 = 0, matmuls = 0, int8Matmuls = 0, attention = 0;
  for (const auto &op : graph.body().ops()) {
    if (op->is(OpKind::InfcConv)) {
      ++convs;
      int8 += op->operand(1)->type().elem() == DType::I8; // the stem form's input is float
    } else if (quantMatmulCandidate(*op)) {
      ++matmuls;
      int8Matmuls += op->operand(0)->type().elem() == DType::I8;
    } else {
      attention += op->is(OpKind::InfcAttention) || op->is(OpKind::OnnxMatMul) || op->is(OpKind::OnnxGemm);
    }
  }
  std::string s = std::to_string(int8) + " of " + std::to_string(convs) + " convolutions";
  if (matmuls && fp8)
    s += " run in INT8; matmuls: see the fp8 line";
  else if (matmuls)
    s += " and " + std::to_string(int8Matmuls) + " of " + std::to_string(matmuls) + " matmuls run in INT8";
  else
    s += " run in INT8";
  if (int8 < convs || (!fp8 && int8Matmuls < matmuls))
    s += " (the others say why in `infc inspect`)";
  if (attention && !fp8)
    s += "; " + std::to_string(attention) + " attention or activation-times-activation matmul" +
         (attention == 1 ? " stays" : "s stay") + " in 16-bit";
  return s;
}

/// What an FP8 build left out of FP8 (the matmuls that stay 16-bit say why in `infc inspect`).
std::string fp8Summary(const Graph &graph) {
  size_t matmuls = 0, fp8 = 0, attention = 0;
  for (const auto &op : graph.body().ops()) {
    // The matmuls quantize-fp8 considers; the other matmuls multiply activations.
    if (quantMatmulCandidate(*op)) {
      ++matmuls;
      fp8 += op->operand(0)->type().elem() == DType::F8E4M3;
    } else {
      attention += op->is(OpKind::InfcAttention) || op->is(OpKind::OnnxMatMul) || op->is(OpKind::OnnxGemm);
    }
  }
  std::string s = std::to_string(fp8) + " of " + std::to_string(matmuls) + " matmuls run in FP8 (E4M3)";
  if (fp8 < matmuls)
    s += " (the others say why in `infc inspect`)";
  if (attention)
    s += "; " + std::to_string(attention) + " attention or activation-times-activation matmul" +
         (attention == 1 ? " stays" : "s stay") + " in 16-bit";
  return s;
}

/// --int8: calibrates (or reads the calibration cache) and writes the cache; returns each
/// calibrated tensor's amax by ONNX name (and its largest |x| and rms in `spread`).
Expected<std::map<std::string, double>> calibrationRanges(const CompileOptions &o, const Module &module,
                                                          std::string &summary, std::map<std::string, TensorSpread> &spread) {
  // Calibration runs on the imported FP32 graph: its value names are the ONNX tensor names the
  // cache is keyed by.
  INFC_ASSIGN_OR_RETURN(std::string modelBytes, readFile(o.modelPath));
  std::string sha = support::sha256Hex(modelBytes);
  CalibrationTable table;
  if (!o.calib.dir.empty()) {
    INFC_ASSIGN_OR_RETURN(table, calibrate(*module.mainGraph(), o.calib));
    if (!o.calibCache.empty())
      INFC_RETURN_IF_ERROR(writeFileAtomically(o.calibCache, calibrationCacheJson(table, sha)));
  } else {
    INFC_ASSIGN_OR_RETURN(table, readCalibrationCache(o.calibCache, sha, o.modelPath));
  }
  std::map<std::string, double> ranges;
  for (const auto &[name, r] : table.tensors) {
    ranges[name] = r.amax;
    spread[name] = TensorSpread{r.max, r.rms, r.clipRms};
  }
  if (ranges.empty())
    return invalidArgument(o.modelPath + ": calibration found no float activations to quantize");
  summary = std::to_string(table.tensors.size()) + " tensors calibrated (" + calibMethodName(table.method) + ")" +
            (o.calib.dir.empty() ? ", from " + o.calibCache : o.calibCache.empty() ? "" : ", ranges written to " + o.calibCache) +
            "; ";
  return ranges;
}

/// Times the build's stages into the report and tells the observer when each starts.
class StageClock {
public:
  StageClock(const BuildObserver &observer, CompileReport &report) : observer_(observer), report_(report) {}
  ~StageClock() { end(); }
  void begin(const std::string &name) {
    end();
    current_ = name;
    start_ = std::chrono::steady_clock::now();
    if (observer_.stage)
      observer_.stage(name);
  }
  void end() {
    if (current_.empty())
      return;
    report_.stageSeconds.emplace_back(current_,
                                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    current_.clear();
  }
  const std::string &current() const { return current_; }

private:
  const BuildObserver &observer_;
  CompileReport &report_;
  std::string current_;
  std::chrono::steady_clock::time_point start_;
};

/// The optimizer (the onnx.* passes, precision, the infc.* level) over `module` as the build asks;
/// `opt` may carry INT8 ranges and timing.
Status optimize(const CompileOptions &o, Module &module, const PrecisionFlags &precision, OptimizeOptions opt,
                StageClock &stages) {
  opt.onnxPasses = o.passes;
  opt.fp16 = o.fp16;
  opt.bf16 = o.bf16;
  opt.optLevel = o.optLevel;
  opt.layerPrecision = precision.layers;
  opt.strictPrecision = precision.strict;
  stages.begin("optimize");
  PipelineOptions passOptions;
  passOptions.remarks = o.observer.verbose;
  return optimizeModule(module, opt, passOptions).withPrefix(o.modelPath);
}

/// The build options every engine records (BuildInfo.options; the JSON's keys are sorted, so the
/// order they are set in does not change the bytes).
nlohmann::json recordedOptions(const CompileOptions &o, const CompileReport &report) {
  nlohmann::json opts;
  opts["fp16"] = o.fp16;
  if (o.bf16)
    opts["bf16"] = true;
  if (!o.layerPrecision.empty())
    opts["layer_precision"] = o.layerPrecision;
  if (o.strictPrecision)
    opts["strict_precision"] = true;
  opts["passes"] = o.passes.empty() ? kDefaultOnnxPipeline : o.passes;
  opts["opt_level"] = o.optLevel;
  opts["target"] = report.target;
  return opts;
}

/// The engine builder's progress as `infc build`'s stages and steps.
std::function<void(const std::string &, size_t, size_t)> buildProgress(const CompileOptions &o, StageClock &stages) {
  return [&o, &stages](const std::string &stage, size_t done, size_t total) {
    if (stage != stages.current())
      stages.begin(stage);
    if (total && o.observer.step)
      o.observer.step(done, total);
  };
}

/// The batch of a batch-loop engine (codegen/BatchLoop.h): which inputs carry it (dim 0 dynamic in
/// the model) and each profile's range of it.
struct BatchPlan {
  std::vector<bool> batched;                 ///< per input
  std::vector<std::array<int64_t, 3>> range; ///< per profile: min, opt, max ({1, 1, 1} without batched inputs)
  int64_t maxBatch() const {
    int64_t m = 1;
    for (const auto &r : range)
      m = std::max(m, r[2]);
    return m;
  }
  /// "8, 32": each profile's opt batch.
  std::string optText() const {
    std::string t;
    for (const auto &r : range)
      t += (t.empty() ? "" : ", ") + std::to_string(r[1]);
    return t;
  }
};

/// The batch plan of `ranges` over the inputs `args`, or why they cannot have a batch-loop engine:
/// only dim 0 of the inputs that carry the batch may vary, with the same range within a profile
/// for all of them.
BatchPlan batchPlan(const std::vector<std::unique_ptr<Value>> &args, const std::vector<codegen::ProfileRanges> &ranges,
                    std::string &why) {
  BatchPlan plan;
  for (const auto &a : args)
    plan.batched.push_back(a->type().rank() > 0 && !a->type().dim(0).isStatic());
  for (size_t k = 0; k < ranges.size(); ++k) {
    const codegen::ProfileRange *first = nullptr;
    for (size_t i = 0; i < ranges[k].size(); ++i) {
      const codegen::ProfileRange &r = ranges[k][i];
      for (size_t d = 1; d < r.min.size(); ++d)
        if (r.min[d] != r.max[d] || r.opt[d] != ranges[0][i].opt[d]) {
          why = "input '" + r.name + "' varies in dim " + std::to_string(d) + ", not only in the batch";
          return plan;
        }
      if (!plan.batched[i])
        continue;
      if (first && (first->min[0] != r.min[0] || first->opt[0] != r.opt[0] || first->max[0] != r.max[0])) {
        why = "inputs '" + first->name + "' and '" + r.name + "' have different ranges for dim 0 in profile " + std::to_string(k);
        return plan;
      }
      first = &r;
    }
    plan.range.push_back(first ? std::array<int64_t, 3>{first->min[0], first->opt[0], first->max[0]}
                               : std::array<int64_t, 3>{1, 1, 1});
  }
  return plan;
}

/// Where a reference constant's bytes are also a weight of another graph: the weights' names by
/// dtype, shape and a hash of their bytes, each candidate compared byte for byte.
class SameWeights {
public:
  void add(const Tensor &t, const std::string &name) { byKey_.emplace(key(t), std::make_pair(&t, name)); }
  /// The name of a weight with `t`'s bytes, or nullptr.
  const std::string *find(const Tensor &t) const {
    auto [lo, hi] = byKey_.equal_range(key(t));
    for (auto it = lo; it != hi; ++it)
      if (it->second.first->byteSize() == t.byteSize() && std::memcmp(it->second.first->bytes(), t.bytes(), t.byteSize()) == 0)
        return &it->second.second;
    return nullptr;
  }
  void erase(const std::string &name) {
    for (auto it = byKey_.begin(); it != byKey_.end(); ++it)
      if (it->second.second == name) {
        byKey_.erase(it);
        return;
      }
  }

private:
  static std::string key(const Tensor &t) {
    std::string k = std::to_string(static_cast<int>(t.dtype())) + ":";
    for (int64_t d : t.shape())
      k.append(std::to_string(d)).append("x");
    std::string_view bytes(reinterpret_cast<const char *>(t.bytes()), t.byteSize());
    return k.append(":").append(std::to_string(std::hash<std::string_view>{}(bytes)));
  }
  std::unordered_multimap<std::string, std::pair<const Tensor *, std::string>> byKey_;
};

/// The reference IR of an engine with profiles and the builder's options: the reference IR's
/// constants that `gpu` (the model the GPU layers come from) holds too, byte for byte, share its
/// weights (they take its names), the others are weights of their own ("ref." names); tactics
/// timed by an autotuner when `timed`.
Expected<std::unique_ptr<codegen::Autotuner>> prepareDynamicBuild(const CompileOptions &o, Module &symbolic, const Module &gpu,
                                                                 bool timed, codegen::EngineBuildOptions &eb,
                                                                 StageClock &stages) {
  SameWeights gpuWeights;
  for (const auto &op : gpu.mainGraph()->body().ops())
    if (const Tensor *c = getConstantValue(op->result(0)); op->numResults() == 1 && c && c->numElements() > eb.inlineConstantElements)
      gpuWeights.add(*c, op->result(0)->name());
  Graph &g = *symbolic.mainGraph();
  for (const auto &op : g.body().ops())
    for (Value *v : op->results())
      if (const Tensor *c = getConstantValue(v); c && c->numElements() > eb.inlineConstantElements) {
        const std::string *same = gpuWeights.find(*c);
        if (same && (*same == v->name() || !g.nameInUse(*same))) {
          std::string name = *same;
          gpuWeights.erase(name); // one reference constant per weight (names are unique)
          if (name != v->name())
            g.renameValue(v, name);
          continue;
        }
        std::string name = "ref." + v->name();
        for (int n = 2; g.nameInUse(name); ++n)
          name = "ref" + std::to_string(n) + "." + v->name();
        g.renameValue(v, name);
      }
  eb.referenceIr = referenceIrText(symbolic);
  eb.lowering.fp16 = o.fp16;
  eb.workspaceBytes = o.workspaceBytes;
  eb.progress = buildProgress(o, stages);
  std::unique_ptr<codegen::Autotuner> tuner;
  if (timed) {
    INFC_ASSIGN_OR_RETURN(tuner, codegen::Autotuner::create(o.workspaceBytes));
    tuner->setLog(o.observer.verbose);
    codegen::useAutotuner(eb, tuner.get(), o.observer.verbose);
  }
  return tuner;
}

/// A batch-loop engine: the model optimized at batches 1, 2 and each profile's opt (inputs that
/// carry the batch take it; every other dim is its one value in the profiles), each batch once,
/// tactics timed at each profile's opt on the GPU present, and `symbolic` (already optimized) as
/// the reference IR.
Expected<codegen::EngineBuildResult> buildBatchLoop(const CompileOptions &o, Module &symbolic,
                                                    const std::vector<codegen::ProfileRanges> &ranges, const BatchPlan &plan,
                                                    bool timed, codegen::EngineBuildOptions &eb, StageClock &stages,
                                                    CompileReport &report) {
  std::map<int64_t, std::unique_ptr<Module>> atBatches;
  auto atBatch = [&](int64_t b) -> Expected<const Module *> {
    if (auto it = atBatches.find(b); it != atBatches.end())
      return it->second.get();
    INFC_ASSIGN_OR_RETURN(std::unique_ptr<Module> m, loadModel(o.modelPath));
    std::vector<InputShape> shapes;
    for (size_t i = 0; i < ranges[0].size(); ++i) {
      std::vector<int64_t> dims = ranges[0][i].opt;
      if (plan.batched[i])
        dims[0] = b;
      shapes.push_back({ranges[0][i].name, dims});
    }
    INFC_RETURN_IF_ERROR(applyInputShapes(*m, shapes, o.modelPath));
    INFC_ASSIGN_OR_RETURN(PrecisionFlags precision,
                          precisionFlags(o.layerPrecision, o.strictPrecision, *m, o.fp16 || o.bf16, false, o.modelPath));
    INFC_RETURN_IF_ERROR(optimize(o, *m, precision, OptimizeOptions{}, stages));
    return (atBatches[b] = std::move(m)).get();
  };
  codegen::BatchLoopModules modules;
  modules.optBatch = plan.range[0][1];
  modules.maxBatch = plan.maxBatch();
  modules.reference = &symbolic;
  INFC_ASSIGN_OR_RETURN(modules.opt, atBatch(modules.optBatch));
  INFC_ASSIGN_OR_RETURN(modules.one, atBatch(1));
  INFC_ASSIGN_OR_RETURN(modules.two, atBatch(2));
  // Tactics of every profile at its own opt batch (timed builds only: untimed ones pick by
  // heuristics per batch at load time anyway).
  for (size_t k = 1; timed && k < plan.range.size(); ++k) {
    INFC_ASSIGN_OR_RETURN(const Module *mk, atBatch(plan.range[k][1]));
    modules.profileOpts.push_back(mk);
    modules.profileOptBatches.push_back(plan.range[k][1]);
  }
  INFC_ASSIGN_OR_RETURN(std::unique_ptr<codegen::Autotuner> tuner,
                        prepareDynamicBuild(o, symbolic, *modules.one, timed, eb, stages));
  Expected<codegen::EngineBuildResult> built = codegen::buildBatchLoopEngine(modules, ranges, eb, o.modelPath);
  eb.progress = nullptr;
  eb.lowering.acceptConvFusion = nullptr;
  eb.autotuner = nullptr;
  if (built.isOk())
    report.tactics = tuner ? "timed at each profile's opt batch (" + plan.optText() + "): " +
                                 std::to_string(tuner->candidatesTried()) + " cuDNN candidates for " +
                                 std::to_string(tuner->convsTimed()) + " convolutions, " +
                                 std::to_string(tuner->matmulCandidatesTried()) + " cuBLASLt candidates for " +
                                 std::to_string(tuner->matmulsTimed()) + " matmuls"
                           : "cuDNN/cuBLASLt heuristics at load time, per batch";
  return built;
}

/// The name of dim d of graph input i for a dim-fit engine: the model's symbol, or "NAME:d" when
/// the dim has none.
std::string dimSymbol(const Graph &g, const codegen::ProfileRanges &r, size_t i, size_t d) {
  const Dim &dim = g.body().argument(i)->type().dim(static_cast<int64_t>(d));
  return dim.symbol.empty() ? r[i].name + ":" + std::to_string(d) : dim.symbol;
}

/// The dims a dim-fit engine follows: every input dim that varies between or within profiles,
/// one per symbol of the model (inputs that share a symbol share the dim, and must have the same
/// range for it in every profile). Errors (Unsupported) say why the profiles cannot have one.
Expected<std::vector<codegen::DimAtom>> dynamicDims(const Graph &g, const std::vector<codegen::ProfileRanges> &ranges) {
  std::vector<codegen::DimAtom> atoms;
  std::vector<std::string> symbols;
  for (size_t i = 0; i < ranges[0].size(); ++i)
    for (size_t d = 0; d < ranges[0][i].min.size(); ++d) {
      bool varies = false;
      for (const codegen::ProfileRanges &r : ranges)
        varies = varies || r[i].min[d] != r[i].max[d] || r[i].min[d] != ranges[0][i].min[d];
      if (!varies)
        continue;
      std::string symbol = dimSymbol(g, ranges[0], i, d);
      auto same = std::find(symbols.begin(), symbols.end(), symbol);
      if (same != symbols.end()) {
        const codegen::DimAtom &a = atoms[static_cast<size_t>(same - symbols.begin())];
        for (const codegen::ProfileRanges &r : ranges)
          if (r[i].min[d] != r[static_cast<size_t>(a.input)].min[static_cast<size_t>(a.axis)] ||
              r[i].max[d] != r[static_cast<size_t>(a.input)].max[static_cast<size_t>(a.axis)] ||
              r[i].opt[d] != r[static_cast<size_t>(a.input)].opt[static_cast<size_t>(a.axis)])
            return unsupported("inputs '" + ranges[0][static_cast<size_t>(a.input)].name + "' and '" + ranges[0][i].name +
                               "' share the dim '" + symbol + "' and have different ranges for it");
        continue;
      }
      symbols.push_back(symbol);
      atoms.push_back({static_cast<int>(i), static_cast<int>(d), 0, 1, symbol});
    }
  if (atoms.empty() || atoms.size() > 8)
    return unsupported(std::to_string(atoms.size()) + " dynamic dims (GPU layers follow 1 to 8)");
  return atoms;
}

/// A dim-fit engine (codegen/DimFit.h): the model optimized as a static model at probe shapes
/// (the largest shape of every profile, each profile's opt and min, and shapes drawn inside the
/// profiles by a fixed generator), one set of layers fitted to them, tactics timed at each
/// profile's opt on the GPU present, `symbolic` as the reference IR.
Expected<codegen::EngineBuildResult> buildDimFit(const CompileOptions &o, Module &symbolic,
                                                 const std::vector<codegen::ProfileRanges> &ranges, bool timed,
                                                 codegen::EngineBuildOptions &eb, StageClock &stages, CompileReport &report,
                                                 std::string &dimsText) {
  INFC_ASSIGN_OR_RETURN(std::vector<codegen::DimAtom> dims, dynamicDims(*symbolic.mainGraph(), ranges));
  const size_t A = dims.size();
  // Probes take no dim at 1 where the range allows 2: generators specialize size-1 dims (a
  // broadcast becomes a plain index), and the general kernels they write at 2 and more are also
  // right at 1 (the GPU sweeps check it).
  auto valueIn = [&](const codegen::ProfileRanges &r, size_t a, int which) {
    const codegen::ProfileRange &x = r[static_cast<size_t>(dims[a].input)];
    size_t d = static_cast<size_t>(dims[a].axis);
    int64_t v = which == 0 ? x.min[d] : which == 1 ? x.opt[d] : x.max[d];
    return v == 1 && x.max[d] >= 2 ? int64_t(2) : v;
  };
  std::vector<std::vector<int64_t>> probes;
  auto add = [&](const std::vector<int64_t> &p) {
    if (std::find(probes.begin(), probes.end(), p) == probes.end())
      probes.push_back(p);
    return std::find(probes.begin(), probes.end(), p) - probes.begin();
  };
  std::vector<int64_t> largest(A, 0);
  for (size_t a = 0; a < A; ++a)
    for (const codegen::ProfileRanges &r : ranges)
      largest[a] = std::max(largest[a], valueIn(r, a, 2));
  codegen::DimFitModules modules;
  modules.maxProbe = static_cast<size_t>(add(largest));
  for (size_t k = 0; k < ranges.size(); ++k) {
    std::vector<int64_t> opt(A), lo(A);
    for (size_t a = 0; a < A; ++a) {
      opt[a] = valueIn(ranges[k], a, 1);
      lo[a] = valueIn(ranges[k], a, 0);
    }
    size_t at = static_cast<size_t>(add(opt));
    if (k == 0)
      modules.optProbe = at;
    else if (timed)
      modules.profileOptProbes.push_back(at);
    add(lo);
  }
  // Shapes drawn inside the profiles (a fixed generator: the same engine every build), until
  // there are enough to tell expressions apart.
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (size_t tries = 0; probes.size() < 7 + 2 * A && tries < 64; ++tries) {
    const codegen::ProfileRanges &r = ranges[tries % ranges.size()];
    std::vector<int64_t> p(A);
    for (size_t a = 0; a < A; ++a) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      int64_t lo = valueIn(r, a, 0), hi = valueIn(r, a, 2);
      p[a] = lo + static_cast<int64_t>((seed >> 33) % static_cast<uint64_t>(hi - lo + 1));
    }
    add(p);
  }
  std::vector<std::unique_ptr<Module>> optimized;
  auto optimizeProbe = [&](const std::vector<int64_t> &p) -> Status {
    INFC_ASSIGN_OR_RETURN(std::unique_ptr<Module> m, loadModel(o.modelPath));
    std::vector<InputShape> shapes;
    for (size_t i = 0; i < ranges[0].size(); ++i)
      shapes.push_back({ranges[0][i].name, ranges[0][i].opt});
    for (size_t i = 0; i < ranges[0].size(); ++i)
      for (size_t d = 0; d < shapes[i].dims.size(); ++d) {
        std::string symbol = dimSymbol(*symbolic.mainGraph(), ranges[0], i, d);
        for (size_t a = 0; a < A; ++a)
          if (symbol == dims[a].name)
            shapes[i].dims[d] = p[a];
      }
    INFC_RETURN_IF_ERROR(applyInputShapes(*m, shapes, o.modelPath));
    INFC_ASSIGN_OR_RETURN(PrecisionFlags precision,
                          precisionFlags(o.layerPrecision, o.strictPrecision, *m, o.fp16 || o.bf16, false, o.modelPath));
    INFC_RETURN_IF_ERROR(optimize(o, *m, precision, OptimizeOptions{}, stages));
    optimized.push_back(std::move(m));
    modules.probes.push_back(optimized.back().get());
    return Status::ok();
  };
  for (const std::vector<int64_t> &p : probes)
    INFC_RETURN_IF_ERROR(optimizeProbe(p));
  modules.probeDims = probes;
  modules.dims = dims;
  modules.reference = &symbolic;
  for (size_t a = 0; a < A; ++a) {
    modules.dimRanges.push_back({INT64_MAX, INT64_MIN});
    for (const codegen::ProfileRanges &r : ranges)
      modules.dimRanges[a] = {std::min(modules.dimRanges[a].first, valueIn(r, a, 0)),
                              std::max(modules.dimRanges[a].second, valueIn(r, a, 2))};
  }
  INFC_ASSIGN_OR_RETURN(std::unique_ptr<codegen::Autotuner> tuner,
                        prepareDynamicBuild(o, symbolic, *modules.probes[modules.maxProbe], timed, eb, stages));
  // Where the probes leave a size open (a strided layer's rounding: DimFitter::questions), probe
  // there and fit again; each answer rules out at least one candidate expression.
  std::vector<std::vector<int64_t>> more;
  modules.moreProbes = &more;
  Expected<codegen::EngineBuildResult> built = codegen::buildDimFitEngine(modules, ranges, eb, o.modelPath);
  for (int round = 0; !built.isOk() && !more.empty() && round < 16; ++round) {
    for (const std::vector<int64_t> &p : more)
      if (std::find(probes.begin(), probes.end(), p) == probes.end()) {
        probes.push_back(p);
        INFC_RETURN_IF_ERROR(optimizeProbe(p));
      }
    modules.probeDims = probes;
    more.clear();
    built = codegen::buildDimFitEngine(modules, ranges, eb, o.modelPath);
  }
  eb.progress = nullptr;
  eb.lowering.acceptConvFusion = nullptr;
  eb.autotuner = nullptr;
  for (const codegen::DimAtom &a : dims)
    dimsText += (dimsText.empty() ? "" : ", ") + a.name;
  dimsText += " (fitted at " + std::to_string(probes.size()) + " probe shapes)";
  if (built.isOk())
    report.tactics = tuner ? "timed at each profile's opt shape: " + std::to_string(tuner->candidatesTried()) +
                                 " cuDNN candidates for " + std::to_string(tuner->convsTimed()) + " convolutions, " +
                                 std::to_string(tuner->matmulCandidatesTried()) + " cuBLASLt candidates for " +
                                 std::to_string(tuner->matmulsTimed()) + " matmuls"
                           : "cuDNN/cuBLASLt heuristics at load time, per shape";
  return built;
}

/// An engine with optimization profiles: a batch-loop engine (GPU layers at every batch of the
/// profiles) when the batch is the one dynamic dim and every op keeps batch items apart, else the
/// model optimized with its dynamic dims and the profiles, without GPU layers
/// (codegen::buildProfileEngine), with a warning that says why. What such a build cannot do yet
/// is refused, never ignored.
Expected<CompileReport> compileWithProfiles(const CompileOptions &o, std::unique_ptr<Module> module,
                                            const std::vector<OptimizationProfile> &profiles, bool timed,
                                            codegen::EngineBuildOptions &eb, StageClock &stages, CompileReport &report,
                                            std::chrono::steady_clock::time_point start) {
  auto refuse = [&](const std::string &what) {
    return unsupported(o.modelPath + ": " + what + " with optimization profiles is not implemented yet; no engine written");
  };
  if (o.int8 || hasActivationQdq(*module->mainGraph()))
    return refuse("INT8 or FP8 quantization (--int8, or a model with QuantizeLinear/DequantizeLinear pairs)");
  if (o.fp8)
    return refuse("FP8 (--fp8)");
  if (!o.timingCachePath.empty() || o.requireCompleteCache)
    return refuse("a timing cache (--timing-cache, --require-complete-cache)");
  if (o.builderOptLevel != 3 || o.tuningBudget > 0)
    return refuse("tactic timing (--builder-opt-level, --tuning-budget)");
  // Every input gets a range in every profile; a static input's is its one shape.
  std::vector<codegen::ProfileRanges> ranges;
  for (const OptimizationProfile &p : profiles) {
    codegen::ProfileRanges r;
    for (const auto &a : module->mainGraph()->body().arguments()) {
      auto it = std::find_if(p.inputs.begin(), p.inputs.end(), [&](const ProfileInputRange &x) { return x.name == a->name(); });
      if (it != p.inputs.end()) {
        r.push_back(*it);
      } else {
        std::vector<int64_t> fixed = a->type().staticShape();
        r.push_back({a->name(), fixed, fixed, fixed});
      }
    }
    ranges.push_back(std::move(r));
  }
  std::string why;
  BatchPlan plan = batchPlan(module->mainGraph()->body().arguments(), ranges, why);
  if (why.empty()) // dims fixed in every profile are fixed in the model too: only the batch stays dynamic
    for (size_t i = 0; i < ranges[0].size(); ++i) {
      Value *a = module->mainGraph()->body().argument(i);
      std::vector<Dim> dims = a->type().shape();
      for (size_t d = 1; d < dims.size(); ++d)
        dims[d] = Dim(ranges[0][i].opt[d]);
      a->setType(TensorType(a->type().elem(), dims));
    }
  INFC_ASSIGN_OR_RETURN(PrecisionFlags precision,
                        precisionFlags(o.layerPrecision, o.strictPrecision, *module, o.fp16 || o.bf16, false, o.modelPath));
  INFC_RETURN_IF_ERROR(optimize(o, *module, precision, OptimizeOptions{}, stages));
  nlohmann::json opts = recordedOptions(o, report);
  opts["profiles"] = profilesJson(ranges);
  eb.optionsJson = opts.dump();
  report.profiles = profiles.size();
  std::string profilesText = std::to_string(profiles.size()) + (profiles.size() == 1 ? " optimization profile" : " optimization profiles");
  Expected<codegen::EngineBuildResult> built = internalError("no engine");
  if (why.empty()) {
    built = buildBatchLoop(o, *module, ranges, plan, timed, eb, stages, report);
    if (!built.isOk() && built.status().code() == StatusCode::Unsupported)
      why = built.status().message();
    else if (!built.isOk())
      return built.status();
  }
  // Other dims than the batch (or a batch that ops mix): layers whose sizes follow the dims.
  std::string dimFitWhy, dimsText;
  if (!why.empty()) {
    built = buildDimFit(o, *module, ranges, timed, eb, stages, report, dimsText);
    if (built.isOk()) {
      if (o.observer.verbose)
        o.observer.verbose("no batch-loop engine (" + why + "): a dim-fit engine instead");
      why.clear();
      report.warnings.push_back(profilesText + ": GPU layers for every shape of the profiles, their sizes following " +
                                "the dims " + dimsText + "; tactics timed at each profile's opt; set the shapes with " +
                                "infc run --shapes (or infc_context_set_input_shape)");
    } else if (built.status().code() == StatusCode::Unsupported) {
      dimFitWhy = built.status().message();
    } else {
      return built.status();
    }
  }
  if (!why.empty()) {
    eb.referenceIr = referenceIrText(*module);
    stages.begin("serialize");
    built = codegen::buildProfileEngine(*module, ranges, eb, o.modelPath);
    INFC_RETURN_IF_ERROR(built.status());
    report.tactics = "none: the engine has no GPU layers";
    report.warnings.push_back(profilesText + ": the engine runs on the reference executor only (infc run --reference --shapes "
                              "...), and the runtime refuses it: no GPU layers serve every batch (" + why +
                              "), nor every shape (" + dimFitWhy + ")");
  } else if (dimsText.empty()) {
    report.warnings.push_back(profilesText + ": GPU layers for batch 1 to " + std::to_string(plan.maxBatch()) +
                              ", tactics for each profile at its opt batch (" + plan.optText() +
                              "); set the shapes with infc run --shapes (or infc_context_set_input_shape)");
  }
  report.layers = built->numLayers;
  report.weightBytes = built->weightBytes;
  report.arenaBytes = built->arenaBytes;
  stages.begin("write");
  INFC_RETURN_IF_ERROR(writeFileAtomically(o.outputPath, built->bytes));
  report.sha256 = support::sha256Hex(built->bytes);
  stages.end();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

} // namespace

Expected<CompileReport> compileToEngine(const CompileOptions &given) {
  auto start = std::chrono::steady_clock::now();
  CompileOptions o = given;
  CompileReport report;
  StageClock stages(o.observer, report);
  codegen::EngineBuildOptions eb;
  rt::DeviceInfo dev;
  std::string noGpu = rt::queryDevice(dev);
  INFC_RETURN_IF_ERROR(resolveTarget(o, dev, noGpu, eb));
  // --best with calibration data: FP8 matmuls as well where the target has E4M3 tensor cores.
  if (o.best && o.int8 && eb.lowering.hasE4m3())
    o.fp8 = true;
  report.target = "sm_" + std::to_string(eb.lowering.smMajor) + std::to_string(eb.lowering.smMinor) +
                  (eb.gpuName.empty() ? "" : " (" + eb.gpuName + ")");

  // Checked before the work, so a refused -o costs nothing.
  INFC_RETURN_IF_ERROR(checkOutputPath(o.outputPath, o.modelPath));
  if ((o.int8 || o.fp8) && !o.calib.dir.empty() && !o.calibCache.empty())
    INFC_RETURN_IF_ERROR(checkOutputPath(o.calibCache, o.modelPath));
  if (o.fp8 && !eb.lowering.hasE4m3())
    return invalidArgument(o.modelPath + ": --fp8 needs sm_89 or later (E4M3 tensor cores); the target is sm_" +
                           std::to_string(eb.lowering.smMajor) + std::to_string(eb.lowering.smMinor));
  if (o.requireCompleteCache && o.timingCachePath.empty())
    return invalidArgument("--require-complete-cache needs --timing-cache FILE");
  TacticSetup tactics;
  INFC_RETURN_IF_ERROR(setUpTimingCache(o, dev, eb, report, tactics));
  bool timed = tactics.timed;
  std::optional<codegen::TimingCache> &cache = tactics.cache;
  std::unique_ptr<codegen::CachedTactics> &cached = tactics.cached;
  stages.begin("import");
  std::vector<OptimizationProfile> profiles;
  INFC_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, loadForBuild(o, profiles));
  if (!profiles.empty())
    return compileWithProfiles(o, std::move(module), profiles, tactics.timed, eb, stages, report, start);
  // Explicitly quantized models (QuantizeLinear -> DequantizeLinear pairs on activations) build
  // to INT8 (int8 pairs) or FP8 (float8e4m3fn pairs) with their own scales, as a calibration
  // would give them (compiler/ExplicitQuant.h).
  INFC_ASSIGN_OR_RETURN(DType explicitType, activationQdqType(*module->mainGraph(), o.modelPath));
  bool explicitInt8 = explicitType == DType::I8, explicitFp8 = explicitType == DType::F8E4M3;
  if ((explicitInt8 || explicitFp8) && (!o.calib.dir.empty() || !o.calibCache.empty()))
    return invalidArgument(o.modelPath + ": the model is explicitly quantized (QuantizeLinear -> DequantizeLinear pairs): "
                           "their scales are its calibration; build it without --calib and --calib-cache");
  if (explicitInt8 && o.fp8)
    return invalidArgument(o.modelPath + ": --fp8 on an explicitly quantized (INT8 Q/DQ) model is not implemented: build it "
                           "without --fp8");
  bool int8 = o.int8 || explicitInt8, fp8 = o.fp8 || explicitFp8;
  if (explicitFp8 && !eb.lowering.hasE4m3())
    return invalidArgument(o.modelPath + ": the model is explicitly quantized to FP8 (float8e4m3fn pairs), which needs "
                           "sm_89 or later; the target is sm_" + std::to_string(eb.lowering.smMajor) +
                           std::to_string(eb.lowering.smMinor));
  eb.lowering.fp16 = o.fp16 || int8 || fp8;
  if (eb.gpuName.empty())
    report.warnings.push_back("no sm_" + std::to_string(eb.lowering.smMajor) + std::to_string(eb.lowering.smMinor) +
                              " GPU here: tactics are chosen by heuristics when the engine is loaded, not by timing");
  INFC_ASSIGN_OR_RETURN(PrecisionFlags precision,
                        precisionFlags(o.layerPrecision, o.strictPrecision, *module, o.fp16 || o.bf16, int8, o.modelPath, fp8));
  std::unique_ptr<codegen::Autotuner> tuner;
  if ((o.builderOptLevel != 3 || o.tuningBudget > 0) && !(timed && !cached))
    return invalidArgument(o.modelPath + ": --builder-opt-level and --tuning-budget shape the timing of tactics, and this build "
                           "times none (" + std::string(eb.gpuName.empty() ? "no target GPU here" :
                                                        cached ? "tactics come from the timing cache" : "--no-timing") + ")");
  if (timed && !cached) {
    INFC_ASSIGN_OR_RETURN(tuner, codegen::Autotuner::create(o.workspaceBytes));
    tuner->setOptLevel(o.builderOptLevel);
    if (o.tuningBudget > 0)
      tuner->setBudget(o.tuningBudget);
    if (cache)
      tuner->useTimingCache(&*cache, codegen::GpuSku{dev.name, dev.smMajor, dev.smMinor, dev.multiprocessors,
                                                      static_cast<int>((dev.memoryBytes + (uint64_t(1) << 29)) >> 30)});
    tuner->setLog(o.observer.verbose);
    codegen::useAutotuner(eb, tuner.get(), o.observer.verbose);
  }
  OptimizeOptions opt;
  // INT8 convolutions only where the timed INT8 form beats f16 (timed here, or as the timing
  // cache recorded it for this GPU, so that both builds decide alike).
  codegen::TacticSource *timing = tuner ? static_cast<codegen::TacticSource *>(tuner.get()) : cached.get();
  if (timing && int8)
    opt.int8Timing = [timing](const Operation &op, const Int8ConvForm &form) {
      return codegen::timeInt8Conv(*timing, op, form);
    };
  if (timing && (int8 || fp8))
    opt.matmulTiming = [timing](const Operation &op, DType abType, double extraBytes) {
      return codegen::timeQuantMatmul(*timing, op, abType, extraBytes);
    };
  if (explicitInt8 || explicitFp8) {
    INFC_ASSIGN_OR_RETURN(opt.int8Ranges, takeActivationQdq(*module->mainGraph(), o.modelPath));
    size_t n = opt.int8Ranges.size();
    (explicitInt8 ? report.int8Summary : report.fp8Summary) =
        "explicitly quantized: the scales of " + std::to_string(n) + (n == 1 ? " tensor" : " tensors") +
        " from their QuantizeLinear/DequantizeLinear pairs; ";
  } else if (o.int8 || o.fp8) {
    stages.begin("calibrate");
    INFC_ASSIGN_OR_RETURN(opt.int8Ranges, calibrationRanges(o, *module, o.int8 ? report.int8Summary : report.fp8Summary,
                                                            opt.int8Spread));
  }
  opt.int8 = int8;
  opt.fp8 = fp8;
  opt.int8MatmulInputsAtMax = !o.calib.methodGiven && !explicitInt8;
  INFC_RETURN_IF_ERROR(optimize(o, *module, precision, std::move(opt), stages));
  if (int8)
    report.int8Summary += int8Summary(*module->mainGraph(), fp8);
  if (fp8)
    report.fp8Summary += fp8Summary(*module->mainGraph());

  if (o.requireCompleteCache && !cached)
    return invalidArgument("--require-complete-cache applies to builds from the timing cache (without the target GPU, or "
                           "with --no-timing); on the target GPU, missing entries are timed");
  nlohmann::json opts = recordedOptions(o, report);
  if (int8) // the ranges are in the reference IR's scales; not the folder or cache they came from
    opts["int8"] = explicitInt8 ? "explicit" : "calibrated";
  if (fp8)
    opts["fp8"] = explicitFp8 ? "explicit" : "calibrated";
  opts["shapes"] = o.shapes;
  opts["timing"] = timed;
  opts["workspace_mib"] = o.workspaceBytes >> 20;
  eb.optionsJson = opts.dump();
  eb.referenceIr = referenceIrText(*module);
  eb.workspaceBytes = o.workspaceBytes;
  eb.progress = buildProgress(o, stages);
  INFC_ASSIGN_OR_RETURN(codegen::EngineBuildResult built, codegen::buildEngine(*module, eb, o.modelPath));
  if (!built.untuned.empty()) {
    if (o.requireCompleteCache) {
      std::string list;
      for (const std::string &l : built.untuned)
        list += "\n  " + l;
      return invalidArgument(o.modelPath + ": the timing cache " + o.timingCachePath + " has no entries for " +
                             std::to_string(built.untuned.size()) + " layers (--require-complete-cache; nothing written):" + list);
    }
    for (const std::string &l : built.untuned)
      report.warnings.push_back(l + ": not in the timing cache; chosen by heuristics when the engine is loaded");
  }
  if (tuner) {
    report.candidatesTried = tuner->candidatesTried() + tuner->matmulCandidatesTried();
    report.layersTimed = tuner->convsTimed() + tuner->matmulsTimed();
    report.cacheHits = tuner->cacheHits();
    report.budgetCuts = tuner->budgetCuts();
    report.rejected = tuner->rejected();
    report.tactics = "tried " + std::to_string(tuner->candidatesTried()) + " cuDNN candidates for " +
                     std::to_string(tuner->convsTimed()) + " distinct convolutions and " +
                     std::to_string(tuner->matmulCandidatesTried()) + " cuBLASLt candidates for " +
                     std::to_string(tuner->matmulsTimed()) + " distinct matmuls" +
                     (cache ? ", " + std::to_string(tuner->cacheHits()) + " tactics from the timing cache" : "") +
                     (tuner->probeCuts() ? "; " + std::to_string(tuner->probeCuts()) +
                                               " configs dropped after one probe run (over 3x the best)" : "") +
                     (tuner->rejected() ? "; " + std::to_string(tuner->rejected()) +
                                              " fast candidates refused: their results differ from the host reference" : "") +
                     (tuner->budgetCuts() ? "; the tuning budget ran out: " + std::to_string(tuner->budgetCuts()) +
                                                " layers took the heuristic's first candidate" : "");
  } else if (cached) {
    report.tactics = "from the timing cache " + o.timingCachePath + " (" + eb.gpuName + ")" +
                     (built.untuned.empty() ? "" : "; " + std::to_string(built.untuned.size()) + " layers by heuristics at load time");
  } else {
    report.tactics = "cuDNN/cuBLASLt heuristics at load time";
  }
  report.untuned = built.untuned;
  stages.begin("write");
  INFC_RETURN_IF_ERROR(writeFileAtomically(o.outputPath, built.bytes));
  if (cache && tuner)
    INFC_RETURN_IF_ERROR(saveTimingCache(o.timingCachePath, *cache));
  report.sha256 = support::sha256Hex(built.bytes);
  report.layers = built.numLayers;
  report.weightBytes = built.weightBytes;
  report.arenaBytes = built.arenaBytes;
  stages.end();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

} // namespace infc
