// infc: the compiler CLI. Thin: parses arguments, calls the driver, prints one line per error.
#include "compiler/Driver.h"
#include "compiler/FileUtil.h"
#include "compiler/Pipeline.h"
#include "ir/Printer.h"

#include <CLI/CLI.hpp>

#include <cstdio>

using namespace infc;

namespace {

int fail(const Status &s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return 1;
}

struct BuildArgs {
  std::string model;
  std::string output;
  std::string emit;
  std::string shapes;
  std::string passes = kDefaultOnnxPipeline;
  bool stats = false;
  bool elide = false;
};

int runBuild(const BuildArgs &a) {
  if (a.emit.empty())
    return fail(unsupported(a.model + ": engine generation (.plan) is not implemented yet; use --emit=ir or --emit=ir-opt"));
  Expected<std::unique_ptr<Module>> module = loadModel(a.model);
  if (!module.isOk())
    return fail(module.status());
  if (!a.shapes.empty()) {
    Expected<std::vector<InputShape>> shapes = parseInputShapes(a.shapes);
    if (!shapes.isOk())
      return fail(shapes.status());
    Status s = applyInputShapes(**module, *shapes, a.model);
    if (!s.isOk())
      return fail(s);
  }
  if (a.emit == "ir-opt" || !a.shapes.empty()) {
    // With --emit=ir and --shapes, re-infer so the printed IR reflects the fixed shapes.
    std::string pipeline = a.emit == "ir-opt" ? a.passes : "shape-infer";
    PipelineOptions po;
    po.printStats = a.stats;
    Status s = runPassPipeline(**module, pipeline, po);
    if (!s.isOk())
      return fail(s.withPrefix(a.model));
  }
  PrintOptions popts;
  popts.elideLargeConstants = a.elide;
  std::string text = printModule(**module, popts);
  Status w = writeFileAtomically(a.output.empty() ? "-" : a.output, text);
  if (!w.isOk())
    return fail(w);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"infc: ahead-of-time ONNX compiler for NVIDIA GPUs"};
  app.set_version_flag("--version", std::string("infc ") + INFC_VERSION);
  app.require_subcommand(1);

  BuildArgs build;
  CLI::App *b = app.add_subcommand("build", "Compile an ONNX model (or textual IR) and emit IR");
  b->add_option("model", build.model, "Model file (.onnx, or .ir textual IR)")->required();
  b->add_option("-o,--output", build.output, "Output file (default: stdout)");
  b->add_option("--emit", build.emit,
                "What to emit: 'ir' (the imported onnx.* IR) or 'ir-opt' (after the optimization passes)")
      ->check(CLI::IsMember({"ir", "ir-opt"}));
  b->add_option("--shapes", build.shapes, "Fix input shapes: NAME:1x3x224x224[,NAME:...]");
  b->add_option("--passes", build.passes, "Pass pipeline for --emit=ir-opt")->capture_default_str();
  b->add_flag("--stats", build.stats, "Print pass statistics to stderr");
  b->add_flag("--elide-constants", build.elide, "Print large constants as 'elided' (for reading; not parseable)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  if (b->parsed())
    return runBuild(build);
  return 1;
}
