// infc: the compiler CLI. Thin: parses arguments, calls the driver, prints one line per error.
#include "compiler/BuildDisplay.h"
#include "compiler/BuildReport.h"
#include "compiler/Compare.h"
#include "compiler/Compile.h"
#include "compiler/Driver.h"
#include "compiler/FileUtil.h"
#include "compiler/Inspect.h"
#include "compiler/LayerPrecision.h"
#include "compiler/Pipeline.h"
#include "compiler/Run.h"
#include "compiler/TimingCacheFile.h"
#include "ir/Printer.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>

#include <cstdio>

using namespace infc;

namespace {

// Exit codes (README, `infc --help`): 0 success; 1 the tool failed (bad model, engine, cache or
// data, unsupported op, failed build); 2 the command line is wrong (unknown flag, bad value,
// flags that do not go together); 3 `infc compare` ran and found outputs out of tolerance.
constexpr int kExitToolError = 1, kExitUsage = 2, kExitMismatch = 3;

int fail(const Status &s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return kExitToolError;
}

int usage(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kExitUsage;
}

struct BuildArgs {
  std::string model, output, emit, shapes, target, passes = kDefaultOnnxPipeline;
  bool stats = false, elide = false, fp16 = false, bf16 = false, best = false, noTiming = false, fp8 = false;
  uint64_t workspaceMiB = 1024;
  int optLevel = 3;
  std::vector<std::string> minShapes, optShapes, maxShapes;
  std::string timingCache;
  bool requireCompleteCache = false;
  bool int8 = false;
  std::string layerPrecision;
  bool strictPrecision = false;
  int builderOptLevel = 3;
  double tuningBudget = 0;
  std::string calibDir, calibMethod = "entropy", calibCache;
  bool calibMethodGiven = false; ///< --calib-method on the command line (FP8 alone defaults to minmax)
  double calibPercentile = 99.99;
  int64_t calibBatches = 0;
  std::string jsonReport;
  bool quiet = false, verbose = false;
};

int emitIr(const BuildArgs &a) {
  if (Status s = checkOutputPath(a.output.empty() ? "-" : a.output, a.model); !s.isOk())
    return fail(s);
  Expected<std::unique_ptr<Module>> module = loadModel(a.model);
  if (!module.isOk())
    return fail(module.status());
  if (!a.shapes.empty()) {
    Expected<std::vector<InputShape>> shapes = parseInputShapes(a.shapes);
    if (!shapes.isOk())
      return fail(shapes.status());
    if (Status s = applyInputShapes(**module, *shapes, a.model); !s.isOk())
      return fail(s);
  }
  if (a.emit == "ir-final") {
    OptimizeOptions oo;
    if (a.passes != kDefaultOnnxPipeline)
      oo.onnxPasses = a.passes;
    oo.fp16 = a.fp16;
    oo.bf16 = a.bf16;
    oo.optLevel = a.optLevel;
    Expected<PrecisionFlags> pf = precisionFlags(a.layerPrecision, a.strictPrecision, **module, a.fp16 || a.bf16, false, a.model);
    if (!pf.isOk())
      return fail(pf.status());
    oo.layerPrecision = pf->layers;
    oo.strictPrecision = pf->strict;
    PipelineOptions po;
    po.printStats = a.stats;
    if (Status s = optimizeModule(**module, oo, po); !s.isOk())
      return fail(s.withPrefix(a.model));
  } else if (a.emit == "ir-opt" || !a.shapes.empty()) {
    // With --emit=ir and --shapes, re-infer so the printed IR reflects the fixed shapes.
    PipelineOptions po;
    po.printStats = a.stats;
    if (Status s = runPassPipeline(**module, a.emit == "ir-opt" ? a.passes : "shape-infer", po); !s.isOk())
      return fail(s.withPrefix(a.model));
  }
  PrintOptions popts;
  popts.elideLargeConstants = a.elide;
  if (Status w = writeFileAtomically(a.output.empty() ? "-" : a.output, printModule(**module, popts)); !w.isOk())
    return fail(w);
  return 0;
}

int buildEngine(const BuildArgs &a) {
  CompileOptions o;
  o.modelPath = a.model;
  o.outputPath = a.output;
  if (o.outputPath.empty()) {
    std::string base = a.model;
    size_t dot = base.rfind('.');
    if (dot != std::string::npos && base.find('/', dot) == std::string::npos)
      base = base.substr(0, dot);
    o.outputPath = base + ".plan";
  }
  o.shapes = a.shapes;
  o.target = a.target;
  o.fp16 = a.fp16;
  o.bf16 = a.bf16;
  o.optLevel = a.optLevel;
  o.timing = !a.noTiming;
  o.workspaceBytes = a.workspaceMiB << 20;
  if (a.passes != kDefaultOnnxPipeline)
    o.passes = a.passes;
  o.minShapes = a.minShapes;
  o.optShapes = a.optShapes;
  o.maxShapes = a.maxShapes;
  o.timingCachePath = a.timingCache;
  o.requireCompleteCache = a.requireCompleteCache;
  o.int8 = a.int8;
  o.fp8 = a.fp8;
  o.best = a.best;
  o.builderOptLevel = a.builderOptLevel;
  o.tuningBudget = a.tuningBudget;
  o.layerPrecision = a.layerPrecision;
  o.strictPrecision = a.strictPrecision;
  o.calib.dir = a.calibDir;
  o.calib.percentile = a.calibPercentile;
  o.calib.maxBatches = a.calibBatches;
  o.calibCache = a.calibCache;
  if (a.int8 || a.fp8) {
    // FP8 alone calibrates max |x| unless told otherwise (E4M3's range is wide; what NVIDIA's
    // FP8 recipes use); with --int8, the INT8 default (entropy) serves both.
    Expected<CalibMethod> m = parseCalibMethod(a.calibMethodGiven || a.int8 ? a.calibMethod : "minmax");
    if (!m.isOk())
      return fail(m.status());
    o.calib.method = *m;
    o.calib.methodGiven = a.calibMethodGiven;
  }
  if (!a.jsonReport.empty()) {
    if (Status s = checkOutputPath(a.jsonReport, a.model); !s.isOk())
      return fail(s);
    std::error_code e1, e2;
    if (std::filesystem::weakly_canonical(a.jsonReport, e1) == std::filesystem::weakly_canonical(o.outputPath, e2))
      return usage("--json " + a.jsonReport + " is the engine's own path: give the report another name");
  }
  BuildDisplay display(BuildDisplay::stderrIsTerminal(), a.quiet, a.verbose);
  o.observer = display.observer();
  o.calib.progress = display.calibrationProgress();
  Expected<CompileReport> r = compileToEngine(o);
  display.clear();
  if (!a.jsonReport.empty())
    if (Status s = writeFileAtomically(a.jsonReport, buildReportJson(o, r)); !s.isOk()) {
      if (r.isOk())
        std::remove(o.outputPath.c_str()); // one outcome: no engine without its report
      return fail(s);
    }
  if (!r.isOk())
    return fail(r.status());
  for (const std::string &w : r->warnings)
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (a.quiet)
    return 0;
  if (r->profiles)
    std::fprintf(stderr, "built %s for %s: %zu optimization profile%s, %s, %.2f s\n", o.outputPath.c_str(),
                 r->target.c_str(), r->profiles, r->profiles == 1 ? "" : "s",
                 r->layers ? (std::to_string(r->layers) + " layers").c_str() : "for the reference executor", r->seconds);
  else
    std::fprintf(stderr, "built %s for %s: %zu layers, %llu weight bytes, %llu activation bytes, %.2f s\n",
                 o.outputPath.c_str(), r->target.c_str(), r->layers, static_cast<unsigned long long>(r->weightBytes),
                 static_cast<unsigned long long>(r->arenaBytes), r->seconds);
  if (!r->tactics.empty())
    std::fprintf(stderr, "tactics: %s\n", r->tactics.c_str());
  if (!r->int8Summary.empty())
    std::fprintf(stderr, "int8: %s\n", r->int8Summary.c_str());
  if (!r->fp8Summary.empty())
    std::fprintf(stderr, "fp8: %s\n", r->fp8Summary.c_str());
  std::fprintf(stderr, "sha256: %s\n", r->sha256.c_str());
  return 0;
}

/// NAME=FILE.npy pairs.
Expected<std::map<std::string, std::string>> parseInputs(const std::vector<std::string> &items) {
  std::map<std::string, std::string> m;
  for (const std::string &s : items) {
    size_t eq = s.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      return invalidArgument("--input '" + s + "' is not NAME=FILE.npy");
    if (!m.emplace(s.substr(0, eq), s.substr(eq + 1)).second)
      return invalidArgument("--input gives '" + s.substr(0, eq) + "' twice");
  }
  return m;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"infc: ahead-of-time ONNX compiler for NVIDIA GPUs"};
  app.set_version_flag("--version", std::string("infc ") + INFC_VERSION);
  app.require_subcommand(1);
  app.footer("Exit status: 0 success; 1 the tool failed (bad model, engine, cache or data; unsupported op; failed "
             "build); 2 the command line is wrong (unknown flag, bad value, flags that do not go together); 3 `infc "
             "compare` found outputs out of tolerance. JSON outputs (build --json, inspect --json, run --json, cache "
             "show --json) carry schema_version (docs/json.md).");

  BuildArgs build;
  CLI::App *b = app.add_subcommand("build", "Compile an ONNX model into an engine (.plan), or emit its IR");
  b->add_option("model", build.model, "Model file (.onnx, or .ir textual IR)")->required();
  b->add_option("-o,--output", build.output, "Output file (engine: default MODEL.plan; IR: default stdout)");
  b->add_option("--emit", build.emit,
                 "Emit IR instead of an engine: 'ir' (imported), 'ir-opt' (after the onnx.* passes) or 'ir-final' "
                 "(what code generation gets: infc.* ops with layouts and precisions)")
      ->check(CLI::IsMember({"ir", "ir-opt", "ir-final"}));
  b->add_option("--opt-level", build.optLevel,
                "0: no fusion or layout changes; 1: infc.* ops with fused epilogues, attention and sibling matmuls; 2: also NHWC layouts; "
                "3 (default): also elementwise chains as one infc.fused op")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  b->add_option("--shapes", build.shapes, "Fix input shapes: NAME:1x3x224x224[,NAME:...]");
  b->add_option("--target", build.target, "GPU compute capability to build for, e.g. sm_90 (default: the GPU present)");
  b->add_flag("--fp16", build.fp16, "FP16 storage and tensor-core math (float32 accumulation; inputs and outputs stay float32)");
  b->add_flag("--best", build.best,
              "Each layer in the fastest precision allowed: with calibration data (--calib or --calib-cache) INT8 "
              "convolutions and FP8 matmuls (sm_89 and later; INT8 matmuls before), each in FP16 where it times "
              "slower; else FP16");
  b->add_flag("--fp8", build.fp8,
              "FP8 (E4M3) matmuls, sm_89 and later: calibrate activation ranges from --calib DIR (or read --calib-cache; "
              "--calib-method defaults to minmax without --int8); matmuls with constant weights run as cuBLASLt E4M3 GEMMs "
              "with per-tensor scales, everything else in FP16 (implies --fp16; with --int8, convolutions in INT8)");
  b->add_flag("--bf16", build.bf16,
              "BF16 storage and tensor-core math instead of FP16 (float32's range: no op kept in FP32 for range; "
              "not with --fp16 or --int8)");
  b->add_option("--layer-precision", build.layerPrecision,
                "Precision of layers by ONNX node name: NAME:fp32|fp16|int8|fp8[,NAME:...] (fp16 needs --fp16, --int8 or "
                "--fp8; int8 needs --int8, fp8 --fp8, and either is an error for a layer that has no such kernel)");
  b->add_flag("--strict-precision", build.strictPrecision,
              "With --fp16: fail, naming the ops, where the precision policy would keep an op in f32 that "
              "--layer-precision does not name; with --int8: fail "
              "where a convolution or matmul would stay in 16-bit; with --fp8: where a matmul would");
  b->add_option("--workspace", build.workspaceMiB, "Most workspace (MiB) one cuDNN/cuBLASLt tactic may use")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t(1), uint64_t(1) << 20));
  b->add_option("--builder-opt-level", build.builderOptLevel,
                "Tactic search breadth on the target GPU: candidates timed per layer, 0 (the heuristic's first) to 5 "
                "(cuDNN: 1, 4, 12, all, all, all configs; cuBLASLt: 1, 2, 4, 8, 16, 32 algorithms; from 2 up, also every tile of "
                "infc's own INT8 convolution)")
      ->check(CLI::Range(0, 5))
      ->capture_default_str();
  b->add_option("--tuning-budget", build.tuningBudget,
                "Seconds of tactic timing: when spent, the layer being timed keeps the best found and later layers "
                "take the heuristic's first candidate")
      ->check(CLI::Validator(
          [](std::string &v) {
            char *end = nullptr;
            double d = std::strtod(v.c_str(), &end);
            return end && *end == 0 && d > 0 && d < 1e9 ? std::string() : "'" + v + "' is not a positive number of seconds";
          },
          "SECONDS"));
  b->add_flag("--no-timing", build.noTiming,
              "Choose tactics by heuristics at load time even with the target GPU present (faster builds)");
  b->add_option("--passes", build.passes, "Pass pipeline")->capture_default_str();
  b->add_flag("--stats", build.stats, "Print pass statistics to stderr");
  b->add_flag("--elide-constants", build.elide, "With --emit: print large constants as 'elided' (for reading; not parseable)");
  b->add_option("--min-shapes", build.minShapes,
                "Optimization profile: smallest shapes NAME:1x3x224x224[,NAME:...]; repeat the three flags for more profiles. "
                "The engine has GPU layers for every shape of its profiles: batch-loop layers when only the batch (dim 0) varies, else dim-fit layers whose kernels take the dims as arguments; a model whose layers are no expression over its dims gets an engine for the reference executor only (infc run --reference --shapes), with a warning saying why (docs/dynamic-shapes.md)")
      ->take_all()
      ->allow_extra_args(false);
  b->add_option("--opt-shapes", build.optShapes, "Optimization profile: the shapes to tune for")->take_all()->allow_extra_args(false);
  b->add_option("--max-shapes", build.maxShapes, "Optimization profile: largest shapes")->take_all()->allow_extra_args(false);
  b->add_option("--timing-cache", build.timingCache,
                "Timing cache (JSON): on the target GPU, read and extended with what is timed; without it (or with "
                "--no-timing), tactics come from its entries for --target (sm_90, or a GPU: h200, h100, a100, l4, ...)");
  b->add_flag("--require-complete-cache", build.requireCompleteCache,
              "With --timing-cache and no target GPU: fail, naming every layer the cache does not cover, instead of "
              "leaving those layers to load-time heuristics");
  b->add_flag("--int8", build.int8,
              "INT8 post-training quantization: calibrate activation ranges from --calib DIR (or read --calib-cache); "
              "channels-last convolutions run in INT8 (cuDNN's kernels or infc's own, whichever times faster; an image's first "
              "convolution with its max pool as one INT8 kernel), matmuls with constant weights as INT8 GEMMs (cuBLASLt; "
              "not where an input or result is heavy-tailed, largest |x| over 32 times its rms), everything else in "
              "FP16 (implies --fp16)");
  b->add_option("--calib", build.calibDir,
                "Calibration folder: one file per batch in name order, .npy (single-input model) or .npz with one array per input name");
  b->add_option("--calib-method", build.calibMethod,
                "entropy (TensorRT's KL method), percentile or minmax (--fp8 without --int8: minmax unless given; "
                "unless given, INT8 matmul inputs take their largest |x| seen)")
      ->check(CLI::IsMember({"entropy", "percentile", "minmax"}))
      ->capture_default_str();
  b->add_option("--calib-percentile", build.calibPercentile, "With --calib-method percentile: the percentile of |x|")
      ->capture_default_str();
  b->add_option("--calib-batches", build.calibBatches, "Use the first N batch files of --calib (default: all)")
      ->check(CLI::PositiveNumber);
  b->add_option("--calib-cache", build.calibCache,
                "Calibration cache (JSON): written after calibrating; without --calib, read instead of calibrating");
  b->add_option("--json", build.jsonReport,
                "Also write a build report (JSON, docs/json.md: options, stages and their seconds, tactics, every "
                "layer's kernel, tactic and precision; for a failed build, the error)");
  b->add_flag("--quiet", build.quiet, "Print only warnings and errors (no progress, no summary)");
  b->add_flag("--verbose", build.verbose,
              "Also print each fusion taken or refused and why, and each tactic timed (one line each, ending with the seconds since the build began)");

  CLI::App *cache = app.add_subcommand("cache", "Show, merge or prune timing caches (infc build --timing-cache)");
  cache->require_subcommand(1);
  std::string cacheFile, cacheOutput;
  bool cacheJson = false;
  std::vector<std::string> cacheInputs;
  CLI::App *cshow = cache->add_subcommand("show", "Per GPU: library versions and entry counts");
  cshow->add_option("file", cacheFile, "Timing cache")->required();
  cshow->add_flag("--json", cacheJson, "Print the (checked) cache as JSON");
  CLI::App *cmerge = cache->add_subcommand("merge", "Merge caches (GPUs stay apart; the faster of two timings of one layer wins)");
  cmerge->add_option("files", cacheInputs, "Timing caches")->required()->expected(2, -1);
  cmerge->add_option("-o,--output", cacheOutput, "Merged cache")->required();
  CLI::App *cprune = cache->add_subcommand("prune", "Drop GPUs timed with other CUDA, cuDNN or cuBLASLt versions than this infc's");
  cprune->add_option("file", cacheFile, "Timing cache")->required();
  cprune->add_option("-o,--output", cacheOutput, "Write here instead of FILE");

  RunOptions run;
  std::vector<std::string> runInputs;
  CLI::App *r = app.add_subcommand("run", "Run an engine and report its speed (trtexec-style)");
  r->add_option("engine", run.enginePath, "Engine file (.plan)")->required();
  r->add_option("--input", runInputs, "Input NAME=FILE.npy (random inputs when omitted)");
  r->add_option("--output-dir", run.outputDir, "Write each output as DIR/NAME.npy");
  r->add_option("--iterations", run.iterations, "Timed iterations")->capture_default_str();
  r->add_option("--warmup", run.warmup, "Warm-up iterations")->capture_default_str();
  r->add_option("--streams", run.streams,
                "Execution contexts, one per host thread and stream, run at once (pinned buffers; copies and compute "
                "of different streams overlap)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  r->add_flag("--sm-share", run.smShare,
              "With --streams N: each context runs its cuDNN/cuBLASLt kernels on 1/N of the SMs (their SM count "
              "targets), so that the streams' kernels run side by side instead of each taking every SM");
  r->add_option("--shapes", run.shapes,
                "Input shapes NAME:1x3x224x224[,NAME:...] (engines with optimization profiles: within a profile; "
                "default: the profile's opt shapes, or the --input files' shapes)");
  r->add_option("--profile-index", run.profileIndex,
                "Optimization profile to run in (default: the first whose ranges hold the shapes)")
      ->check(CLI::NonNegativeNumber);
  r->add_option("--json", run.jsonPath, "Write the report as JSON");
  r->add_flag("--profile", run.profile, "Per-layer GPU times: slowest layers and time per kernel kind (JSON: 'layers')");
  r->add_flag("--reference", run.reference, "Run the engine's graph on the CPU reference interpreter (no GPU needed)");
  uint64_t referenceMemoryMiB = 0;
  r->add_option("--reference-memory-limit", referenceMemoryMiB,
                "With --reference: refuse runs that need more host memory than this (MiB; default: the machine's physical memory)")
      ->check(CLI::PositiveNumber);
  bool noCudaGraph = false;
  r->add_flag("--no-cuda-graph", noCudaGraph, "Launch layer by layer instead of replaying a captured CUDA graph");

  std::string inspectPath;
  bool inspectJson = false;
  CLI::App *ins = app.add_subcommand("inspect", "Describe an engine: target, layers, tactics, memory");
  ins->add_option("engine", inspectPath, "Engine file (.plan)")->required();
  ins->add_flag("--json", inspectJson, "JSON output");

  CompareOptions cmp;
  std::vector<std::string> cmpInputs;
  CLI::App *c = app.add_subcommand("compare", "Compare an engine on the GPU with the ONNX model on the reference interpreter");
  c->add_option("model", cmp.modelPath, "ONNX model")->required();
  c->add_option("engine", cmp.enginePath, "Engine built from it")->required();
  c->add_option("--input", cmpInputs, "Input NAME=FILE.npy (random inputs when omitted)");
  c->add_option("--rtol", cmp.rtol, "Relative tolerance")->capture_default_str();
  c->add_option("--atol", cmp.atol, "Absolute tolerance")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e); // prints the message (or --help / --version)
    return code == 0 ? 0 : kExitUsage;
  }
  if (b->parsed()) {
    // --best: each layer in the fastest precision allowed: with calibration data, INT8
    // convolutions and (for sm_89 and later, decided by the compiler once it knows the target)
    // FP8 matmuls, each kept in FP16 where it times slower; else FP16.
    if (build.best) {
      if (build.fp16 || build.bf16 || build.int8 || build.fp8)
        return usage("--best chooses the precisions itself: drop --fp16, --bf16, --int8 and --fp8");
      if (!build.calibDir.empty() || !build.calibCache.empty())
        build.int8 = true;
      else
        build.fp16 = true;
    }
    build.calibMethodGiven = b->count("--calib-method") > 0;
    if (build.fp8 && build.bf16)
      return usage("--fp8 keeps what is not FP8 in FP16; --bf16 does not go with it yet");
    if (build.quiet && build.verbose)
      return usage("--quiet and --verbose contradict each other: pick one");
    if (!build.emit.empty())
      for (const char *flag : {"--json", "--quiet", "--verbose"})
        if (b->count(flag))
          return usage(std::string(flag) + " applies to engine builds, not --emit");
    if (!build.emit.empty() && build.emit != "ir-final" && b->count("--opt-level"))
      return usage("--opt-level applies to engines and --emit=ir-final, not --emit=" + build.emit);
    for (const char *flag : {"--calib", "--calib-method", "--calib-percentile", "--calib-batches", "--calib-cache"})
      if (b->count(flag) && !build.int8 && !build.fp8)
        return usage(std::string(flag) + " needs --int8 or --fp8 (or --best)");
    if ((build.int8 || build.fp8) && !build.emit.empty())
      return usage(std::string(build.int8 ? "--int8" : "--fp8") + " applies to engines, not --emit");
    if (build.fp8 && build.calibDir.empty() && build.calibCache.empty())
      return usage("--fp8 needs calibration data: --calib DIR (and --calib-cache FILE to keep the ranges), or --calib-cache FILE from an earlier calibration");
    if (build.int8 && build.calibDir.empty() && build.calibCache.empty())
      return usage("--int8 needs calibration data: --calib DIR (and --calib-cache FILE to keep the ranges), or --calib-cache FILE from an earlier calibration (an explicitly quantized Q/DQ model needs neither: build it without --int8)");
    if (b->count("--calib-batches") && build.calibDir.empty())
      return usage("--calib-batches needs --calib DIR");
    if (b->count("--calib-percentile") && build.calibMethod != "percentile")
      return usage("--calib-percentile applies to --calib-method percentile, not " + build.calibMethod);
    if (!build.emit.empty())
      return emitIr(build);
    return buildEngine(build);
  }
  if (r->parsed()) {
    Expected<std::map<std::string, std::string>> in = parseInputs(runInputs);
    if (!in.isOk())
      return usage(in.status().message());
    run.inputFiles = *in;
    if (run.reference)
      for (const char *flag : {"--no-cuda-graph", "--profile", "--json", "--iterations", "--warmup", "--streams", "--sm-share"})
        if (r->count(flag))
          return usage(std::string(flag) + " is for GPU runs; --reference runs the graph once on the CPU");
    run.cudaGraph = !noCudaGraph;
    if (run.smShare && run.streams < 2)
      return usage("--sm-share shares the SMs between streams: give --streams 2 or more");
    if (r->count("--reference-memory-limit") && !run.reference)
      return usage("--reference-memory-limit applies to --reference runs");
    run.referenceMemoryLimit = referenceMemoryMiB << 20;
    Expected<RunReport> rep = runEngine(run);
    if (!rep.isOk())
      return fail(rep.status());
    for (const std::string &n : rep->notes)
      std::fprintf(stderr, "note: %s\n", n.c_str());
    std::fputs(rep->text.c_str(), stdout);
    return 0;
  }
  if (cshow->parsed()) {
    Expected<std::string> text = showTimingCache(cacheFile, cacheJson);
    if (!text.isOk())
      return fail(text.status());
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  if (cmerge->parsed()) {
    if (Status st = mergeTimingCaches(cacheInputs, cacheOutput); !st.isOk())
      return fail(st);
    return 0;
  }
  if (cprune->parsed()) {
    Expected<std::string> text = pruneTimingCache(cacheFile, cacheOutput);
    if (!text.isOk())
      return fail(text.status());
    std::fputs(text->c_str(), stderr);
    return 0;
  }
  if (ins->parsed()) {
    Expected<std::string> text = inspectEngine(inspectPath, inspectJson);
    if (!text.isOk())
      return fail(text.status());
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  if (c->parsed()) {
    Expected<std::map<std::string, std::string>> in = parseInputs(cmpInputs);
    if (!in.isOk())
      return usage(in.status().message());
    cmp.inputFiles = *in;
    Expected<CompareReport> rep = compareModelAndEngine(cmp);
    if (!rep.isOk())
      return fail(rep.status());
    for (const std::string &n : rep->notes)
      std::fprintf(stderr, "note: %s\n", n.c_str());
    std::fputs(rep->text.c_str(), stdout);
    return rep->ok ? 0 : kExitMismatch;
  }
  return 1;
}
